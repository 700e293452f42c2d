"""Where the tutorial's single-chain NUTS diverges on the SBC study's datasets, and what a higher
target acceptance or a dense mass matrix does about it, at what cost in gradient evaluations.

python -m benchmarks.nuts_divergences [--datasets N]

The study's first N datasets (default 200: the same truths and noise as config/sbc.yaml's,
dataset i is the same whatever the study's size), each fitted in one process by the study's own
batched NUTS (1 chain, 1000 + 2000) three ways: as the tutorial (target acceptance 0.8, diagonal
mass), at a target of 0.95, and with a dense mass matrix, each from the PRNG stream of its own
name as a study variant would. Writes results/benchmarks/nuts_divergences.csv (one row per
dataset and setting: its truth, divergences and gradient evaluations) and
nuts_divergences.md (the divergent fits per tenth of the prior of logbeta and each setting's
cost).
"""

from __future__ import annotations

import argparse
import csv
import itertools

import numpy as np

from benchmarks.common import OUT, load_config

SETTINGS = {  # name: (target acceptance, dense mass)
    "nuts": (0.8, False),
    "nuts_accept95": (0.95, False),
    "nuts_dense": (0.8, True),
}


def fits(num_datasets: int) -> list[dict]:
    """One row per dataset and setting: the truth, divergences and gradient evaluations."""
    from pipeline.setup.runtime import configure_jax

    config = load_config()
    configure_jax(1, config["precision"])
    from pipeline.analysis.sbc import simulate_study, study_noise_seed
    from pipeline.inference.batching import Batching
    from pipeline.inference.nuts import fit_nuts
    from pipeline.methods import dataset_keys
    from pipeline.methods.nuts import NutsSettings
    from pipeline.models.spec import linear_grid
    from pipeline.stages.observation import problem
    from pipeline.stages.sbc_simulate import TRUTH_STREAM

    dtype, seed = config["precision"], config["study"]["seed"]
    prob = problem(config, config["model"], linear_grid(config["line"], dtype), dtype)
    indices = np.arange(num_datasets)
    noise_seeds = np.array([study_noise_seed(seed, i) for i in indices], dtype=np.uint32)
    block = simulate_study(prob, dataset_keys(seed, TRUTH_STREAM, indices), noise_seeds)
    nuts = config["nuts"]
    rows = []
    for name, (target, dense) in SETTINGS.items():
        settings = NutsSettings(nuts["num_warmup"], nuts["num_samples"], 1, "vectorized", target,
                                dense)  # fmt: skip
        keys = dataset_keys(nuts["seed"], name, indices)
        fit, _ = fit_nuts(prob, block["f_obs"], keys, settings, Batching(100, 1))
        divergences = fit["diverging"].sum(axis=(1, 2))
        gradients = fit["num_steps"].sum(axis=(1, 2)) + fit["warmup_steps"].sum(axis=1)
        for i in indices:
            truth = dict(zip(prob.model.names, block["truth"][i].tolist(), strict=True))
            rows.append({"setting": name, "dataset": int(i), **truth,
                         "divergences": int(divergences[i]),
                         "gradient_evaluations": int(gradients[i])})  # fmt: skip
    return rows


def summary(rows: list[dict], num_datasets: int, prior: dict) -> str:
    """Divergent fits per fifth of logbeta's prior range and each setting's gradient cost."""
    names = list(SETTINGS)
    by = {n: [r for r in rows if r["setting"] == n] for n in names}
    logbeta = np.array([r["logbeta"] for r in by[names[0]]])
    edges = np.linspace(prior["low"], prior["high"], 6)
    lines = [
        f"Single-chain NUTS (1000 + 2000) on the SBC study's first {num_datasets} datasets: "
        "fits with any divergence, by the truth's logbeta, and gradient evaluations (warmup "
        "included).",
        "",
        "| logbeta of the truth | datasets | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for low, high in itertools.pairwise(edges):
        inside = (logbeta >= low) & (logbeta < high)
        shown = f"{low:.1f} to {high:.1f}"
        counts = [int(sum(r["divergences"] > 0 for r, k in zip(by[n], inside, strict=True) if k))
                  for n in names]  # fmt: skip
        lines.append(f"| {shown} | {int(inside.sum())} | " + " | ".join(map(str, counts)) + " |")
    total = [sum(r["divergences"] > 0 for r in by[n]) for n in names]
    lines.append(f"| all | {num_datasets} | " + " | ".join(map(str, total)) + " |")
    cost = [sum(r["gradient_evaluations"] for r in by[n]) for n in names]
    lines.append(
        "| gradient evaluations, relative to nuts | | "
        + " | ".join(f"{c / cost[0]:.2f}" for c in cost)
        + " |"
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=200, help="the study's first N datasets")
    args = parser.parse_args()
    rows = fits(args.datasets)
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "nuts_divergences.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    text = summary(rows, args.datasets, load_config()["priors"]["logbeta"])
    (OUT / "nuts_divergences.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
