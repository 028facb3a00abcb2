"""One self-contained HTML page: the results, their intervals, the checks, the groups, the worst
rows and the pictures, as inline SVG. Nothing on the page is fetched: no script, no font, no
image from elsewhere, so it opens offline and can be mailed or kept as a CI artifact."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from losscli.report.formatting import NOT_AVAILABLE, short

# The page shows this many groups per loss; the JSON and CSV reports hold them all.
PAGE_GROUPS = 50
STYLE = """
* { box-sizing: border-box; }
body { margin: 0; background: #f5f7fa; color: #1f2933;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
header { background: #1f3a5f; color: #fff; padding: 28px 40px 22px; }
header h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; letter-spacing: .2px; }
header p { margin: 0; opacity: .85; font-size: 14px; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 40px 48px; }
section { background: #fff; border: 1px solid #e4e7eb; border-radius: 10px;
  padding: 18px 24px 20px; margin: 0 0 22px; box-shadow: 0 1px 2px rgba(16,24,40,.04); }
h2 { font-size: 18px; margin: 0 0 12px; color: #1f3a5f; }
h3 { font-size: 15px; margin: 16px 0 8px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 7px 12px; border-bottom: 1px solid #e4e7eb; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .5px; color: #616e7c;
  background: #f5f7fa; }
td.num, th.num { text-align: right; }
tr:last-child td { border-bottom: 0; }
.pill { display: inline-block; padding: 1px 10px; border-radius: 999px; font-size: 12px;
  font-weight: 600; color: #fff; }
.pass { background: #1b7f5b; } .fail { background: #c0392b; }
.skip { background: #616e7c; }
.summary { display: flex; gap: 14px; flex-wrap: wrap; margin: 0 0 22px; }
.card { flex: 1 1 160px; background: #fff; border: 1px solid #e4e7eb; border-radius: 10px;
  padding: 12px 16px; }
.card b { display: block; font-size: 22px; color: #1f3a5f; }
.card span { font-size: 12px; color: #616e7c; text-transform: uppercase;
  letter-spacing: .5px; }
figure { margin: 8px 0 18px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: #616e7c; font-size: 13px; margin-top: 4px; }
.note { color: #616e7c; font-size: 13px; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: #f5f7fa; padding: 1px 5px; border-radius: 4px; }
"""


def report_page(report: Any, pictures: Sequence[Any], title: str = "losscli report") -> str:
    """The page of ``report`` (an evaluation) and ``pictures`` (``Picture`` objects)."""
    parts = [
        _summary(report),
        _results(report),
        _checks(report.checks),
        *(_pictures_section(picture, index) for index, picture in enumerate(pictures)),
        _groups(report),
        _worst(report),
    ]
    return _document(title, _subtitle(report.inputs), "".join(part for part in parts if part))


def picture_page(picture: Any) -> str:
    """One picture alone on a page (``losscli plot -o FILE.html``)."""
    section = _pictures_section(picture, 0)
    return _document(f"losscli plot: {picture.kind}", _subtitle(picture.inputs), section)


def _document(title: str, subtitle: str, body: str) -> str:
    # The policy forbids every fetch the page could make: it says so to the browser as well.
    policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{_e(title)}</h1><p>{subtitle}</p></header>\n<main>\n{body}</main>\n"
        "</body>\n</html>\n"
    )


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _subtitle(inputs: dict[str, Any]) -> str:
    files = inputs.get("files") or inputs.get("baseline") or []
    named = ", ".join(str(name) for name in files) or "no input"
    if inputs.get("candidate"):
        named += " against " + ", ".join(str(name) for name in inputs["candidate"])
    if inputs.get("targets"):
        named += " (targets from " + ", ".join(str(n) for n in inputs["targets"]) + ")"
    return _e(named)


def _summary(report: Any) -> str:
    inputs = report.inputs
    cards = [
        ("rows used", f"{inputs.get('rows_used', 0):,}"),
        ("rows read", f"{inputs.get('rows_read', 0):,}"),
        ("rows dropped", f"{inputs.get('rows_dropped', 0):,}"),
        ("losses", str(len(report.overall))),
    ]
    if report.checks:
        failed = sum(1 for check in report.checks if check.failed)
        cards.append(("checks failed", f"{failed} of {len(report.checks)}"))
    shown = "".join(f"<div class=card><span>{_e(k)}</span><b>{_e(v)}</b></div>" for k, v in cards)
    return f'<div class="summary">{shown}</div>\n'


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: set[int]) -> str:
    def cell(tag: str, index: int, value: Any) -> str:
        kind = ' class="num"' if index in numeric else ""
        return f"<{tag}{kind}>{value}</{tag}>"

    head = "".join(cell("th", i, _e(h)) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>\n" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>\n"


def _number(value: Any) -> str:
    return _e(short(value)) if value is not None else NOT_AVAILABLE


def _interval(ci: dict[str, Any] | None) -> str:
    if not ci:
        return ""
    return f"{_number(ci.get('low'))} – {_number(ci.get('high'))}"


def _results(report: Any) -> str:
    with_ci = any(result.ci for result in report.overall)
    level = next((r.ci["level"] for r in report.overall if r.ci), None)
    headers = ["loss", "value", *([f"{level:.0%} interval"] if with_ci else []), "n", "better"]
    rows = [
        [
            f"<code>{_e(r.label)}</code>",
            _number(r.value),
            *([_interval(r.ci)] if with_ci else []),
            f"{r.n:,}",
            _e(r.direction),
        ]
        for r in report.overall
    ]
    notes = "".join(
        f'<p class="note">{_e(r.label)}: {_e(r.note)}.</p>' for r in report.overall if r.note
    )
    numeric = {1, 2, 3} if with_ci else {1, 2}
    return f"<section><h2>Results</h2>{_table(headers, rows, numeric)}{notes}</section>\n"


def _checks(checks: Sequence[Any]) -> str:
    if not checks:
        return ""
    rows = []
    for check in checks:
        status = "fail" if check.failed else "pass" if check.status == "passed" else "skip"
        rows.append(
            [
                f'<span class="pill {status}">{_e(check.status)}</span>',
                f"<code>{_e(check.label)}</code>",
                _e(check.describe()),
            ]
        )
    return f"<section><h2>Checks</h2>{_table(['', 'loss', 'check'], rows, set())}</section>\n"


def _groups(report: Any) -> str:
    groups = report.groups
    if groups is None:
        return ""
    shown = groups.head(PAGE_GROUPS)
    columns = groups.columns
    with_ci = groups.with_ci
    headers = [*columns, "loss", "value", *(["interval"] if with_ci else []), "n"]
    rows = [
        [
            *(_e((r.group or {}).get(c)) for c in columns),
            f"<code>{_e(r.label)}</code>",
            _number(r.value),
            *([_interval(r.ci)] if with_ci else []),
            f"{r.n:,}",
        ]
        for r in shown
    ]
    first = len(columns) + 1
    numeric = set(range(first, len(headers)))
    more = groups.group_count - PAGE_GROUPS
    note = (
        f'<p class="note">The first {PAGE_GROUPS} of {groups.group_count} groups; the JSON and '
        "CSV reports hold them all.</p>"
        if more > 0
        else ""
    )
    title = f"By {_e(', '.join(columns))}"
    return f"<section><h2>{title}</h2>{_table(headers, rows, numeric)}{note}</section>\n"


def _worst(report: Any) -> str:
    parts = []
    for result in report.overall:
        if not result.worst:
            continue
        keys = [key for key in result.worst[0] if key != "loss"]
        rows = [
            [*(_e(_short_value(row.get(k))) for k in keys), _number(row.get("loss"))]
            for row in result.worst
        ]
        numeric = {
            i for i, k in enumerate(keys) if all(_is_number(row.get(k)) for row in result.worst)
        }
        table = _table([*keys, result.label], rows, numeric | {len(keys)})
        parts.append(f"<h3><code>{_e(result.label)}</code></h3>{table}")
    if not parts:
        return ""
    return f"<section><h2>Worst rows</h2>{''.join(parts)}</section>\n"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short_value(value: Any) -> str:
    if isinstance(value, float):
        return short(value)
    if isinstance(value, list):
        return (
            "["
            + ", ".join(_short_value(v) for v in value[:6])
            + (", …]" if len(value) > 6 else "]")
        )
    return "" if value is None else str(value)


CAPTIONS = {
    "distribution": "Each row's loss: histogram (mean and quantiles marked) and the fraction of "
    "rows below each value.",
    "calibration": "Reliability: observed frequency against mean predicted probability per bin; "
    "on the dotted line the scores are calibrated.",
    "groups": "Each group's value with its interval, the worst first.",
    "residuals": "Prediction against target, and the residual against the prediction.",
    "compare": "Each row's loss difference, candidate minus baseline: left of 0 the candidate "
    "does better.",
    "curve": "Each loss against the error.",
}
TITLES = {
    "distribution": "Distribution of per-row losses",
    "calibration": "Calibration",
    "groups": "Groups",
    "residuals": "Residuals",
    "compare": "Per-row differences",
    "curve": "Loss curves",
}


def _pictures_section(picture: Any, index: int) -> str:
    svg = inline_svg(picture.to_dict(), f"p{index}")
    caption = _e(CAPTIONS[picture.kind])
    return (
        f"<section><h2>{_e(TITLES[picture.kind])}</h2><figure>{svg}"
        f"<figcaption>{caption}</figcaption></figure></section>\n"
    )


ID = re.compile(r'\bid="([^"]+)"')
REFERENCE = re.compile(r'(url\(#|href="#)([^")]+)')


def inline_svg(document: dict[str, Any], prefix: str) -> str:
    """The picture as an ``<svg>`` element for a page: no XML prolog, no metadata, and its ids
    prefixed so that several pictures on one page keep theirs apart."""
    from losscli.report.pictures import draw, pyplot

    plt = pyplot()
    figure = draw(plt, document)
    buffer = io.StringIO()
    metadata = {key: None for key in ("Creator", "Date", "Format", "Type")}
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata=metadata)
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    text = ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = REFERENCE.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)
    return re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", text, count=1)
