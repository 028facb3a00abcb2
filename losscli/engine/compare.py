"""Two models scored on the same rows in one pass, and the paired uncertainty of their difference.

For a plain mean the difference of the two means is itself a weighted mean (of per-row differences,
over the same denominator), so its interval comes from the streamed variance of those differences.
Any other loss is resampled: both models' bootstrap replicates get the same Poisson counts, and the
interval is that of the replicates' differences.
"""

from __future__ import annotations

import math

import numpy as np

from losscli.engine.intervals import bootstrap_interval, normal_interval
from losscli.engine.tally import Tally


def summary(base: Tally, candidate: Tally, difference: Tally | None, level: float) -> dict:
    """Both models' values, their difference with its interval and p-value, and notes."""
    base_value, base_note = base.result()
    candidate_value, candidate_note = candidate.result()
    with np.errstate(all="ignore"):
        change = candidate_value - base_value
        relative = change / abs(base_value) if base_value else math.nan
    if difference is not None:
        se = difference.standard_error()
        ci = normal_interval(level, change, se)
        p = _normal_p(change, se)
    else:
        with np.errstate(all="ignore"):
            replicated = (candidate.replicates() - base.replicates())[:, 0]
        ci = bootstrap_interval(level, replicated, change, base.blocks_shared())
        p = _bootstrap_p(change, replicated)
    found = {
        "baseline": base_value,
        "candidate": candidate_value,
        "difference": change,
        "relative": relative,
        "n": base.n,
        "ci": ci,
        "p_value": p,
    }
    notes = _notes(base_value, candidate_value, change, base_note, candidate_note)
    if notes:
        found["note"] = "; ".join(notes)
    return found


def _notes(base: float, candidate: float, change: float, *notes: str | None) -> list[str]:
    base_note, candidate_note = notes
    found = [f"baseline: {base_note}"] if base_note else []
    found += [f"candidate: {candidate_note}"] if candidate_note else []
    if not math.isfinite(change) and math.isfinite(base) and math.isfinite(candidate):
        found.append("difference: beyond the float64 range")
    elif math.isnan(change) and math.isinf(base) and math.isinf(candidate):
        found.append("difference: both values are infinite, so it is undefined (inf - inf)")
    if base == 0 and math.isfinite(change):
        found.append("relative: the baseline value is 0")
    return found


def _normal_p(difference: float, se: float) -> float:
    if not (math.isfinite(difference) and math.isfinite(se)):
        return math.nan
    if se == 0:
        return 1.0 if difference == 0 else 0.0
    # Two-sided: 2 (1 - Phi(|z|)) = erfc(|z| / sqrt 2), without the cancellation in 1 - Phi.
    return math.erfc(abs(difference) / se / math.sqrt(2.0))


def _bootstrap_p(difference: float, replicated: np.ndarray) -> float:
    """Twice the share of replicates on the far side of 0: the p-value that matches the
    percentile interval (it excludes 0 at level 1 - a exactly when p < a)."""
    finite = replicated[np.isfinite(replicated)]
    if not len(finite) or not math.isfinite(difference):
        return math.nan
    below, above = int((finite <= 0).sum()), int((finite >= 0).sum())
    return min(1.0, 2 * (1 + min(below, above)) / (1 + len(finite)))
