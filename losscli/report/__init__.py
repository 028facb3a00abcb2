"""Results and how they are shown: rich table, JSON, CSV, markdown."""

from losscli.report.report import Report, Result

__all__ = ["Report", "Result"]
