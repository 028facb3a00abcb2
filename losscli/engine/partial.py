"""What one part of an input gives (a cluster's unit of work), and two parts added together.

A part's outcomes are the same tallies a whole run keeps; adding two parts adds their tables.
Each part numbers its --by groups in the order it met them, so before two parts add up, the
second's groups are renumbered as the first knows them (new ones numbered on).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscli.engine.run import Outcome
from losscli.engine.tally import Tally


@dataclass
class Partial:
    """One part's outcomes (one per request), its row counts and its --by group numbering."""

    outcomes: list[Outcome]
    rows_read: int = 0
    rows_used: int = 0
    group_codes: Any = None  # losscli.io.chunks.GroupCodes, or None without --by
    units: int = 1  # how many units of work were added into it


def combined(first: Partial, second: Partial) -> Partial:
    """``second`` added into ``first`` (which is changed and returned)."""
    codes = _codes_in(first.group_codes, second.group_codes)
    for mine, theirs in zip(first.outcomes, second.outcomes, strict=True):
        _add(mine, theirs, codes)
    first.rows_read += second.rows_read
    first.rows_used += second.rows_used
    first.units += second.units
    return first


def combined_all(parts: Sequence[Partial]) -> Partial:
    """Every part added, in order."""
    total = parts[0]
    for part in parts[1:]:
        total = combined(total, part)
    return total


def _codes_in(mine: Any, theirs: Any) -> np.ndarray | None:
    """The code ``mine`` gives each of ``theirs``'s groups (in their code order)."""
    if mine is None or theirs is None:
        return None
    frame = theirs.frame()
    if not len(next(iter(frame.values()))):
        return np.zeros(0, dtype=np.int64)
    return np.asarray(mine(frame), dtype=np.int64)


def _add(mine: Outcome, theirs: Outcome, codes: np.ndarray | None) -> None:
    pairs = [(mine.tally, theirs.tally), (mine.candidate, theirs.candidate)]
    pairs.append((mine.difference, theirs.difference))
    for into, other in pairs:
        if into is None or other is None:
            continue
        _add_tally(into, other, codes)
    if mine.worst is not None and theirs.worst is not None:
        entries = mine.worst.entries + theirs.worst.entries
        mine.worst.entries = heapq.nsmallest(mine.worst.k, entries, key=lambda e: e[:3])
    mine.has_rows = mine.has_rows and theirs.has_rows


def _add_tally(into: Tally, other: Tally, codes: np.ndarray | None) -> None:
    if codes is not None:
        other.regroup(codes)
    into.merge(other)
