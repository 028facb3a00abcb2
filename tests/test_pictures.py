"""``losscli plot``: the numbers behind each picture against NumPy and scikit-learn, the files
it writes, and the requests it refuses."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

import losscli
from losscli.engine.pictures import DoublingGrid, Reliability, RowValues
from losscli.pictures import plot
from tests.conftest import HOUSES, assert_user_error, run, run_script, write

CANDIDATE = HOUSES.parent / "house_prices_candidate.csv"
CHURN = HOUSES.parent / "churn.csv"
CLASSES = HOUSES.parent / "image_classes.csv"


def _chunks(values: np.ndarray, pieces: int) -> list[np.ndarray]:
    return np.array_split(values, pieces)


# -- the bounded accumulators -------------------------------------------------------------------


@pytest.mark.parametrize("pieces", [1, 7, 100])
def test_linear_bins_count_every_row_as_numpy_histogram_does_on_their_edges(pieces):
    values = np.random.default_rng(1).normal(3.0, 2.0, 20_000) ** 2
    state = RowValues()
    for part in _chunks(values, pieces):
        state.add(part, None)
    summary = state.summary()
    edges = np.array(summary["edges"])
    assert summary["scale"] == "linear"
    assert sum(summary["counts"]) == len(values)
    # np.histogram closes its last bin; no value sits on an edge of powers of two here.
    assert summary["counts"] == np.histogram(values, edges)[0].tolist()
    assert np.allclose(summary["ecdf"], [(values < edge).mean() for edge in edges[1:]])
    assert math.isclose(summary["mean"], values.mean(), rel_tol=1e-12)


def test_the_first_chunk_does_not_decide_the_bins():
    values = np.concatenate([np.full(100, 0.001), np.linspace(0, 1e6, 1000)])
    whole, split = RowValues(), RowValues()
    whole.add(values, None)
    for part in _chunks(values, 11):
        split.add(part, None)
    # Bins widen by doubling, so the counts match those of one pass at the final width.
    edges = np.array(split.summary()["edges"])
    assert split.summary()["counts"] == np.histogram(values, edges)[0].tolist()


def test_a_long_tail_is_drawn_on_log_bins_and_quantiles_fall_within_their_bin():
    values = np.random.default_rng(2).lognormal(0.0, 2.5, 50_000)
    values[:37] = 0.0
    state = RowValues()
    for part in _chunks(values, 9):
        state.add(part, None)
    summary = state.summary()
    edges = np.array(summary["edges"])
    assert summary["scale"] == "log"
    assert summary["zeros"] == 37
    assert sum(summary["counts"]) + summary["zeros"] == len(values)
    assert summary["counts"] == np.histogram(values[values > 0], edges)[0].tolist()
    ratio = edges[1] / edges[0]  # one log bin: 10^(1/20)
    for q, value in summary["quantiles"].items():
        exact = np.quantile(values, float(q))
        assert exact / ratio <= value <= exact * ratio, (q, value, exact)


def test_weights_give_the_weighted_mean_of_the_rows_and_nan_is_counted_apart():
    rng = np.random.default_rng(3)
    values, weight = rng.exponential(size=1000), rng.uniform(0.1, 2.0, 1000)
    values[::100] = np.nan
    state = RowValues()
    state.add(values, weight)
    finite = np.isfinite(values)
    summary = state.summary()
    assert summary["not_finite"] == 10 and summary["rows"] == 990
    expected = np.average(values[finite], weights=weight[finite])
    assert math.isclose(summary["mean"], expected, rel_tol=1e-12)


def test_a_two_dimensional_grid_counts_as_numpy_histogram2d_on_its_edges():
    rng = np.random.default_rng(4)
    points = np.column_stack([rng.normal(0, 1, 5000), rng.normal(0, 50, 5000)])
    grid = DoublingGrid(2, 64)
    for part in np.array_split(points, 13):
        grid.add(part[:, 0], part[:, 1])
    expected, _, _ = np.histogram2d(points[:, 0], points[:, 1], [grid.edges(0), grid.edges(1)])
    assert grid.counts.sum() == len(points)
    assert np.array_equal(grid.counts, expected)
    assert max(grid.counts.shape) <= 64


def _probabilities(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # On a grid of 1/1000: distinct probabilities never share one of the 2^16 quantile cells.
    prob = np.round(rng.beta(2.0, 5.0, rows), 3)
    outcome = (rng.uniform(size=rows) < prob**0.8).astype(np.float64)
    return prob, outcome


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("bins", [5, 10, 17])
def test_reliability_points_equal_scikit_learn_calibration_curve(strategy, bins):
    prob, outcome = _probabilities(7000, bins)
    state = Reliability(bins, strategy)
    for p, y in zip(_chunks(prob, 5), _chunks(outcome, 5), strict=True):
        state.add(p, y, None)
    summary = state.summary()
    prob_true, prob_pred = calibration_curve(outcome, prob, n_bins=bins, strategy=strategy)
    assert np.allclose(summary["prob_true"], prob_true, rtol=1e-12, atol=0)
    assert np.allclose(summary["prob_pred"], prob_pred, rtol=1e-12, atol=0)
    assert sum(summary["counts"]) == len(prob)
    counts = np.array(summary["counts"])
    ece = np.sum(counts / len(prob) * np.abs(prob_true - prob_pred))
    assert math.isclose(summary["ece"], ece, rel_tol=1e-12)


# -- plot() on files ----------------------------------------------------------------------------


def test_distribution_of_the_sample_file_counts_every_row_with_the_loss_as_mean():
    picture = plot(str(HOUSES), "mse,huber:delta=10")
    report = losscli.evaluate(str(HOUSES), "mse,huber:delta=10", per_row=True)
    for panel in picture.to_dict()["panels"]:
        rows = report.per_row[panel["label"]].to_numpy()
        assert sum(panel["counts"]) + panel["zeros"] == len(rows) == 200
        assert math.isclose(panel["mean"], report[panel["label"]], rel_tol=1e-12)
        edges = np.array(panel["edges"])
        assert np.allclose(panel["ecdf"], [(rows < e).mean() for e in edges[1:]])


def test_calibration_of_logits_is_that_of_their_sigmoid(tmp_path):
    prob, outcome = _probabilities(3000, 5)
    with np.errstate(divide="ignore"):
        logit = np.log(prob) - np.log1p(-prob)
    path = write(tmp_path / "scores.csv", "logit,label\n")
    with path.open("a") as stream:
        np.savetxt(stream, np.column_stack([logit, outcome]), delimiter=",", fmt="%.17g")
    picture = plot(str(path), "bce:input=logits", "calibration", pred="logit", target="label")
    (panel,) = picture.to_dict()["panels"]
    prob_true, prob_pred = calibration_curve(outcome, 1 / (1 + np.exp(-logit)), n_bins=10)
    assert np.allclose(panel["prob_true"], prob_true, rtol=1e-12)
    assert np.allclose(panel["prob_pred"], prob_pred, rtol=1e-12)


def test_multiclass_calibration_is_of_the_top_label():
    picture = plot(str(CLASSES), "ce", "calibration", pred="logit_*", target="label", bins=8)
    (panel,) = picture.to_dict()["panels"]
    import pandas as pd

    frame = pd.read_csv(CLASSES)
    logits = frame[[f"logit_{k}" for k in range(10)]].to_numpy()
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    correct = (probs.argmax(axis=1) == frame["label"].to_numpy()).astype(float)
    prob_true, prob_pred = calibration_curve(correct, probs.max(axis=1), n_bins=8)
    assert np.allclose(panel["prob_true"], prob_true, rtol=1e-12)
    assert np.allclose(panel["prob_pred"], prob_pred, rtol=1e-12)


def test_groups_are_sorted_worst_first_with_their_intervals(tmp_path):
    rng = np.random.default_rng(6)
    region = np.repeat(["north", "south", "east", "west"], 50)
    pred, target = rng.normal(size=200), rng.normal(size=200)
    pred[region == "east"] += 3.0
    path = tmp_path / "groups.csv"
    lines = [
        "pred,target,region",
        *(
            f"{p!r},{t!r},{r}"
            for p, t, r in zip(pred.tolist(), target.tolist(), region, strict=True)
        ),
    ]
    write(path, "\n".join(lines) + "\n")
    picture = plot(str(path), "mae", "groups", by="region", ci=0.9)
    (panel,) = picture.to_dict()["panels"]
    names = [entry["group"]["region"] for entry in panel["groups"]]
    expected = {r: np.abs(pred - target)[region == r].mean() for r in set(region)}
    assert names == sorted(expected, key=expected.get, reverse=True)
    assert names[0] == "east"
    for entry in panel["groups"]:
        assert math.isclose(entry["value"], expected[entry["group"]["region"]], rel_tol=1e-12)
        assert entry["low"] < entry["value"] < entry["high"]


def test_residual_grids_count_every_row():
    picture = plot(str(HOUSES), "mse", "residuals")
    (panel,) = picture.to_dict()["panels"]
    import pandas as pd

    frame = pd.read_csv(HOUSES)
    pred, target = frame["prediction"].to_numpy(), frame["target"].to_numpy()
    grid = panel["residual_vs_prediction"]
    expected, _, _ = np.histogram2d(pred, target - pred, [grid["x_edges"], grid["y_edges"]])
    assert np.array_equal(np.array(grid["counts"]), expected)
    assert panel["points"]["prediction"] == pred.tolist()


def test_residuals_of_masks_read_as_stored_are_those_of_float64(tmp_path):
    """dice reads uint8 masks as stored; the residuals are still target - pred in float64 (in
    uint8, 0 - 1 would be 255)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pred, target = np.array([0, 1, 1, 0, 1]), np.array([1, 1, 0, 0, 0])
    pictures = []
    for kind in (np.uint8, np.float64):
        path = tmp_path / f"masks_{np.dtype(kind).name}.parquet"
        pq.write_table(pa.table({"pred": pred.astype(kind), "target": target.astype(kind)}), path)
        (panel,) = plot(str(path), "dice", "residuals", pred="pred", target="target").to_dict()[
            "panels"
        ]
        pictures.append(panel)
    assert pictures[0] == pictures[1]
    grid = pictures[0]["residual_vs_prediction"]
    assert min(grid["y_edges"]) <= -1 and max(grid["y_edges"]) < 2


def test_compare_draws_the_per_row_differences_candidate_minus_baseline():
    picture = plot(str(HOUSES), "mae", "compare", candidate=str(CANDIDATE))
    (panel,) = picture.to_dict()["panels"]
    import pandas as pd

    base, other = pd.read_csv(HOUSES), pd.read_csv(CANDIDATE)
    differences = np.abs(other["prediction"] - other["target"]) - np.abs(
        base["prediction"] - base["target"]
    )
    edges = np.array(panel["edges"])
    assert panel["counts"] == np.histogram(differences, edges)[0].tolist()
    assert math.isclose(panel["mean"], differences.mean(), rel_tol=1e-9)
    assert math.isclose(panel["difference"], differences.mean(), rel_tol=1e-9)


def test_curves_are_the_losses_at_each_error():
    picture = plot(None, "mse,huber:delta=1,log_cosh", "curve")
    mse, huber, log_cosh = picture.to_dict()["panels"]
    error = np.array(mse["points"]["error"])
    assert np.allclose(mse["points"]["loss"], error**2)
    small = np.minimum(np.abs(error), 1.0)
    assert np.allclose(huber["points"]["loss"], 0.5 * small**2 + (np.abs(error) - small))
    assert np.allclose(log_cosh["points"]["loss"], np.log(np.cosh(error)))


def test_a_score_curve_of_bce_on_logits_is_the_softplus_of_minus_the_logit():
    (panel,) = plot(None, "bce:input=logits", "curve").to_dict()["panels"]
    logit = np.array(panel["points"]["logit"])
    assert np.allclose(panel["points"]["loss"], np.log1p(np.exp(-logit)))


# -- the command and its files ------------------------------------------------------------------


def test_json_output_holds_the_numbers_drawn(capsys, tmp_path):
    out = tmp_path / "numbers.json"
    outcome = run(capsys, "plot", "--loss", "mae", str(HOUSES), "-o", out)
    assert outcome.code == 0, outcome
    document = json.loads(out.read_text())
    assert document["kind"] == "distribution"
    assert sum(document["panels"][0]["counts"]) == document["inputs"]["rows_used"] == 200


@pytest.mark.parametrize(
    ("suffix", "magic"), [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF-"), (".svg", b"<?xml")]
)
def test_picture_files_are_valid_and_not_trivial(capsys, tmp_path, suffix, magic):
    out = tmp_path / f"picture{suffix}"
    outcome = run(capsys, "plot", "--loss", "mse,mae", str(HOUSES), "-o", out)
    assert outcome.code == 0, outcome
    data = out.read_bytes()
    assert data.startswith(magic) and len(data) > 5000
    if suffix == ".png":
        from matplotlib.image import imread

        pixels = imread(out)
        assert pixels.std() > 0.05  # not one colour
    if suffix == ".svg":
        import xml.etree.ElementTree as ElementTree

        root = ElementTree.fromstring(data)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 50


@pytest.mark.parametrize(
    "args",
    [
        ["--kind", "calibration", "-l", "bce", "-p", "prob", "-t", "churned", str(CHURN)],
        ["--kind", "residuals", "-l", "mse", str(HOUSES)],
        ["--kind", "compare", "-l", "mse", str(HOUSES), str(CANDIDATE)],
        ["--kind", "curve", "-l", "mse,huber,log_cosh"],
    ],
)
def test_every_kind_draws_a_png(capsys, tmp_path, args):
    out = tmp_path / "kind.png"
    outcome = run(capsys, "plot", *args, "-o", out)
    assert outcome.code == 0, outcome
    assert out.read_bytes().startswith(b"\x89PNG") and out.stat().st_size > 10_000


def test_a_text_plot_is_drawn_by_plotext():
    picture = plot(None, "mse,mae", "curve")
    text = picture.text(80, 20)
    lines = text.splitlines()
    assert len(lines) >= 15 and "loss curves" in lines[0]
    assert "\x1b[" not in text


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--kind", "calibration", "-l", "mse", str(HOUSES)], "regression loss"),
        (["-l", "mse", str(HOUSES), "-o", "out.gif"], "extension '.gif'"),
        (["--kind", "groups", "-l", "mse", str(HOUSES)], "--by"),
        (["--kind", "pie", "-l", "mse", str(HOUSES)], "--kind pie is unknown"),
        (["--kind", "compare", "-l", "mse", str(HOUSES)], "two files"),
        (["--kind", "curve", "-l", "mse", str(HOUSES)], "no input file"),
        (["--kind", "curve", "-l", "triplet"], "anchor"),
        (["--kind", "calibration", "--strategy", "equal", "-l", "bce", str(CHURN)], "uniform"),
        (["-l", "r2", str(HOUSES), "-o", "r2.json"], "no per-row values"),
        (["-l", "mse", "data", "-o", "data/p.png"], "inside the input directory"),
        (["-l", "mse", "--by", "region", str(HOUSES)], "--kind groups"),
        (["-l", "mse", "--bins", "5", str(HOUSES)], "--kind calibration"),
        (["-k", "curve", "-l", "mse", "--ci", "0.9"], "--kind groups"),
    ],
)
def test_requests_that_cannot_be_drawn_are_one_line_errors(
    capsys, tmp_path, monkeypatch, args, fragment
):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "data" / "houses.csv", HOUSES.read_bytes())
    assert_user_error(run(capsys, "plot", *args), fragment)


def test_without_matplotlib_one_line_says_what_to_install(tmp_path):
    script = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from losscli.cli import main\n"
        f"sys.exit(main(['plot', '-l', 'mse', {str(HOUSES)!r}, '-o', sys.argv[1]]))\n"
    )
    out = tmp_path / "p.png"
    outcome = run_script(script, out)
    assert_user_error(outcome, "pip install 'losscli[plot]'")
    assert not out.exists()


def test_eval_and_help_import_no_plotting_library():
    script = (
        "import sys\n"
        "from losscli.cli import main\n"
        "main(['--help'])\n"
        "main(['eval', '-l', 'mse', sys.argv[1], '-f', 'json'])\n"
        "heavy = [m for m in ('matplotlib', 'plotext', 'sklearn', 'dask', 'mlflow') "
        "if m in sys.modules]\n"
        "print('IMPORTED', heavy, file=sys.stderr)\n"
    )
    outcome = run_script(script, HOUSES)
    assert outcome.code == 0, outcome
    assert "IMPORTED []" in outcome.err


def test_the_picture_file_is_not_left_half_written(capsys, tmp_path):
    out = tmp_path / "keep.json"
    out.write_text("old")
    outcome = run(capsys, "plot", "-l", "mse", "-p", "nothing", str(HOUSES), "-o", out)
    assert outcome.code == 2
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]
    assert Path(sys.executable).exists()


# -- bounded memory -----------------------------------------------------------------------------

MANY = 2_000_000


@pytest.fixture(scope="module")
def many_rows():
    rng = np.random.default_rng(9)
    target = rng.normal(size=MANY)
    prob = rng.uniform(size=MANY)
    return {
        "pred": target + rng.standard_t(3, MANY),
        "target": target,
        "prob": prob,
        "label": (rng.uniform(size=MANY) < prob).astype(np.float64),
    }


@pytest.mark.parametrize(
    ("kind", "losses", "options"),
    [
        ("distribution", "mse,mae,huber", {}),
        ("residuals", "mse", {}),
        ("calibration", "bce", {"pred": "prob", "target": "label", "strategy": "quantile"}),
    ],
)
def test_no_picture_holds_the_rows(many_rows, kind, losses, options):
    """2 M rows in chunks of 20,000: a run that kept one float per row would allocate 16 MB
    more; the data themselves were allocated before tracing began."""
    import tracemalloc

    options = {"pred": "pred", "target": "target", **options}
    tracemalloc.start()
    try:
        picture = plot(many_rows, losses, kind, chunk_rows=20_000, **options)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert picture.inputs["rows_used"] == MANY
    assert peak < 8 << 20, f"{peak / 2**20:.1f} MB"


def test_on_a_terminal_the_picture_is_text(tmp_path):
    """A real pseudo-terminal of 90 x 30 as stdout: plotext's picture, as wide as the terminal."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import termios

    from tests.conftest import COMMAND, process_env

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 90, 0, 0))
    env = process_env(COLUMNS=None, LINES=None, NO_COLOR="1")
    process = subprocess.Popen(
        [*COMMAND, "plot", "-l", "mse", str(HOUSES)],
        stdout=follower,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed as the process ended
            break
        if not data:
            break
        chunks.append(data)
    assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    os.close(leader)
    lines = b"".join(chunks).decode().replace("\r\n", "\n").rstrip().splitlines()
    assert "mse: 200 rows" in lines[0]
    assert 20 <= len(lines) <= 30
    assert max(len(line.rstrip()) for line in lines) == 90
    assert any("█" in line or "▄" in line for line in lines)  # bars drawn


def test_an_html_picture_is_one_self_contained_page(capsys, tmp_path):
    out = tmp_path / "curve.html"
    outcome = run(capsys, "plot", "--kind", "curve", "-l", "mse,log_cosh", "-o", out)
    assert outcome.code == 0, outcome
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 1
    assert "<script" not in text and "<link" not in text and "<img" not in text


@pytest.mark.parametrize(
    ("kind", "losses", "options", "title"),
    [
        ("distribution", "mse", {}, "mse: 200 rows"),
        ("calibration", "bce", {"pred": "prob", "target": "churned"}, "bce: reliability"),
        ("residuals", "mse", {}, "prediction vs target (200 values)"),
        ("compare", "mae", {"candidate": str(CANDIDATE)}, "mae: 200 rows"),
    ],
)
def test_every_kind_has_a_text_picture(kind, losses, options, title):
    data = CHURN if kind == "calibration" else HOUSES
    text = plot(str(data), losses, kind, **options).text(70, 16)
    lines = text.splitlines()
    assert title in lines[0] and len(lines) == 16
    assert max(len(line) for line in lines) <= 70


# -- chunking never changes the numbers (Hypothesis) ---------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=1500, deadline=None)
@given(st.lists(FINITE, min_size=1, max_size=300), st.lists(st.integers(1, 40), max_size=10))
def test_any_chunking_gives_the_same_bins(values, cuts):
    values = np.array(values)
    one, split = RowValues(), RowValues()
    one.add(values, None)
    start = 0
    for size in [*cuts, len(values)]:
        split.add(values[start : start + size], None)
        start += size
        if start >= len(values):
            break
    whole, parts = one.summary(), split.summary()
    # The one-pass grid may be finer; the chunked one's bins hold the counts NumPy gives them.
    edges = np.array(parts["edges"])
    assert sum(parts["counts"]) + parts["zeros"] == len(values)
    counted = values if parts["scale"] == "linear" else values[values != 0]
    assert parts["counts"] == np.histogram(counted, edges)[0].tolist()
    # Sums of numbers near the float limit round (or overflow) in another order.
    scale = float(np.abs(values).max()) * len(values)
    if math.isfinite(scale) and scale < 1e300:
        assert math.isclose(parts["mean"], whole["mean"], rel_tol=1e-9, abs_tol=1e-12 * scale)
    assert parts["min"] == whole["min"] == values.min()


def test_a_first_chunk_of_tiny_values_then_large_ones():
    """Found by the property above: a first chunk of one subnormal number set cells of 2^-1080,
    and the next chunk's 1e9 overflowed an int64 cell index."""
    state = RowValues()
    state.add(np.array([5e-324]), None)
    state.add(np.array([1e9, -1e9, 3.0]), None)
    summary = state.summary()
    edges = np.array(summary["edges"])
    values = np.array([5e-324, 1e9, -1e9, 3.0])
    assert summary["counts"] == np.histogram(values, edges)[0].tolist()
    assert len(summary["counts"]) <= 256


def test_values_far_from_zero_with_a_tiny_spread():
    values = 1e15 + np.arange(1000) * 0.125  # steps of 1/8 where a float's step is 1/8
    state = RowValues()
    for part in _chunks(values, 7):
        state.add(part, None)
    summary = state.summary()
    assert sum(summary["counts"]) == 1000
    assert summary["counts"] == np.histogram(values, np.array(summary["edges"]))[0].tolist()


def test_plot_is_part_of_the_package():
    assert losscli.plot is plot


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(FINITE, FINITE), min_size=1, max_size=200), st.integers(1, 50))
def test_any_chunking_gives_the_same_density_grid(points, size):
    points = np.array(points)
    grid = DoublingGrid(2, 32, 16)
    for start in range(0, len(points), size):
        grid.add(points[start : start + size, 0], points[start : start + size, 1])
    with np.errstate(over="ignore"):
        expected, _, _ = np.histogram2d(points[:, 0], points[:, 1], [grid.edges(0), grid.edges(1)])
    assert grid.counts.sum() == len(points)
    assert max(grid.counts.shape) <= 32
    if np.isfinite(grid.edges(0)).all() and np.isfinite(grid.edges(1)).all():
        assert np.array_equal(grid.counts, expected)


def test_losses_that_read_the_scores_alike_share_one_diagram():
    picture = plot(
        str(CLASSES), "ce,softmax_focal,brier:input=logits", "calibration",
        pred="logit_*", target="label",
    )  # fmt: skip
    panels = picture.to_dict()["panels"]
    (panel,) = panels
    assert panel["losses"] == ["ce", "softmax_focal", "brier:input=logits"]
    assert panel["label"] == "ce, softmax_focal, brier:input=logits"
    alone = plot(str(CLASSES), "ce", "calibration", pred="logit_*", target="label")
    assert alone.to_dict()["panels"][0]["prob_true"] == panel["prob_true"]


def test_a_grid_that_needs_no_coarser_exponent_still_keeps_to_its_cells():
    """Found by the chunking property: 1 then -1 span 33 cells of the width both chunks need."""
    grid = DoublingGrid(2, 32, 16)
    grid.add(np.array([1.0]), np.array([0.0]))
    grid.add(np.array([-1.0]), np.array([0.0]))
    assert max(grid.counts.shape) <= 32 and grid.counts.sum() == 2
