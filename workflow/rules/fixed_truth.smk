# The fixed-truth sweep across the config's datasets: every dataset's data, optimiser path and
# compared method entries' files (the reference first), with their jobs' benchmark files, are
# given to the stage by dataset and role. Its figures are drawn by the figure rules
# (figures.smk) from results/fixed_truth/summary.nc.

# the optimiser's row of the sweep (pipeline.analysis.fixed_truth.OPTIMIZER): its job is optimize
FIXED_TRUTH_OPTIMIZER = "adam"


def fixed_truth_path(pattern, noise, seed):
    """A dataset's file: `pattern` (with {noise} and {seed}) of one dataset."""
    return pattern.format(noise=noise, seed=seed)


def fixed_truth_items():
    """Every file of the sweep as (flag, NOISE:SEED[:NAME], path), in dataset order."""
    items = []
    for noise, seed in datasets():
        at = f"{noise}:{seed}"
        items.append(("--data", at, fixed_truth_path(f"{DATASET}/data.nc", noise, seed)))
        items.append(("--optimize", at, fixed_truth_path(f"{DATASET}/optimize.nc", noise, seed)))
        for name in compared():
            items.append(("--fits", f"{at}:{name}", fixed_truth_path(f"{DATASET}/{name}.nc", noise, seed)))
            items.append(("--benchmarks", f"{at}:{name}", fixed_truth_path(bench(name), noise, seed)))
        items.append((
            "--benchmarks", f"{at}:{FIXED_TRUTH_OPTIMIZER}", fixed_truth_path(bench("optimize"), noise, seed)
        ))
    return items


def fixed_truth_inputs(flag):
    """The paths the stage gets with `flag`."""
    return [path for f, _, path in fixed_truth_items() if f == flag]


def fixed_truth_arguments():
    """The stage's file arguments: --data NOISE:SEED=PATH ... --fits NOISE:SEED:NAME=PATH ..."""
    items = fixed_truth_items()
    return " ".join(
        f"{flag} " + " ".join(f"{key}={path}" for f, key, path in items if f == flag)
        for flag in ("--data", "--optimize", "--fits", "--benchmarks")
    )


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
        config=used_config("methods", "model", "diagnostics.hdi_prob"),
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
