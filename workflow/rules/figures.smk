STAGE_OF_LAYOUT = {"data": "1 data", "chi2_map": "2 chi2 map and optimisation", "optimize": "2 chi2 map and optimisation"}


def figure_inputs(wildcards):
    """The NetCDF files a figure is drawn from, named by layout."""
    return {layout: f"{DATASET}/{layout}.nc".format(**wildcards) for layout in FIGURES[wildcards.figure]}


def contour_flags(wildcards):
    """The chi^2 contour settings, for the figures drawn over chi^2 only (others don't rerun)."""
    if wildcards.figure not in CHI2_FIGURES:
        return ""
    fig = config["figures"]
    levels = " ".join(map(str, fig["chi2_levels"]))
    return f"--levels {levels} --vmin {fig['chi2_vmin']} --vmax {fig['chi2_vmax']}"


def figure_stage(wildcards):
    """Report subcategory: the stage whose output the figure mainly shows."""
    return STAGE_OF_LAYOUT[FIGURES[wildcards.figure][-1]]


rule figure:
    input:
        unpack(figure_inputs),
        code=code("plots", "figures", "stages/figure"),
    output:
        report(
            f"{DATASET}/figures/{{figure}}.png",
            caption="../report/figure.rst",
            category="dataset noise {noise}, seed {seed}",
            subcategory=figure_stage,
            labels={"figure": "{figure}", "noise": "{noise}", "seed": "{seed}"},
        ),
    params:
        files=lambda wildcards, input: " ".join(f"{k}={input[k]}" for k in FIGURES[wildcards.figure]),
        contour_flags=contour_flags,
    log:
        log("figure_{figure}"),
    shell:
        "python -m pipeline.stages.figure {wildcards.figure} {params.files} --out {output}"
        " {params.contour_flags} > {log} 2>&1"
