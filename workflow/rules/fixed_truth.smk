rule fixed_truth_summary:
    input:
        data=dataset_files("data.nc"),
        optimize=dataset_files("optimize.nc"),
        laplace=dataset_files("laplace.nc"),
        nuts=dataset_files("nuts_summary.csv"),
        svi=dataset_files("svi_summary.csv"),
        benchmarks=[dataset_files(f"benchmarks/{name}.tsv") for name in ("optimize", "laplace", "nuts", "svi")],
        code=code("stages.fixed_truth"),
    output:
        nc=f"{FIXED_TRUTH_DIR}/summary.nc",
        csv=f"{FIXED_TRUTH_DIR}/summary.csv",
        calibration=f"{FIXED_TRUTH_DIR}/calibration.csv",
    params:
        datasets=lambda wildcards: " ".join(f"{noise}:{seed}" for noise, seed in datasets()),
        hdi_prob=config["diagnostics"]["hdi_prob"],
    log:
        f"{FIXED_TRUTH_DIR}/logs/summary.log",
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.fixed_truth --datasets {params.datasets} --out {output.nc}"
        " --csv {output.csv} --calibration-csv {output.calibration} --hdi-prob {params.hdi_prob}"
        " > {log} 2>&1"


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
    log:
        f"{FIXED_TRUTH_DIR}/logs/figure_{{fixed_truth_figure}}.log",
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.figure {wildcards.fixed_truth_figure} fixed_truth_summary={input.summary}"
        " --out {output} > {log} 2>&1"
