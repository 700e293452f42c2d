# The fixed-truth sweep across the config's datasets: every dataset's data, optimiser path and
# compared method entries' files (the reference first), with their jobs' benchmark files, are
# given to the stage by dataset and role. Its figures are drawn by the figure rules
# (figures.smk) from results/fixed_truth/summary.nc.

rule fixed_truth_summary:
    input:
        data=fixed_truth_inputs("--data"),
        optimize=fixed_truth_inputs("--optimize"),
        fits=fixed_truth_inputs("--fits"),
        benchmarks=fixed_truth_inputs("--benchmarks"),
        code=code("stages.fixed_truth"),
    output:
        nc=f"{FIXED_TRUTH_DIR}/summary.nc",
        csv=f"{FIXED_TRUTH_DIR}/summary.csv",
        calibration=f"{FIXED_TRUTH_DIR}/calibration.csv",
    params:
        datasets=" ".join(f"{noise}:{seed}" for noise, seed in datasets()),
        files=fixed_truth_arguments(),
        config=used_config("model", "diagnostics.hdi_prob", methods=COMPARED),
    log:
        f"{FIXED_TRUTH_DIR}/logs/summary.log",
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.fixed_truth --datasets {params.datasets} {params.files}"
        " --config {params.config} --out {output.nc} --csv {output.csv}"
        " --calibration-csv {output.calibration} > {log} 2>&1"
