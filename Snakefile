# diffspec: a spectral model fitted many ways (the tutorial's: one Voigt line, five ways), as
# reproducible stages.
# The rules live in workflow/rules/; every setting is in config/config.yaml (see config/README.md).
import sys

from snakemake.utils import min_version

min_version("9.0")

# The workflow reads its schema check and figure table from the package, installed or not.
sys.path.insert(0, workflow.basedir)
from pipeline.methods.config import validate  # noqa: E402


configfile: "config/config.yaml"


validate(config)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/methods.smk"
include: "workflow/rules/fixed_truth.smk"
include: "workflow/rules/sbc.smk"
include: "workflow/rules/figures.smk"


rule all:
    input:
        all_outputs(),
    default_target: True


# Named targets, whatever the config's `targets`:
rule tutorial:  # the tutorial's work on its dataset: data, chi^2 map, fits, summaries, ten figures
    input:
        [f"results/noise0.1/seed72/{name}" for name in TUTORIAL_FILES],


rule sbc:  # the simulation-based calibration study
    input:
        sbc_outputs(),
