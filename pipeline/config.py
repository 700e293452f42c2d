"""Checking a configuration against workflow/schemas/config.schema.yaml, with plain errors."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """The configuration breaks the schema; the message lists every problem, one per line."""


def _where(error: jsonschema.ValidationError) -> str:
    path = "config"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def problems(config: Mapping[str, Any], schema_path: Path = SCHEMA) -> list[str]:
    """Every way `config` breaks the schema, as 'where = value: what is wrong (what is allowed)'."""
    schema = yaml.safe_load(schema_path.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    lines = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.path))):
        allowed = error.schema.get("description") if isinstance(error.schema, dict) else None
        line = f"{_where(error)} = {error.instance!r}: {error.message}"
        lines.append(f"{line} ({allowed})" if allowed else line)
    return lines


def coerce_numbers(node: Any, schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Any:
    """`node` with strings converted where the schema wants a number or an integer.

    Snakemake passes nested `--config` values (e.g. datasets={"seeds": [1, 2]}) as strings.
    Dicts and lists are updated in place, as Snakemake holds the config object itself.
    """
    if "$ref" in schema:
        schema = defs[schema["$ref"].split("/")[-1]]
    kind = schema.get("type")
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


def validate(config: dict[str, Any], schema_path: Path = SCHEMA) -> None:
    """Convert numbers given as text, then raise ConfigError listing every schema problem."""
    schema = yaml.safe_load(schema_path.read_text())
    coerce_numbers(config, schema, schema.get("$defs", {}))
    found = problems(config, schema_path)
    if found:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(found))
