"""Amortised cost of a fit inside a block against the floor: the same fit alone, compiled.

python -m benchmarks.batching --json OUT [--datasets K] [--repeats N] [--quick]

In one process (1 thread), K datasets drawn from the prior as the SBC study draws them are
fitted by each method with the config's settings three ways, side by side, each way compiled
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
    configure_jax(1, "float32")
    import numpy as np

    from benchmarks.common import bench_config
    from pipeline import inference
    from pipeline.analysis import sbc
    from pipeline.analysis.sbc import simulate_study
    from pipeline.physics.simulate import LineSettings

    config = bench_config(args.quick)
    priors = inference.Priors(
        (config["priors"]["logN"]["low"], config["priors"]["logN"]["high"]),
        (config["priors"]["logbeta"]["low"], config["priors"]["logbeta"]["high"]),
        config["priors"]["sigmain_rate"],
    )
    line_settings = LineSettings(**{k: v for k, v in config["line"].items()
                                    if k not in ("logN", "logbeta")})  # fmt: skip
    indices = np.arange(args.datasets)
    block = simulate_study(line_settings, priors, 0, indices, "float32")
    line, ys = line_settings.line("float32"), block["f_obs"]
    nuts = inference.NutsSettings(**{k: v for k, v in config["nuts"].items() if k != "seed"})
    svi = inference.SviSettings(**{k: v for k, v in config["svi"].items() if k != "seed"})
    keys = inference.dataset_keys(0, indices)
    adam = sbc.AdamStart((20.75, 0.5), 0.02, 30)
    inits = sbc.adam_starts(line, ys, adam)
    fits = {
        "nuts": lambda b: inference.fit_nuts(line, priors, ys, keys, nuts, b),
        "svi": lambda b: inference.fit_svi(line, priors, ys, keys, svi, b),
        "laplace": lambda b: inference.fit_laplace(line, priors, ys, inits, b),
    }
    per_call = config["batching"]["per_call"]
    ways = {
        "alone": inference.Batching(1, 1),
        "block": inference.Batching(per_call, 1),
        "vmap": inference.Batching(per_call, per_call),
    }
    seconds: dict[str, dict[str, list[float]]] = {m: {w: [] for w in ways} for m in fits}
    for method, fit in fits.items():
        for repeat in range(args.repeats + 1):  # the first round compiles, and is not counted
            for way, batching in ways.items():
                start = time.perf_counter()
                _, timing = fit(batching)
                if repeat:
                    seconds[method][way].append(timing["run_seconds_per_dataset"])
                print(f"{method} {way}: {time.perf_counter() - start:.1f} s", flush=True)
    args.json.write_text(json.dumps({"datasets": args.datasets, "per_call": per_call,
                                     "seconds": seconds}))  # fmt: skip


if __name__ == "__main__":
    main()
