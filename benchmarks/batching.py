"""Amortised cost of a fit inside a block against the floor: the same fit alone, compiled.

python -m benchmarks.batching --json OUT [--datasets K] [--repeats N] [--quick]

In one process (1 thread), K datasets drawn from the prior as the SBC study draws them (its
datasets 0..K-1) are fitted by each entry of the study's methods (pipeline.methods' registry:
the fit its block jobs run) with the config's settings three ways, side by side, each way compiled
first (compile time is not counted): `alone`, one call of a batch-of-one program per dataset
(the in-process floor: what fitting that dataset costs once everything is compiled);
`block`, calls of `batching.per_call` datasets through jax.lax.map (the studies' CPU default);
`vmap`, the same calls vectorised (`vmap_width` = `per_call`, the accelerators' default).
The seconds per dataset of each repeat are written as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pipeline.setup.runtime import configure_jax


def main() -> None:
    """Command line: measure and write the JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", required=True, type=Path)
    p.add_argument("--datasets", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="the quick config's small settings")
    args = p.parse_args()
    from benchmarks.common import bench_config

    config = bench_config(args.quick)
    dtype = config["precision"]
    configure_jax(1, dtype)
    import numpy as np

    from pipeline.analysis import sbc
    from pipeline.inference.batching import Batching
    from pipeline.methods import dataset_keys, variants
    from pipeline.methods.base import FitInput
    from pipeline.models import get_model
    from pipeline.models.spec import Problem, linear_grid
    from pipeline.stages.sbc_simulate import TRUTH_STREAM

    # the study's datasets 0..K-1, drawn as the sbc_simulate stage draws them
    model, seed = get_model(config["model"]), config["study"]["seed"]
    line = model.line(config["line"], linear_grid(config["line"], dtype), dtype)
    problem = Problem(model, line, model.own_priors(config["priors"]))
    indices = np.arange(args.datasets)
    seeds = np.array([sbc.study_noise_seed(seed, i) for i in indices], dtype=np.uint32)
    ys = sbc.simulate_study(problem, dataset_keys(seed, TRUTH_STREAM, indices), seeds)["f_obs"]
    o = config["optimize"]
    adam = sbc.AdamStart(o["init"], o["adam_learning_rate"], o["steps"])

    per_call = config["batching"]["per_call"]
    ways = {
        "alone": Batching(1, 1),
        "block": Batching(per_call, 1),
        "vmap": Batching(per_call, per_call),
    }
    # the study's method entries (nuts, svi, laplace by default), fitted as its block jobs fit
    entries = [v for v in variants(config["study"]["methods"], config) if v.model == model.name]
    seconds: dict[str, dict[str, list[float]]] = {v.name: {w: [] for w in ways} for v in entries}
    means: dict[str, np.ndarray] = {}  # each entry's posterior means: a later entry's start
    for variant in entries:
        method = variant.method
        if method.start == "adam":
            starts = sbc.adam_starts(problem, ys, adam)
        elif method.start is not None:
            start = next(v.name for v in entries if v.method.name == method.start)
            starts = means[start].astype(ys.dtype)
        else:
            starts = None
        keys = None
        if method.seeded:
            keys = dataset_keys(variant.settings["seed"], variant.name, indices)
        settings = variant.typed_settings()
        for repeat in range(args.repeats + 1):  # the first round compiles, and is not counted
            for way, batching in ways.items():
                start_time = time.perf_counter()
                arrays, timing = method.fit(FitInput(problem, ys, keys, starts, settings,
                                                     batching), False)  # fmt: skip
                if repeat:
                    seconds[variant.name][way].append(timing["run_seconds_per_dataset"])
                print(f"{variant.name} {way}: {time.perf_counter() - start_time:.1f} s", flush=True)
        means[variant.name] = method.draws(arrays, model.names).mean(axis=(1, 2))
    args.json.write_text(json.dumps({"datasets": args.datasets, "per_call": per_call,
                                     "seconds": seconds}))  # fmt: skip


if __name__ == "__main__":
    main()
