"""The config schema: shipped configs pass, bad values are named, every key is documented."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from conftest import DEFAULT_CONFIG, REPO

import pipeline.methods
import pipeline.models
from pipeline.methods.config import problems as model_problems
from pipeline.methods.config import validate  # what the Snakefile calls: schema, models, methods
from pipeline.setup.config import SCHEMA, ConfigError, merge, problems


def test_the_default_config_is_valid():
    assert problems(DEFAULT_CONFIG) == []
    assert model_problems(DEFAULT_CONFIG) == []
    validate(copy.deepcopy(DEFAULT_CONFIG))


@pytest.mark.parametrize("name", ["free_gamma.yaml", "sbc.yaml", "sweep.yaml"])
def test_the_shipped_overlays_are_valid(name):
    overlay = yaml.safe_load((REPO / "config" / name).read_text())
    validate(merge(copy.deepcopy(DEFAULT_CONFIG), overlay))


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
            ("chi2_map", "x", "num"),
            1,
            "config.chi2_map.x.num = 1: 1 is less than the minimum of 2",
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


def schema_keys(node=SCHEMA_TREE, prefix="", config=DEFAULT_CONFIG):
    """(dotted key, its schema) for every key of the schema, sections and leaves, and those
    of the default `config` that the schema allows by their kind (a section keyed by the
    model's parameters: truth.logN, chi2_map.x.num, priors.sigmain.rate, ...)."""
    node = _resolve(node)
    named = node.get("properties", {})
    for name, sub in named.items():
        yield prefix + name, _resolve(sub)
        inner = config.get(name) if isinstance(config, dict) else None
        yield from schema_keys(sub, prefix + name + ".", inner if isinstance(inner, dict) else {})
    other = node.get("additionalProperties")
    if isinstance(other, dict) and isinstance(config, dict):
        for name, value in config.items():
            if name not in named:
                yield prefix + name, _resolve(other)
                inner = value if isinstance(value, dict) else {}
                yield from schema_keys(other, prefix + name + ".", inner)


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
         "config.priors.logN = {'low': 21.5, 'high': 20.5}: low must be below high"),
        ({"chi2_map": {"x": {"min": 21, "max": 20, "num": 10}}},
         "config.chi2_map.x.min = 21, config.chi2_map.x.max = 20"),
        ({"figures": {"chi2_vmin": 2000}}, "config.figures.chi2_vmin = 2000"),
        ({"truth": {"logbeta": 1.5}},
         "config.truth.logbeta = 1.5: must lie inside the prior's support (-1.0, 1.0)"),
        ({"optimize": {"init": {"logN": 20.0, "logbeta": 0.5}}},
         "config.optimize.init.logN = 20.0: must lie inside the prior's support (20.5, 21.5)"),
        ({"nuts": {"num_samples": 7}}, "config.nuts.num_samples = 7"),
        ({"nested": {"num_live_points": 90, "max_samples": 150}},
         "config.nested.max_samples = 150, config.nested.num_live_points = 90"),
        ({"gradient_free": {"num_samples": 70, "thinning": 10}},
         "config.gradient_free.num_samples = 70, config.gradient_free.thinning = 10"),
    ],
)  # fmt: skip
def test_rules_across_keys_are_refused_by_name(edit, expected):
    with pytest.raises(ConfigError) as err:
        validate(merge(copy.deepcopy(DEFAULT_CONFIG), edit))
    assert expected in str(err.value)


def _listed(registry) -> str:
    return ", ".join(registry)


MODELS = f"the models are: {_listed(pipeline.models.MODELS)}"
METHODS = f"the methods are: {_listed(pipeline.methods.METHODS)}"


# What the models and methods imply (pipeline.methods.config), refused before any job starts
# (the Snakefile validates the config first), each naming the key, the value and what is allowed.
# An edit sets each dotted key to its value, replacing what was there.
def replaced(config: dict, edit: dict) -> dict:
    """A copy of `config` with each dotted key of `edit` set to its value."""
    config = copy.deepcopy(config)
    for key, value in edit.items():
        *parents, last = key.split(".")
        node = config
        for part in parents:
            node = node[part]
        node[last] = value
    return config


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"model": "nope"}, f"config.model = 'nope': unknown model ({MODELS})"),
        ({"methods": ["nuts", "nope"]},
         f"config.methods[1].method = 'nope': unknown method ({METHODS})"),
        ({"methods": ["nuts", {"name": "mine", "method": "nope"}]},
         f"config.methods[1].method = 'nope': unknown method ({METHODS})"),
        ({"study.methods": ["nuts", "nope"]},
         f"config.study.methods[1].method = 'nope': unknown method ({METHODS})"),
        ({"methods": ["nuts", {"name": "svi4", "method": "svi", "num_chains": 4}]},
         "config.methods[1].num_chains: unknown setting of method 'svi' (allowed: name, method, "
         "model, num_steps, learning_rate, final_learning_rate_fraction, num_draws, seed)"),
        ({"study.methods": ["nuts", {"name": "l", "method": "laplace", "num_steps": 9}]},
         "config.study.methods[1].num_steps: unknown setting of method 'laplace' (allowed: "),
        ({"methods": ["nuts", {"name": "g", "method": "nested", "model": "lorentz"}]},
         f"config.methods[1].model = 'lorentz': unknown model ({MODELS})"),
        ({"methods": ["nuts", "svi", "nuts"]},
         "config.methods[2].name = 'nuts': two entries share this name"),
        ({"methods": ["nuts", {"name": "svi", "method": "svi"}, "svi"]},
         "config.methods[2].name = 'svi': two entries share this name"),
        ({"study.methods": ["nuts", "nuts"]},
         "config.study.methods[1].name = 'nuts': two entries share this name"),
        ({"priors.loggamma": {"low": -1.0, "high": 1.0}},
         "config.priors.loggamma: no model fitted has this parameter (theirs: logN, logbeta, "
         "sigmain)"),
        ({"truth.loggamma": 0.0},
         "config.truth.loggamma: model parameter not among the model's line parameters "
         "(logN, logbeta)"),
        ({"truth.sigmain": 0.1},  # the noise is each dataset's noise level
         "config.truth.sigmain: model parameter not among the model's line parameters"),
        ({"optimize.init.loggamma": 0.0},
         "config.optimize.init.loggamma: model parameter not among the model's line parameters "
         "(logN, logbeta)"),
        ({"chi2_map.y.param": "loggamma"},
         "config.chi2_map.y.param = 'loggamma': not one of the model's line parameters "
         "(logN, logbeta)"),
        ({"chi2_map.y.param": "logN"},
         "config.chi2_map.x.param = config.chi2_map.y.param = 'logN': the axes must be two "
         "different parameters"),
        ({"chi2_map.fixed.nope": 1.0},
         "config.chi2_map.fixed.nope: model parameter not among the model's line parameters "
         "()"),
        ({"priors.sigmain": {"rate": -1}}, "config.priors.sigmain.rate = -1: must be positive"),
        ({"priors.sigmain": {"rate": 0.0}}, "config.priors.sigmain.rate = 0.0: must be positive"),
        ({"priors.logbeta": {"low": 0.5, "high": 0.5}},
         "config.priors.logbeta = {'low': 0.5, 'high': 0.5}: low must be below high"),
        ({"priors.logN": {"low": 20.5, "high": 21.5, "rate": 1.0}},
         "config.priors.logN = {'low': 20.5, 'high': 21.5, 'rate': 1.0}: the uniform prior of "
         "logN takes exactly low, high"),
        ({"priors.sigmain": {"low": 0.0, "high": 1.0}},
         "config.priors.sigmain = {'low': 0.0, 'high': 1.0}: the exponential prior of sigmain "
         "takes exactly rate"),
        # the free-gamma model needs a prior of its Lorentz width, and a truth and a start of it
        ({"model": "voigt_free_gamma"},
         "config.priors.loggamma: missing; the uniform prior of loggamma needs low, high"),
        ({"model": "voigt_free_gamma", "priors.loggamma": {"low": -1.0, "high": 1.0}},
         "config.truth: missing loggamma (needed: logN, logbeta, loggamma)"),
        ({"model": "voigt_free_gamma", "priors.loggamma": {"low": -1.0, "high": 1.0}},
         "config.optimize.init: missing loggamma (needed: logN, logbeta, loggamma)"),
        ({"model": "voigt_free_gamma", "priors.loggamma": {"low": -1.0, "high": 1.0}},
         "config.chi2_map.fixed: missing loggamma (needed: loggamma)"),
        # each chain of the gradient-free sampler starts at its own draw of the Laplace fit
        ({"gradient_free.num_chains": 2001},
         "config.methods[5] (gradient_free) starts 2001 chains at draws of laplace, which "
         "offers 2000: at most that many chains"),
        ({"study.methods": ["laplace", "gradient_free"], "gradient_free.num_chains": 200},
         "config.study.methods[1] (gradient_free) starts 200 chains at draws of laplace, which "
         "offers 199: at most that many chains"),
    ],
)  # fmt: skip
def test_what_the_models_and_methods_imply_is_refused_by_name(edit, expected):
    with pytest.raises(ConfigError) as err:
        validate(replaced(DEFAULT_CONFIG, edit))
    assert expected in str(err.value)


@pytest.mark.parametrize("param", ["logN", "logbeta", "sigmain"])
def test_a_missing_prior_is_refused_by_name(param):
    config = copy.deepcopy(DEFAULT_CONFIG)
    del config["priors"][param]
    with pytest.raises(ConfigError) as err:
        validate(config)
    family = {"logN": "uniform", "logbeta": "uniform", "sigmain": "exponential"}[param]
    needs = {"uniform": "low, high", "exponential": "rate"}[family]
    assert f"config.priors.{param}: missing; the {family} prior of {param} needs {needs}" in str(
        err.value
    )
