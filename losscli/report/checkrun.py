"""The outcome of ``losscli check``: one report per named check of a configuration."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from losscli import __version__
from losscli.report.checks import FAILED, PASSED, Check, summary
from losscli.report.formatting import json_ready, table_text
from losscli.report.metrics import Metrics, metric_key, metrics_text, result_metrics
from losscli.report.render import (
    STYLE,
    pick_format,
    to_github,
    to_markdown,
    to_table,
    verdict,
    verdict_mark,
)
from losscli.report.report import Report

# Several reports: one CSV table cannot hold them.
RUN_FORMATS = ("table", "json", "markdown", "github", "metrics", "junit")


@dataclass(frozen=True)
class CheckRun:
    """The reports of the named checks, in the order run."""

    config: str
    reports: dict[str, Report] = field(default_factory=dict)

    FORMATS: ClassVar[tuple[str, ...]] = RUN_FORMATS

    @property
    def checks(self) -> list[Check]:
        return [check for report in self.reports.values() for check in report.checks]

    @property
    def passed(self) -> bool:
        return all(report.passed is not False for report in self.reports.values())

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``losscli check --format json``."""
        return {
            "version": __version__,
            "config": self.config,
            "passed": self.passed,
            "summary": summary(self.checks),
            "reports": [
                {"name": name, **_without_version(report.to_dict())}
                for name, report in self.reports.items()
            ],
        }

    def render(self, fmt: str, console: Any = None) -> str:
        """The run as text in ``fmt``, one of FORMATS (no CSV); ``console`` sets a table's width."""
        if pick_format(fmt, RUN_FORMATS) == "table":
            return table_text(_table(self), console)
        if fmt == "json":
            return json.dumps(json_ready(self.to_dict()), indent=2, allow_nan=False) + "\n"
        if fmt == "metrics":
            return metrics_text(self.metrics())
        if fmt == "junit":
            from losscli.report.junit import Suite, check_cases, junit_text

            return junit_text(
                [
                    Suite(name, check_cases(r.checks, f"losscli.check.{name}"))
                    for name, r in self.reports.items()
                ],
                f"losscli check {self.config}",
            )
        return _markdown(self) if fmt == "markdown" else _github(self)

    def metrics(self) -> dict[str, float | None]:
        """Each named check's results under ``NAME/KEY`` (``house_prices/mse``)."""
        metrics = Metrics()
        for name, report in self.reports.items():
            result_metrics(report.results, metric_key(name) + "/", metrics)
        return metrics.values


def _without_version(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "version"}


def _table(run: CheckRun) -> Any:
    from rich.console import Group
    from rich.text import Text

    parts: list[Any] = []
    for name, report in run.reports.items():
        status = FAILED if report.passed is False else PASSED
        parts += [Text(f"{name}: {status}", style=STYLE[status]), to_table(report)]
    parts.append(Text(f"losscli check: {verdict(run.checks)}", style="bold"))
    return Group(*parts)


def _markdown(run: CheckRun) -> str:
    """A verdict, then each named check's results and checks."""
    lines = [f"### {verdict_mark(run.checks)} losscli check: {verdict(run.checks)}", ""]
    for name, report in run.reports.items():
        lines += [f"#### {verdict_mark(report.checks)} {name}", "", to_markdown(report)]
    return "\n".join(lines)


def _github(run: CheckRun) -> str:
    text = "".join(to_github(report, name) for name, report in run.reports.items())
    return text + f"losscli check: {verdict(run.checks)}\n"
