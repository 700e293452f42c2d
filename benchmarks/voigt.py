"""Speed and accuracy of pipeline.physics.voigt.voigt_profile vs jax.scipy.special.wofz and SciPy.

Run from the repository root: python -m benchmarks.voigt [--quick]. Prints a table and writes
results/benchmarks/voigt.csv. Times are per call of a jitted function (compile excluded, outputs
blocked on), median/min/max over repeats, each repeat averaging enough calls to last >= 20 ms.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import scipy.special as sc

from pipeline.physics.voigt import voigt_profile

OUT = Path("results/benchmarks/voigt.csv")


def voigt_jax_wofz(x: jax.Array, sigma: jax.Array, gamma: jax.Array) -> jax.Array:
    """Voigt profile (1/[x]) from jax.scipy.special.wofz, the baseline JAX implementation."""
    z = (x + 1j * gamma) / (sigma * math.sqrt(2.0))
    return jnp.real(jax.scipy.special.wofz(z)) / (sigma * math.sqrt(2.0 * math.pi))


def _points(n: int, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n points: x/sigma log-uniform in [1e-3, 1e3] with random sign, gamma/sigma in [1e-4, 1e2]."""
    rng = np.random.default_rng(1234)
    sigma = 10 ** rng.uniform(-1, 1, n)
    x = sigma * 10 ** rng.uniform(-3, 3, n) * rng.choice([-1.0, 1.0], n)
    gamma = sigma * 10 ** rng.uniform(-4, 2, n)
    return x.astype(dtype), sigma.astype(dtype), gamma.astype(dtype)


def _time(fn: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    """(median, min, max) seconds per call."""
    fn()  # warm-up (and compile, for jitted functions)
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    inner = max(1, math.ceil(0.02 / one))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return float(np.median(samples)), min(samples), max(samples)


def _rel_err(got: np.ndarray, ref: np.ndarray, sigma: np.ndarray, gamma: np.ndarray) -> float:
    """Max relative error where the profile is above 1e-30 of its peak."""
    keep = ref > 1e-30 * sc.voigt_profile(0.0, sigma, gamma)
    return float(np.max(np.abs(got[keep] - ref[keep]) / ref[keep]))


def run(sizes: list[int], repeats: int) -> list[dict]:
    rows = []
    impls = {"ours": voigt_profile, "jax_wofz": voigt_jax_wofz}
    for dtype in (np.float32, np.float64):
        for n in sizes:
            x, s, g = _points(n, dtype)
            ref = sc.voigt_profile(*(a.astype(np.float64) for a in (x, s, g)))
            res = {}
            t = _time(lambda x=x, s=s, g=g: sc.voigt_profile(x, s, g), repeats)
            res[("scipy", "value")] = (t, 0.0)
            args = tuple(jnp.asarray(a) for a in (x, s, g))
            for name, f in impls.items():
                fv = jax.jit(f)
                got = np.asarray(fv(*args), np.float64)
                err = _rel_err(got, ref, *(a.astype(np.float64) for a in (s, g)))
                t = _time(lambda fv=fv, a=args: fv(*a).block_until_ready(), repeats)
                res[(name, "value")] = (t, err)
                loss = lambda x, s, g, f=f: f(x, s, g).sum()  # noqa: E731
                fg = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))
                t = _time(lambda fg=fg, a=args: jax.block_until_ready(fg(*a)), repeats)
                res[(name, "value+grad")] = (t, err)
            for (name, mode), ((med, lo, hi), err) in res.items():
                scipy_med = res[("scipy", "value")][0][0]
                wofz_med = res[("jax_wofz", mode)][0][0]
                rows.append(
                    {
                        "dtype": np.dtype(dtype).name,
                        "n": n,
                        "mode": mode,
                        "impl": name,
                        "ns_per_point": 1e9 * med / n,
                        "ns_min": 1e9 * lo / n,
                        "ns_max": 1e9 * hi / n,
                        "mpoints_per_s": n / med / 1e6,
                        "speedup_vs_scipy": scipy_med / med if mode == "value" else float("nan"),
                        "speedup_vs_jax_wofz": wofz_med / med,
                        "max_rel_err_vs_scipy": err if name != "scipy" else float("nan"),
                    }
                )
    return rows


def _print(rows: list[dict]) -> None:
    head = (
        f"{'dtype':8s} {'n':>8s} {'mode':10s} {'impl':9s} {'ns/pt':>8s} {'min':>8s} {'max':>8s}"
        f" {'Mpt/s':>8s} {'x scipy':>8s} {'x wofz':>7s} {'max rel err':>11s}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['dtype']:8s} {r['n']:8d} {r['mode']:10s} {r['impl']:9s} {r['ns_per_point']:8.2f}"
            f" {r['ns_min']:8.2f} {r['ns_max']:8.2f} {r['mpoints_per_s']:8.1f}"
            f" {r['speedup_vs_scipy']:8.2f} {r['speedup_vs_jax_wofz']:7.2f}"
            f" {r['max_rel_err_vs_scipy']:11.2e}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats (smoke)")
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)  # float64 rows; float32 inputs stay float32
    sizes, repeats = ([1_000, 10_000], 3) if args.quick else ([1_000, 1_000_000], 9)
    print(f"jax {jax.__version__}, {jax.devices()[0].device_kind}, {os.cpu_count()} cores")
    rows = run(sizes, repeats)
    _print(rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
