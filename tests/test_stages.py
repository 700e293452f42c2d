"""Each stage's function and command line on small inputs, including how bad input is refused."""

from __future__ import annotations

import copy
import importlib
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import DEFAULT_CONFIG, REPO

from pipeline.io.files import read_dataset
from pipeline.methods import METHODS
from pipeline.plots.registry import FIGURES
from pipeline.setup.config import describe, merge
from pipeline.stages import chi2_map, cli, data, figure, fit, optimize

# every module of pipeline/stages with a command line (cli, observation and docs are helpers)
STAGES = sorted(
    p.stem for p in (REPO / "pipeline" / "stages").glob("*.py") if "def main(" in p.read_text()
)
SMALL_LINE = {"n_points": 120}
GRID = {"x": {"param": "logN", "min": 20.5, "max": 21.5, "num": 7},
        "y": {"param": "logbeta", "min": -1.0, "max": 1.0, "num": 5}}  # fmt: skip


def small_dataset(sigma_noise: float, seed: int, common: bool = False):
    config = merge(copy.deepcopy(DEFAULT_CONFIG),
                   {"line": SMALL_LINE, "datasets": {"common_random_numbers": common}})  # fmt: skip
    assert config["datasets"]["reference_noise"] == 0.1 and config["precision"] == "float32"
    assert config["truth"] == {"logN": 21.0, "logbeta": 0.0}
    return data.dataset(config, sigma_noise, seed)


def settings(**sections) -> list[str]:
    """The --config flag of a stage given these config sections."""
    return ["--config", json.dumps(sections)]


@pytest.fixture(scope="module")
def small_files(tmp_path_factory):
    """data.nc, chi2_map.nc and optimize.nc of a 120-point dataset, made by the stages' CLIs."""
    d = tmp_path_factory.mktemp("stages")
    data.main(["--out", str(d / "data.nc"), "--sigma-noise", "0.05", "--seed", "3",
               *settings(line=SMALL_LINE)])  # fmt: skip
    chi2_map.main(["--data", str(d / "data.nc"), "--out", str(d / "chi2_map.nc"),
                   *settings(chi2_map=GRID)])  # fmt: skip
    optimize.main(["--data", str(d / "data.nc"), "--out", str(d / "optimize.nc"),
                   *settings(optimize={"steps": 6})])  # fmt: skip
    return d


def test_the_stages_are_found():
    expected = {"data", "chi2_map", "optimize", "fit", "summary", "compare", "cost", "evidence",
                "figure", "fixed_truth", "sbc_simulate", "sbc_fit", "sbc_ranks"}  # fmt: skip
    assert expected <= set(STAGES)


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_explains_itself_with_help(stage):
    result = subprocess.run(
        [sys.executable, "-m", f"pipeline.stages.{stage}", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:") and "--help" in result.stdout
    # the config keys the stage reads, each with its meaning from the schema
    keys = importlib.import_module(f"pipeline.stages.{stage}").KEYS
    assert keys and "--config" in result.stdout
    assert "config keys this stage reads" in result.stdout
    for key in keys:
        if key.startswith("<"):  # a fitting stage: the section of whichever method it runs
            assert f"  {key}: " in result.stdout
            assert all(describe(name) for name in METHODS), "every method's section described"
            continue
        meaning = describe(key)
        assert meaning, f"the schema does not describe {key}"
        assert f"  {key}: {meaning}" in result.stdout, key


def test_data_noise_is_numpys_legacy_draw_for_the_seed(small_files):
    ds = read_dataset(small_files / "data.nc", "data")
    # noise 0.05 is not the reference level: its seed is mixed with the level
    assert ds.attrs["seed"] == 3 and ds.attrs["noise_seed"] != 3
    noise = np.random.RandomState(ds.attrs["noise_seed"]).normal(0.0, 0.05, 120)
    np.testing.assert_array_equal(ds["f_obs"].values, ds["f_true"].values + noise.astype("f4"))
    assert ds.attrs["sigma_noise"] == 0.05 and ds.attrs["dtype"] == "float32"
    assert list(ds["param"].values) == ["logN", "logbeta", "sigmain"]
    truth = ds["truth"].to_series()
    assert (truth["logN"], truth["logbeta"]) == (21.0, 0.0) and ds["nu"].size == 120
    assert truth["sigmain"] == pytest.approx(0.05)  # the noise parameter's truth: the level


def test_the_tutorials_dataset_is_the_tutorials_draw():
    # np.random.seed(72); f + np.random.normal(0.0, 0.1, len(f)), as the tutorial does
    ds = small_dataset(0.1, 72)
    assert ds.attrs["noise_seed"] == 72
    np.random.seed(72)  # noqa: NPY002 (the tutorial's own calls)
    expected = ds["f_true"].values + np.random.normal(0.0, 0.1, 120).astype(np.float32)  # noqa: NPY002
    np.testing.assert_array_equal(ds["f_obs"].values, expected)


def test_noise_levels_draw_independent_noise_unless_asked_for_common_numbers():
    def noise(sigma, seed, common=False):
        ds = small_dataset(sigma, seed, common)
        return (ds["f_obs"] - ds["f_true"]).values / sigma

    # independent: the same seed at two levels gives unrelated standard-normal patterns
    assert abs(np.corrcoef(noise(0.1, 5), noise(0.05, 5))[0, 1]) < 0.3
    assert abs(np.corrcoef(noise(0.2, 5), noise(0.05, 5))[0, 1]) < 0.3
    # common random numbers: one pattern, scaled by the level
    np.testing.assert_allclose(noise(0.05, 5, common=True), noise(0.1, 5), atol=1e-4)


def test_simulate_is_deterministic():
    a, b, c = small_dataset(0.1, 5), small_dataset(0.1, 5), small_dataset(0.1, 6)
    assert a.identical(b)
    assert not np.array_equal(a["f_obs"], c["f_obs"])


def test_chi2_map_has_the_grid_as_coordinates_and_its_minimum_near_the_truth(small_files):
    ds = read_dataset(small_files / "chi2_map.nc", "chi2_map")
    assert (ds.attrs["x_param"], ds.attrs["y_param"]) == ("logN", "logbeta")
    assert json.loads(ds.attrs["fixed"]) == {}
    assert ds["chi2"].dims == ("y", "x") and ds["chi2"].shape == (5, 7)
    np.testing.assert_allclose(ds["x"], np.linspace(20.5, 21.5, 7), rtol=1e-6)
    np.testing.assert_allclose(ds["y"], np.linspace(-1, 1, 5), rtol=1e-6, atol=1e-7)
    best = ds["chi2"].argmin(...)
    assert float(ds["x"][best["x"]]) == pytest.approx(21.0, abs=0.17)
    assert float(ds["y"][best["y"]]) == pytest.approx(0.0, abs=0.5)


def test_optimize_records_every_step_and_descends(small_files):
    ds = read_dataset(small_files / "optimize.nc", "optimize")
    assert ds.sizes == {"optimizer": 2, "step": 7, "param": 2, "nu": 120}
    assert list(ds["param"].values) == ["logN", "logbeta"]  # the model's line parameters
    np.testing.assert_allclose(ds["params"].isel(step=0), [[20.75, 0.5]] * 2)
    np.testing.assert_array_equal(ds["grad_init"], ds["grad"].isel(optimizer=0, step=0))
    for optimizer in ("steepest_descent", "adam"):
        chi2 = ds["chi2"].sel(optimizer=optimizer).values
        assert chi2[-1] < chi2[0], optimizer


@pytest.mark.parametrize("name", sorted(n for n, spec in FIGURES.items() if spec.module == "fit"))
def test_every_fit_figure_is_drawn_from_the_netcdf_files(small_files, tmp_path, name):
    inputs = [f"{kind}={small_files / (kind + '.nc')}" for kind in FIGURES[name].inputs]
    figure.main([name, *inputs, "--out", str(tmp_path / f"{name}.png"),
                 *settings(figures={"chi2_levels": [100, 150]})])  # fmt: skip
    assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_a_figure_given_the_wrong_inputs_is_refused(small_files, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        figure.main(["adam", f"data={small_files / 'data.nc'}", "--out", str(tmp_path / "a.png")])
    assert exit_.value.code == 2
    assert "figure adam is drawn from chi2_map, optimize; got data" in capsys.readouterr().err


def test_a_missing_input_is_named_and_no_output_is_written(tmp_path, capsys):
    out = tmp_path / "chi2_map.nc"
    with pytest.raises(SystemExit) as exit_:
        cli.run(chi2_map.main, ["--data", str(tmp_path / "data.nc"), "--out", str(out)])
    assert exit_.value.code == 1
    assert (
        f"error: input {tmp_path / 'data.nc'} (data.nc) does not exist" in capsys.readouterr().err
    )
    assert not out.exists()


def test_an_input_of_the_wrong_kind_is_named(small_files, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.run(
            optimize.main,
            ["--data", str(small_files / "chi2_map.nc"), "--out", str(tmp_path / "o.nc")],
        )
    assert "chi2_map.nc is not a valid data.nc" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sigma-noise", "-1", "--seed", "1"], "must be a positive finite number, got -1"),
        (["--sigma-noise", "0.1", "--seed", "-4"], "--seed must be a non-negative integer, got -4"),
    ],
)
def test_bad_stage_arguments_are_named(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        data.main(["--out", str(tmp_path / "d.nc"), *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "d.nc").exists()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"precision": "float16"}, "config.precision = 'float16': 'float16' is not one of"),
        ({"line": {"n_points": 0}}, "config.line.n_points = 0"),
        ({"truth": {"loggamma": 0.0}}, "config.truth.loggamma: model parameter not among"),
        ({"lines": {}}, "config: unknown key 'lines'"),
        ("{not json", "--config is not JSON"),
    ],
)
def test_bad_stage_settings_are_named(tmp_path, given, message):
    config = given if isinstance(given, str) else json.dumps(given)
    args = ["--out", str(tmp_path / "d.nc"), "--sigma-noise", "0.1", "--seed", "1"]
    with pytest.raises(SystemExit) as exit_:
        data.main([*args, "--config", config])
    # config_of exits with the message itself: the process prints it and exits with status 1
    assert exit_.value.code != 0 and str(exit_.value.code).startswith("error: ")
    assert message in str(exit_.value.code)
    assert not (tmp_path / "d.nc").exists()


@pytest.mark.parametrize(
    ("axis", "message"),
    [
        ({"min": 21.0, "max": 20.0, "num": 5}, "config.chi2_map.x.min = 21.0"),
        ({"min": 20.0, "max": 21.0, "num": 1}, "config.chi2_map.x.num = 1"),
        ({"param": "sigmain"}, "config.chi2_map.x.param = 'sigmain': not one of the model's"),
        ({"param": "logbeta"}, "the axes must be two different parameters"),
    ],
)
def test_a_bad_grid_axis_is_named(small_files, tmp_path, capsys, axis, message):
    args = ["--data", str(small_files / "data.nc"), "--out", str(tmp_path / "c.nc"),
            *settings(chi2_map={**GRID, "x": {**GRID["x"], **axis}})]  # fmt: skip
    with pytest.raises(SystemExit) as exit_:
        chi2_map.main(args)
    assert exit_.value.code != 0
    assert message in capsys.readouterr().err + str(exit_.value.code)
    assert not (tmp_path / "c.nc").exists()


def test_a_grid_fixing_a_parameter_the_model_lacks_is_named(small_files, tmp_path):
    fixed = {"loggamma": 0.0}  # the free-gamma model's: the tutorial's model has no such one
    args = ["--data", str(small_files / "data.nc"), "--out", str(tmp_path / "c.nc"),
            *settings(chi2_map={**GRID, "fixed": fixed})]  # fmt: skip
    with pytest.raises(SystemExit) as exit_:
        chi2_map.main(args)
    assert "config.chi2_map.fixed.loggamma: model parameter not among" in str(exit_.value.code)
    assert not (tmp_path / "c.nc").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bogus"], "'bogus' is not an entry of the config's methods"),
        (["laplace"], "laplace starts from adam: give --start exactly when it does"),
        (["nuts", "--start", "optimize.nc"], "nuts starts from nothing"),
    ],
)
def test_the_fit_stage_refuses_an_entry_it_cannot_run(small_files, tmp_path, capsys, args, message):
    out = tmp_path / "fit.nc"
    with pytest.raises(SystemExit) as exit_:
        fit.main([*args, "--data", str(small_files / "data.nc"), "--out", str(out)])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_nan_in_the_data_is_refused_with_its_place(small_files, tmp_path, capsys):
    ds = read_dataset(small_files / "data.nc", "data")
    ds["f_obs"][17] = np.nan
    broken = tmp_path / "data.nc"
    ds.to_netcdf(broken)  # as a disk or another program might leave it
    out = tmp_path / "chi2_map.nc"
    with pytest.raises(SystemExit):
        cli.run(chi2_map.main, ["--data", str(broken), "--out", str(out),
                                *settings(chi2_map=GRID)])  # fmt: skip
    err = capsys.readouterr().err
    assert f"input {broken}" in err and "variable 'f_obs' has a non-finite value at nu=17" in err
    assert not out.exists()
