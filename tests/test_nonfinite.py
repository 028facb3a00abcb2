"""Infinite and NaN values: never a silent wrong number, and a note that says what happened.

Expected values are IEEE arithmetic on the rows, as PyTorch gives them in float64:
``F.mse_loss(torch.tensor([1e308], dtype=torch.float64), torch.tensor([0.], dtype=torch.float64))``
is inf (1e308 squared overflows), a mean over [inf, 1] is inf, over [inf, -inf] is nan.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import losscli
from losscli.engine.table import CompensatedSum
from tests.conftest import evaluate_arrays, evaluate_report, run, write_report

INF = math.inf
MISSING_NOTE = "a missing value in the data"


def signed(fake, real=None):
    """gan_d:mode=wasserstein's per-row loss is fake - real: a signed loss, -inf possible."""
    fake = np.asarray(fake, dtype=float)
    return {"fake": fake, "real": np.zeros(len(fake)) if real is None else real}


# -- the compensated sum ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([INF, 1.0], INF),
        ([1.0, INF, 2.0], INF),
        ([-INF, 1.0], -INF),
        ([INF, -INF], math.nan),
        ([INF, 1.0, -INF], math.nan),
        ([1e308, 1e308], INF),  # a finite running sum that overflows
        ([1e308, 1e308, -1.0], INF),
        ([1.0, 1e100, 1.0, -1e100], 2.0),  # the compensation still works
    ],
)
def test_compensated_sums_carry_infinities(parts, expected):
    scalar, array, merged = CompensatedSum(), CompensatedSum((2,)), CompensatedSum()
    for part in parts:
        scalar.add(part)
        array.add(np.array([part, 1.0]))
        other = CompensatedSum()
        other.add(part)
        merged.merge(other)
    for value in (scalar.value, array.value[0], merged.value):
        assert (math.isnan(value) and math.isnan(expected)) or value == expected
    assert array.value[1] == len(parts)


# -- results: the value and its note ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "data", "expected"),
    [
        ("mse", {"pred": [1e308], "target": [0.0]}, INF),  # torch: inf
        ("mse", {"pred": [1e308, 1.0], "target": [0.0, 0.0]}, INF),
        ("mse", {"pred": [INF, 1.0], "target": [0.0, 0.0]}, INF),
        ("rmse", {"pred": [INF, 1.0], "target": [0.0, 0.0]}, INF),
        ("mae", {"pred": [INF, -INF, 2.0], "target": [0.0, 0.0, 0.0]}, INF),
        ("max_error", {"pred": [INF, 1.0], "target": [0.0, 0.0]}, INF),
        ("huber", {"pred": [INF, 1.0], "target": [0.0, 0.0]}, INF),
        # 1 - inf / SS_tot
        ("r2", {"pred": [INF, 1.0, 2.0], "target": [0.0, 1.0, 2.0]}, -INF),
        # a vector row whose sum overflows
        ("mse", {"pred": [[1e200, 1e200], [1.0, 1.0]], "target": [[0.0, 0.0], [0.0, 0.0]]}, INF),
        ("gan_d:mode=wasserstein", signed([INF, 1.0]), INF),
        ("gan_d:mode=wasserstein", signed([-INF, 1.0]), -INF),
        ("gan_d:mode=wasserstein", signed([INF, -INF]), math.nan),  # torch: nan
    ],
)
def test_an_infinite_row_gives_the_ieee_value(spec, data, expected):
    result = evaluate_report(data, spec).results[0]
    assert (math.isnan(expected) and math.isnan(result.value)) or result.value == expected
    assert result.note is not None and MISSING_NOTE not in result.note
    assert ("infinite" in result.note) == math.isinf(expected)


def test_notes_say_what_made_a_value_nan():
    both = evaluate_report(signed([INF, -INF, 1.0]), "gan_d:mode=wasserstein").results[0]
    assert "+inf and others -inf" in both.note
    undefined = evaluate_report({"pred": [INF, 1.0], "target": [INF, 0.0]}, "mse").results[0]
    assert math.isnan(undefined.value) and "undefined at some row" in undefined.note
    missing = evaluate_report(
        {"pred": [math.nan, 1.0], "target": [0.0, 0.0]}, "mse", nan="propagate"
    )
    assert MISSING_NOTE in missing.results[0].note
    weight = {"pred": [1.0, 2.0], "target": [0.0, 0.0], "weight": [math.nan, 1.0]}
    assert MISSING_NOTE in evaluate_report(weight, "mse", nan="propagate").results[0].note


def test_a_row_of_weight_zero_does_not_count_even_if_infinite():
    data = {"pred": [INF, 1.0, 3.0], "target": [0.0, 0.0, 0.0], "weight": [0.0, 1.0, 1.0]}
    assert evaluate_arrays("mse", data, weight=data.pop("weight")) == 5.0
    data = {"pred": [INF, 1.0, 3.0], "target": [0.0, 0.0, 0.0], "weight": [0.0, 1.0, 1.0]}
    report = evaluate_report(data, "mse", ci=0.95)
    assert report.results[0].value == 5.0
    assert report.results[0].ci["low"] is not None  # its spread is finite too
    # Nor a NaN loss (inf - inf here), as in max_error
    data = {"pred": [INF, 1.0, 3.0], "target": [INF, 0.0, 0.0], "weight": [0.0, 1.0, 1.0]}
    assert evaluate_report(data, "mse,max_error", ci=0.95).results[0].value == 5.0
    assert evaluate_report(data, "mse,max_error", ci=0.95).results[1].value == 3.0


def test_weights_summing_beyond_float64_say_so():
    data = {"pred": [1.0, 1.0], "target": [0.0, 0.0], "weight": [1e308, 1e308]}
    result = evaluate_report(data, "mse").results[0]
    assert math.isnan(result.value) and "weights sum beyond" in result.note


@pytest.mark.parametrize("ci", [{"ci": 0.9}, {"ci": 0.9, "bootstrap": 50}])
@pytest.mark.parametrize("spec", ["mse", "rmse"])
def test_an_interval_of_an_infinite_value_is_null_with_a_note(spec, ci):
    data = {"pred": [INF, 1.0, 2.0, 3.0], "target": np.zeros(4)}
    interval = evaluate_report(data, spec, **ci).results[0].ci
    assert interval["low"] is None and interval["high"] is None
    assert interval["note"] == "no interval: the value is infinite"


def test_groups_get_their_own_value_and_note():
    data = {
        "pred": [INF, 1.0, 2.0, 4.0, math.nan, 1.0, INF, -INF],
        "target": np.zeros(8),
        "g": [0, 0, 1, 1, 2, 2, 3, 3],
    }
    for spec in ("gan_d:mode=wasserstein", "rmse"):
        frame = {"fake": data["pred"], "real": data["target"], "g": data["g"]}
        report = evaluate_report(
            frame if spec.startswith("gan") else data, spec, by="g", nan="propagate", ci=0.9
        )
        by = {r.group["g"]: r for r in report.results if r.group is not None}
        assert by[0].value == INF and "infinite" in by[0].note
        assert math.isfinite(by[1].value) and by[1].note is None
        assert MISSING_NOTE in by[2].note
        if spec.startswith("gan"):
            assert math.isnan(by[3].value) and "+inf and others -inf" in by[3].note
        else:
            assert by[3].value == INF
        assert by[0].ci["low"] is None and "infinite" in by[0].ci["note"]


def test_the_json_report_writes_null_with_the_note(capsys, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("pred,target\n1e308,0\n1,0\ninf,inf\n")
    outcome = run(capsys, "eval", "-l", "mae", "-l", "mse", path, "-f", "json")
    assert outcome.code == 0
    mae, mse = json.loads(outcome.out)["results"]
    assert mae["value"] is None and mae["note"].startswith("the value is NaN: the loss is undef")
    path.write_text("pred,target\n1e308,0\n1,0\n")
    outcome = run(capsys, "eval", "-l", "mse", path, "--ci", "0.9", "-f", "json")
    (mse,) = json.loads(outcome.out)["results"]
    assert mse["value"] is None and mse["note"].startswith("the value is infinite")
    assert mse["ci"]["low"] is None and "infinite" in mse["ci"]["note"]


# -- chunk size and row order ----------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(
    signs=st.lists(st.sampled_from([0, 0, 0, 1, -1]), min_size=1, max_size=40),
    seed=st.integers(0, 2**16),
)
def test_infinities_anywhere_give_the_same_result_in_any_chunking(signs, seed):
    rng = np.random.default_rng(seed)
    fake = np.select(
        [np.array(signs) > 0, np.array(signs) < 0], [INF, -INF], rng.normal(size=len(signs))
    )
    plus, minus = INF in fake, -INF in fake
    expected = math.nan if plus and minus else INF if plus else -INF if minus else None
    groups = rng.integers(0, 3, size=len(fake)).astype(float)
    seen = []
    for chunk_rows in (1, 3, 7, 1000):
        for order in (np.arange(len(fake)), rng.permutation(len(fake))):
            data = {"fake": fake[order], "real": np.zeros(len(fake)), "g": groups[order]}
            report = evaluate_report(data, "gan_d:mode=wasserstein", chunk_rows=chunk_rows, by="g")
            seen.append([(r.value, r.note) for r in report.results])
    overall = seen[0][0][0]
    if expected is not None:
        assert (math.isnan(expected) and math.isnan(overall)) or overall == expected
    # Same values (NaN compared as NaN) and notes, whatever the chunking or order; the finite
    # values to within rounding.
    for other in seen[1:]:
        for (a, note_a), (b, note_b) in zip(seen[0], other, strict=True):
            assert note_a == note_b
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12)


# -- compare ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["mse", "rmse"])  # a normal interval, and a bootstrap one
def test_compare_with_infinite_values(spec):
    target = np.zeros(6)
    finite = np.arange(1.0, 7.0)
    infinite = np.array([INF, 1.0, 2.0, 3.0, 4.0, 5.0])

    def compared(base, cand):
        data = [{"pred": pred, "target": target} for pred in (base, cand)]
        comparison = losscli.compare(*data, spec, pred="pred", target="target", bootstrap=50)
        return comparison.to_dict()["comparisons"][0], comparison

    worse, comparison = compared(finite, infinite)
    assert worse["verdict"] == "worse" and comparison.worse == [spec]
    assert worse["difference"] is None and "candidate: the value is infinite" in worse["note"]
    better, _ = compared(infinite, finite)
    assert better["verdict"] == "better"
    both, comparison = compared(infinite, infinite)
    assert both["verdict"] == "undefined" and comparison.to_dict()["passed"] is False
    assert "both values are infinite" in both["note"]


# -- report formats with --by ---------------------------------------------------------------------
def grouped_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "groups.parquet"
    table = {
        "pred": [1.0, 2.0, 3.0, 4.0, 5.0],
        "target": [0.0] * 5,
        "i": pa.array([1, None, 2, 1, 2], pa.int64()),
        "f": [0.5, 1.5, None, 0.5, 9.4],
        "s": ["a", "b", "c", None, "a"],
    }
    pq.write_table(pa.table(table), path)
    return path


def numpy_report() -> losscli.Report:
    """A report whose group values are NumPy scalars, as a reader may hand them over."""
    from losscli.report import Result

    def result(value, group):
        return Result("mse", "mse", {"reduction": "mean"}, value, 2, 2.0, "lower", group=group)

    return losscli.Report(
        "0",
        {"files": ["x"], "rows_read": 4, "rows_used": 4},
        [
            result(np.float64(1.5), None),
            result(np.float64(2.5), {"g": np.float64(9.4), "k": np.int64(3)}),
            result(np.float64(0.5), {"g": np.float64("nan"), "k": np.int64(4)}),
        ],
    )


@pytest.mark.parametrize("fmt", ["csv", "markdown", "github", "table", "json"])
def test_no_numpy_repr_nan_or_none_in_any_format(fmt, capsys, tmp_path):
    from rich.console import Console

    text = numpy_report().render(fmt, Console(width=200, file=io.StringIO()))
    for leak in ("np.", "nan", "None", "int64", "float64"):
        assert leak not in text, (fmt, leak)
    assert "9.4" in text and "3" in text
    outcome = run(
        capsys, "eval", "-l", "mse", grouped_parquet(tmp_path), "--by", "i,f,s", "-f", fmt
    )
    assert outcome.code == 0 and "np." not in outcome.out and "None" not in outcome.out


def test_csv_and_frames_tell_the_overall_row_from_a_null_group(capsys, tmp_path):
    import csv

    outcome = run(
        capsys, "eval", "-l", "mse", grouped_parquet(tmp_path), "--by", "i,f,s", "-f", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(outcome.out)))
    assert [row["scope"] for row in rows] == ["all"] + ["group"] * 5
    assert (rows[0]["i"], rows[0]["f"], rows[0]["s"]) == ("", "", "")
    groups = {(row["i"], row["f"], row["s"]): float(row["value"]) for row in rows[1:]}
    # ints as ints, floats as repr, a null as an empty cell in a group row
    assert groups == {
        ("1", "0.5", "a"): 1.0,
        ("1", "0.5", ""): 16.0,
        ("2", "9.4", "a"): 25.0,
        ("2", "", "c"): 9.0,
        ("", "1.5", "b"): 4.0,
    }
    frame = losscli.evaluate(str(grouped_parquet(tmp_path)), "mse", by="i,f,s").to_frame()
    assert list(frame["scope"]) == ["all"] + ["group"] * 5
    assert list(frame["i"]) == [None, 1, 1, 2, 2, None]
    assert type(frame["i"][1]) is int and frame["s"][2] is None
    markdown = run(
        capsys, "eval", "-l", "mse", grouped_parquet(tmp_path), "--by", "s", "-f", "markdown"
    )
    assert "| `mse` | *all* |" in markdown.out and "| `mse` | *null* |" in markdown.out
    github = run(
        capsys, "eval", "-l", "mse", grouped_parquet(tmp_path), "--by", "s", "-f", "github"
    )
    lines = github.out.splitlines()
    assert lines[0].startswith("mse = ") and "mse [s=(null)] = 16 " in github.out


def test_a_nan_group_value_is_null_and_an_infinite_number_is_no_text(capsys):
    data = {
        "pred": np.array([INF, 1.0, 2.0]),
        "target": np.zeros(3),
        "g": np.array([1.0, np.nan, 2.5]),
    }
    report = losscli.evaluate(data, "mse", pred="pred", target="target", by="g")
    document = report.to_dict()
    assert [r.get("group") for r in document["results"]] == [
        None,
        {"g": 1},
        {"g": 2.5},
        {"g": None},
    ]
    from losscli.report import render

    text = render.to_csv(report)
    assert "inf" not in text.replace("infinite", "") and "nan" not in text
    assert "the value is infinite" in text  # the note column, with --by
    markdown = render.to_markdown(report)
    assert "| `mse` | *all* | n/a |" in markdown and "(g=1): the value is infinite" in markdown


def test_json_writes_an_overflowed_weight_sum_as_null():
    from losscli.report import render

    data = {"pred": [1.0, 1.0], "target": [0.0, 0.0], "weight": [1e308, 1e308]}
    document = json.loads(render.to_json(evaluate_report(data, "mse")))
    assert document["results"][0]["weight_sum"] is None
    assert "weights sum beyond" in document["results"][0]["note"]


def test_worst_rows_say_when_a_loss_is_not_finite():
    data = {"pred": [1.0, INF, 2.0], "target": [0.0, 0.0, 0.0]}
    (worst,) = evaluate_report(data, "mae", worst=1).results[:1]
    assert worst.worst[0]["row"] == 2 and worst.worst[0]["note"] == "the loss is inf"


# -- compare and checks on NaN and infinite values -------------------------------------------------
def test_compare_writes_a_parameter_read_from_a_file_as_json(capsys, tmp_path):
    (tmp_path / "centers.csv").write_text("a,b\n0,0\n1,1\n")
    (tmp_path / "emb.csv").write_text("p1,p2,t\n0.1,0.2,0\n0.9,1.1,1\n")
    spec = f"center:centers={tmp_path / 'centers.csv'}"
    args = ["compare", tmp_path / "emb.csv", tmp_path / "emb.csv", "-l", spec, "-p", "p1,p2"]
    for fmt in ("json", "csv"):
        outcome = run(capsys, *args, "-t", "t", "-f", fmt)
        assert outcome.code == 0, outcome.err
        if fmt == "json":
            entry = json.loads(outcome.out)["comparisons"][0]
            assert entry["params"] == {"centers": [[0.0, 0.0], [1.0, 1.0]]}
        else:
            assert "[[0.0, 0.0], [1.0, 1.0]]" in outcome.out


@pytest.mark.parametrize(
    ("rows", "gate"),
    [
        ("pred,target\nnan,0\n1,0\n", ["--max", "mse=100"]),  # NaN: never a pass
        ("pred,target\nnan,0\n1,0\n", ["--min", "mse=0"]),
        ("pred,target\ninf,0\n1,0\n", ["--max", "mse=100"]),
        ("pred,target\ninf,inf\n1,0\n", ["--max", "mse=100"]),  # NaN from inf - inf
        ("pred,target\ninf,inf\n1,0\n", ["--min", "r2=-100"]),
    ],
)
def test_a_gate_never_passes_on_a_value_that_is_not_a_number(rows, gate, capsys, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(rows)
    loss = gate[1].split("=")[0]
    outcome = run(capsys, "eval", "-l", loss, path, "--nan", "propagate", *gate, "-f", "json")
    document = json.loads(outcome.out)
    assert outcome.code == 1 and document["passed"] is False
    assert document["checks"][0]["status"] == "failed"
    path.write_text("pred,target\n1,0\n2,0\n")
    baseline = write_report(capsys, tmp_path / "baseline.json", "-l", loss, path)
    path.write_text(rows)
    outcome = run(capsys, "eval", "-l", loss, path, "--nan", "propagate", "--baseline", baseline)
    assert outcome.code == 1


def test_a_missing_weight_reaches_a_maximum_as_it_does_a_mean():
    data = {"pred": [1.0, 5.0, 2.0], "target": [0.0, 0.0, 0.0], "weight": [1.0, math.nan, 1.0]}
    for spec in ("max_error", "mse"):
        result = evaluate_report(data, spec, nan="propagate").results[0]
        assert math.isnan(result.value) and MISSING_NOTE in result.note, spec


def test_r2_leaves_out_an_infinite_row_of_weight_zero():
    pred, target = [INF, 1.0, 2.0, 4.0], [INF, 1.0, 2.0, 3.0]
    weighted = evaluate_arrays("r2", {"pred": pred, "target": target}, weight=[0.0, 1, 1, 1])
    assert weighted == evaluate_arrays("r2", {"pred": pred[1:], "target": target[1:]}) == 0.5


def test_comparison_renderers_write_numpy_numbers_as_plain_ones():
    from losscli.report import comparison as rendered

    f = np.float64
    ci = {"level": 0.95, "low": f(0.5), "high": f(1.5), "method": "normal", "se": f(0.2)}
    entry = {
        "label": "mse",
        "loss": "mse",
        "params": {"reduction": "mean", "centers": np.array([1.0, 2.0])},
        "direction": "lower",
        "baseline": f(1.5),
        "candidate": f(2.5),
        "difference": f(1.0),
        "relative": f(0.5),
        "n": np.int64(3),
        "ci": ci,
        "p_value": f(0.01),
    }
    inputs = {"baseline": ["a"], "candidate": ["b"], "rows_used": np.int64(3)}
    comparison = rendered.Comparison("0", inputs, [entry], 0.95)
    for write in (rendered.to_csv, rendered.to_markdown, rendered.to_github, rendered.to_json):
        text = write(comparison)
        assert "np." not in text and "64" not in text, write.__name__
    row = rendered.to_csv(comparison).splitlines()[1]
    assert ",1.5,2.5,1.0,0.5,0.5,1.5,0.95,normal,0.01,worse" in row


@pytest.mark.parametrize("spec", ["dice", "iou:aggregate=global"])
def test_overlap_losses_by_group_equal_each_group_alone(spec):
    # Their per-row values are a tuple of sums (TP, SP, ST): --by used to index it as an array.
    data = {"pred": [0.2, 0.9, 0.5, 0.1], "target": [0.0, 1.0, 1.0, 0.0], "g": [1.0, 1.0, 2.0, 2.0]}
    report = evaluate_report(data, spec, by="g", ci=0.9, bootstrap=20)
    for result in report.results[1:]:
        alone = [i for i, g in enumerate(data["g"]) if g == result.group["g"]]
        part = {role: [data[role][i] for i in alone] for role in ("pred", "target")}
        assert result.value == evaluate_report(part, spec).results[0].value
        assert result.ci["method"] == "bootstrap"


def test_a_nan_baseline_value_fails_with_its_reason():
    report = evaluate_report({"pred": [1.0, 2.0], "target": [0.0, 0.0]}, "mse")
    document = report.to_dict()
    document["results"][0]["value"] = math.nan  # a document built in Python, not read as JSON
    (check,) = report.check(baseline=document).checks
    assert check.failed and check.reason.startswith("the baseline has no value")
    assert "nan" not in json.dumps(check.to_dict()).lower().replace("nan or", "")
