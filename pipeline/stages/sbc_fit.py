"""Stage: fit one method to every dataset of an SBC block, rank the truths -> block {method}.nc."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np

from pipeline.analysis import sbc
from pipeline.inference.batching import Batching, dataset_keys, resolve_vmap_width
from pipeline.inference.model import Priors
from pipeline.io.files import new_dataset, read_dataset, write_dataset
from pipeline.io.layouts import PARAMS
from pipeline.io.provenance import provenance
from pipeline.setup.runtime import configure_jax
from pipeline.stages import cli
from pipeline.stages import nuts as nuts_stage
from pipeline.stages import svi as svi_stage


def fit_block(method: str, line, priors: Priors, block, args) -> sbc.BlockFit:
    """The method's fits of the block's datasets, with the settings on the command line."""
    ys, indices = block["f_obs"].values, block["dataset"].values
    per_call = args.per_call
    batching = Batching(per_call, resolve_vmap_width(args.vmap_width, per_call))
    if method == "nuts":
        settings = nuts_stage.settings_of(args)
        keys = dataset_keys(args.seed, indices)
        return sbc.nuts_block(line, priors, ys, keys, settings, args.num_ranked, batching)
    if method == "svi":
        settings = svi_stage.settings_of(args)
        keys = dataset_keys(args.seed, indices)
        return sbc.svi_block(line, priors, ys, keys, settings, args.num_ranked, batching)
    adam = sbc.AdamStart(tuple(args.init), args.adam_learning_rate, args.steps)
    keys = sbc.laplace_keys(block.attrs["study_seed"], indices)
    return sbc.laplace_block(line, priors, ys, keys, adam, args.num_ranked, batching)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: fit one method to a block of SBC datasets."""
    p = cli.parser(__doc__)
    p.add_argument("method", choices=sbc.METHODS, help="inference method")
    p.add_argument("--data", required=True, help="the block's data.nc")
    p.add_argument("--num-ranked", type=cli.positive_int, required=True, help="L, draws ranked")
    p.add_argument("--per-call", type=cli.positive_int, required=True, help="datasets per call")
    p.add_argument("--vmap-width", required=True, help="datasets vectorised together, or auto")
    p.add_argument("--seed", type=int, help="the sampler's PRNGKey seed (nuts, svi)")
    cli.add_prior_arguments(p)
    nuts_stage.add_arguments(p)
    svi_stage.add_arguments(p)
    cli.add_adam_arguments(p, "--adam-learning-rate")  # the Laplace start
    args = p.parse_args(argv)
    if args.method in ("nuts", "svi") and args.seed is None:
        p.error(f"{args.method} needs --seed")
    if args.method == "nuts" and args.chain_method == "parallel":
        jax.config.update("jax_num_cpu_devices", args.num_chains)
    block = read_dataset(args.data, "sbc_data")
    configure_jax(args.threads, block.attrs["dtype"])
    line = sbc.block_line(block)
    fit = fit_block(args.method, line, Priors(**cli.prior_settings(args)), block, args)
    ranks = sbc.block_ranks(line, block, fit)
    missing = block["dataset"].values[np.isnan(ranks).any(axis=1)]
    if missing.size:
        print(f"warning: {args.method} gave NaN for datasets {missing.tolist()}", flush=True)
    ds = new_dataset(
        "sbc_fit",
        coords={
            "dataset": block["dataset"].values,
            "param": list(PARAMS),
            "quantity": list(sbc.QUANTITIES),
            "draw": np.arange(fit.draws.shape[1]),
        },
        data_vars=sbc.block_variables(block, fit, ranks),
        attrs={
            "inference": args.method,
            "thin": fit.thin,
            **fit.seconds,
            **provenance(args.method, vars(args), {"data": args.data}),
        },
    )
    write_dataset(ds, args.out, "sbc_fit")


if __name__ == "__main__":
    cli.run(main)
