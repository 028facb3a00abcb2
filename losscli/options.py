"""The checks of the options ``evaluate`` and ``compare`` share, before any input is opened.

Python callers can pass anything, so each value is checked for its type as well as its range; a
message names the parameter (``errors.option``), which the CLI spells as its flag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscli import runtime
from losscli.compat import requests as parse_specs
from losscli.engine.tally import DEFAULT_REPLICATES, Options
from losscli.errors import UsageError, option
from losscli.io.chunks import NAN_POLICIES
from losscli.io.plan import Wanted, refuse_unread_roles
from losscli.io.sources import FORMATS
from losscli.io.stream import stdin_once, with_files_read
from losscli.losses import LossRequest
from losscli.losses.registry import KEY_ROLES

# Each replicate is a pass of additions over every row: more than this is hours, not a setting.
MAX_REPLICATES = 100_000


def _whole_number(value: Any, name: str) -> None:
    """Python callers can pass anything: a count must be an int (not "10", 2.5 or True)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UsageError(
            f"{name}={value!r} is not a whole number.", f"Give an int, e.g. {name}=10."
        )


def check_reading(nan: str, chunk_rows: int | None, input_format: str | None) -> None:
    """The options of how inputs are read: a missing-value policy, a chunk size (None: the
    plan's), a format."""
    if chunk_rows is not None:
        _whole_number(chunk_rows, "chunk_rows")
    if not isinstance(nan, str) or nan not in NAN_POLICIES:
        raise UsageError(
            f"{option('nan')} {nan} is not a policy.",
            f"Use {option('nan')} error, drop or propagate.",
        )
    if chunk_rows is not None and chunk_rows < 1:
        raise UsageError(
            f"{option('chunk_rows')} {chunk_rows} must be at least 1.",
            "Leave it out for the default.",
        )
    if input_format is not None and input_format not in FORMATS:
        raise UsageError(
            f"{option('input_format')} {input_format} is unknown.",
            f"Use one of {', '.join(FORMATS)}.",
        )


def analysis_options(
    ci: float | None, bootstrap: int, seed: int, worst: int, grouped: bool
) -> Options:
    """The checked options of what a run keeps besides each value."""
    for value, name in ((bootstrap, "bootstrap"), (seed, "seed"), (worst, "worst")):
        _whole_number(value, name)
    if ci is not None and (
        isinstance(ci, bool) or not isinstance(ci, (int, float)) or not 0 < ci < 1
    ):
        raise UsageError(
            f"{option('ci')} {ci!r} is not a confidence level.",
            "Give a level between 0 and 1, e.g. 0.95.",
        )
    if bootstrap > MAX_REPLICATES:
        raise UsageError(
            f"{option('bootstrap')} {bootstrap} is more replicates than losscli draws "
            f"(each one is a pass over every row).",
            f"Use at most {MAX_REPLICATES:,}; the default is {DEFAULT_REPLICATES}.",
        )
    if bootstrap < 10:
        raise UsageError(
            f"{option('bootstrap')} {bootstrap} is too few replicates for an interval.",
            f"Use at least 10; the default is {DEFAULT_REPLICATES}.",
        )
    if worst < 0:
        raise UsageError(
            f"{option('worst')} {worst} must be at least 1.", f"Example: {option('worst')} 10"
        )
    if not 0 <= seed < 2**63:
        raise UsageError(
            f"{option('seed')} {seed} is out of range.", "Give a whole number from 0 up."
        )
    return Options(level=ci, replicates=bootstrap, seed=seed, grouped=grouped, worst=worst)


@dataclass(frozen=True)
class Job:
    """What ``evaluate`` and ``compare`` share before reading: the checked request."""

    requests: list[LossRequest]
    options: Options
    given: dict[str, Any]  # role -> its column names or values, as the caller gave them
    wanted: Wanted


def prepare(
    losses: str | Sequence[str],
    roles: Mapping[str, Any],
    columns: Any,
    reading: tuple[str, int | None, str | None],
    inputs: Mapping[str, Any],
    analysis: tuple[float | None, int, int, int, bool],
    lone_on: bool = False,
    compat: str | None = None,
) -> Job:
    """The losses parsed and every option checked, before any input is opened.

    ``reading`` is (nan, chunk_rows, input_format); ``inputs`` names each input for messages;
    ``analysis`` is what ``analysis_options`` takes; ``lone_on`` is a key given with one input.
    """
    requests = loss_requests(losses, compat)
    check_reading(*reading)
    if lone_on:
        raise UsageError(
            f"{option('on')} matches rows of two inputs by key, but there is only one.",
            f"Add {option('targets')} FILE (the ground truth), or leave out {option('on')}.",
        )
    stdin_once(inputs)
    runtime.keep_freed_memory()
    options = analysis_options(*analysis)
    refuse_unread_roles(columns, requests)
    given = {**roles, **(columns or {})}
    return Job(requests, options, given, Wanted.of(requests, KEY_ROLES))


def loss_requests(losses: str | Sequence[str], compat: str | None = None) -> list[LossRequest]:
    """The parsed SPECs (``compat``'s names with a library named), with the files that
    parameters name read in."""
    requests = parse_specs([losses] if isinstance(losses, str) else losses, compat)
    if not requests:
        raise UsageError(
            "No loss given.", f"Name one, e.g. {option('losses')} mse; 'losscli list' shows all."
        )
    return [with_files_read(request) for request in requests]
