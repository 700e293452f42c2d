import json
import shlex

from pipeline.io.paths import DATASET_DIR as DATASET, SBC_DIR, FIXED_TRUTH_DIR, noise_label
from pipeline.methods import entry_name, variants
from pipeline.methods.config import start_of
from pipeline.models import MODELS
from pipeline.plots.registry import (
    FIGURES, FITS, FIXED_TRUTH_FIGURES, SBC_FIGURES, STYLES, TUTORIAL_FIGURES,
)
from pipeline.setup.imports import modules as stage_modules

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

# The model and the method entries of the config (pipeline.models, pipeline.methods): the
# rules iterate over these and name no model, parameter or method.
MODEL = MODELS[config["model"]]
ENTRIES = {v.name: v for v in variants(config["methods"], config)}
STUDY_ENTRIES = {v.name: v for v in variants(config["study"]["methods"], config)}
STUDY_NAMES = list(STUDY_ENTRIES)
# the entries fitting the config's model, compared with the first (the reference)
COMPARED = [name for name, v in ENTRIES.items() if v.model == MODEL.name]
SUMMARISED = [name for name, v in ENTRIES.items() if v.method.summary_flags is not None]
# the entries that measure an evidence, the config's model's first
EVIDENCE = sorted((name for name, v in ENTRIES.items() if v.method.evidence),
                  key=lambda name: ENTRIES[name].model != MODEL.name)


wildcard_constraints:
    noise=r"[0-9][0-9.e+-]*",
    seed=r"[0-9]+",
    figure="|".join(FIGURES),
    fixed_truth_figure="|".join(FIXED_TRUTH_FIGURES),
    sbc_figure="|".join(SBC_FIGURES),
    block=r"[0-9]+",
    entry="|".join(ENTRIES),
    study_entry="|".join(STUDY_ENTRIES),


def sigma_noise(wildcards):
    """The noise level of a dataset path, refusing non-canonical spellings of it."""
    value = float(wildcards.noise)
    if noise_label(value) != wildcards.noise:
        raise ValueError(
            f"noise level '{wildcards.noise}' in a path must be written as '{noise_label(value)}'"
        )
    return value


def used_config(*keys, **lists):
    """The config's values at the dotted `keys`, and method lists given by name
    (`methods=[...]`: those entries of the config's list), as one shell-quoted JSON argument:
    what a stage reads, and only that, so that a change of any other setting reruns nothing."""
    used = {}
    for key in keys:
        *parents, last = key.split(".")
        source, target = config, used
        for part in parents:
            source, target = source[part], target.setdefault(part, {})
        target[last] = source[last]
    for key, names in lists.items():
        *parents, last = key.split("__")
        source, target = config, used
        for part in parents:
            source, target = source[part], target.setdefault(part, {})
        target[last] = [e for e in source[last] if entry_name(e) in names]
    return shlex.quote(json.dumps(used, sort_keys=True))


def model_keys(variant):
    """The config keys a fit of `variant` reads: its model, the line quantities the model
    knows, its parameters' priors and its method's section."""
    model = MODELS[variant.model]
    return ("model", *(f"line.{k}" for k in model.known),
            *(f"priors.{n}" for n in model.names), variant.method.name)


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


def summaries(names):
    """The summary tables of the entries `names` that have one."""
    return [f"{name}_summary.csv" for name in names if name in SUMMARISED]


def figure_files(figure):
    """The files (relative to a dataset directory) a figure is drawn from."""
    found = []
    for role in FIGURES[figure].inputs:
        found += [f"{name}.nc" for name in COMPARED] if role == FITS else [f"{role}.nc"]
    return found


# the tutorial's own work on one dataset: its stages' files and its ten figures
TUTORIAL_FILES = ["data.nc", "chi2_map.nc", "optimize.nc"]
for _figure in TUTORIAL_FIGURES:
    TUTORIAL_FILES += [f for f in figure_files(_figure) if f not in TUTORIAL_FILES]
TUTORIAL_FILES += summaries([f[:-3] for f in TUTORIAL_FILES])
TUTORIAL_FILES += [f"figures/{figure}.png" for figure in TUTORIAL_FIGURES]

# every file a dataset's stages write (figures aside)
DATASET_FILES = [
    "data.nc", "chi2_map.nc", "optimize.nc", *(f"{name}.nc" for name in ENTRIES),
    *summaries(ENTRIES), "compare.nc", "compare.csv", "cost.nc", "cost.csv",
    *(("evidence.nc", "evidence.csv") if len(EVIDENCE) > 1 else ()),
]

FIXED_TRUTH_FILES = ("summary.nc", "summary.csv", "calibration.csv")


def dataset_figures():
    """The figures a dataset's files can show (the evidence's only with two evidences)."""
    return [f for f in FIGURES if all(
        r == FITS or r in ENTRIES or f"{r}.nc" in DATASET_FILES for r in FIGURES[f].inputs)]


def dataset_outputs():
    """Every stage's file of every dataset of the config, their figures unless turned off,
    and, with several datasets, the fixed-truth sweep across them."""
    outputs = []
    for name in DATASET_FILES:
        outputs += dataset_files(name)
    if config["figures"]["per_dataset"]:
        for figure in dataset_figures():
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


def code(stage, *dynamic):
    """The package modules a rule's stage runs, as inputs, so that editing one reruns the rule:
    the stage and all it imports (pipeline.setup.imports reads them from the source, imports
    inside functions too), and the modules it imports by name at run time (`dynamic`, e.g. a
    figure's plots module)."""
    needed = set().union(*(stage_modules(m) for m in (stage, *dynamic)))
    return [f"{workflow.basedir}/pipeline/{m}.py" for m in sorted(needed)]


def log(name):
    """A dataset's log file of a job."""
    return f"{DATASET}/logs/{name}.log"


def bench(name):
    """A dataset's Snakemake benchmark file of a job: its wall time, memory and CPU time."""
    return f"{DATASET}/benchmarks/{name}.tsv"


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


# methods rules


def fit_start(wildcards):
    """The file an entry's fit starts from, if its method starts from one."""
    variant = ENTRIES[wildcards.entry]
    if variant.method.start is None:
        return []
    if variant.method.start == "adam":
        return {"start": f"{DATASET}/optimize.nc"}
    source = start_of(variant, list(ENTRIES.values()))
    return {"start": f"{DATASET}/{source.name}.nc"}


def fit_config(wildcards):
    """What an entry's fit reads of the config."""
    variant = ENTRIES[wildcards.entry]
    return used_config(*model_keys(variant), methods=[variant.name])


def named_files(names, pattern="{name}.nc"):
    """NAME=PATH arguments of a dataset's files of the entries `names` (wildcards filled)."""
    return lambda wildcards: " ".join(
        f"{name}={DATASET}/{pattern}".format(name=name, **wildcards) for name in names
    )


# sbc rules


def sbc_start(wildcards):
    """The block file an entry's fits start from, if they start from another method's."""
    variant = STUDY_ENTRIES[wildcards.study_entry]
    if variant.method.start in (None, "adam"):  # Adam runs inside the block's job
        return []
    source = start_of(variant, list(STUDY_ENTRIES.values()))
    return {"start": f"{SBC_DIR}/blocks/{wildcards.block}/{source.name}.nc"}


def sbc_fit_config(wildcards):
    """What a block's fits by one entry read of the config."""
    variant = STUDY_ENTRIES[wildcards.study_entry]
    adam = ("optimize",) if variant.method.start == "adam" else ()
    thinning = () if variant.method.independent_draws else ("study.thinning",)
    return used_config(*model_keys(variant), "study.num_draws", *thinning, "batching", *adam,
                       study__methods=[variant.name])


# figures rules


STAGE_OF_FIGURE_INPUT = {
    "data": "1 data",
    "chi2_map": "2 chi2 map and optimisation",
    "optimize": "2 chi2 map and optimisation",
    "cost": "4 every method side by side",
    "evidence": "4 every method side by side",
    FITS: "4 every method side by side",
}


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
        fits = " ".join(f"{n}={input[f'fit_{n}']}" for n in COMPARED)
        files = f"{files} --fits {fits}"
    return files


def figure_config(wildcards):
    """What a dataset's figure reads of the config: the entries it shows and its settings."""
    shown = [r for r in FIGURES[wildcards.figure].inputs if r in ENTRIES]
    if FITS in FIGURES[wildcards.figure].inputs or STYLES in FIGURES[wildcards.figure].options:
        shown += COMPARED
    return used_config(*figure_keys(FIGURES[wildcards.figure]), methods=shown or COMPARED[:1])


def figure_keys(spec):
    """The config keys a figure's options read (the styles aside: the entries give them), so
    that a setting reruns only the figures drawn with it."""
    return ["study.rank_bins" if o == "rank_bins" else f"figures.{o}"
            for o in spec.options if o != STYLES]  # fmt: skip


def figure_stage(wildcards):
    """Report subcategory: the stage whose output the figure mainly shows."""
    last = FIGURES[wildcards.figure].inputs[-1]
    return STAGE_OF_FIGURE_INPUT.get(last, "3 the tutorial's posteriors")


# fixed_truth rules


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
        for name in COMPARED:
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
