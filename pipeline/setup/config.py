"""Checking a configuration against workflow/schemas/config.schema.yaml, with plain errors."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """The configuration breaks the schema; the message lists every problem, one per line."""


def _where(error: jsonschema.ValidationError) -> str:
    path = "config"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def problems(config: Mapping[str, Any], schema_path: Path = SCHEMA) -> list[str]:
    """Every way `config` breaks the schema, as 'where = value: what is wrong (what is allowed)',
    and for a section 'where: unknown key ...' or 'where: missing key ...' (not its dump)."""
    schema = yaml.safe_load(schema_path.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    lines = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.path))):
        if error.validator == "additionalProperties":
            allowed = ", ".join(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - set(error.schema.get("properties", {}))):
                lines.append(f"{_where(error)}: unknown key '{key}' (allowed here: {allowed})")
            continue
        if error.validator == "required":
            key = error.message.split("'")[1]
            lines.append(f"{_where(error)}: missing key '{key}'")
            continue
        allowed = error.schema.get("description") if isinstance(error.schema, dict) else None
        line = f"{_where(error)} = {error.instance!r}: {error.message}"
        lines.append(f"{line} ({allowed})" if allowed else line)
    return lines


def coerce_numbers(node: Any, schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Any:
    """`node` with strings converted where the schema wants a number or an integer.

    Snakemake passes structured `--config` values (e.g. datasets={"seeds": [1, 2]}) as strings.
    Dicts and lists are updated in place, as Snakemake holds the config object itself.
    """
    if "$ref" in schema:
        schema = defs[schema["$ref"].split("/")[-1]]
    kind = schema.get("type")
    numeric = [o["type"] for o in schema.get("oneOf", []) if o.get("type") in ("number", "integer")]
    if isinstance(node, str) and numeric and node.strip().lstrip("-").replace(".", "").isdigit():
        kind = numeric[0]  # e.g. vmap_width: "auto" or an integer given as text
    if isinstance(node, str) and kind in ("number", "integer"):
        try:
            return int(node) if kind == "integer" else float(node)
        except ValueError:
            return node  # left for the schema check to name
    if isinstance(node, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in node:
                node[key] = coerce_numbers(node[key], sub, defs)
    elif isinstance(node, list) and "items" in schema:
        node[:] = [coerce_numbers(item, schema["items"], defs) for item in node]
    return node


def _ordered(found: list[str], low_key: str, low: float, high_key: str, high: float) -> None:
    if not low < high:
        found.append(f"{low_key} = {low}, {high_key} = {high}: {low_key} must be below {high_key}")


def cross_field_problems(config: Mapping[str, Any]) -> list[str]:
    """Rules across keys that a schema cannot state and no model or method implies (those
    are pipeline.methods.config's), as 'keys = values: rule'."""
    found: list[str] = []
    for name in ("x", "y"):
        axis = config["chi2_map"][name]
        _ordered(found, f"config.chi2_map.{name}.min", axis["min"],
                 f"config.chi2_map.{name}.max", axis["max"])  # fmt: skip
    figures = config["figures"]
    _ordered(found, "config.figures.chi2_vmin", figures["chi2_vmin"], "config.figures.chi2_vmax",
             figures["chi2_vmax"])  # fmt: skip
    study = config["study"]
    slots = study["num_draws"] + 1  # the possible ranks 0..L
    if slots % study["rank_bins"]:
        found.append(
            f"config.study.num_draws + 1 = {slots}, config.study.rank_bins = "
            f"{study['rank_bins']}: the bins must divide the L + 1 possible ranks evenly"
        )
    for level in study["coverage_levels"]:
        if abs(level * slots / 2 - round(level * slots / 2)) > 1e-9:
            found.append(
                f"config.study.coverage_levels has {level}, config.study.num_draws = "
                f"{study['num_draws']}: level x (L + 1) / 2 must be a whole number, so that the "
                f"central interval holds exactly that share of the {slots} possible ranks"
            )
    return found


def validate(
    config: dict[str, Any], more_rules=None, across: bool = True, schema_path: Path = SCHEMA
) -> None:
    """Convert numbers given as text, then raise ConfigError listing every schema problem and,
    if the schema holds, every broken rule across keys (these unless not `across`, then
    `more_rules(config)`)."""
    schema = yaml.safe_load(schema_path.read_text())
    coerce_numbers(config, schema, schema.get("$defs", {}))
    found = problems(config, schema_path) or (cross_field_problems(config) if across else [])
    if not found and more_rules is not None:
        found = more_rules(config)
    if found:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(found))


def merge(base: dict, update: Mapping) -> dict:
    """`update` merged into `base` key by key (sections within sections too), as Snakemake merges a
    --configfile over the defaults; lists and values are replaced whole."""
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def describe(key: str, schema_path: Path = SCHEMA) -> str:
    """The schema's description of a dotted config key (e.g. 'study.num_draws')."""
    schema = yaml.safe_load(schema_path.read_text())
    node = schema
    for part in key.split("."):
        node = node.get("properties", {}).get(part, {})
    if "$ref" in node and "description" not in node:
        node = schema["$defs"][node["$ref"].split("/")[-1]]
    return node.get("description", "")
