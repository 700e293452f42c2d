"""One absorption line in transmission: the tutorial's model and its relatives.

- `voigt`, the tutorial's: log10 column density logN, log10 Gaussian width logbeta, the noise
  level sigmain; the Lorentz width gamma, the centre nu0 and the line strength are known.
- `voigt_free_gamma`: the same line with its Lorentz width free too (log10 gamma, loggamma).
- `gaussian`: the tutorial's parameters with a pure Gaussian (Doppler) profile, gamma = 0; the
  alternative whose evidence the Voigt line's is compared with.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pipeline.models.spec import Model, Parameter, Theta

if TYPE_CHECKING:
    from pipeline.physics.forward import Line

LOG_N = Parameter("logN", "log10(cm^-2)", "log10 of the column density N", "log N", "uniform")
LOG_BETA = Parameter(
    "logbeta", "log10(cm^-1)", "log10 of the Gaussian standard deviation beta", "log beta",
    "uniform",
)  # fmt: skip
LOG_GAMMA = Parameter(
    "loggamma", "log10(cm^-1)", "log10 of the Lorentzian half width gamma", "log gamma",
    "uniform",
)  # fmt: skip
SIGMAIN = Parameter(
    "sigmain", "1", "noise standard deviation, in transmission units", "sigmain",
    "exponential", domain=(0.0, math.inf), noise=True,
)  # fmt: skip


def _voigt(line: Line, theta: Theta):
    from pipeline.physics.forward import transmission  # JAX: imported when evaluated

    return transmission(line, 10.0 ** theta["logN"], 10.0 ** theta["logbeta"])


def _voigt_cross_section(line: Line, theta: Theta):
    from pipeline.physics.forward import cross_section

    return cross_section(line, 10.0 ** theta["logbeta"])


def _with_free_gamma(line: Line, theta: Theta) -> Line:
    return line._replace(gamma=10.0 ** theta["loggamma"])


VOIGT = Model(
    name="voigt",
    description="the tutorial's Voigt line: logN, logbeta and sigmain free; gamma known",
    params=(LOG_N, LOG_BETA, SIGMAIN),
    mean=_voigt,
    known=("nu0", "gamma", "line_strength"),
    cross_section=_voigt_cross_section,
)

VOIGT_FREE_GAMMA = Model(
    name="voigt_free_gamma",
    description="the Voigt line with its Lorentz width free: logN, logbeta, loggamma, sigmain",
    params=(LOG_N, LOG_BETA, LOG_GAMMA, SIGMAIN),
    mean=lambda line, theta: _voigt(_with_free_gamma(line, theta), theta),
    known=("nu0", "line_strength"),
    cross_section=lambda line, theta: _voigt_cross_section(_with_free_gamma(line, theta), theta),
)

GAUSSIAN = Model(
    name="gaussian",
    description="a pure Gaussian (Doppler) line, gamma = 0: logN, logbeta, sigmain",
    params=(LOG_N, LOG_BETA, SIGMAIN),
    mean=_voigt,
    known=("nu0", "line_strength"),  # gamma is not known but zero: Line's default
    cross_section=_voigt_cross_section,
)
