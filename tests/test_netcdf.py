"""NetCDF layouts: checked on write and read, atomic writes, README in step with the code."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from conftest import REPO

from pipeline.io.files import LAYOUTS, new_dataset, read_dataset, write_dataset
from pipeline.io.layouts import NetCDFInputError, check_layout
from pipeline.stages.docs import layouts_markdown


def small_chi2_map():
    return new_dataset(
        "chi2_map",
        coords={"x": [20.5, 21.0], "y": [-1.0, 0.0, 1.0]},
        data_vars={"chi2": np.arange(6.0).reshape(3, 2)},
        attrs={"x_param": "logN", "y_param": "logbeta", "fixed": "{}"},
    )


def test_round_trip_keeps_values_units_and_names(tmp_path):
    write_dataset(small_chi2_map(), tmp_path / "chi2_map.nc", "chi2_map")
    ds = read_dataset(tmp_path / "chi2_map.nc", "chi2_map")
    np.testing.assert_array_equal(ds["chi2"], np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(ds["x"], [20.5, 21.0])
    assert ds["x"].attrs["units"] == "parameter units"
    attrs = (ds.attrs["x_param"], ds.attrs["y_param"], ds.attrs["fixed"])
    assert attrs == ("logN", "logbeta", "{}")
    assert ds["chi2"].attrs["long_name"].startswith("chi^2")
    assert list(tmp_path.iterdir()) == [tmp_path / "chi2_map.nc"]


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def broken(self, path, **kwargs):
        with open(path, "wb") as half_written:
            half_written.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    with pytest.raises(OSError, match="disk full"):
        write_dataset(small_chi2_map(), tmp_path / "chi2_map.nc", "chi2_map")
    assert list(tmp_path.iterdir()) == []


def test_missing_file_is_named(tmp_path):
    with pytest.raises(NetCDFInputError, match=r"nowhere\.nc \(data\.nc\) does not exist"):
        read_dataset(tmp_path / "nowhere.nc", "data")


def test_malformed_file_is_named(tmp_path):
    bad = tmp_path / "data.nc"
    bad.write_text("not a netcdf file")
    with pytest.raises(NetCDFInputError, match=r"data\.nc .* is not a readable NetCDF file"):
        read_dataset(bad, "data")


def test_file_of_the_wrong_layout_names_what_is_missing(tmp_path):
    write_dataset(small_chi2_map(), tmp_path / "chi2_map.nc", "chi2_map")
    with pytest.raises(NetCDFInputError) as err:
        read_dataset(tmp_path / "chi2_map.nc", "data")
    message = str(err.value)
    assert "chi2_map.nc is not a valid data.nc" in message
    assert "missing variable 'f_obs'" in message and "missing attribute 'sigma_noise'" in message
    assert "missing coordinate 'nu'" in message


def test_wrong_dimensions_are_refused():
    with pytest.raises(NetCDFInputError, match="'chi2' has dims"):
        ds = small_chi2_map()
        ds["chi2"] = ds["chi2"].T
        check_layout(ds, LAYOUTS["chi2_map"], source="test")


def test_a_missing_attribute_of_the_layout_is_refused_on_write(tmp_path):
    ds = small_chi2_map()
    del ds.attrs["x_param"]
    with pytest.raises(NetCDFInputError, match="missing attribute 'x_param'"):
        write_dataset(ds, tmp_path / "chi2_map.nc", "chi2_map")
    assert list(tmp_path.iterdir()) == []


def test_readme_documents_the_layouts_as_the_code_declares_them():
    readme = (REPO / "README.md").read_text()
    generated = layouts_markdown()
    # the README's generated block: from the first layout's heading to the next section
    start = readme.find(generated.splitlines()[0] + "\n")
    assert start >= 0, "regenerate with: python -m pipeline.stages.docs"
    ends = [i for i in (readme.find(h, start) for h in ("\n## ", "\n### ")) if i >= 0]
    block = readme[start : min(ends, default=len(readme))]
    # exactly the layouts the code declares, no table left from an older layout
    assert block.rstrip("\n") == generated.rstrip("\n"), (
        "regenerate with: python -m pipeline.stages.docs"
    )


def test_outputs_get_the_users_umask_and_stale_temporaries_are_removed(tmp_path):
    import os

    stale = tmp_path / ".chi2_map.tmp-abc123.nc"  # what a killed job leaves behind
    stale.write_bytes(b"half")
    old = os.umask(0o022)
    try:
        write_dataset(small_chi2_map(), tmp_path / "chi2_map.nc", "chi2_map")
    finally:
        os.umask(old)
    assert (tmp_path / "chi2_map.nc").stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chi2_map.nc"]
