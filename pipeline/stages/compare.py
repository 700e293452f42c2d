"""Stage: compare the SVI posterior with the NUTS posterior -> compare.nc, compare.csv."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from pipeline.analysis.compare import compare
from pipeline.io.atomic import replaced_atomically
from pipeline.io.files import new_dataset, read_inference, write_dataset
from pipeline.io.layouts import PARAMS
from pipeline.io.provenance import provenance
from pipeline.stages import cli


def comparison(nuts_path: str, svi_path: str, hdi_prob: float):
    """The compare Dataset of one dataset's NUTS and SVI files."""
    nuts, svi = read_inference(nuts_path, "nuts"), read_inference(svi_path, "svi")
    return new_dataset(
        "compare",
        coords={"inference": ["nuts", "svi"], "param": list(PARAMS)},
        data_vars=compare(nuts, svi, hdi_prob),
        attrs={
            "hdi_prob": hdi_prob,
            **provenance("compare", {"hdi_prob": hdi_prob}, {"nuts": nuts_path, "svi": svi_path}),
        },
    )


def as_table(ds) -> pd.DataFrame:
    """compare.nc as one row per parameter: each method's statistics, then the distances."""
    columns = {
        f"{method}_{var}": ds[var].sel(inference=method).values
        for var in ("mean", "sd", "hdi_low", "hdi_high")
        for method in ds["inference"].values
    }
    columns |= {var: ds[var].values for var in ("mean_shift", "sd_ratio", "wasserstein")}
    table = pd.DataFrame(columns, index=pd.Index(ds["param"].values, name="param"))
    return table.assign(energy_distance=float(ds["energy_distance"]))


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: compare one dataset's NUTS and SVI posteriors."""
    p = cli.parser(__doc__, threads=False)
    p.add_argument("--nuts", required=True, help="nuts.nc of the dataset")
    p.add_argument("--svi", required=True, help="svi.nc of the dataset")
    p.add_argument("--csv", required=True, help="the same table as CSV")
    cli.add_hdi_argument(p)
    args = p.parse_args(argv)
    ds = comparison(args.nuts, args.svi, args.hdi_prob)
    table = as_table(ds)
    print(table.to_string(float_format="%.4g"))
    with replaced_atomically(args.csv) as tmp:
        table.to_csv(tmp, float_format="%.6g")
    write_dataset(ds, args.out, "compare")


if __name__ == "__main__":
    cli.run(main)
