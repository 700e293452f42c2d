"""The rules a config must keep that the models and methods imply: every key naming a
parameter names one of the model's, every prior fits its parameter, every method entry names a
method and settings it has. Checked with the schema before any job starts (`validate`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.methods import METHODS, Variant, variant_problems, variants
from pipeline.models import MODELS
from pipeline.models.spec import PRIOR_FAMILIES, Model
from pipeline.setup import config as schema

# a variant's name is a file name and a wildcard value; these are a dataset's other files
# (and adam, the optimiser's row of the fixed-truth sweep)
NAME = re.compile(r"[a-z][a-z0-9_]*")
RESERVED = ("data", "chi2_map", "optimize", "compare", "cost", "evidence", "summary", "adam")


def validate(config: dict[str, Any], given: Sequence[str] | None = None) -> None:
    """Check `config` against the schema, the rules across keys and those of the models and
    methods; raise setup.config.ConfigError listing every problem.

    A stage checks the defaults merged with the sections it was `given` (the workflow checked
    the whole config before): the schema and each method entry, but not the rules across
    keys, nor across a list's entries (the reference first, a start before its user), nor
    the sections naming the model's parameters (priors, truth, optimize, chi2_map) that it
    was not given and does not read."""
    schema.validate(config, more_rules=lambda c: problems(c, given), across=given is None)


def problems(config: Mapping[str, Any], given: Sequence[str] | None = None) -> list[str]:
    """Every way `config` breaks a rule the models and methods imply (`given`: see validate)."""
    whole = given is None
    if config["model"] not in MODELS:
        return [f"config.model = {config['model']!r}: unknown model (the models are: "
                f"{', '.join(MODELS)})"]  # fmt: skip
    found = []
    for key in ("methods", "study.methods"):
        found += variant_problems(_get(config, key), config, f"config.{key}")
    if found:
        return found
    model = MODELS[config["model"]]
    lists = [k for k in ("methods", "study.methods") if whole or k.split(".")[0] in given]
    used = [model] * (whole or "truth" in given or "optimize" in given) + [
        MODELS[v.model] for key in lists for v in variants(_get(config, key), config)
    ]
    supports = {}
    if whole or "priors" in given:
        found += _prior_problems(config["priors"], used)
        if found:
            return found
        supports = {n: s for m in used for n, s in m.support(config["priors"]).items()}
    if whole or "truth" in given:
        found += _values(config["truth"], model.line_names, "config.truth", supports)
    if whole or "optimize" in given:
        found += _values(config["optimize"]["init"], model.line_names, "config.optimize.init",
                         supports)  # fmt: skip
    if whole or "chi2_map" in given:
        axes = [config["chi2_map"][a]["param"] for a in ("x", "y")]
        found += [f"config.chi2_map.{a}.param = {p!r}: not one of the model's line parameters "
                  f"({', '.join(model.line_names)})" for a, p in zip("xy", axes, strict=True)
                  if p not in model.line_names]  # fmt: skip
        if axes[0] == axes[1]:
            found.append(f"config.chi2_map.x.param = config.chi2_map.y.param = {axes[0]!r}: the "
                         "axes must be two different parameters")  # fmt: skip
        others = tuple(n for n in model.line_names if n not in axes)
        found += _values(config["chi2_map"]["fixed"], others, "config.chi2_map.fixed", supports)
    for name, method in METHODS.items():
        found += method.settings_problems(config[name], f"config.{name}")
    found += _list_problems(config, "methods", model, whole)
    found += _list_problems(config, "study.methods", model, whole)
    return found


def _get(config: Mapping, key: str) -> Any:
    for part in key.split("."):
        config = config[part]
    return config


def _prior_problems(priors: Mapping, models: Sequence[Model]) -> list[str]:
    found = []
    params = {p.name: p for m in models for p in m.params}
    for name in priors:
        if name not in params:
            found.append(f"config.priors.{name}: no model fitted has this parameter (theirs: "
                         f"{', '.join(params)})")  # fmt: skip
    for name, param in params.items():
        family = PRIOR_FAMILIES[param.prior]
        key = f"config.priors.{name}"
        if name not in priors:
            found.append(f"{key}: missing; the {param.prior} prior of {name} needs "
                         f"{', '.join(family.keys)}")  # fmt: skip
            continue
        hyper = priors[name]
        if sorted(hyper) != sorted(family.keys):
            found.append(f"{key} = {dict(hyper)}: the {param.prior} prior of {name} takes "
                         f"exactly {', '.join(family.keys)}")  # fmt: skip
            continue
        if param.prior == "uniform" and not hyper["low"] < hyper["high"]:
            found.append(f"{key} = {dict(hyper)}: low must be below high")
        if param.prior == "exponential" and not hyper["rate"] > 0:
            found.append(f"{key}.rate = {hyper['rate']}: must be positive")
        low, high = family.support(hyper)
        if low < param.domain[0] or high > param.domain[1]:
            found.append(f"{key} = {dict(hyper)}: the prior's support ({low}, {high}) leaves "
                         f"{name}'s domain {param.domain}")  # fmt: skip
    return found


def _names(given: Sequence[str], allowed: Sequence[str], key: str) -> list[str]:
    return [f"{key}.{name}: model parameter not among the model's line parameters "
            f"({', '.join(allowed)})" for name in given if name not in allowed]  # fmt: skip


def _values(values: Mapping, expected: Sequence[str], key: str, supports: Mapping) -> list[str]:
    """`values` must give exactly the parameters `expected`, each inside its prior."""
    found = _names(list(values), expected, key)
    found += [f"{key}: missing {name} (needed: {', '.join(expected) or 'none'})"
              for name in expected if name not in values]  # fmt: skip
    for name, value in values.items():
        low, high = supports.get(name, (-float("inf"), float("inf")))
        if name in expected and not low < value < high:
            found.append(f"{key}.{name} = {value}: must lie inside the prior's support "
                         f"({low}, {high})")  # fmt: skip
    return found


def _list_problems(config: Mapping, key: str, model: Model, whole: bool) -> list[str]:
    """A method list's entries: names usable as files, starts available, enough draws."""
    found = []
    entries = variants(_get(config, key), config)
    for i, variant in enumerate(entries):
        where = f"config.{key}[{i}]"
        if variant.settings != {k: config[variant.method.name][k] for k in variant.settings}:
            found += variant.method.settings_problems(variant.settings, f"{where} ({variant.name})")
        if not NAME.fullmatch(variant.name) or variant.name in RESERVED:
            found.append(f"{where}.name = {variant.name!r}: a name is lower-case letters, digits"
                         f" and _, not one of {', '.join(RESERVED)}")  # fmt: skip
        source = start_of(variant, entries) if whole else None
        if whole and variant.method.start not in (None, "adam") and source is None:
            found.append(
                f"{where} ({variant.name}) starts from a {variant.method.start} fit of "
                f"model {variant.model}: put such an entry before it in config.{key}"
            )
        if source is not None and variant.method.dispersed_starts is not None:
            starts = variant.method.dispersed_starts(variant.typed_settings())
            # a study's block files keep L draws of each fit, a dataset's file all of them
            offered = (config["study"]["num_draws"] if key == "study.methods"
                       else source.method.num_draws(source.typed_settings()))  # fmt: skip
            if starts > offered:
                found.append(f"{where} ({variant.name}) starts {starts} chains at draws of "
                             f"{source.name}, which offers {offered}: at most that many "
                             "chains")  # fmt: skip
        if variant.method.start == "adam" and variant.model != model.name:
            found.append(
                f"{where} ({variant.name}) starts from Adam's fit of model "
                f"{model.name}, so it must fit that model, not {variant.model}"
            )
    if whole and entries[0].model != model.name:
        found.append(f"config.{key}[0] ({entries[0].name}) is the reference the others are "
                     f"compared with: it must fit the model {model.name}")  # fmt: skip
    if key == "study.methods":
        found += _study_problems(config, entries)
    return found


def _study_problems(config: Mapping, entries: Sequence[Variant]) -> list[str]:
    found = []
    num_draws = config["study"]["num_draws"]
    for i, variant in enumerate(entries):
        where = f"config.study.methods[{i}] ({variant.name})"
        if not variant.method.in_studies:
            found.append(
                f"{where}: {variant.method.name} does not fit study blocks (those "
                f"that do: {', '.join(m for m, x in METHODS.items() if x.in_studies)})"
            )
            continue
        made = variant.method.num_draws(variant.typed_settings())
        if made < num_draws:
            found.append(
                f"{where} makes {made} draws, config.study.num_draws = {num_draws}: "
                "a method must make at least L draws to rank the truth among"
            )
    return found


def start_of(variant: Variant, entries: Sequence[Variant]) -> Variant | None:
    """The entry a variant starts from: the first entry before it of its start method that
    fits the same model (None if there is none)."""
    before = entries[: entries.index(variant)]
    return next((v for v in before if v.method.name == variant.method.start
                 and v.model == variant.model), None)  # fmt: skip
