"""Checks as a JUnit XML report, the format GitLab, Jenkins and GitHub's test reporters read.

One ``testsuite`` per set of checks (an ``eval`` run, each named check of ``losscli check``, a
``compare``), one ``testcase`` per check; a failed check holds a ``failure`` whose message says
why in words, a skipped one a ``skipped``. ElementTree writes the XML, so every text is escaped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from losscli.report.checks import Check

# Characters XML 1.0 cannot hold at all, even escaped.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Case:
    """One test case: ``failure`` or ``skipped`` holds its message when it did not pass."""

    name: str
    classname: str
    failure: str | None = None
    skipped: str | None = None
    kind: str = "check"


@dataclass(frozen=True)
class Suite:
    name: str
    cases: Sequence[Case]


def check_cases(checks: Sequence[Check], classname: str) -> list[Case]:
    """A case per check: ``mse max``, ``r2 min``, ``mse baseline 1038.23 +2%``."""
    return [
        Case(
            name=f"{check.label} {check.bound_text()}",
            classname=classname,
            failure=check.describe() if check.failed else None,
            skipped=check.describe() if check.status == "skipped" else None,
            kind=check.kind,
        )
        for check in checks
    ]


def junit_text(suites: Sequence[Suite], name: str) -> str:
    """The suites as one ``testsuites`` document, with counts at both levels."""
    root = ET.Element("testsuites", name=_xml(name))
    for suite in suites:
        element = ET.SubElement(root, "testsuite", name=_xml(suite.name))
        for case in suite.cases:
            _case(element, case)
        _count(element, suite.cases)
    _count(root, [case for suite in suites for case in suite.cases])
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _case(parent: ET.Element, case: Case) -> None:
    element = ET.SubElement(
        parent, "testcase", name=_xml(case.name), classname=_xml(case.classname), time="0"
    )
    if case.failure is not None:
        failure = ET.SubElement(element, "failure", message=_xml(case.failure), type=case.kind)
        failure.text = _xml(case.failure)
    elif case.skipped is not None:
        ET.SubElement(element, "skipped", message=_xml(case.skipped))


def _count(element: ET.Element, cases: Sequence[Case]) -> None:
    element.set("tests", str(len(cases)))
    element.set("failures", str(sum(case.failure is not None for case in cases)))
    element.set("errors", "0")
    element.set("skipped", str(sum(case.skipped is not None for case in cases)))
    element.set("time", "0")


def _xml(text: str) -> str:
    return NOT_XML.sub("\ufffd", text)
