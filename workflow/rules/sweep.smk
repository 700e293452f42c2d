rule sweep_summary:
    input:
        data=dataset_files("data.nc"),
        optimize=dataset_files("optimize.nc"),
        laplace=dataset_files("laplace.nc"),
        nuts=dataset_files("nuts_summary.csv"),
        svi=dataset_files("svi_summary.csv"),
        benchmarks=[dataset_files(f"benchmarks/{name}.tsv") for name in ("optimize", "laplace", "nuts", "svi")],
        code=code("paths", "sweep", "stages/sweep"),
    output:
        nc=f"{SWEEP_DIR}/summary.nc",
        csv=f"{SWEEP_DIR}/summary.csv",
        calibration=f"{SWEEP_DIR}/calibration.csv",
    params:
        datasets=lambda wildcards: " ".join(f"{noise}:{seed}" for noise, seed in datasets()),
        hdi_prob=config["diagnostics"]["hdi_prob"],
    log:
        f"{SWEEP_DIR}/logs/summary.log",
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.sweep --datasets {params.datasets} --out {output.nc}"
        " --csv {output.csv} --calibration-csv {output.calibration} --hdi-prob {params.hdi_prob}"
        " > {log} 2>&1"


rule sweep_figure:
    input:
        summary=f"{SWEEP_DIR}/summary.nc",
        code=code("figures", "plots/__init__", "plots/sweep", "stages/figure"),
    output:
        report(
            f"{SWEEP_DIR}/figures/{{sweep_figure}}.png",
            caption="../report/sweep_figure.rst",
            category="0 sweep over all datasets",
            labels={"figure": "{sweep_figure}"},
        ),
    log:
        f"{SWEEP_DIR}/logs/figure_{{sweep_figure}}.log",
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.figure {wildcards.sweep_figure} sweep_summary={input.summary}"
        " --out {output} > {log} 2>&1"
