"""What every output records of how it was made: stage, settings, inputs and versions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import metadata
from typing import Any

PROVENANCE_PACKAGES = (
    "diffspec",
    "jax",
    "jaxlib",
    "jaxns",
    "numpyro",
    "optax",
    "numpy",
    "xarray",
    "netCDF4",
)


def provenance(
    stage: str, settings: Mapping[str, Any], inputs: Mapping[str, str]
) -> dict[str, str]:
    """Global attributes: the stage, the settings it used, its inputs and package versions."""
    versions = {}
    for package in PROVENANCE_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "stage": stage,
        "settings": json.dumps(settings, sort_keys=True),
        "inputs": json.dumps(dict(inputs), sort_keys=True),
        "versions": json.dumps(versions, sort_keys=True),
        "Conventions": "CF-1.10",
    }
