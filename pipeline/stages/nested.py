"""Stage: nested sampling of one line shape's model, its posterior and evidence -> nested.nc."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import xarray as xr

from pipeline.inference.batching import dataset_keys
from pipeline.inference.model import Priors
from pipeline.inference.nested import EVIDENCE_FIELDS, NestedSettings, fit_nested
from pipeline.io.files import draws_group, observed_group, write_inference
from pipeline.io.layouts import PARAMS
from pipeline.io.provenance import provenance
from pipeline.physics.forward import LINE_SHAPES, with_line_shape
from pipeline.physics.observation import Observation, read_observation
from pipeline.stages import cli


def nested(
    obs: Observation, priors: Priors, settings: NestedSettings, seed: int, line_shape: str
) -> dict:
    """Nested sampling of one dataset (a batch of one), as the InferenceData groups of
    nested.nc: the equal-weight draws (one chain) and the evidence."""
    line = with_line_shape(obs.line, line_shape)
    fit, seconds = fit_nested(
        line, priors, np.asarray(obs.f_obs)[None], dataset_keys(seed), settings
    )
    fit = {k: v[0] for k, v in fit.items()}  # the batch's one dataset
    if not fit["converged"]:
        print(
            f"warning: nested sampling did not converge (dlogZ {settings.dlogZ} not reached "
            f"within {settings.max_samples} dead points and {settings.max_likelihood_evaluations}"
            f" likelihood evaluations; used {fit['num_likelihood_evaluations']})",
            file=sys.stderr,
        )
    record = {**settings._asdict(), "seed": seed, "priors": priors._asdict(),
              "line_shape": line_shape}  # fmt: skip
    return {
        "posterior": draws_group(
            {p: fit[p][None] for p in PARAMS},
            attrs={
                **provenance("nested", record, {"data": obs.path}),
                **seconds,
                "line_shape": line_shape,
                "gamma": float(line.gamma),
            },
        ),
        "observed_data": observed_group(obs.f_obs, np.asarray(obs.line.nu)),
        "evidence": xr.Dataset({name: ((), fit[name]) for name in EVIDENCE_FIELDS}),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: nested-sample one dataset's posterior under one line shape."""
    p = cli.parser(__doc__)
    cli.add_sampler_arguments(p, "nested")
    defaults = cli.default("nested")
    p.add_argument("--line-shape", choices=LINE_SHAPES, default="voigt",
                   help="the model's line shape (gaussian: gamma = 0)")  # fmt: skip
    p.add_argument("--num-live-points", type=cli.positive_int,
                   default=defaults["num_live_points"], help="jaxns's root chains")  # fmt: skip
    p.add_argument("--dlogZ", type=cli.positive_float, default=defaults["dlogZ"],
                   help="remaining evidence fraction at which a run stops")  # fmt: skip
    p.add_argument("--max-samples", type=cli.positive_int, default=defaults["max_samples"],
                   help="dead points kept at most")  # fmt: skip
    p.add_argument("--max-likelihood-evaluations", type=cli.positive_int,
                   default=defaults["max_likelihood_evaluations"], help="budget")  # fmt: skip
    p.add_argument("--num-draws", type=cli.positive_int, default=defaults["num_draws"],
                   help="equal-weight posterior draws")  # fmt: skip
    args = p.parse_args(argv)
    settings = NestedSettings(
        num_live_points=args.num_live_points,
        max_samples=args.max_samples,
        dlogZ=args.dlogZ,
        max_likelihood_evaluations=args.max_likelihood_evaluations,
        num_draws=args.num_draws,
    )
    obs = read_observation(args.data, args.threads)
    groups = nested(obs, Priors(**cli.prior_settings(args)), settings, args.seed, args.line_shape)
    evidence = groups["evidence"]
    print(
        f"{args.line_shape}: log Z = {float(evidence['log_Z']):.3f} ± "
        f"{float(evidence['log_Z_uncert']):.3f}, {int(evidence['num_likelihood_evaluations'])} "
        f"likelihood evaluations, Kish ESS {float(evidence['ess_kish']):.0f}"
    )
    write_inference(groups, args.out, "nested")


if __name__ == "__main__":
    cli.run(main)
