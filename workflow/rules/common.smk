from pipeline.plots.registry import FIGURES, FIXED_TRUTH_FIGURES, SBC_FIGURES, TUTORIAL_FIGURES
from pipeline.setup.imports import modules as stage_modules
from pipeline.io.paths import DATASET_DIR as DATASET, SBC_DIR, FIXED_TRUTH_DIR, noise_label

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
    figure="|".join(FIGURES),
    fixed_truth_figure="|".join(FIXED_TRUTH_FIGURES),
    sbc_figure="|".join(SBC_FIGURES),
    block=r"[0-9]+",
    method="nuts|svi|laplace",
    line_shape_suffix="|_gaussian",


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


# the tutorial's own work on one dataset: its stages' files and its ten figures
TUTORIAL_FILES = [
    "data.nc", "chi2_map.nc", "optimize.nc", "nuts.nc", "nuts_summary.csv", "svi.nc",
    "svi_summary.csv", *(f"figures/{figure}.png" for figure in TUTORIAL_FIGURES),
]

# every file a dataset's stages write (figures aside): the tutorial's, and diffspec's additions
DATASET_FILES = (
    "data.nc", "chi2_map.nc", "optimize.nc", "nuts.nc", "nuts_summary.csv", "svi.nc",
    "svi_summary.csv", "laplace.nc", "nested.nc", "nested_gaussian.nc", "gradient_free.nc",
    "gradient_free_summary.csv", "compare.nc", "compare.csv", "cost.nc", "cost.csv",
    "evidence.nc", "evidence.csv",
)

# nested sampling's output of each line shape: nested.nc (Voigt), nested_gaussian.nc
LINE_SHAPE_OF_SUFFIX = {"": "voigt", "_gaussian": "gaussian"}


FIXED_TRUTH_FILES = ("summary.nc", "summary.csv", "calibration.csv")


def dataset_outputs():
    """Every stage's file of every dataset of the config, their figures unless turned off,
    and, with several datasets, the fixed-truth sweep across them."""
    outputs = []
    for name in DATASET_FILES:
        outputs += dataset_files(name)
    if config["figures"]["per_dataset"]:
        for figure in FIGURES:
            outputs += dataset_files(f"figures/{figure}.png")
    if len(datasets()) > 1:
        outputs += [f"{FIXED_TRUTH_DIR}/{name}" for name in FIXED_TRUTH_FILES]
        outputs += [f"{FIXED_TRUTH_DIR}/figures/{name}.png" for name in FIXED_TRUTH_FIGURES]
    return outputs


def sbc_outputs():
    """The simulation-based calibration study: its ranks, tables and figures."""
    return [f"{SBC_DIR}/{name}" for name in ("ranks.nc", "calibration.csv", "failed.csv")] + [
        f"{SBC_DIR}/figures/{name}.png" for name in SBC_FIGURES
    ]


def all_outputs():
    """What `snakemake` builds by default: the config's targets."""
    return [path for target in config["targets"] for path in TARGETS[target]()]


TARGETS = {"datasets": dataset_outputs, "sbc": sbc_outputs}


def sbc_threads(method):
    """Threads of a block's job: one, or one per chain for NUTS's parallel chains."""
    nuts = config["nuts"]
    parallel = method == "nuts" and nuts["chain_method"] == "parallel"
    return nuts["num_chains"] if parallel else 1


def code(stage, *dynamic):
    """The package modules a rule's stage runs, as inputs, so that editing one reruns the rule:
    the stage and all it imports (pipeline.setup.imports reads them from the source), and the
    modules it imports by name at run time (`dynamic`, e.g. a figure's plots module)."""
    needed = set().union(*(stage_modules(m) for m in (stage, *dynamic)))
    return [f"{workflow.basedir}/pipeline/{m}.py" for m in sorted(needed)]


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
    "gradient_free": "4 every method side by side",
    "cost": "4 every method side by side",
    "evidence": "4 every method side by side",
}


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
    return code("stages.figure", f"plots.{FIGURES[wildcards.figure].module}")


def noise_seed_flags():
    """How a dataset's seed becomes its noise draw, as flags of the data stage."""
    d = config["datasets"]
    crn = " --common-random-numbers" if d["common_random_numbers"] else ""
    return f"--reference-noise {d['reference_noise']}{crn}"


def prior_flags():
    """The priors as flags of the Bayesian stages."""
    p = config["priors"]
    return flags({
        "logN_prior": [p["logN"]["low"], p["logN"]["high"]],
        "logbeta_prior": [p["logbeta"]["low"], p["logbeta"]["high"]],
        "sigmain_rate": p["sigmain_rate"],
    })


def figure_stage(wildcards):
    """Report subcategory: the stage whose output the figure mainly shows."""
    return STAGE_OF_LAYOUT[FIGURES[wildcards.figure].inputs[-1]]


# Simulation-based calibration study


def sbc_blocks():
    """The block labels of the study: 000, 001, ... (block_size datasets each, the last fewer)."""
    study = config["study"]
    return [f"{k:03d}" for k in range(-(-study["num_datasets"] // study["block_size"]))]


def sbc_range(wildcards):
    """START STOP of a block's datasets: fixed by the block and block_size alone, so adding
    datasets to a study reruns only its new (or newly filled) blocks."""
    study = config["study"]
    start = int(wildcards.block) * study["block_size"]
    return f"{start} {min(start + study['block_size'], study['num_datasets'])}"


def sbc_method_flags(wildcards):
    """The settings of one method's fits, as flags of the sbc_fit stage."""
    if wildcards.method == "nuts":
        return flags({k: v for k, v in config["nuts"].items()})
    if wildcards.method == "svi":
        return flags(config["svi"])
    o = config["optimize"]
    return flags({"init": [o["init"]["logN"], o["init"]["logbeta"]],
                  "adam_learning_rate": o["adam_learning_rate"], "steps": o["steps"]})
