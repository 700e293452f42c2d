"""The layouts of a dataset's own files: its data, chi^2 map, optimiser paths, and the tables
that put its methods side by side (each method's own file is declared in pipeline.methods)."""

from __future__ import annotations

from pipeline.io.layouts import Layout, Var, coordinates

DATASET_LAYOUTS: dict[str, Layout] = {
    "data": Layout(
        filename="data.nc",
        description=(
            "An observed spectrum: the flux on a wavenumber grid; for synthetic data also the "
            "truth behind it."
        ),
        coords=coordinates("nu"),
        data_vars={"f_obs": Var(("nu",), "1", "observed transmission")},
        attrs={
            "sigma_noise": "noise standard deviation that chi^2 divides by, transmission units",
            "dtype": "floating-point precision of the JAX computation",
        },
        optional_vars={
            "param": Var(("param",), "", "model parameter (synthetic data: the truth's)"),
            "truth": Var(("param",), "parameter units", "value the data were simulated with"),
            "f_true": Var(("nu",), "1", "noise-free transmission (synthetic data)"),
            "cross_section": Var(("nu",), "cm^2", "absorption cross-section at the truth"),
        },
    ),
    "chi2_map": Layout(
        filename="chi2_map.nc",
        description=(
            "chi^2 of the model against the data on a regular grid of two parameters (x, y; "
            "the attributes name them), the model's other line parameters held fixed."
        ),
        coords={
            "x": Var(("x",), "parameter units", "values of the parameter x_param"),
            "y": Var(("y",), "parameter units", "values of the parameter y_param"),
        },
        data_vars={
            "chi2": Var(("y", "x"), "1", "chi^2 = sum((f - f_obs)^2) / sigma_noise^2"),
        },
        attrs={
            "x_param": "the parameter along x",
            "y_param": "the parameter along y",
            "fixed": "the other line parameters' values (JSON)",
        },
    ),
    "optimize": Layout(
        filename="optimize.nc",
        description="Gradient-descent trajectories (steepest descent, Adam) from one point.",
        coords=coordinates(
            "param",
            "nu",
            optimizer=Var(("optimizer",), "", "optimisation method"),
            step=Var(("step",), "1", "update number (0 is the initial point)"),
        ),
        data_vars={
            "params": Var(
                ("optimizer", "step", "param"), "", "the model's line parameters at each step"
            ),
            "chi2": Var(("optimizer", "step"), "1", "chi^2 at each step"),
            "grad": Var(("optimizer", "step", "param"), "1 / parameter unit", "gradient of chi^2"),
            "grad_init": Var(
                ("param",), "1 / parameter unit", "gradient of chi^2 at the initial point"
            ),
            "f_best": Var(
                ("optimizer", "nu"), "1", "model transmission at each method's final step"
            ),
        },
        attrs={
            "steepest_descent_eta": "step size of steepest descent",
            "adam_learning_rate": "Adam (optax) learning rate",
        },
    ),
    "compare": Layout(
        filename="compare.nc",
        description="Every method's posterior beside the reference's, with its distance from it.",
        # "inference", not "method": that name clashes with the keyword of xarray's .sel();
        # the first is the reference
        coords=coordinates("inference", "param"),
        data_vars={
            "mean": Var(("inference", "param"), "parameter units", "posterior mean"),
            "sd": Var(("inference", "param"), "parameter units", "posterior standard deviation"),
            "hdi_low": Var(("inference", "param"), "parameter units", "lower end of the HDI"),
            "hdi_high": Var(("inference", "param"), "parameter units", "upper end of the HDI"),
            "mean_shift": Var(
                ("inference", "param"), "reference sd", "(mean - reference mean) / reference sd"
            ),
            "sd_ratio": Var(("inference", "param"), "1", "sd / reference sd"),
            "wasserstein": Var(
                ("inference", "param"),
                "reference sd",
                "1-D Wasserstein distance from the reference's marginal",
            ),
            "energy_distance": Var(
                ("inference",),
                "reference sd",
                "energy distance of the joint draws from the reference's",
            ),
        },
        attrs={"hdi_prob": "probability of the highest-density intervals"},
    ),
    "cost": Layout(
        filename="cost.nc",
        description="What each method cost on one dataset: evaluations, seconds, effective draws.",
        coords=coordinates("inference"),
        data_vars={
            "value_evaluations": Var(("inference",), "1", "log-density values alone"),
            "gradient_evaluations": Var(("inference",), "1", "log-density values with gradient"),
            "hessian_evaluations": Var(("inference",), "1", "log-density Hessians"),
            "value_equivalents": Var(
                ("inference",), "1", "all evaluations in units of one value's measured cost"
            ),
            "compile_seconds": Var(("inference",), "s", "compiling or loading the programs"),
            "run_seconds": Var(("inference",), "s", "running the compiled fit"),
            "min_ess": Var(
                ("inference",),
                "1",
                "effective draws, minimum over parameters (NaN: an approximation)",
                finite=False,
            ),
            "ess_kind": Var(("inference",), "", "what min_ess counts, per method"),
            "ess_per_second": Var(("inference",), "1/s", "min_ess / run_seconds", finite=False),
            "ess_per_1000_value_equivalents": Var(
                ("inference",), "1", "min_ess per 1000 value-equivalent evaluations", finite=False
            ),
            "energy_distance": Var(
                ("inference",), "reference sd", "energy distance from the reference's draws"
            ),
            "max_wasserstein": Var(
                ("inference",),
                "reference sd",
                "largest 1-D Wasserstein distance from the reference's marginals",
            ),
            "value_seconds": Var((), "s", "one compiled log-density value"),
            "gradient_seconds": Var((), "s", "one compiled value and gradient"),
            "hessian_seconds": Var((), "s", "one compiled Hessian"),
        },
    ),
    "evidence": Layout(
        filename="evidence.nc",
        description="The evidence of each model and their ratios to the first's.",
        coords={"model": Var(("model",), "", "the model (pipeline.models), the first compared")},
        data_vars={
            "log_Z": Var(("model",), "1", "log evidence, natural log"),
            "log_Z_uncert": Var(("model",), "1", "standard error of log_Z"),
            "converged": Var(("model",), "1", "1 if the evidence run converged"),
            "log_bayes_factor": Var(("model",), "1", "log Z(first model) - log Z(model)"),
            "log_bayes_factor_uncert": Var(
                ("model",), "1", "standard error of the log Bayes factor"
            ),
        },
        attrs={"verdict": "the evidence's verdicts on the Kass-Raftery scale"},
    ),
}
