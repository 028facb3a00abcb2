"""The outcome of one evaluation: inputs read and one result per requested loss (and per group)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from os import PathLike
from typing import TYPE_CHECKING, Any, ClassVar

from losscli.errors import UsageError, option
from losscli.report import checks as gate
from losscli.report.checks import Check
from losscli.report.groups import GroupResults, Results
from losscli.report.metrics import result_metrics
from losscli.report.render import FORMATS, render_pieces, render_report
from losscli.report.results import Result, group_headers

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Report", "Result"]


@dataclass(frozen=True)
class Report:
    """``results`` are the overall results, then with --by each group's: a ``Results`` whose
    groups are arrays (``groups``), or any sequence of Result objects (a report built by hand)."""

    version: str
    inputs: dict[str, Any]
    results: Sequence[Result] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    # evaluate(..., per_row=True): each row's loss values; never part of to_dict() (the JSON).
    per_row: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    FORMATS: ClassVar[tuple[str, ...]] = FORMATS

    @cached_property
    def overall(self) -> list[Result]:
        """The results over all rows (one per loss), without the groups'."""
        if isinstance(self.results, Results):
            return list(self.results.overall)
        return [result for result in self.results if result.group is None]

    @cached_property
    def groups(self) -> GroupResults | None:
        """The --by results as arrays, read in the report's order; None without --by."""
        if isinstance(self.results, Results):
            return self.results.groups
        grouped = [result for result in self.results if result.group is not None]
        return GroupResults.from_results(grouped) if grouped else None

    @property
    def passed(self) -> bool | None:
        """None without checks; else True when no check failed (a skipped one does not fail)."""
        if not self.checks:
            return None
        return not any(check.failed for check in self.checks)

    def check(
        self,
        *,
        max: Mapping[str, float] | None = None,
        min: Mapping[str, float] | None = None,
        baseline: Report | Mapping[str, Any] | str | PathLike[str] | None = None,
        tolerance: str | float | Mapping[str, str | float] | None = None,
        allow_missing: bool = False,
        other_rows: bool = False,
    ) -> Report:
        """This report with checks added: thresholds by LABEL, and a baseline report.

        ``max={"mse": 1200}`` fails when the value is above 1200, ``min={"r2": 0.9}`` when below.
        ``baseline`` is an earlier Report, its ``to_dict()``, or the path of its JSON file; a result
        fails when worse than the baseline's by more than ``tolerance`` (``0.01`` absolute, ``"2%"``
        of the baseline value, or ``{"default": "1%", "mse": 0.5}``; 0 when not given). A loss on
        one side only fails, or is skipped when ``allow_missing``. A baseline over another number of
        rows (``inputs.rows_used``) is an InputError unless ``other_rows``. See ``passed``.
        """
        added = gate.threshold_checks(self, max=max, min=min)
        if baseline is not None:
            document = _baseline_document(baseline)
            added += gate.baseline_checks(self, document, tolerance, allow_missing, other_rows)
        elif tolerance is not None or allow_missing or other_rows:
            raise UsageError(
                "A tolerance and allowing missing losses apply to a baseline only.",
                f"Give a baseline ({option('baseline')}), or leave them out.",
            )
        return replace(self, checks=[*self.checks, *added])

    def __getitem__(self, label: str) -> float:
        """The overall value of the result called ``label`` (e.g. ``report["huber:delta=2"]``)."""
        for result in self.overall:
            if result.label == label:
                return result.value
        known = ", ".join(result.label for result in self.results)
        raise KeyError(f"no result labelled {label!r}; labels: {known}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``losscli eval --format json``."""
        document: dict[str, Any] = {
            "version": self.version,
            "inputs": dict(self.inputs),
            "results": [result.to_dict() for result in self.results],
        }
        if self.checks:
            document["checks"] = [check.to_dict() for check in self.checks]
            document["passed"] = self.passed
        return document

    def metrics(self) -> dict[str, float | None]:
        """Each result's value under a key trackers accept (``--format metrics``; NaN is None)."""
        return result_metrics(self.results)

    def render(self, fmt: str, console: Any = None) -> str:
        """This report as text in ``fmt``, one of FORMATS: a rich table (``console`` sets its
        width; the first 100 groups of --by), JSON (``to_dict()``), CSV, markdown, or GitHub
        workflow commands."""
        return render_report(self, fmt, console)

    def pieces(self, fmt: str) -> Iterator[bytes]:
        """The text of ``render(fmt)`` as UTF-8 bytes, in pieces each made when asked for: JSON
        and CSV of a million groups are written as they are made, never held whole."""
        return render_pieces(self, fmt)

    def to_frame(self) -> pd.DataFrame:
        """One row per result: label, with --by a ``scope`` ("all" for the overall rows, "group"
        for a group's) and the group columns (empty on the overall rows, None for a null group
        value), loss, params, value, n, weight_sum, direction, ci_low / ci_high with --ci, and
        ``note`` (why a value is NaN or infinite, else None). Groups are read from their arrays."""
        import pandas as pd

        groups = self.groups.columns if self.groups is not None else []
        headers = group_headers(groups)
        with_ci = any(result.ci is not None for result in self.overall) or bool(
            self.groups is not None and self.groups.with_ci
        )
        fields = ["label", "loss", "params", "value", "n", "weight_sum", "direction"]
        fields += ["ci_low", "ci_high"] if with_ci else []
        data = {name: self._frame_column(name) for name in fields}
        if groups:
            data["scope"] = ["all"] * len(self.overall) + ["group"] * len(self.groups or ())
        columns = ["label", *(["scope"] if groups else []), *headers, *fields[1:], "note"]
        frame = pd.DataFrame(data, columns=columns)
        named = zip(headers, groups, strict=True)
        by = [(header, self._frame_column(key, by=True)) for header, key in named]
        for name, values in [*by, ("note", self._frame_column("note"))]:
            # As objects: ints stay ints and a null stays None (pandas would make both floats).
            frame[name] = pd.Series(values, dtype=object, index=frame.index)
        return frame

    def _frame_column(self, name: str, by: bool = False) -> list[Any]:
        """One column of ``to_frame()``, the overall results' then the groups': a field of the
        results, or (``by``) a --by column's values."""
        column = [None if by else _frame_cell(result, name) for result in self.overall]
        return column + (self.groups.column(name, by) if self.groups is not None else [])


def _frame_cell(result: Result, name: str) -> Any:
    if name in ("ci_low", "ci_high"):
        return (result.ci or {}).get(name[3:])
    if name == "params":
        return dict(result.params)
    return getattr(result, name)


def _baseline_document(baseline: Report | Mapping[str, Any] | str | PathLike[str]) -> Any:
    if isinstance(baseline, Report):
        return baseline.to_dict()
    if isinstance(baseline, Mapping):
        gate.baseline_results(baseline)
        return baseline
    return gate.read_baseline(baseline)
