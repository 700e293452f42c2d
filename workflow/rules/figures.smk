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


rule fixed_truth_figure:
    input:
        summary=f"{FIXED_TRUTH_DIR}/summary.nc",
        code=code("stages.figure", "plots.fixed_truth"),
    output:
        report(
            f"{FIXED_TRUTH_DIR}/figures/{{fixed_truth_figure}}.png",
            caption="../report/fixed_truth_figure.rst",
            category="0 fixed-truth sweep over the datasets",
            labels={"figure": "{fixed_truth_figure}"},
        ),
    params:
        config=lambda wildcards: used_config(
            *figure_keys(FIXED_TRUTH_FIGURES[wildcards.fixed_truth_figure]), methods=COMPARED
        ),
    log:
        f"{FIXED_TRUTH_DIR}/logs/figure_{{fixed_truth_figure}}.log",
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.figure {wildcards.fixed_truth_figure}"
        " fixed_truth_summary={input.summary} --out {output} --config {params.config} > {log} 2>&1"
