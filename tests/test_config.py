"""The config schema: shipped configs pass, bad values are named, every key is documented."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from conftest import DEFAULT_CONFIG, REPO

from pipeline.config import SCHEMA, ConfigError, problems, validate


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
            "Additional properties are not allowed ('stesp' was unexpected)",
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


def test_every_config_key_is_documented():
    documented = (REPO / "config" / "README.md").read_text()
    schema = yaml.safe_load(SCHEMA.read_text())

    def keys(node, prefix=""):
        node = schema["$defs"][node["$ref"].split("/")[-1]] if "$ref" in node else node
        for name, sub in node.get("properties", {}).items():
            yield prefix + name
            yield from keys(sub, prefix + name + ".")

    missing = [k for k in keys(schema) if not re.search(rf"`{re.escape(k)}`", documented)]
    assert missing == []
