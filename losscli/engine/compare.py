"""Two models scored on the same rows in one pass, and the paired uncertainty of their difference.

For a plain mean the difference of the two means is itself a weighted mean (of per-row differences,
over the same denominator), so its interval comes from the streamed variance of those differences.
Any other loss is resampled: both models' bootstrap replicates get the same Poisson counts, and the
interval is that of the replicates' differences.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscli.engine.accumulators import WeightedMean
from losscli.engine.analysis import (
    Estimate,
    Options,
    bootstrap_interval,
    normal_interval,
    value_of,
)
from losscli.engine.run import (
    ChunkLike,
    RequestLike,
    check_widths,
    compute,
    located,
    replicate_weights,
)
from losscli.errors import InputError

CANDIDATE = "candidate:"  # the candidate's roles and columns carry this prefix in a chunk


@dataclass
class Pair:
    """Both models' states for one loss, and the plain mean of their per-row differences."""

    base: Estimate
    candidate: Estimate
    difference: WeightedMean | None

    def summary(self, level: float) -> dict[str, Any]:
        base, base_note = self.base.result()
        candidate, candidate_note = self.candidate.result()
        with np.errstate(all="ignore"):
            difference = candidate - base
            relative = difference / abs(base) if base else math.nan
        if self.difference is not None:
            se = self.difference.standard_error()
            ci = normal_interval(level, difference, se)
            p = _normal_p(difference, se)
        else:
            pairs = zip(self.base.replicates, self.candidate.replicates, strict=True)
            with np.errstate(all="ignore"):
                replicated = np.array([value_of(c)[0] - value_of(b)[0] for b, c in pairs])
            ci = bootstrap_interval(level, list(replicated), difference)
            p = _bootstrap_p(difference, replicated)
        summary = {
            "baseline": base,
            "candidate": candidate,
            "difference": difference,
            "relative": relative,
            "n": self.base.state.n,
            "ci": ci,
            "p_value": p,
        }
        notes = [f"baseline: {base_note}"] if base_note else []
        notes += [f"candidate: {candidate_note}"] if candidate_note else []
        if not math.isfinite(difference) and math.isfinite(base) and math.isfinite(candidate):
            notes.append("difference: beyond the float64 range")
        elif math.isnan(difference) and math.isinf(base) and math.isinf(candidate):
            notes.append("difference: both values are infinite, so it is undefined (inf - inf)")
        if base == 0 and math.isfinite(difference):
            notes.append("relative: the baseline value is 0")
        if notes:
            summary["note"] = "; ".join(notes)
        return summary


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


def compare_stream(
    chunks: Iterable[ChunkLike],
    requests: Sequence[RequestLike],
    shared: Sequence[str],
    options: Options,
) -> list[Pair]:
    """Each request's pair after one pass; ``shared`` roles must agree between the two inputs."""
    pairs = [_pair(request, options) for request in requests]
    for chunk in chunks:
        if chunk.rows == 0:
            continue
        check_widths(chunk)
        base, candidate = _views(chunk)
        _check_shared(chunk, shared)
        computed = []
        for request, pair in zip(requests, pairs, strict=True):
            with located(request, base):
                base_values, base_inputs = compute(request, base)
                pair.base.update(base_values, chunk.weight, base_inputs)
            with located(request, candidate):
                values, inputs = compute(request, candidate)
                pair.candidate.update(values, chunk.weight, inputs)
            if pair.difference is not None:
                with np.errstate(all="ignore"):
                    pair.difference.update(values - base_values, chunk.weight, base_inputs)
            computed.append((pair, base_values, base_inputs, values, inputs))
        _resample(chunk, computed, options)
    return pairs


def _pair(request: RequestLike, options: Options) -> Pair:
    def make() -> Any:
        return request.definition.accumulator(request.params)

    base, candidate = Estimate(make, options), Estimate(make, options)
    difference = None
    if base.method == "normal":
        difference = make()
        difference.track_spread()
    return Pair(base, candidate, difference)


def _views(chunk: ChunkLike) -> tuple[Any, Any]:
    """The chunk as the baseline sees it and as the candidate sees it (its own roles first)."""
    base_roles = {r: v for r, v in chunk.roles.items() if not r.startswith(CANDIDATE)}
    own = {r[len(CANDIDATE) :] for r in chunk.roles if r.startswith(CANDIDATE)}
    roles = {r: chunk.roles[CANDIDATE + r] if r in own else v for r, v in base_roles.items()}
    columns = {
        r: chunk.columns[CANDIDATE + r] if r in own else chunk.columns[r] for r in base_roles
    }

    def locate(index: int, role: str | None = None) -> str:
        return chunk.locate(index, CANDIDATE + role if role in own else role)

    base = dataclasses.replace(chunk, roles=base_roles)  # type: ignore[type-var]
    candidate = dataclasses.replace(  # type: ignore[type-var]
        chunk, roles=roles, columns=columns, locate=locate
    )
    return base, candidate


def _check_shared(chunk: ChunkLike, shared: Sequence[str]) -> None:
    """Targets read from both files must be the same: else the rows are not the same rows."""
    for role in shared:
        mine, theirs = chunk.roles[role], chunk.roles[CANDIDATE + role]
        same = (mine == theirs) | (np.isnan(mine) & np.isnan(theirs))
        if same.all():
            continue
        row = int(np.flatnonzero(~(same if same.ndim == 1 else same.all(axis=1)))[0])
        raise InputError(
            f"The two inputs disagree on the {role} at {chunk.where(row, role)}: "
            f"{_shown(mine[row])} in the baseline, {_shown(theirs[row])} in the candidate.",
            "compare needs both models scored on the same rows in the same order "
            "(or give the targets once with --targets).",
        )


def _shown(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return "[" + ", ".join(f"{v:g}" for v in value[:4]) + (", ...]" if len(value) > 4 else "]")
    return f"{value:g}"


def _resample(chunk: ChunkLike, computed: list, options: Options) -> None:
    """Both models' replicates get the same counts: the bootstrap is paired."""
    busy = [item for item in computed if item[0].difference is None]
    if not busy:
        return
    with np.errstate(all="ignore"):
        for b, weight in replicate_weights(chunk, options):
            for pair, base_values, base_inputs, values, inputs in busy:
                pair.base.replicates[b].update(base_values, weight, base_inputs)
                pair.candidate.replicates[b].update(values, weight, inputs)
