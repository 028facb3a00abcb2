"""How outcomes become text: one protocol (``to_dict``, ``render``), one set of number rules, the
--by groups written from arrays, and a package whose modules import each other in one direction.

Expected texts come from the json and csv modules on ``to_dict()`` and on Result objects built
one by one as the report was built before its groups were arrays (``per_object_groups``).
"""

from __future__ import annotations

import ast
import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

import losscli
from losscli import api
from losscli.report import Result, Results
from losscli.report.formatting import (
    csv_line,
    exact,
    json_ready,
    json_value_text,
    plain,
    short,
    shown,
)
from losscli.report.groups import TABLE_GROUPS
from losscli.report.results import group_headers, plain_group
from losscli.report.textcolumns import exact_texts, json_number_texts
from tests.test_cli import ROOT, run

PACKAGE = ROOT / "losscli"


# -- the import graph -----------------------------------------------------------------------------
#
# An edge is an import of one losscli module by another. Counted: every import at module level,
# those under ``if TYPE_CHECKING:`` too (a circle there is still a circle in the design, as
# report.py <-> checks.py was). Not counted: an import of the root package ``losscli`` (for
# ``__version__``): Python runs it before any of its modules, and it imports none of them at
# module level (checked below). Imports inside functions (how the CLI and the readers defer heavy or
# rarely used modules) are counted too: a circle through them is still a circle in the design.


def module_paths() -> dict[str, Path]:
    paths = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        paths[name] = path
    return paths


def imported(name: str, path: Path, modules: set[str], functions: bool) -> set[str]:
    """The losscli modules ``name`` imports (at module level; in functions too if asked)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def target(module: str, item: str | None) -> str:
        whole = f"{module}.{item}" if item else module
        return whole if whole in modules else module

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and not functions:
                continue
            if isinstance(child, ast.Import):
                found.update(target(alias.name, None) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                module = child.module or ""
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    module = ".".join([*base, module] if module else base)
                found.update(target(module, alias.name) for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {module for module in found if module in modules and module not in (name, "losscli")}


def import_graph(functions: bool, within: str = "losscli") -> dict[str, set[str]]:
    paths = {name: path for name, path in module_paths().items() if name.startswith(within)}
    modules = set(paths)
    return {name: imported(name, path, modules, functions) for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for after in sorted(graph.get(node, ())):
            if state.get(after) == 1:
                return [*path[path.index(after) :], after]
            if after not in state and (cycle := visit(after)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_graph_sees_imports_under_type_checking_and_in_functions(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "import losscli.a\n"
        "if TYPE_CHECKING:\n    from losscli.b import B\n"
        "def f():\n    from losscli import c\n"
        "from losscli import __version__\n"
    )
    modules = {"losscli", "losscli.a", "losscli.b", "losscli.c", "losscli.m"}
    assert imported("losscli.m", path, modules, False) == {"losscli.a", "losscli.b"}
    assert imported("losscli.m", path, modules, True) == {"losscli.a", "losscli.b", "losscli.c"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_two_modules_of_the_package_import_each_other():
    cycle = find_cycle(import_graph(functions=False))
    assert cycle is None, " -> ".join(cycle or [])


def test_the_root_package_imports_none_of_its_modules_when_imported():
    """Why imports of ``losscli`` itself are left out of the graph."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    at_import = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and "losscli" in (getattr(node, "module", None) or "")
    ]
    assert at_import == []


def test_no_cycle_even_through_imports_in_functions():
    graph = import_graph(functions=True, within="losscli")
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])
    assert "losscli.report.report" not in graph["losscli.report.checks"]


# -- building reports -----------------------------------------------------------------------------


def grouped_table(rows: int = 240, seed: int = 3) -> pa.Table:
    """Predictions with --by columns of every kind a reader hands over: ints and floats with
    nulls (whole floats read as ints), text needing quotes and escapes, booleans."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, 6, rows)
    texts = ["a", "b,c", 'say "hi"', "x\ny", "ü*all*", None]
    pred = rng.normal(size=rows)
    pred[5] = math.inf  # one group's mse is infinite
    weight = rng.uniform(0.5, 2, rows)
    weight[pick == 4] = 0.0  # and the ü*all* groups' weights sum to 0
    return pa.table(
        {
            "pred": pred,
            "target": rng.normal(size=rows),
            "weight": weight,
            "i": pa.array([None if k == 5 else int(k % 3) for k in pick], pa.int64()),
            "f": pa.array([[0.5, 1.0, 2.0, None, 1.5, 3.0][k] for k in rng.integers(0, 6, rows)]),
            "s": pa.array([texts[k] for k in pick]),
            "b": pa.array(rng.integers(0, 2, rows).astype(bool)),
        }
    )


CASES = {
    "two columns, weights": dict(losses="mse,mae", by="i,s", weight="weight"),
    "floats, normal and bootstrap intervals": dict(
        losses="mse,rmse", by="f", ci=0.9, bootstrap=25, weight="weight"
    ),
    "booleans and text": dict(losses="mae,max_error", by="b,s"),
    "three columns, intervals": dict(losses="mae", by="s,f,i", ci=0.8),
    "bootstrap intervals without a value": dict(
        losses="rmse,r2", by="s", ci=0.9, bootstrap=20, weight="weight"
    ),
}


def _float(value) -> float:
    # NaN as math.nan itself: results compare their NaN by identity.
    return math.nan if math.isnan(value) else float(value)


def _interval_entry(interval: dict | None, row: int) -> dict | None:
    """One group's interval as a dict, as an overall result's ``ci`` reads."""
    if interval is None:
        return None

    def end(values):
        return None if math.isnan(values[row]) else float(values[row])

    entry = {"level": interval["level"], "low": end(interval["low"])}
    entry |= {"high": end(interval["high"]), "method": interval["method"]}
    if interval.get("se") is not None:
        entry["se"] = end(interval["se"])
    if interval.get("replicates") is not None:
        entry["replicates"] = int(interval["replicates"][row])
    if interval.get("blocks") is not None:
        entry["blocks"] = interval["blocks"]
    if interval["note"][row] is not None:
        entry["note"] = interval["note"][row]
    return entry


def per_object_groups(requests, outcomes, group_codes, options) -> list[Result]:
    """The group results as they were built before arrays: a Result per group and loss, groups
    sorted by their values (a null last), each group's losses in the order asked."""
    labels = {code: plain_group(group) for code, group in group_codes.labels().items()}

    def key(code: int) -> tuple:
        return tuple((v is None, v if v is not None else 0) for v in labels[code].values())

    rank = {code: i for i, code in enumerate(sorted(labels, key=key))}
    ranked = []
    for number, (request, outcome) in enumerate(zip(requests, outcomes, strict=True)):
        columns = outcome.tally.group_columns(options.level)
        for row, code in enumerate(columns.codes.tolist()):
            result = Result(
                label=request.label,
                loss=request.name,
                params=dict(request.params),
                value=_float(columns.value[row]),
                n=int(columns.n[row]),
                weight_sum=_float(columns.weight_sum[row]),
                direction=request.definition.direction,
                ci=_interval_entry(columns.interval, row),
                group=labels[code],
                reason=columns.reason[row],
            )
            ranked.append((rank[code], number, result))
    ranked.sort(key=lambda item: item[:2])
    return [result for _, _, result in ranked]


@pytest.fixture
def before(monkeypatch) -> list[list[Result]]:
    """Each evaluate's group results as per_object_groups builds them, beside the arrays."""
    seen: list[list[Result]] = []
    arrays = api._group_results

    def both(requests, outcomes, group_codes, options):
        seen.append(per_object_groups(requests, outcomes, group_codes, options))
        return arrays(requests, outcomes, group_codes, options)

    monkeypatch.setattr(api, "_group_results", both)
    return seen


def evaluated(case: str) -> losscli.Report:
    options = dict(CASES[case])
    return losscli.evaluate(grouped_table(), options.pop("losses"), **options)


def per_object_csv(results: list[Result]) -> str:
    """The CSV as it was written one Result at a time through the csv module."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    groups = list(dict.fromkeys(key for r in results if r.group for key in r.group))
    with_ci = any(r.ci for r in results)
    with_note = bool(groups) and any(r.note for r in results)
    head = ["label", *(["scope"] if groups else []), *group_headers(groups), "loss", "params"]
    head += ["value", "n", "weight_sum", "direction"] + (
        ["ci_low", "ci_high", "ci_level"] * with_ci
    )
    writer.writerow(head + ["note"] * with_note)
    for r in results:
        cells = [r.label] + (["all" if r.group is None else "group"] if groups else [])
        cells += [_label((r.group or {}).get(key)) for key in groups]
        params = json.dumps(json_ready(r.params), allow_nan=False)
        cells += [r.loss, params, _cell(r.value), r.n, _cell(r.weight_sum), r.direction]
        cells += [_cell((r.ci or {}).get(key)) for key in ("low", "high", "level")] * with_ci
        writer.writerow(cells + [r.note or ""] * with_note)
    return buffer.getvalue()


def _cell(value: object) -> object:
    value = plain(value)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return repr(value) if isinstance(value, float) else value


def _label(value: object) -> object:
    value = plain(value)
    return "" if value is None else repr(value) if isinstance(value, float) else value


def per_object_frame(results: list[Result]) -> pd.DataFrame:
    """``to_frame()`` as it was built, a row dict per Result."""
    groups = list(dict.fromkeys(key for r in results if r.group for key in r.group))
    headers = group_headers(groups)
    columns = ["label", *(["scope"] if groups else []), *headers, "loss", "params", "value", "n"]
    with_ci = any(r.ci is not None for r in results)
    columns += ["weight_sum", "direction", *(["ci_low", "ci_high"] if with_ci else []), "note"]
    rows = []
    for r in results:
        row = {**r.to_dict(), "value": r.value, "note": r.note}
        row["scope"] = "all" if r.group is None else "group"
        row["ci_low"], row["ci_high"] = (r.ci or {}).get("low"), (r.ci or {}).get("high")
        rows.append(row)
    frame = pd.DataFrame(rows, columns=columns)
    for key, header in zip(groups, headers, strict=True):
        values = [plain((r.group or {}).get(key)) for r in results]
        frame[header] = pd.Series(values, dtype=object, index=frame.index)
    frame["note"] = pd.Series([r.note for r in results], dtype=object, index=frame.index)
    return frame


def per_object_json(report: losscli.Report) -> str:
    return json.dumps(json_ready(report.to_dict()), indent=2, allow_nan=False) + "\n"


def wide() -> Console:
    return Console(width=300, file=io.StringIO())


# -- groups from arrays are the groups as objects -------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_groups_from_arrays_are_the_per_object_groups(case, before):
    report = evaluated(case)
    (objects,) = before
    assert isinstance(report.results, Results) and report.groups is not None
    assert list(report.results) == [*report.overall, *objects]
    assert report.groups.columns == CASES[case]["by"].split(",")


@pytest.mark.parametrize("case", sorted(CASES))
def test_json_and_csv_of_arrays_are_the_per_object_text(case, before):
    report = evaluated(case)
    (objects,) = before
    by_hand = losscli.Report(report.version, report.inputs, [*report.overall, *objects])
    assert report.render("json") == per_object_json(by_hand) == by_hand.render("json")
    assert report.render("csv") == per_object_csv(list(by_hand.results)) == by_hand.render("csv")
    for fmt in ("markdown", "github", "table"):
        assert report.render(fmt, wide()) == by_hand.render(fmt, wide()), fmt
    expected = per_object_frame(list(by_hand.results))
    pd.testing.assert_frame_equal(report.to_frame(), expected)
    pd.testing.assert_frame_equal(by_hand.to_frame(), expected)


def test_the_checks_of_a_grouped_report_follow_its_groups_in_json(before):
    report = evaluated("two columns, weights").check(max={"mse": 0.5}, min={"mae": 0.1})
    assert report.render("json") == per_object_json(report)
    assert json.loads(report.render("json"))["passed"] is False


def test_a_group_text_with_a_newline_quote_and_comma_reads_back_from_csv():
    report = evaluated("booleans and text")
    rows = list(csv.DictReader(io.StringIO(report.render("csv"))))
    assert {row["s"] for row in rows if row["scope"] == "group"} == {
        "a",
        "b,c",
        'say "hi"',
        "x\ny",
        "ü*all*",
        "",
    }
    assert {row["b"] for row in rows[2:]} == {"True", "False"}


def test_whole_floats_of_a_group_column_are_ints_and_a_null_sorts_last():
    report = evaluated("floats, normal and bootstrap intervals")
    keys = [result.group["f"] for result in report.results[2::2]]
    assert keys == [0.5, 1, 1.5, 2, 3, None]
    assert [type(key) for key in keys[:-1]] == [float, int, float, int, int]
    document = json.loads(report.render("json"))
    assert [entry["group"]["f"] for entry in document["results"][2::2]] == keys
    methods = {entry["label"]: entry["ci"]["method"] for entry in document["results"][2:]}
    assert methods == {"mse": "normal", "rmse": "bootstrap"}


# -- the results view -----------------------------------------------------------------------------


def test_results_read_like_a_list_of_the_overall_then_the_groups(before):
    report = evaluated("two columns, weights")
    (objects,) = before
    expected = [*report.overall, *objects]
    results = report.results
    assert len(results) == len(expected) and results == expected and expected == list(results)
    assert results[0] == expected[0] and results[-1] == expected[-1]
    assert results[1:5] == expected[1:5] and results[::7] == expected[::7]
    assert report.overall == expected[:2] and list(report.groups) == objects
    assert repr(results) == f"Results(2 overall, {len(objects)} per group)"
    with pytest.raises(IndexError):
        results[len(expected)]


def test_a_report_built_by_hand_renders_its_group_results_from_arrays():
    def result(value: float, group: dict | None, label: str = "mse") -> Result:
        return Result(label, label, {}, value, 2, 2.0, "lower", group=group)

    report = losscli.Report(
        "0",
        {"files": ["x"], "rows_read": 4, "rows_used": 4},
        [result(1.5, None), result(2.5, {"g": "b"}), result(0.5, {"g": "a"})],
    )
    assert report.groups is not None and report.groups.group_count == 2
    assert report.render("json") == per_object_json(report)
    assert report.render("csv") == per_object_csv(list(report.results))
    assert [r.group for r in report.groups] == [{"g": "b"}, {"g": "a"}]  # the order given


# -- one protocol ---------------------------------------------------------------------------------


def outcomes() -> dict[str, object]:
    data = ROOT / "sample_data"
    house = [data / "house_prices.csv"]
    report = losscli.evaluate(house, "mse,mae,huber:delta=2", ci=0.95, worst=2)
    return {
        "report": report,
        "checked report": report.check(max={"mse": 1}, baseline=report),
        "grouped report": evaluated("three columns, intervals"),
        "comparison": losscli.compare(house[0], data / "house_prices_candidate.csv", "mse,mae"),
        "check run": losscli.check(config=data / "losscli.toml"),
    }


@pytest.mark.parametrize("name", ["report", "checked report", "grouped report", "comparison"])
def test_every_outcome_renders_each_of_its_formats(name):
    outcome = outcomes()[name]
    assert set(outcome.FORMATS) == {"table", "json", "csv", "markdown", "github"}
    for fmt in outcome.FORMATS:
        text = outcome.render(fmt, wide())
        assert isinstance(text, str) and text.endswith("\n") and "Traceback" not in text, fmt
    assert outcome.render("json") == per_object_json(outcome)
    with pytest.raises(ValueError, match="unknown format 'yaml'"):
        outcome.render("yaml")


def test_a_check_run_renders_each_of_its_formats_and_has_no_csv():
    run = outcomes()["check run"]
    assert run.FORMATS == ("table", "json", "markdown", "github")
    for fmt in run.FORMATS:
        assert run.render(fmt, wide()).endswith("\n")
    assert run.render("json") == per_object_json(run)
    with pytest.raises(ValueError, match="unknown format 'csv'"):
        run.render("csv")


def test_a_table_takes_the_width_of_the_console_it_is_given():
    report = outcomes()["report"]
    narrow = report.render("table", Console(width=40, file=io.StringIO()))
    assert max(map(len, narrow.splitlines())) <= 40
    assert all(line == line.rstrip(" ") for line in report.render("table", wide()).splitlines())


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown", "github"])
def test_the_cli_writes_what_render_gives(capsys, fmt):
    path = ROOT / "sample_data" / "house_prices.csv"
    outcome = run(capsys, "eval", "-l", "mse,mae", "--ci", "0.9", "-f", fmt, path)
    assert outcome.code == 0
    assert outcome.out == losscli.evaluate(str(path), "mse,mae", ci=0.9).render(fmt)


# -- one set of number rules ----------------------------------------------------------------------

TRICKY = [0.1 + 0.2, 1e16, 1e-5, 5e-324, -0.0, 123456789.0, 2.5, 1 / 3, -7e22]


def test_column_formatting_is_the_one_value_formatting():
    values = np.array([*TRICKY, math.nan, math.inf, -math.inf])
    assert exact_texts(values) == [exact(v) for v in values.tolist()]
    assert json_number_texts(values) == [json.dumps(json_ready(v)) for v in values.tolist()]
    ints = np.array([0, -3, 2**62], dtype=np.int64)
    assert exact_texts(ints) == json_number_texts(ints) == ["0", "-3", str(2**62)]
    for value in ['é\n"x"', "", 1, -2, 1.5, True, None, math.nan, math.inf, [1, 2.5]]:
        assert json_value_text(value) == json.dumps(json_ready(value)), value


def test_csv_cells_are_what_the_csv_module_writes():
    texts = [",", '"', "a\nb", "a\rb", "", " x", "é", "plain", 'a,b"c', 7, 2.5, None]
    for text in texts:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(["start", text, "end"])
        assert buffer.getvalue() == csv_line(["start", text, "end"]), repr(text)


def test_one_value_reads_alike_in_every_format_overall_and_in_a_group():
    """Exact in JSON and CSV (what reads back), 6 digits in the table, markdown and GitHub."""
    third = 1 / 3
    data = {"pred": [third, 0.0, third], "target": [0.0, 0.0, 0.0], "g": [1, 2, 1]}
    report = losscli.evaluate(data, "mae", pred="pred", target="target", by="g")
    exact_text, rounded = repr(2 / 9), f"{2 / 9:.6g}"
    group_exact, group_rounded = repr(third), f"{third:.6g}"
    assert exact_text in report.render("csv") and group_exact in report.render("csv")
    assert f'"value": {exact_text}' in report.render("json")
    assert f'"value": {group_exact}' in report.render("json")
    for fmt in ("table", "markdown", "github"):
        text = report.render(fmt, wide())
        assert rounded in text and group_rounded in text and exact_text not in text, fmt
    assert short(2 / 9) == shown(2 / 9) == rounded


def test_missing_numbers_read_alike_in_every_format():
    assert [short(v) for v in (math.inf, math.nan, None)] == ["inf", "nan", "none"]
    assert [shown(v) for v in (math.inf, math.nan, None)] == ["n/a"] * 3
    assert [exact(v) for v in (math.inf, math.nan, None, np.float64(2.5))] == ["", "", "", "2.5"]


# -- the table's first groups ---------------------------------------------------------------------


def many_groups(count: int) -> dict[str, np.ndarray]:
    keys = np.arange(count).repeat(2)
    return {"pred": keys * 0.5, "target": np.zeros(len(keys)), "user": keys[::-1].copy()}


def table_groups(text: str) -> list[str]:
    """The --by cells of a table's group rows, in order."""
    rows = [line.split("│") for line in text.splitlines() if line.startswith("│")]
    return [cells[2].strip() for cells in rows if cells[2].strip() != "all"]


def test_the_table_shows_the_first_100_groups_and_json_csv_all():
    report = losscli.evaluate(many_groups(150), "mse,mae", pred="pred", target="target", by="user")
    assert report.groups.group_count == TABLE_GROUPS + 50
    shown_groups = table_groups(report.render("table", wide()))
    assert shown_groups == [str(user) for user in range(TABLE_GROUPS) for _ in range(2)]
    assert len(json.loads(report.render("json"))["results"]) == 2 + 300
    assert len(report.render("csv").splitlines()) == 1 + 2 + 300
    assert len(report.results) == 302  # the Python API keeps them all


def test_the_cli_says_how_many_groups_the_table_left_out(capsys, tmp_path):
    path = tmp_path / "many.parquet"
    pq.write_table(pa.table(many_groups(130)), path)
    outcome = run(capsys, "eval", "-l", "mse", "--by", "user", "-f", "table", path)
    assert outcome.code == 0 and len(table_groups(outcome.out)) == TABLE_GROUPS
    assert (
        "note: the table shows the first 100 of 130 groups; 30 are left out "
        "(--format csv or json writes them all).\n"
    ) in outcome.err
    quiet = run(capsys, "eval", "-l", "mse", "--by", "user", "-f", "table", "-q", path)
    assert quiet.out == outcome.out and quiet.err == ""
    whole = run(capsys, "eval", "-l", "mse", "--by", "user", "-f", "csv", path)
    assert len(whole.out.splitlines()) == 1 + 1 + 130 and "left out" not in whole.err


def test_a_table_of_100_groups_shows_them_all_without_a_note(capsys, tmp_path):
    path = tmp_path / "hundred.parquet"
    pq.write_table(pa.table(many_groups(TABLE_GROUPS)), path)
    outcome = run(capsys, "eval", "-l", "mse", "--by", "user", "-f", "table", path)
    assert len(table_groups(outcome.out)) == TABLE_GROUPS and "left out" not in outcome.err


@pytest.mark.parametrize(
    "values",
    [
        np.repeat([1.0, 2.5, np.nan, np.inf, -np.inf, 1e16, 1e-7], 1000),
        np.repeat([0.0, -0.0, 3.0], 2000),
        np.repeat(np.arange(5), 1000),
    ],
)
def test_numbers_written_once_per_distinct_value_read_as_written_one_by_one(values):
    assert exact_texts(values) == [exact(v) for v in values.tolist()]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=50))
def test_column_texts_of_any_floats_are_python_s(values):
    array = np.array(values, dtype=np.float64)
    assert exact_texts(array) == [exact(v) for v in values]


def test_column_texts_over_every_magnitude_are_python_s(monkeypatch):
    rng = np.random.default_rng(5)
    values = rng.uniform(1, 10, 6000) * 10.0 ** rng.integers(-320, 308, 6000)
    with np.errstate(over="ignore"):
        rounded = np.round(values, 3)
    values = np.concatenate([values, -values, rounded, [0.1 + 0.2, 1e10, 9999999999.5]])
    expected = [exact(v) for v in values.tolist()]
    assert exact_texts(values) == expected
    # An Arrow that wrote numbers otherwise: Python writes them all.
    from losscli.report import textcolumns

    monkeypatch.setattr(textcolumns, "_arrow_writes_as_python", lambda: False)
    assert exact_texts(values) == expected


TEXTS = st.lists(
    st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_text_keys_written_and_ranked_in_arrow_are_python_s(values):
    from losscli.report.grouptext import CSV_PLAIN, JSON_PLAIN, _csv_value
    from losscli.report.textcolumns import plain_texts, text_ranks

    texts = pa.array(values, pa.string())
    as_json = plain_texts(texts, JSON_PLAIN[0], json_value_text, JSON_PLAIN[1]).to_pylist()
    assert as_json == [json.dumps(value) for value in values]
    assert plain_texts(texts, CSV_PLAIN[0], _csv_value).to_pylist() == [
        _csv_value(value) for value in values
    ]
    known = sorted({value for value in values if value is not None})
    expected = [len(known) if value is None else known.index(value) for value in values]
    assert text_ranks(texts).tolist() == expected
