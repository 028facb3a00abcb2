"""Results and how they are shown: rich table, JSON, CSV, markdown, GitHub; checks on them.

Every outcome (``Report``, ``CheckRun``, ``comparison.Comparison``) has ``to_dict()`` (its JSON
document) and ``render(fmt, console=None)`` (its text in each of its ``FORMATS``).
"""

from losscli.report.checkrun import CheckRun
from losscli.report.checks import Check
from losscli.report.groups import GroupArrays, GroupIntervals, GroupResults, KeyColumn, Results
from losscli.report.report import Report
from losscli.report.results import Result

__all__ = [
    "Check",
    "CheckRun",
    "GroupArrays",
    "GroupIntervals",
    "GroupResults",
    "KeyColumn",
    "Report",
    "Result",
    "Results",
]
