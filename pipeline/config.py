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


def validate(config: Mapping[str, Any], schema_path: Path = SCHEMA) -> None:
    """Raise ConfigError listing every problem if `config` breaks the schema."""
    found = problems(config, schema_path)
    if found:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(found))
