"""The model specifications a config may name (`model`, or a method variant's `model`): each
module of this package declares its models once (pipeline.models.spec says what that means)."""

from __future__ import annotations

from pipeline.models.spec import Model
from pipeline.models.voigt_line import GAUSSIAN, VOIGT, VOIGT_FREE_GAMMA

MODELS: dict[str, Model] = {m.name: m for m in (VOIGT, VOIGT_FREE_GAMMA, GAUSSIAN)}


def get_model(name: str) -> Model:
    """The model called `name`, or a ValueError naming the models there are."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; the models are: {', '.join(MODELS)}")
    return MODELS[name]
