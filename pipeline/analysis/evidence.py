"""Which model the data prefer: the log Bayes factor of two evidences."""

from __future__ import annotations

import math

# Kass & Raftery (1995), on the natural log of the Bayes factor B (their scale is 2 ln B:
# 0-2, 2-6, 6-10, > 10)
KASS_RAFTERY = ((1.0, "not worth more than a bare mention"), (3.0, "positive"),
                (5.0, "strong"), (math.inf, "very strong"))  # fmt: skip


def log_bayes_factor(
    log_Z: float, log_Z_uncert: float, log_Z_other: float, log_Z_other_uncert: float
) -> tuple[float, float]:
    """ln B = ln Z - ln Z_other and its standard error (independent runs: errors add in
    quadrature)."""
    return log_Z - log_Z_other, math.hypot(log_Z_uncert, log_Z_other_uncert)


def verdict(log_b: float, uncert: float, name: str, other: str) -> str:
    """The evidence for `name` over `other` in words: the Kass-Raftery grade of |ln B|, or that
    the runs cannot tell the two apart when |ln B| is within 3 standard errors of 0."""
    if abs(log_b) <= 3 * uncert:
        return f"cannot tell {name} from {other}: |ln B| = {abs(log_b):.2f} <= 3 x {uncert:.2f}"
    favoured, against = (name, other) if log_b > 0 else (other, name)
    grade = next(words for limit, words in KASS_RAFTERY if abs(log_b) <= limit)
    return (
        f"{grade} evidence for {favoured} over {against} (ln B = {abs(log_b):.2f} ± {uncert:.2f})"
    )
