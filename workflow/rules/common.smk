from pipeline.figures import FIGURES, SWEEP_FIGURES
from pipeline.paths import DATASET_DIR as DATASET, SWEEP_DIR, noise_label

# Jobs run `python -m pipeline.stages.X`: this checkout's package must be importable in them,
# installed or not (e.g. in a conda environment). A fixed hash seed makes numpyro trace its
# sites in the same order in every job, so JAX's persistent cache finds the programs that an
# earlier job compiled. Keeps Snakemake's default strict mode.
# (The prefix is formatted like a shell command, hence the doubled braces.)
shell.prefix(
    "set -euo pipefail; export PYTHONHASHSEED=0; "
    f"export PYTHONPATH='{workflow.basedir}'${{{{PYTHONPATH:+:$PYTHONPATH}}}}; "
)
ENV = "../envs/diffspec.yaml"


wildcard_constraints:
    noise=r"[0-9][0-9.e+-]*",
    seed=r"[0-9]+",
    sampler="nuts|svi",
    figure="|".join(FIGURES),
    sweep_figure="|".join(SWEEP_FIGURES),


def sigma_noise(wildcards):
    """The noise level of a dataset path, refusing non-canonical spellings of it."""
    value = float(wildcards.noise)
    if noise_label(value) != wildcards.noise:
        raise ValueError(
            f"noise level '{wildcards.noise}' in a path must be written as '{noise_label(value)}'"
        )
    return value


def datasets():
    """Every (noise label, seed) pair of the config, in config order."""
    return [
        (noise_label(noise), seed)
        for noise in config["datasets"]["sigma_noise"]
        for seed in config["datasets"]["seeds"]
    ]


def dataset_files(pattern):
    """`pattern` (relative to a dataset directory) expanded over every dataset."""
    return [f"{DATASET}/{pattern}".format(noise=n, seed=s) for n, s in datasets()]


# every file a dataset's stages write (figures aside)
DATASET_FILES = (
    "data.nc", "chi2_map.nc", "optimize.nc", "laplace.nc", "nuts.nc", "nuts_summary.csv",
    "svi.nc", "svi_summary.csv", "compare.nc", "compare.csv",
)


SWEEP_FILES = ("summary.nc", "summary.csv", "calibration.csv")


def all_outputs():
    """What `snakemake` builds by default: every stage's file and figure for every dataset."""
    outputs = []
    for name in DATASET_FILES:
        outputs += dataset_files(name)
    for figure in FIGURES:
        outputs += dataset_files(f"figures/{figure}.png")
    if len(datasets()) > 1:  # a study across datasets
        outputs += [f"{SWEEP_DIR}/{name}" for name in SWEEP_FILES]
        outputs += [f"{SWEEP_DIR}/figures/{name}.png" for name in SWEEP_FIGURES]
    return outputs


def code(*modules):
    """The package modules a rule runs, as inputs, so that editing one reruns the rule."""
    return [f"{workflow.basedir}/pipeline/{m}.py" for m in ("__init__", "netcdf", "stages/cli", *modules)]


def log(name):
    """A dataset's log file of a job."""
    return f"{DATASET}/logs/{name}.log"


def bench(name):
    """A dataset's Snakemake benchmark file of a job: its wall time, memory and CPU time."""
    return f"{DATASET}/benchmarks/{name}.tsv"


STAGE_OF_LAYOUT = {
    "data": "1 data",
    "chi2_map": "2 chi2 map and optimisation",
    "optimize": "2 chi2 map and optimisation",
    "nuts": "3 NUTS and SVI",
    "svi": "3 NUTS and SVI",
}
FIT_CODE = ("runtime", "voigt", "forward", "observation")


def figure_inputs(wildcards):
    """The NetCDF files a figure is drawn from, named by layout."""
    return {layout: f"{DATASET}/{layout}.nc".format(**wildcards) for layout in FIGURES[wildcards.figure].inputs}


def flags(settings):
    """Command-line flags from a dict of settings: {"band_prob": 0.9} -> "--band-prob 0.9"."""
    return " ".join(
        f"--{name.replace('_', '-')} " + (" ".join(map(str, v)) if isinstance(v, list) else str(v))
        for name, v in settings.items()
    )


def figure_flags(wildcards):
    """The config settings a figure is drawn with, as flags (only its own: others don't rerun it)."""
    return flags({name: config["figures"][name] for name in FIGURES[wildcards.figure].options})


def figure_code(wildcards):
    """The modules that draw a figure."""
    return code("figures", "plots/__init__", f"plots/{FIGURES[wildcards.figure].module}", "stages/figure")


def prior_flags():
    """The priors as flags of the Bayesian stages."""
    p = config["priors"]
    return flags({
        "logN_prior": [p["logN"]["low"], p["logN"]["high"]],
        "logbeta_prior": [p["logbeta"]["low"], p["logbeta"]["high"]],
        "sigmain_rate": p["sigmain_rate"],
    })


def diagnostic_flags(sampler):
    """The summary and convergence settings a sampler's summary uses, as flags."""
    d = config["diagnostics"]
    return flags(d if sampler == "nuts" else {"hdi_prob": d["hdi_prob"]})


def figure_stage(wildcards):
    """Report subcategory: the stage whose output the figure mainly shows."""
    return STAGE_OF_LAYOUT[FIGURES[wildcards.figure].inputs[-1]]
