"""Stage: fit one entry of the study's methods to every dataset of an SBC block, rank the
truths -> block {name}.nc."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.analysis import sbc
from pipeline.inference.batching import Batching, resolve_vmap_width
from pipeline.io.files import new_dataset, read_dataset, write_dataset
from pipeline.io.provenance import provenance
from pipeline.methods import Variant, dataset_keys, entry_name, find, stream_tag
from pipeline.methods.base import FitInput
from pipeline.setup.runtime import configure_jax
from pipeline.stages import cli
from pipeline.stages.observation import problem

KEYS = ("model", "line", "priors", "study.methods", "study.num_draws", "study.thinning", "batching",
        "optimize",
        "<the method's own section>")  # fmt: skip


def fit_block(variant: Variant, config: dict, block, start_path: str | None):
    """The variant's fits of the block's datasets, reduced to L draws each, and its ranks."""
    method = variant.method
    prob = problem(config, variant.model, block["nu"].values, block.attrs["dtype"])
    ys, indices = block["f_obs"].values, block["dataset"].values
    per_call = config["batching"]["per_call"]
    batching = Batching(per_call, resolve_vmap_width(config["batching"]["vmap_width"], per_call))
    if method.start == "adam":
        o = config["optimize"]
        adam = sbc.AdamStart(o["init"], o["adam_learning_rate"], o["steps"])
        starts = sbc.adam_starts(prob, ys, adam)
    elif method.start is not None:  # the start method's posterior means (or draws) of the block
        start_fits = read_dataset(start_path, "sbc_fit")
        if method.dispersed_starts is None:
            starts = start_fits["mean"].values.astype(ys.dtype)
        else:
            count = method.dispersed_starts(variant.typed_settings())
            starts = start_fits["draws"].values[:, :count].astype(ys.dtype)
    else:
        starts = None
    keys = dataset_keys(variant.settings["seed"], variant.name, indices) if method.seeded else None
    given = FitInput(prob, ys, keys, starts, variant.typed_settings(), batching)
    arrays, seconds = method.fit(given, False)
    per_chain = method.draws(arrays, prob.model.names)
    study = config["study"]
    diagnostics = method.diagnostics(arrays, per_chain)
    fit = sbc.block_fit(per_chain, diagnostics, seconds, method.independent_draws,
                        study["num_draws"], study["thinning"])  # fmt: skip
    return prob, fit, sbc.block_ranks(prob, block, fit, stream_tag(variant.name))


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: fit one method entry to a block of SBC datasets."""
    p = cli.parser(__doc__, KEYS)
    p.add_argument("name", help="the entry of the study's methods (a method or variant name)")
    p.add_argument("--data", required=True, help="the block's data.nc")
    p.add_argument("--start", help="the start method's block file, for methods starting from one")
    args = p.parse_args(argv)
    config = cli.config_of(args)
    entries = config["study"]["methods"]
    names = [entry_name(e) for e in entries]
    if args.name not in names:
        p.error(f"{args.name!r} is not an entry of the study's methods ({', '.join(names)})")
    variant = find(entries, config, args.name)
    if variant.method.start not in (None, "adam") and args.start is None:
        p.error(f"{args.name} starts from a {variant.method.start} fit: give --start")
    if variant.method.threads(variant.settings) > 1:  # a CPU device per chain, before JAX starts
        import jax

        jax.config.update("jax_num_cpu_devices", variant.method.threads(variant.settings))
    block = read_dataset(args.data, "sbc_data")
    configure_jax(args.threads, block.attrs["dtype"])
    prob, fit, ranks = fit_block(variant, config, block, args.start)
    missing = block["dataset"].values[np.isnan(ranks).any(axis=1)]
    if missing.size:
        print(f"warning: {args.name} gave NaN for datasets {missing.tolist()}", flush=True)
    record = {"method": variant.method.name, "model": variant.model,
              "settings": variant.settings}  # fmt: skip
    ds = new_dataset(
        "sbc_fit",
        coords={
            "dataset": block["dataset"].values,
            "param": list(prob.model.names),
            "quantity": [*prob.model.names, *sbc.TEST_QUANTITIES],
            "draw": np.arange(fit.draws.shape[1]),
        },
        data_vars=sbc.block_variables(block, fit, ranks),
        attrs={
            "inference": args.name,
            **fit.seconds,
            **provenance(args.name, record, {"data": args.data}),
        },
    )
    write_dataset(ds, args.out, "sbc_fit")


if __name__ == "__main__":
    cli.run(main)
