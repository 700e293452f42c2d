"""The layouts of the studies across datasets: the fixed-truth sweep and the simulation-based
calibration (its blocks of data, each method's block of fits, the joined ranks)."""

from __future__ import annotations

from pipeline.io.layouts import Layout, Var, coordinates

_PER_DATASET = ("noise", "seed", "inference", "param")
_CALIBRATION = ("noise", "inference", "param")
_SBC_TRUTH = Var(("dataset", "param"), "parameter units", "value drawn from the prior")
_NOISE_SEED = Var(("dataset",), "", "numpy.random.RandomState seed of the noise")

STUDY_LAYOUTS: dict[str, Layout] = {
    "fixed_truth_summary": Layout(
        filename="summary.nc",
        description=(
            "A fixed-truth sweep: per dataset and method entry (and the optimiser's end point), "
            "then coverage across seeds."
        ),
        # inference: the optimiser, then the method entries (the reference first)
        coords=coordinates(
            "inference",
            "param",
            noise=Var(("noise",), "1", "noise level sigma_noise, transmission units"),
            seed=Var(("seed",), "", "seed of the noise draw"),
        ),
        data_vars={
            "truth": Var(("noise", "param"), "parameter units", "value the data were made with"),
            "estimate": Var(
                _PER_DATASET,
                "parameter units",
                "optimiser's end point, the method's point estimate (a mode) or posterior mean",
                finite=False,
            ),
            "sd": Var(
                _PER_DATASET,
                "parameter units",
                "sd of the posterior draws (NaN: optimiser)",
                finite=False,
            ),
            "lower": Var(
                _PER_DATASET, "parameter units", "lower end of the HDI of the draws", finite=False
            ),
            "upper": Var(
                _PER_DATASET, "parameter units", "upper end of the HDI of the draws", finite=False
            ),
            "covered": Var(
                _PER_DATASET, "1", "1 if the interval holds the truth, else 0", finite=False
            ),
            "z": Var(_PER_DATASET, "1", "(estimate - truth) / sd", finite=False),
            "ess_bulk": Var(_PER_DATASET, "1", "bulk effective sample size (ArviZ)", finite=False),
            "divergences": Var(
                ("noise", "seed", "inference"),
                "1",
                "divergent transitions (NaN where the method records none)",
                finite=False,
            ),
            "seconds": Var(
                ("noise", "seed", "inference"),
                "s",
                "wall time of the entry's job (Snakemake benchmark file)",
                finite=False,
            ),
            "n_datasets": Var(_CALIBRATION, "1", "datasets with an interval", finite=False),
            "coverage": Var(
                _CALIBRATION, "1", "fraction of intervals holding the truth", finite=False
            ),
            "coverage_low": Var(
                _CALIBRATION, "1", "95% Wilson interval of the coverage, low", finite=False
            ),
            "coverage_high": Var(
                _CALIBRATION, "1", "95% Wilson interval of the coverage, high", finite=False
            ),
            "bias": Var(_CALIBRATION, "parameter units", "mean of estimate - truth", finite=False),
            "rmse": Var(
                _CALIBRATION,
                "parameter units",
                "root mean square of estimate - truth",
                finite=False,
            ),
            "mean_sd": Var(_CALIBRATION, "parameter units", "mean posterior sd", finite=False),
            "estimate_spread": Var(
                _CALIBRATION, "parameter units", "sd of estimates across seeds", finite=False
            ),
            "z_mean": Var(_CALIBRATION, "1", "mean z-score (0 if calibrated)", finite=False),
            "z_sd": Var(_CALIBRATION, "1", "sd of the z-scores (1 if calibrated)", finite=False),
            "rms_shift_vs_reference": Var(
                _CALIBRATION,
                "reference sd",
                "root mean square of (estimate - reference estimate) / reference sd",
                finite=False,
            ),
            "sd_ratio_vs_reference": Var(
                _CALIBRATION, "1", "mean of sd / reference sd", finite=False
            ),
            "mean_seconds": Var(
                ("noise", "inference"), "s", "mean wall time of the entry's job", finite=False
            ),
        },
        attrs={
            "hdi_prob": "probability of the intervals",
            "reference": "the method entry the *_vs_reference variables compare with (the first)",
            "model": "the model the data were simulated with (pipeline.models)",
        },
    ),
    "sbc_data": Layout(
        filename="data.nc",
        description="A block of SBC datasets: truths drawn from the prior, noisy spectra.",
        coords=coordinates("dataset", "param", "nu"),
        data_vars={
            "truth": _SBC_TRUTH,
            "noise_seed": _NOISE_SEED,
            "f_obs": Var(("dataset", "nu"), "1", "observed transmission"),
        },
        attrs={
            "study_seed": "seed of the study (truths, noise seeds, Laplace draws)",
            "dtype": "floating-point precision of the JAX computation",
        },
    ),
    "sbc_fit": Layout(
        filename="{method}.nc",
        description="One method's fits of a block of SBC datasets, reduced to ranks.",
        coords=coordinates(
            "dataset",
            "param",
            "quantity",
            draw=Var(("draw",), "", "posterior draw kept for ranking"),
        ),
        data_vars={
            "truth": _SBC_TRUTH,
            "draws": Var(
                ("dataset", "draw", "param"), "parameter units", "the L ranked draws", finite=False
            ),
            "rank": Var(
                ("dataset", "quantity"),
                "1",
                "draws below the truth, 0..L (NaN: a NaN)",
                finite=False,
            ),
            "mean": Var(
                ("dataset", "param"),
                "parameter units",
                "posterior mean (mode: Laplace)",
                finite=False,
            ),
            "sd": Var(
                ("dataset", "param"),
                "parameter units",
                "posterior standard deviation",
                finite=False,
            ),
            "ess_bulk": Var(
                ("dataset", "param"), "1", "bulk ESS of all draws (NUTS; else NaN)", finite=False
            ),
            "ess_tail": Var(
                ("dataset", "param"), "1", "tail ESS of all draws (NUTS; else NaN)", finite=False
            ),
            "r_hat": Var(
                ("dataset", "param"), "1", "rank-normalised split R-hat (NUTS)", finite=False
            ),
            "divergences": Var(("dataset",), "1", "divergent transitions (NUTS)", finite=False),
            "num_steps": Var(
                ("dataset",),
                "1",
                "leapfrog steps, warmup too = gradient evaluations (NUTS)",
                finite=False,
            ),
            "final_loss": Var(
                ("dataset",), "1", "mean ELBO loss of the last 100 steps (SVI)", finite=False
            ),
            "loss_drop": Var(
                ("dataset",), "1", "ELBO loss fall over the last tenth of steps (SVI)", finite=False
            ),
            "loss_drop_se": Var(
                ("dataset",), "1", "standard error of loss_drop (SVI)", finite=False
            ),
            "thin": Var(("dataset",), "1", "every thin-th draw was ranked (chains pooled)"),
            "ranked_draws": Var(("dataset",), "1", "draws ranked: L, or fewer where ESS < L"),
            "ess_min": Var(
                ("dataset",), "1", "least bulk or tail ESS: the thinning's (MCMC)", finite=False
            ),
            "converged": Var(
                ("dataset",), "1", "1 if Newton converged, else 0 (Laplace)", finite=False
            ),
            "iterations": Var(("dataset",), "1", "Newton iterations (Laplace)", finite=False),
        },
        attrs={
            "inference": "the inference method",
            "compile_seconds": "compiling (or loading from the cache) the block's program",
            "run_seconds": "fitting the whole block",
            "run_seconds_per_dataset": "run_seconds / datasets: the amortised cost of a fit",
        },
    ),
    "sbc_ranks": Layout(
        filename="ranks.nc",
        description="An SBC study: every dataset's truth, ranks and checks, for every method.",
        coords=coordinates("inference", "dataset", "param", "quantity"),
        data_vars={
            "truth": _SBC_TRUTH,
            "noise_seed": _NOISE_SEED,
            "noise_estimate": Var(
                ("dataset",), "1", "noise sd estimated from the flux's first differences"
            ),
            "stratum": Var(("dataset",), "", "quantile group of noise_estimate, 1 = lowest"),
            "rank": Var(
                ("inference", "dataset", "quantity"),
                "1",
                "draws below the truth, 0..L",
                finite=False,
            ),
            "mean": Var(
                ("inference", "dataset", "param"), "parameter units", "posterior mean", finite=False
            ),
            "sd": Var(
                ("inference", "dataset", "param"), "parameter units", "posterior sd", finite=False
            ),
            "z": Var(("inference", "dataset", "param"), "1", "(mean - truth) / sd", finite=False),
            "ess_bulk": Var(
                ("inference", "dataset", "param"), "1", "bulk ESS (NUTS)", finite=False
            ),
            "r_hat": Var(
                ("inference", "dataset", "param"), "1", "split R-hat (NUTS)", finite=False
            ),
            "divergences": Var(
                ("inference", "dataset"), "1", "divergent transitions (NUTS)", finite=False
            ),
            "converged": Var(
                ("inference", "dataset"), "1", "Newton converged (Laplace)", finite=False
            ),
            "flagged": Var(("inference", "dataset"), "1", "1 if the fit failed its own checks"),
            "used": Var(
                ("inference", "dataset"), "1", "1 if the figures count the fit (include_flagged)"
            ),
            "thin": Var(("inference", "dataset"), "1", "every thin-th draw was ranked"),
            "ranked_draws": Var(("inference", "dataset"), "1", "draws ranked (L, or fewer: ESS)"),
            "ess_min": Var(
                ("inference", "dataset"), "1", "smallest bulk or tail ESS (MCMC)", finite=False
            ),
            "seconds_per_dataset": Var(("inference",), "s", "amortised fitting time per dataset"),
            "compile_seconds": Var(("inference",), "s", "compile or cache-load time, all blocks"),
        },
        attrs={
            "num_draws": "L, the draws each truth is ranked among",
            "include_flagged": "1 if the figures count fits that failed their checks, else 0",
        },
    ),
}
