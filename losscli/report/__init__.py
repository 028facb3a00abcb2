"""Results and how they are shown: rich table, JSON, CSV, markdown; checks on them."""

from losscli.report.checks import Check, CheckRun
from losscli.report.report import Report, Result

__all__ = ["Check", "CheckRun", "Report", "Result"]
