"""The configuration's documentation: each setting is described once, in the schema, and
config/README.md's table is generated from it (python -m pipeline.stages.config_docs)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml
from conftest import DEFAULT_CONFIG, REPO

from pipeline.setup.config import SCHEMA
from pipeline.stages.config_docs import config_markdown, description, readme_table

SCHEMA_TREE = yaml.safe_load(SCHEMA.read_text())


def config_keys(node: Mapping = DEFAULT_CONFIG, prefix: str = "") -> Iterator[str]:
    """Every dotted key of a config, sections and leaves (chi2_map.x.num)."""
    for name, value in node.items():
        yield prefix + name
        if isinstance(value, Mapping):
            yield from config_keys(value, prefix + name + ".")


def _resolved(node: Mapping) -> Mapping:
    return SCHEMA_TREE["$defs"][node["$ref"].split("/")[-1]] if "$ref" in node else node


def stale_schema_keys(node: Mapping = SCHEMA_TREE, config: Any = DEFAULT_CONFIG,
                      prefix: str = "") -> Iterator[str]:  # fmt: skip
    """The keys the schema names (`properties`, through $refs, and inside the sections keyed
    by the model's parameters) that the default `config` lacks."""
    node = _resolved(node)
    if not isinstance(config, Mapping):
        return
    for name, sub in node.get("properties", {}).items():
        if name not in config:
            yield prefix + name
        else:
            yield from stale_schema_keys(sub, config[name], prefix + name + ".")
    other = node.get("additionalProperties")
    if isinstance(other, Mapping):
        for name, value in config.items():
            if name not in node.get("properties", {}):
                yield from stale_schema_keys(other, value, prefix + name + ".")


def test_the_readme_table_is_the_generated_one():
    table = readme_table((REPO / "config" / "README.md").read_text())
    assert table == config_markdown(), (
        "config/README.md's table is not the one generated from config/config.yaml, the "
        "schema's descriptions and the stages' KEYS: regenerate it with "
        "`python -m pipeline.stages.config_docs --write` (or paste the output of "
        "`python -m pipeline.stages.config_docs` between its markers)"
    )


def test_every_key_of_the_default_config_is_described_by_the_schema():
    keys = list(config_keys())
    assert "chi2_map.x.num" in keys and "priors.sigmain.rate" in keys
    undescribed = [key for key in keys if not description(key).strip()]
    assert undescribed == [], "give these keys a description in workflow/schemas/"


def test_every_key_the_schema_names_is_in_the_default_config():
    assert list(stale_schema_keys()) == [], "stale keys in workflow/schemas/config.schema.yaml"
