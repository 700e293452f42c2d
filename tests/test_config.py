"""The config schema: shipped configs pass, bad values are named, every key is documented."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from conftest import DEFAULT_CONFIG, REPO

from pipeline.setup.config import SCHEMA, ConfigError, problems, validate


def test_the_default_config_is_valid():
    assert problems(DEFAULT_CONFIG) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("precision",), "float16", "config.precision = 'float16': 'float16' is not one of"),
        (("datasets", "seeds"), [1, 1], "config.datasets.seeds = [1, 1]: [1, 1] has non-unique"),
        (("datasets", "seeds"), [-3], "config.datasets.seeds[0] = -3: -3 is less than the minimum"),
        (
            ("datasets", "seeds"),
            [1.5],
            "config.datasets.seeds[0] = 1.5: 1.5 is not of type 'integer'",
        ),
        # 0.1 and 0.10 are one noise level: YAML reads both as the float 0.1
        (("datasets", "sigma_noise"), [0.1, 0.10], "[0.1, 0.1] has non-unique elements"),
        (
            ("datasets", "sigma_noise"),
            [0.0],
            "config.datasets.sigma_noise[0] = 0.0: 0.0 is less than or equal",
        ),
        (
            ("line", "n_points"),
            "many",  # numbers given as text ("100", as --config passes them) are converted
            "config.line.n_points = 'many': 'many' is not of type 'integer'",
        ),
        (
            ("chi2_map", "logN", "num"),
            1,
            "config.chi2_map.logN.num = 1: 1 is less than the minimum of 2",
        ),
        (("optimize", "adam_learning_rate"), -1.0, "config.optimize.adam_learning_rate = -1.0"),
        (
            ("optimize", "stesp"),
            3,
            "config.optimize: unknown key 'stesp' (allowed here: init, steps, ",
        ),
    ],
)
def test_a_bad_value_is_named_with_what_is_allowed(path, value, expected):
    config = copy.deepcopy(DEFAULT_CONFIG)
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ConfigError) as err:
        validate(config)
    assert expected in str(err.value)


SCHEMA_TREE = yaml.safe_load(SCHEMA.read_text())


def _resolve(node: dict) -> dict:
    return SCHEMA_TREE["$defs"][node["$ref"].split("/")[-1]] if "$ref" in node else node


def schema_keys(node=SCHEMA_TREE, prefix=""):
    """(dotted key, its schema) for every key of the schema, sections and leaves."""
    for name, sub in _resolve(node).get("properties", {}).items():
        yield prefix + name, _resolve(sub)
        yield from schema_keys(sub, prefix + name + ".")


def bad_value(schema: dict):
    """A value the schema refuses for a key (its kind, bounds or choices)."""
    if "enum" in schema:
        return "no-such-choice"
    if "oneOf" in schema:
        return "no-such-mode"
    kind = schema.get("type")
    if kind == "object":
        return 7
    if kind == "array":
        return [] if schema.get("minItems") else ["not", "numbers"]
    if kind == "boolean":
        return "perhaps"
    if "minimum" in schema:
        return schema["minimum"] - 1
    if "exclusiveMinimum" in schema:
        return schema["exclusiveMinimum"]
    return "not a number"


def test_every_config_key_is_documented_and_only_those():
    documented = (REPO / "config" / "README.md").read_text()
    keys = {k for k, _ in schema_keys()}
    missing = [k for k in keys if not re.search(rf"`{re.escape(k)}`", documented)]
    assert missing == []
    # every key the table names exists (a row like `a.b`, `a.c` names two)
    rows = re.findall(r"^\| (`[^|]*`) \|", documented, re.M)
    named = {name for row in rows for name in re.findall(r"`([^`]+)`", row)}
    assert named - keys == set()


@pytest.mark.parametrize("key", [k for k, _ in schema_keys()])
def test_every_key_refuses_a_bad_value_by_name(key):
    config = copy.deepcopy(DEFAULT_CONFIG)
    *parents, last = key.split(".")
    node = config
    for part in parents:
        node = node[part]
    node[last] = bad_value(dict(schema_keys())[key])
    with pytest.raises(ConfigError) as err:
        validate(config)
    assert f"config.{key}" in str(err.value)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"priors": {"logN": {"low": 21.5, "high": 20.5}}},
         "config.priors.logN.low = 21.5, config.priors.logN.high = 20.5: config.priors.logN.low "
         "must be below config.priors.logN.high"),
        ({"chi2_map": {"logN": {"min": 21, "max": 20, "num": 10}}},
         "config.chi2_map.logN.min = 21, config.chi2_map.logN.max = 20"),
        ({"figures": {"chi2_vmin": 2000}}, "config.figures.chi2_vmin = 2000"),
        ({"line": {"logbeta": 1.5}},
         "config.line.logbeta = 1.5: must lie inside the prior's support config.priors.logbeta"),
        ({"optimize": {"init": {"logN": 20.0, "logbeta": 0.5}}},
         "config.optimize.init.logN = 20.0"),
        ({"nuts": {"num_samples": 7}}, "config.nuts.num_samples = 7"),
        ({"nested": {"num_live_points": 90, "max_samples": 150}},
         "config.nested.max_samples = 150, config.nested.num_live_points = 90"),
        ({"gradient_free": {"num_samples": 70, "thinning": 10}},
         "config.gradient_free.num_samples = 70, config.gradient_free.thinning = 10"),
    ],
)  # fmt: skip
def test_rules_across_keys_are_refused_by_name(edit, expected):
    from benchmarks.common import merged

    with pytest.raises(ConfigError) as err:
        validate(merged(DEFAULT_CONFIG, edit))
    assert expected in str(err.value)
