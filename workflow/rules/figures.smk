STAGE_OF_FIGURE_INPUT = {
    "data": "1 data",
    "chi2_map": "2 chi2 map and optimisation",
    "optimize": "2 chi2 map and optimisation",
    "cost": "4 every method side by side",
    "evidence": "4 every method side by side",
    FITS: "4 every method side by side",
}
FIGURE_KEYS = ("figures", "study.rank_bins")


def figure_inputs(wildcards):
    """The files a dataset's figure is drawn from: by role, and every compared entry's."""
    spec = FIGURES[wildcards.figure]
    files = {r: f"{DATASET}/{r}.nc".format(**wildcards) for r in spec.inputs if r != FITS}
    if FITS in spec.inputs:
        files |= {f"fit_{n}": f"{DATASET}/{n}.nc".format(**wildcards) for n in COMPARED}
    return files


def figure_arguments(wildcards, input):
    """The figure stage's ROLE=PATH arguments, and --fits for a figure of every method."""
    spec = FIGURES[wildcards.figure]
    files = " ".join(f"{r}={input[r]}" for r in spec.inputs if r != FITS)
    if FITS in spec.inputs:
        files += " --fits " + " ".join(f"{n}={input['fit_' + n]}" for n in COMPARED)
    return files


def figure_config(wildcards):
    """What a dataset's figure reads of the config: the entries it shows and its settings."""
    shown = [r for r in FIGURES[wildcards.figure].inputs if r in ENTRIES]
    if FITS in FIGURES[wildcards.figure].inputs or STYLES in FIGURES[wildcards.figure].options:
        shown += COMPARED
    study = [e if isinstance(e, str) else e["name"] for e in config["study"]["methods"]]
    return used_config(*FIGURE_KEYS, methods=shown or [COMPARED[0]], study__methods=study[:1])


def figure_stage(wildcards):
    """Report subcategory: the stage whose output the figure mainly shows."""
    last = FIGURES[wildcards.figure].inputs[-1]
    return STAGE_OF_FIGURE_INPUT.get(last, "3 the tutorial's posteriors")


rule figure:
    input:
        unpack(figure_inputs),
        code=lambda wildcards: code("stages.figure", f"plots.{FIGURES[wildcards.figure].module}"),
    output:
        report(
            f"{DATASET}/figures/{{figure}}.png",
            caption="../report/figure.rst",
            category="dataset noise {noise}, seed {seed}",
            subcategory=figure_stage,
            labels={"figure": "{figure}", "noise": "{noise}", "seed": "{seed}"},
        ),
    params:
        files=figure_arguments,
        config=figure_config,
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    log:
        log("figure_{figure}"),
    shell:
        "python -m pipeline.stages.figure {wildcards.figure} {params.files} --out {output}"
        " --config {params.config} > {log} 2>&1"
