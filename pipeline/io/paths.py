"""Where each dataset's files live; shared by the workflow's rules and the sweep's stage."""

from __future__ import annotations

DATASET_DIR = "results/noise{noise}/seed{seed}"  # relative to the workflow's working directory
FIXED_TRUTH_DIR = "results/fixed_truth"
SBC_DIR = "results/sbc"


def noise_label(noise: float) -> str:
    """The canonical text of a noise level in paths: the shortest round-trip repr (0.10 -> 0.1)."""
    return repr(float(noise))


def dataset_dir(noise: float, seed: int) -> str:
    """The directory of the dataset with this noise level and seed."""
    return DATASET_DIR.format(noise=noise_label(noise), seed=int(seed))
