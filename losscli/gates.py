"""The checks asked for by name and text (``--max mse=0.5``, ``--tolerance 2%``, a check in
``losscli.toml``): parsed and matched to the losses before any data is read, then applied to a
report through its ``check``. Parsing lives here, not in ``report``: the report checks values it is
given as numbers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from losscli.errors import UsageError, option
from losscli.report.checks import (
    DEFAULT,
    Checked,
    Labels,
    parse_bounds,
    read_baseline,
    tolerances_by_label,
)


def parse_assignments(entries: Iterable[str], name: str) -> dict[str, str]:
    """``LABEL=VALUE`` entries of the option ``name`` as a mapping; the value is after the last
    ``=``."""
    parsed: dict[str, str] = {}
    for entry in entries:
        label, sep, value = entry.rpartition("=")
        if not sep or not label.strip() or not value.strip():
            raise UsageError(
                f"{name} {entry} is not LABEL=VALUE.",
                f"Example: {name} mse=1200 or {name} huber:delta=2=0.5",
            )
        if label.strip() in parsed:
            raise UsageError(
                f"{name} {label.strip()} is given twice.", "Give each LABEL one value."
            )
        parsed[label.strip()] = value.strip()
    return parsed


def empty_range(
    max: Mapping[str, float], min: Mapping[str, float], labels: Labels
) -> tuple[str, float, str, float] | None:
    """The first bound pair with min > max for one loss (min text, min, max text, max), if any.

    Such a gate fails whatever the value: a slip (the two swapped) that would read as a bad model.
    """
    ceilings = {labels.resolve(text, f"max {text}"): (text, value) for text, value in max.items()}
    for text, low in min.items():
        ceiling = ceilings.get(labels.resolve(text, f"min {text}"))
        if ceiling is not None and low > ceiling[1]:
            return text, low, ceiling[0], ceiling[1]
    return None


def parse_tolerances(entries: Iterable[str]) -> dict[str, str]:
    """``--tolerance`` options: ``2%`` is the default one, ``mse=2%`` one loss's."""
    entries = list(entries)
    # All LABEL=TOL entries at once, so that a LABEL given twice is caught across options.
    tolerances = parse_assignments([e for e in entries if "=" in e], option("tolerance"))
    defaults = [entry for entry in entries if "=" not in entry]
    if len(defaults) > 1:
        raise UsageError(
            f"{option('tolerance')} {defaults[1]}: a default tolerance was already given "
            f"({defaults[0]}).",
            "Give one default, and LABEL=TOL for the losses that need another.",
        )
    if defaults:
        tolerances[DEFAULT] = defaults[0]
    return tolerances


@dataclass(frozen=True)
class CheckOptions:
    """The checks asked for on the command line, read and matched to the losses before any data."""

    max: dict[str, float] = field(default_factory=dict)
    min: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, Any] | None = None
    tolerance: dict[str, str | float] | None = None
    allow_missing: bool = False
    other_rows: bool = False

    @classmethod
    def parse(
        cls,
        losses: Sequence[str],
        max: Sequence[str] = (),
        min: Sequence[str] = (),
        baseline: str | None = None,
        tolerance: Sequence[str] = (),
        allow_missing: bool = False,
        other_rows: bool = False,
        compat: str | None = None,
    ) -> CheckOptions:
        """``--max LABEL=VALUE``, ``--min``, ``--baseline FILE``, ``--tolerance [LABEL=]TOL``."""
        from losscli.compat import requests as parse_specs

        if baseline is None and (tolerance or allow_missing or other_rows):
            given = "tolerance" if tolerance else "allow_missing" if allow_missing else ""
            raise UsageError(
                f"{option(given or 'allow_other_rows')} applies to a baseline.",
                f"Add {option('baseline')} FILE.",
            )
        labels = Labels.of_requests(parse_specs(losses, compat))
        bounds = {}
        for kind, entries in (("max", max), ("min", min)):
            bounds[kind] = parse_bounds(parse_assignments(entries, option(kind)), option(kind))
            named: dict[str, str] = {}
            for text in bounds[kind]:
                label = labels.resolve(text, f"{option(kind)} {text}")
                if label in named:
                    message, hint = bound_twice(label, f"{option(kind)} {named[label]}")
                    raise UsageError(f"{option(kind)} {text}: {message}", hint)
                named[label] = text
        empty = empty_range(bounds["max"], bounds["min"], labels)
        if empty is not None:
            low_text, low, high_text, high = empty
            raise UsageError(
                f"{option('min')} {low_text}={low:g} is above {option('max')} "
                f"{high_text}={high:g}: no value can pass both.",
                "Swap them, or fix the one that is wrong.",
            )
        tolerances = parse_tolerances(tolerance)
        tolerances_by_label(tolerances, labels)
        return cls(
            max=bounds["max"],
            min=bounds["min"],
            baseline=read_baseline(baseline) if baseline is not None else None,
            tolerance=dict(tolerances) or None,
            allow_missing=allow_missing,
            other_rows=other_rows,
        )

    def apply(self, report: Checked) -> Checked:
        if not self.max and not self.min and self.baseline is None:
            return report
        return report.check(
            max=self.max,
            min=self.min,
            baseline=self.baseline,
            tolerance=self.tolerance,
            allow_missing=self.allow_missing,
            other_rows=self.other_rows,
        )


def bound_twice(label: str, first: str) -> tuple[str, str]:
    """Two bounds of one kind for one loss (``--max mse=1 --max l2=2``): message and hint.

    Both would be checked and the strictest would decide, unseen: one of them is a slip.
    """
    return (
        f"{label} already has this bound (as {first}).",
        "Give each loss one bound of each kind.",
    )
