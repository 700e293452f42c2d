"""The registry of inference methods, and their variants in a config.

A config names the methods to run (`methods` for the datasets, `study.methods` for a
calibration study) as a list whose entries are a method's name (its config section's
settings) or a variant: `{name: long_chains, method: M, num_samples: 10000}` runs method M
under a name of its own with some settings changed, and `model: gaussian` fits another model.
"""

from __future__ import annotations

import importlib
import pkgutil
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from pipeline.methods.base import Method

# every module of this package that declares a METHOD is a method: adding one is adding a
# module (pipeline.setup.imports counts them all as imported by whoever imports the registry);
# filled at the end of this module, which the method modules' own imports need first
METHODS: dict[str, Method] = {}


class Variant(NamedTuple):
    """One entry of a config's method list: its name (files, tables, figures), the method,
    the model it fits and its settings (the method's config section with the variant's
    changes, `seed` included where the method is seeded)."""

    name: str
    method: Method
    model: str
    settings: dict[str, Any]

    def typed_settings(self) -> Any:
        """The settings as the method's NamedTuple (seed aside)."""
        fields = self.method.settings._fields
        return self.method.settings(**{k: self.settings[k] for k in fields})

    @property
    def label(self) -> str:
        """The variant's name in figures: the method's label, or the variant's own name."""
        return self.method.label if self.name == self.method.name else self.name

    @property
    def color(self) -> str:
        return self.method.color


VARIANT_KEYS = ("name", "method", "model")  # what a variant entry holds besides settings


def section_keys(method: Method) -> tuple[str, ...]:
    """The keys of a method's config section: its settings, and `seed` if it is seeded."""
    return (*method.settings._fields, *(("seed",) if method.seeded else ()))


def variant_problems(entries: Sequence[Any], config: Mapping, where: str) -> list[str]:
    """Every way the method list `entries` (at config key `where`) is wrong, as messages
    naming the key, the value and what is allowed."""
    from pipeline.models import MODELS

    found, names = [], []
    for i, entry in enumerate(entries):
        key = f"{where}[{i}]"
        if isinstance(entry, str):
            entry = {"name": entry, "method": entry}
        if not isinstance(entry, Mapping) or "name" not in entry:
            found.append(f"{key} = {entry!r}: a method's name or a variant "
                         "{name: ..., method: ..., settings...}")  # fmt: skip
            continue
        method = entry.get("method", entry["name"])
        if method not in METHODS:
            found.append(f"{key}.method = {method!r}: unknown method (the methods are: "
                         f"{', '.join(METHODS)})")  # fmt: skip
            continue
        allowed = (*VARIANT_KEYS, *section_keys(METHODS[method]))
        for setting in entry:
            if setting not in allowed:
                found.append(f"{key}.{setting}: unknown setting of method {method!r} (allowed: "
                             f"{', '.join(allowed)})")  # fmt: skip
        model = entry.get("model", config["model"])
        if model not in MODELS:
            found.append(f"{key}.model = {model!r}: unknown model (the models are: "
                         f"{', '.join(MODELS)})")  # fmt: skip
        if entry["name"] in names:
            found.append(f"{key}.name = {entry['name']!r}: two entries share this name")
        names.append(entry["name"])
    return found


def entry_name(entry: Any) -> str:
    """A method list's entry's name: a method's, or a variant's own."""
    return entry if isinstance(entry, str) else entry["name"]


def variants(entries: Sequence[Any], config: Mapping) -> list[Variant]:
    """The config's method list as variants (checked first by variant_problems)."""
    found = []
    for entry in entries:
        if isinstance(entry, str):
            entry = {"name": entry}
        method = METHODS[entry.get("method", entry["name"])]
        section = {k: config[method.name][k] for k in section_keys(method)}
        changes = {k: v for k, v in entry.items() if k not in VARIANT_KEYS}
        model = entry.get("model", config["model"])
        found.append(Variant(entry["name"], method, model, section | changes))
    return found


def find(entries: Sequence[Any], config: Mapping, name: str) -> Variant:
    """The variant called `name` of a method list."""
    return next(v for v in variants(entries, config) if v.name == name)


def dataset_keys(seed: int, name: str, indices: np.ndarray | None = None) -> np.ndarray:
    """Raw PRNG keys of a method's fits, one per dataset. A single dataset (`indices` None)
    gets PRNGKey(seed) itself, as the tutorial's fits use. A study's datasets get keys of a
    stream of their own per variant (PRNGKey(seed) folded with a tag of the variant's name,
    then with the dataset's index), so no two variants, nor the study's truths, share one."""
    import jax
    import jax.numpy as jnp

    base = jax.random.PRNGKey(seed)
    if indices is None:
        return np.asarray(base)[None]
    stream = jax.random.fold_in(base, stream_tag(name))
    return np.asarray(jax.vmap(lambda i: jax.random.fold_in(stream, i))(jnp.asarray(indices)))


def stream_tag(name: str) -> int:
    """A stream's number from its name (CRC-32, 31 bits): distinct names, distinct streams."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


# colours of the variants that are not a method under its own name, in order of appearance
VARIANT_COLORS = ("C5", "C6", "C7", "C8", "C9", "C1", "C2")


def styles(entries: Sequence[Any], config: Mapping) -> dict[str, dict[str, str]]:
    """The label and colour in figures of every entry of a method list: a method's own, or
    for a variant its name and a colour no method has."""
    spare = iter(VARIANT_COLORS)
    return {v.name: {"label": v.label,
                     "color": v.color if v.name == v.method.name else next(spare)}
            for v in variants(entries, config)}  # fmt: skip


for _module in pkgutil.iter_modules(__path__):
    _method = getattr(importlib.import_module(f"{__name__}.{_module.name}"), "METHOD", None)
    if isinstance(_method, Method):
        METHODS[_method.name] = _method
