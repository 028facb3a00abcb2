"""Analysis beyond one number: --ci intervals, --by groups, --worst rows and ``compare``.

Expected values come from pandas / NumPy on the same per-row values (r2 by its formula), from a full
sort, from hand-worked formulas (paired differences), and from simulation (interval coverage).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import NormalDist
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

import losscli
from losscli.engine.resample import poisson_counts
from losscli.engine.run import update
from losscli.engine.tally import Options, Tally
from losscli.losses import build_request
from tests.conftest import CANDIDATE, HOUSES, SAMPLE_DATA, assert_user_error, run


def grouped_data(rows: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    target = rng.normal(size=rows)
    return pd.DataFrame(
        {
            "pred": target + rng.normal(0, 1 + (np.arange(rows) % 3), rows),
            "target": target,
            "weight": rng.uniform(0.1, 2, rows),
            "region": rng.choice(["north", "south", "east", "west"], rows),
            "month": rng.integers(1, 4, rows),
        }
    )


# -- --ci ----------------------------------------------------------------------------------------
def test_poisson_counts_have_the_poisson_1_distribution_and_differ_by_replicate():
    counts = np.concatenate([poisson_counts(3, np.arange(200_000), b) for b in range(3)])
    shares = [(counts == k).mean() for k in range(4)]
    expected = [math.exp(-1) / math.factorial(k) for k in range(4)]
    assert np.allclose(shares, expected, atol=3e-3)
    assert abs(counts.mean() - 1) < 5e-3 and abs(counts.var() - 1) < 1e-2
    assert not np.array_equal(
        poisson_counts(3, np.arange(50), 0), poisson_counts(3, np.arange(50), 1)
    )
    assert not np.array_equal(
        poisson_counts(3, np.arange(50), 0), poisson_counts(4, np.arange(50), 0)
    )


def test_spread_merged_in_any_order_equals_the_direct_formula():
    rng = np.random.default_rng(1)
    rows, weight = rng.gamma(2, 3, 1000) + 1e6, rng.uniform(0, 2, 1000)
    mean = (weight * rows).sum() / weight.sum()
    direct = math.sqrt(1000 / 999 * ((weight * (rows - mean)) ** 2).sum()) / weight.sum()
    request = build_request("mae", {})
    data = {"pred": rows, "target": np.zeros(1000)}
    pieces = []
    for start in range(0, 1000, 137):  # each piece centred on its own first row
        piece = Tally(lambda: request.definition.statistic(request.params), Options(level=0.9))
        chunk = SimpleNamespace(
            roles={r: v[start : start + 137] for r, v in data.items()},
            weight=weight[start : start + 137],
            columns={"pred": ("p",), "target": ("t",)},
        )
        update(piece, request, chunk)
        pieces.append(piece)
    merged = pieces.pop()
    for piece in pieces:
        merged.merge(piece)
    assert math.isclose(merged.standard_error(), direct, rel_tol=1e-9)


def test_the_normal_interval_of_a_mean_is_mean_plus_minus_z_standard_errors():
    data = grouped_data(500)
    report = losscli.evaluate(data, "mse", ci=0.9)
    squared = (data.pred - data.target) ** 2
    se = squared.std(ddof=1) / math.sqrt(len(squared))
    z = NormalDist().inv_cdf(0.95)
    ci = report.results[0].ci
    assert ci["method"] == "normal" and ci["level"] == 0.9
    assert math.isclose(ci["low"], squared.mean() - z * se, rel_tol=1e-12)
    assert math.isclose(ci["high"], squared.mean() + z * se, rel_tol=1e-12)


@pytest.mark.parametrize("loss, truth", [("mse", 1.0), ("mae", math.sqrt(2 / math.pi))])
def test_a_mean_loss_interval_covers_the_true_mean_95_percent_of_the_time(loss, truth):
    covered = 0
    for seed in range(1000):
        rng = np.random.default_rng(seed)
        target = rng.normal(size=300)
        pred = target + rng.normal(size=300)  # errors N(0, 1): E[e^2] = 1, E|e| = sqrt(2/pi)
        ci = losscli.evaluate({"pred": pred, "target": target}, loss, ci=0.95).results[0].ci
        covered += ci["low"] <= truth <= ci["high"]
    assert 0.93 <= covered / 1000 <= 0.97


def test_the_rmse_bootstrap_interval_covers_the_true_rmse_95_percent_of_the_time():
    covered, sims = 0, 600
    for seed in range(sims):
        rng = np.random.default_rng(seed)
        target = rng.normal(size=300)
        pred = target + rng.normal(size=300)  # true rmse = 1
        result = losscli.evaluate(
            {"pred": pred, "target": target}, "rmse", ci=0.95, bootstrap=200, seed=seed
        ).results[0]
        assert result.ci["method"] == "bootstrap"
        covered += result.ci["low"] <= 1.0 <= result.ci["high"]
    assert 0.93 <= covered / sims <= 0.97


def test_the_bootstrap_is_reproducible_and_independent_of_chunks_and_files(tmp_path):
    data = grouped_data(900)
    whole = tmp_path / "whole.csv"
    data.to_csv(whole, index=False)
    for i, start in enumerate(range(0, 900, 300)):
        data.iloc[start : start + 300].to_csv(tmp_path / f"part{i}.csv", index=False)
    parts = [str(tmp_path / f"part{i}.csv") for i in range(3)]

    def interval(source, **options):
        report = losscli.evaluate(source, "rmse,r2", ci=0.95, bootstrap=50, seed=7, **options)
        return [(r.ci["low"], r.ci["high"]) for r in report.results]

    first = interval(str(whole))
    assert interval(str(whole)) == first
    for other in (interval(str(whole), chunk_rows=64), interval(parts)):
        assert np.allclose(other, first, rtol=1e-12, atol=0)
    report = losscli.evaluate(str(whole), "rmse", ci=0.95, bootstrap=50, seed=8)
    assert (report.results[0].ci["low"], report.results[0].ci["high"]) != first[0]


def test_per_pixel_dice_resamples_whole_samples(tmp_path):
    masks = SAMPLE_DATA / "lesion_masks.parquet"
    report = losscli.evaluate(
        str(masks),
        "dice:aggregate=global",
        pred="prob",
        target="lesion",
        columns={"sample": "scan"},
        ci=0.95,
        bootstrap=100,
    )
    ci = report.results[0].ci
    assert ci["method"] == "bootstrap" and ci["low"] < report.results[0].value < ci["high"]


def test_ci_options_are_checked(capsys, tmp_path):
    for args in (["--ci", "1.5"], ["--ci", "abc"], ["--ci", "0.9", "--bootstrap", "3"]):
        assert_user_error(run(capsys, "eval", "-l", "rmse", HOUSES, *args), "--")
    code, out, _ = run(capsys, "eval", "-l", "mse", HOUSES, "--ci", "95%", "-f", "json")
    assert code == 0 and json.loads(out)["results"][0]["ci"]["level"] == 0.95


# -- --by ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("chunk_rows", [97, 100_000])
def test_by_equals_a_pandas_groupby_of_the_per_row_losses(tmp_path, chunk_rows):
    data = grouped_data()
    path = tmp_path / "data.parquet"
    data.to_parquet(path)
    report = losscli.evaluate(
        str(path), "mse,mae", weight="weight", by="region,month", chunk_rows=chunk_rows
    )
    data["se"] = (data.pred - data.target) ** 2 * data.weight
    data["ae"] = (data.pred - data.target).abs() * data.weight
    sums = data.groupby(["region", "month"])[["se", "ae", "weight"]].sum()
    groups = [r for r in report.results if r.group is not None]
    assert len(groups) == 2 * len(sums)
    for result in groups:
        key = (result.group["region"], result.group["month"])
        column = {"mse": "se", "mae": "ae"}[result.label]
        expected = sums.loc[key, column] / sums.loc[key, "weight"]
        assert math.isclose(result.value, expected, rel_tol=1e-12)
    overall = [r for r in report.results if r.group is None]
    assert [r.label for r in overall] == ["mse", "mae"]
    keys = [tuple(r.group.values()) for r in groups if r.label == "mse"]
    assert keys == sorted(keys)


def test_by_works_for_losses_with_a_finalize_step(tmp_path):
    data = grouped_data(2000)
    report = losscli.evaluate(data, "r2,rmse,max_error", by="region", chunk_rows=150)
    for result in (r for r in report.results if r.group is not None):
        part = data[data.region == result.group["region"]]
        expected = {
            "r2": 1
            - ((part.target - part.pred) ** 2).sum()
            / ((part.target - part.target.mean()) ** 2).sum(),
            "rmse": math.sqrt(((part.pred - part.target) ** 2).mean()),
            "max_error": (part.pred - part.target).abs().max(),
        }[result.label]
        assert math.isclose(result.value, expected, rel_tol=1e-9)


def test_by_with_ci_gives_every_group_an_interval():
    data = grouped_data(2000)
    report = losscli.evaluate(data, "mse,rmse", by="region", ci=0.95, bootstrap=50)
    for result in report.results:
        assert result.ci["low"] < result.value < result.ci["high"]
    methods = {r.label: r.ci["method"] for r in report.results}
    assert methods == {"mse": "normal", "rmse": "bootstrap"}


def test_a_null_group_is_a_group_and_a_group_without_weight_has_no_value():
    table = pa.table(
        {
            "pred": [1.0, 2.0, 3.0, 4.0, 5.0],
            "target": [1.5, 2.0, 2.0, 4.0, 4.0],
            "weight": [1.0, 1.0, 0.0, 2.0, 1.0],
            "g": ["a", None, "b", "a", None],
        }
    )
    report = losscli.evaluate(table, "mae", weight="weight", by="g")
    groups = {r.group["g"]: r for r in report.results if r.group is not None}
    assert list(groups) == ["a", "b", None]
    assert math.isclose(groups["a"].value, (0.5 + 0) / 3)
    assert math.isclose(groups[None].value, (0 + 1.0) / 2)
    assert math.isnan(groups["b"].value) and "sum to 0" in groups["b"].note
    assert report["mae"] == pytest.approx((0.5 + 0 + 0 + 1.0) / 5)


def test_by_keeps_100_000_groups_in_arrays(tmp_path):
    rows = 300_000
    rng = np.random.default_rng(5)
    data = {
        "pred": rng.normal(size=rows),
        "target": rng.normal(size=rows),
        "key": rng.integers(0, 100_000, rows).astype(float),
    }
    report = losscli.evaluate(data, "mae", by="key", chunk_rows=50_000)
    groups = [r for r in report.results if r.group is not None]
    frame = pd.DataFrame(data)
    expected = (frame.pred - frame.target).abs().groupby(frame.key).mean()
    assert len(groups) == len(expected)
    values = np.array([r.value for r in groups])
    assert np.allclose(values, expected.to_numpy(), rtol=1e-12)


def test_by_naming_a_missing_column_is_an_input_error(capsys):
    assert_user_error(run(capsys, "eval", "-l", "mse", HOUSES, "--by", "regoin"), "regoin")


def test_by_in_the_cli_table_csv_and_markdown(capsys):
    demand = SAMPLE_DATA / "demand_forecast.csv"
    args = ["eval", "-l", "mae", demand, "-p", "forecast_*", "-t", "actual_*", "--by", "store"]
    code, out, _ = run(capsys, *args, "-f", "csv")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("label,scope,store,loss")
    assert len(lines) == 1 + 1 + 6 and lines[2].startswith("mae,group,S1,")
    assert lines[1].startswith("mae,all,,")
    code, out, _ = run(capsys, *args, "-f", "markdown")
    assert "| loss | store | value |" in out and "| `mae` | S6 |" in out


# -- --worst -------------------------------------------------------------------------------------
@pytest.mark.parametrize("chunk_rows", [7, 1000])
def test_worst_equals_a_full_sort(tmp_path, chunk_rows):
    rng = np.random.default_rng(2)
    pred = np.round(rng.normal(size=500), 1)  # rounded: many ties, broken by row order
    target = np.zeros(500)
    ids = [f"r{i}" for i in range(500)]
    path = tmp_path / "rows.csv"
    pa_csv.write_csv(pa.table({"id": ids, "pred": pred, "target": target}), path)
    report = losscli.evaluate(str(path), "mae", worst=25, id_column="id", chunk_rows=chunk_rows)
    rows = report.results[0].worst
    order = sorted(range(500), key=lambda i: (-abs(pred[i]), i))[:25]
    assert [row["row"] for row in rows] == [i + 1 for i in order]
    assert [row["id"] for row in rows] == [ids[i] for i in order]
    assert [row["loss"] for row in rows] == [abs(pred[i]) for i in order]
    assert [row["pred"] for row in rows] == [pred[i] for i in order]


def full_sort(losses) -> list[int]:
    """Rows (from 1) by loss descending, NaN first, ties by row: the order --worst promises."""
    key = [(0, 0.0, i) if math.isnan(v) else (1, -v, i) for i, v in enumerate(losses)]
    return [i + 1 for _, _, i in sorted(key)]


TIED_LOSSES = {
    "all equal": np.full(60, 2.0),
    "few values": np.tile([1.0, 3.0, 2.0, 3.0, 1.0], 12),
    "with NaN and inf": np.tile([1.0, np.nan, 3.0, np.inf, 3.0, -np.inf], 10),
}


@pytest.mark.parametrize("chunk_rows", [1, 7, 1000])
@pytest.mark.parametrize("losses", TIED_LOSSES.values(), ids=TIED_LOSSES.keys())
def test_worst_with_ties_is_the_first_k_of_a_stable_sort(losses, chunk_rows):
    data = {"pred": losses, "target": np.zeros(len(losses))}
    expected = full_sort(np.abs(losses))
    # K below, at and beyond each boundary between tied blocks
    for k in (1, 2, 10, 11, 12, 23, 24, 25, 36, 59, 60, 61):
        report = losscli.evaluate(
            data, "mae", worst=k, chunk_rows=chunk_rows, nan="propagate", pred="pred"
        )
        assert [row["row"] for row in report.results[0].worst] == expected[:k], k


def test_worst_names_the_file_of_each_row_and_skips_dropped_rows(tmp_path):
    (tmp_path / "a.csv").write_text("pred,target\n1,1\n9,0\n")
    (tmp_path / "b.csv").write_text("pred,target\n,0\n5,0\n20,0\n")
    report = losscli.evaluate(
        [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")], "mae", worst=2, nan="drop"
    )
    rows = report.results[0].worst
    assert [row["loss"] for row in rows] == [20.0, 9.0]
    assert rows[0]["row"] == 5 and rows[0]["where"].startswith("row 3 of")
    assert "b.csv" in rows[0]["where"] and "a.csv" in rows[1]["where"]


def test_worst_in_the_cli(capsys):
    code, out, err = run(
        capsys, "eval", "-l", "mse,r2", HOUSES, "--worst", "3", "--id", "house_id", "-f", "json"
    )
    assert code == 0
    results = json.loads(out)["results"]
    assert [row["id"] for row in results[0]["worst"]] == ["H0192", "H0044", "H0120"]
    assert "worst" not in results[1] and "r2 has no per-row values" in err
    assert_user_error(run(capsys, "eval", "-l", "mse", HOUSES, "--worst", "0"), "--worst")


# -- compare -------------------------------------------------------------------------------------
def small_pair(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray, np.ndarray]:
    target = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    base = np.array([1.5, 2.0, 2.0, 4.5, 5.0, 7.0])
    cand = np.array([2.0, 2.5, 1.0, 4.0, 6.0, 8.0])
    for name, pred in (("base.csv", base), ("cand.csv", cand)):
        pa_csv.write_csv(pa.table({"pred": pred, "target": target}), tmp_path / name)
    return tmp_path / "base.csv", tmp_path / "cand.csv", target, base, cand


def test_compare_difference_and_interval_match_a_hand_computation(tmp_path):
    base_path, cand_path, target, base, cand = small_pair(tmp_path)
    # Per-row squared errors: base 0.25 0 1 0.25 0 1, candidate 1 0.25 4 0 1 4.
    d = np.array([0.75, 0.25, 3.0, -0.25, 1.0, 3.0])
    mean = d.sum() / 6  # 7.75 / 6
    se = math.sqrt(((d - mean) ** 2).sum() / 5 / 6)
    z = NormalDist().inv_cdf(0.975)
    result = losscli.compare(str(base_path), str(cand_path), "mse")
    entry = result.entries[0]
    assert math.isclose(entry["baseline"], 2.5 / 6) and math.isclose(entry["candidate"], 10.25 / 6)
    assert math.isclose(entry["difference"], mean, rel_tol=1e-12)
    assert math.isclose(entry["relative"], mean / (2.5 / 6), rel_tol=1e-12)
    assert math.isclose(entry["ci"]["low"], mean - z * se, rel_tol=1e-12)
    assert math.isclose(entry["ci"]["high"], mean + z * se, rel_tol=1e-12)
    p = 2 * (1 - NormalDist().cdf(mean / se))
    assert math.isclose(entry["p_value"], p, rel_tol=1e-9)


def test_compare_paired_bootstrap_of_a_finalize_loss(tmp_path):
    result = losscli.compare(str(HOUSES), str(CANDIDATE), "rmse,r2", bootstrap=300)
    rmse, r2 = result.entries
    base = pd.read_csv(HOUSES)
    cand = pd.read_csv(CANDIDATE)
    expected = math.sqrt(((cand.prediction - cand.target) ** 2).mean()) - math.sqrt(
        ((base.prediction - base.target) ** 2).mean()
    )
    assert math.isclose(rmse["difference"], expected, rel_tol=1e-12)
    assert rmse["ci"]["method"] == "bootstrap" and rmse["ci"]["low"] < expected < rmse["ci"]["high"]
    assert r2["difference"] < 0 and r2["direction"] == "higher"
    # Paired: the same model against itself has a zero-width interval.
    same = losscli.compare(str(HOUSES), str(HOUSES), "rmse", bootstrap=50).entries[0]
    assert same["ci"]["low"] == same["ci"]["high"] == 0.0 and same["p_value"] == 1.0


def test_compare_exit_codes_and_verdicts(capsys, tmp_path):
    args = ["compare", HOUSES, CANDIDATE, "-l", "mse,rmse", "--bootstrap", "200"]
    code, out, _ = run(capsys, *args, "-f", "json")
    document = json.loads(out)
    assert code == 0 and document["passed"] is False
    assert {c["verdict"] for c in document["comparisons"]} == {"worse"}
    code, _, err = run(capsys, *args, "--fail-if-worse", "-f", "json")
    assert code == 1 and "worse on mse, rmse" in err
    code, _, _ = run(capsys, "compare", CANDIDATE, HOUSES, "-l", "mse", "--fail-if-worse")
    assert code == 0  # the other way round the candidate is better
    code, out, _ = run(capsys, *args, "-f", "github")
    assert out.startswith("::error title=losscli compare mse::mse: candidate")
    code, out, _ = run(capsys, *args, "-f", "markdown")
    assert "❌ worse" in out and "| loss | baseline | candidate |" in out


def test_compare_refuses_rows_that_are_not_the_same(capsys, tmp_path):
    base_path, cand_path, *_ = small_pair(tmp_path)
    shifted = tmp_path / "shifted.csv"
    shifted.write_text("pred,target\n1,1\n2,2\n3,3.5\n4,4\n5,5\n6,6\n")
    outcome = run(capsys, "compare", base_path, shifted, "-l", "mse")
    assert_user_error(outcome, "disagree on the target at row 3", "3.5")
    short = tmp_path / "short.csv"
    short.write_text("pred,target\n1,1\n")
    assert_user_error(run(capsys, "compare", base_path, short, "-l", "mse"), "has 6 rows", "has 1")
    assert_user_error(run(capsys, "compare", base_path, cand_path), "--loss")


def test_compare_with_targets_from_a_third_file(tmp_path):
    base_path, cand_path, target, base, cand = small_pair(tmp_path)
    preds_only = []
    for name, pred in (("b.parquet", base), ("c.parquet", cand)):
        pq.write_table(pa.table({"score": pred}), tmp_path / name)
        preds_only.append(str(tmp_path / name))
    pa_csv.write_csv(pa.table({"y": target}), tmp_path / "y.csv")
    with_targets = losscli.compare(
        *preds_only, "mae", pred="score", targets=str(tmp_path / "y.csv")
    )
    direct = losscli.compare(str(base_path), str(cand_path), "mae")
    assert with_targets.entries[0]["difference"] == pytest.approx(direct.entries[0]["difference"])
    assert with_targets.entries[0]["ci"] == pytest.approx(direct.entries[0]["ci"])


@pytest.mark.parametrize("loss", ["rmse", "r2"])
def test_bootstrap_over_blocks_of_rows_covers_the_truth_90_percent_of_the_time(loss):
    # 3000 rows: past the 1024 rows that are blocks of their own, so rows share blocks.
    covered, sims = 0, 300
    truth = {"rmse": 1.0, "r2": 0.0}[loss]  # errors N(0, 1) on targets N(0, 1)
    for seed in range(sims):
        rng = np.random.default_rng(seed)
        target = rng.normal(size=3000)
        pred = target + rng.normal(size=3000)
        result = losscli.evaluate(
            {"pred": pred, "target": target}, loss, ci=0.9, bootstrap=200, seed=seed
        ).results[0]
        assert result.ci["method"] == "bootstrap" and result.ci["blocks"] == 1024
        covered += result.ci["low"] <= truth <= result.ci["high"]
    assert 0.86 <= covered / sims <= 0.94


def test_per_sample_dice_interval_covers_the_truth_90_percent_of_the_time():
    # Each sample's pixels are all positive and predicted q ~ U(0, 1): its dice loss is
    # (1 - q) / (1 + q), whose mean over samples is 2 ln 2 - 1.
    truth = 2 * math.log(2) - 1
    covered, sims = 0, 300
    for seed in range(sims):
        rng = np.random.default_rng(seed)
        q = rng.uniform(size=80)
        data = {
            "pred": np.repeat(q, 20),
            "target": np.ones(1600),
            "scan": np.repeat(np.arange(80), 20),
        }
        result = losscli.evaluate(
            data, "dice", columns={"sample": "scan"}, ci=0.9, bootstrap=200, seed=seed
        ).results[0]
        assert result.ci["method"] == "bootstrap" and "blocks" not in result.ci
        covered += result.ci["low"] <= truth <= result.ci["high"]
    assert 0.86 <= covered / sims <= 0.94
