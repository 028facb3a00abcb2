"""Class scores and class targets end to end: the forms users give them in, and what goes wrong.

Reference values of the classification losses are in ``test_losses.py`` (from
``tests/reference/classification.json``); these tests cover how scores and targets reach them:
column groups in natural order, comma lists, list columns, one-hot and probability targets, the
``input=`` checks, ignored rows, label conventions, GAN roles, extreme logits and wide rows.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import losscli
from losscli.errors import DomainError, InputError, UsageError
from losscli.losses import REGISTRY
from tests.conftest import assert_user_error, close, evaluate_arrays, results_of, run, write_data

K = 12


def log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def mean_ce(z: np.ndarray, y: np.ndarray) -> float:
    return float(-log_softmax(z)[np.arange(len(y)), y].mean())


@pytest.fixture
def scores() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    z = rng.normal(0, 2, (50, K))
    y = rng.integers(0, K, 50)
    return z, y


def write_group_csv(path, z: np.ndarray, y: np.ndarray, order: list[int]) -> None:
    """Columns logit_0..logit_{K-1} written in ``order``, then label."""
    write_data(path, {**{f"logit_{k}": z[:, k] for k in order}, "label": y}, "csv")


# -- the forms of scores and targets -----------------------------------------------------------


def test_a_glob_takes_columns_in_natural_order(tmp_path, capsys, scores):
    z, y = scores
    shuffled = [10, 2, 0, 11, 1, 3, 9, 4, 8, 5, 7, 6]
    write_group_csv(tmp_path / "s.csv", z, y, shuffled)
    value = results_of(
        run(capsys, "eval", "-l", "ce", "-p", "logit_*", "-t", "label", tmp_path / "s.csv")
    )
    assert close(value["ce"]["value"], mean_ce(z, y), 1e-12)
    # Lexicographic order (logit_10 before logit_2) would give another number.
    lexicographic = sorted(range(K), key=lambda k: f"logit_{k}")
    assert not close(mean_ce(z[:, lexicographic], y), mean_ce(z, y), 1e-6)


def test_a_comma_list_a_list_column_and_a_fixed_size_list_agree(tmp_path, capsys, scores):
    z, y = scores
    write_group_csv(tmp_path / "s.csv", z, y, list(range(K)))
    listed = ",".join(f"logit_{k}" for k in range(K))
    by_list = results_of(
        run(capsys, "eval", "-l", "ce", "-p", listed, "-t", "label", tmp_path / "s.csv")
    )
    flat = pa.array(z.reshape(-1))
    offsets = pa.array(np.arange(0, z.size + 1, K, dtype=np.int32))
    pq.write_table(
        pa.table({"logits": pa.ListArray.from_arrays(offsets, flat), "label": y}),
        tmp_path / "list.parquet",
    )
    pq.write_table(
        pa.table({"logits": pa.FixedSizeListArray.from_arrays(flat, K), "label": y}),
        tmp_path / "fixed.parquet",
    )
    for name in ("list.parquet", "fixed.parquet"):
        # logits and label are recognised names: no -p or -t needed.
        got = results_of(run(capsys, "eval", "-l", "ce", tmp_path / name))
        assert close(got["ce"]["value"], by_list["ce"]["value"], 1e-12)
    assert close(by_list["ce"]["value"], mean_ce(z, y), 1e-12)


def test_one_hot_rows_equal_class_indices(scores):
    z, y = scores
    one_hot = np.eye(K)[y]
    for loss in ("ce", "softmax_focal", "poly1", "gce", "multiclass_hinge", "zero_one", "kl_div"):
        params = {"input": "logprobs"} if loss == "kl_div" else {}
        pred = log_softmax(z) if loss == "kl_div" else z
        by_index = evaluate_arrays(loss, {"pred": pred, "target": y}, params)
        by_rows = evaluate_arrays(loss, {"pred": pred, "target": one_hot}, params)
        assert close(by_rows, by_index, 1e-12), loss


def test_probability_targets_give_soft_cross_entropy(scores):
    z, _ = scores
    rng = np.random.default_rng(1)
    q = rng.dirichlet(np.ones(K), len(z))
    expected = float(-(q * log_softmax(z)).sum(axis=1).mean())
    assert close(evaluate_arrays("ce", {"pred": z, "target": q}), expected, 1e-12)


def test_class_weights_with_ignored_rows_follow_pytorch(scores):
    z, y = scores
    y = y.copy()
    y[::5] = -100
    w = np.linspace(0.5, 2.0, K)
    kept = y != -100
    picked = -log_softmax(z)[np.arange(len(y)), np.where(kept, y, 0)]
    expected = (w[y[kept]] * picked[kept]).sum() / w[y[kept]].sum()
    value = evaluate_arrays("ce", {"pred": z, "target": y}, {"weight": list(w)})
    assert close(value, expected, 1e-12)


# -- what cannot be of the declared kind ------------------------------------------------------


def test_logits_given_as_probabilities_suggest_input_logits():
    with pytest.raises(DomainError, match=r"input=logits") as caught:
        evaluate_arrays("bce", {"pred": [0.2, 1.7], "target": [0, 1]})
    assert "is 1.7 at row 2" in str(caught.value)


def test_probability_rows_must_sum_to_one():
    pred = [[0.2, 0.3, 0.5], [0.6, 0.6, 0.1]]
    with pytest.raises(DomainError, match=r"sums to 1.3 at row 2") as caught:
        evaluate_arrays("ce", {"pred": pred, "target": [0, 1]}, {"input": "probs"})
    assert "input=logits" in str(caught.value)


def test_log_probabilities_must_be_normalised():
    with pytest.raises(DomainError, match=r"log-probabilities \(<= 0\)"):
        evaluate_arrays("nll", {"pred": [[0.5, -1.0]], "target": [0]})
    with pytest.raises(DomainError, match="summing to 0.5"):
        evaluate_arrays("nll", {"pred": [[math.log(0.25), math.log(0.25)]], "target": [0]})


def test_target_rows_must_be_distributions():
    with pytest.raises(DomainError, match="sums to 0.9"):
        evaluate_arrays("ce", {"pred": [[0.0, 1.0]], "target": [[0.5, 0.4]]})


@pytest.mark.parametrize(
    ("target", "message"),
    [([0, 12], "holds 12, which is not a class index 0..11"), ([1.5, 0], "holds 1.5")],
)
def test_class_indices_must_be_whole_and_in_range(scores, target, message):
    z, _ = scores
    with pytest.raises(InputError, match=message) as caught:
        evaluate_arrays("ce", {"pred": z[:2], "target": target})
    assert "row" in str(caught.value)


def test_one_score_column_is_not_enough_for_ce():
    with pytest.raises(InputError, match="K >= 2 class scores"):
        evaluate_arrays("ce", {"pred": [0.1, 0.2], "target": [0, 1]})


def test_class_weights_must_match_the_classes(scores):
    z, y = scores
    with pytest.raises(InputError, match=f"gives 2 class weights but pred has {K} classes"):
        evaluate_arrays("ce", {"pred": z, "target": y}, {"weight": [1, 2]})
    with pytest.raises(UsageError, match="weight"):
        evaluate_arrays("ce", {"pred": z, "target": y}, {"weight": "[1,x]"})
    with pytest.raises(UsageError, match="out of range"):
        evaluate_arrays("ce", {"pred": z, "target": y}, {"weight": [-1] * K})


def test_every_target_ignored_is_an_input_error_not_nan(tmp_path, capsys):
    data = tmp_path / "ignored.csv"
    data.write_text("a,b,label\n0.1,0.2,-100\n0.3,0.1,-100\n")
    outcome = run(capsys, "eval", "-l", "ce", "-p", "a,b", "-t", "label", data)
    assert_user_error(outcome, "ignore_index=-100", "no row is left")


@pytest.mark.parametrize("chunk_rows", ["1", "1000"])
def test_labels_mixing_zero_and_minus_one_are_an_error(tmp_path, capsys, chunk_rows):
    data = tmp_path / "labels.csv"
    data.write_text("score,label\n0.5,1\n-0.2,-1\n0.3,1\n0.1,0\n")
    outcome = run(capsys, "eval", "-l", "hinge", "--chunk-rows", chunk_rows, data)
    assert_user_error(outcome, "both 0 and -1", "row 4", "{-1, 1} or {0, 1}")


def test_zero_one_labels_mean_minus_one_for_margin_losses():
    scores = [0.5, -2.0, 2.0, 0.3]
    for loss in ("hinge", "squared_hinge", "exponential"):
        signed = evaluate_arrays(loss, {"pred": scores, "target": [1, -1, -1, 1]})
        binary = evaluate_arrays(loss, {"pred": scores, "target": [1, 0, 0, 1]})
        assert close(binary, signed, 1e-15), loss


def test_soft_margin_takes_minus_one_and_one_only():
    with pytest.raises(DomainError, match="bce:input=logits"):
        evaluate_arrays("soft_margin", {"pred": [0.5, 0.1], "target": [1, 0]})


# -- numerics ----------------------------------------------------------------------------------

BIG = 1e4


@pytest.mark.parametrize(
    ("loss", "inputs", "params", "expected"),
    [
        ("bce", {"pred": [BIG, -BIG, BIG], "target": [0, 1, 1]}, {"input": "logits"}, 2 * BIG / 3),
        ("ce", {"pred": [[BIG, -BIG], [-BIG, BIG]], "target": [1, 1]}, {}, BIG),
        ("nll", {"pred": [[0.0, -BIG]], "target": [1]}, {}, BIG),
        ("soft_margin", {"pred": [BIG, -BIG], "target": [-1, -1]}, {}, BIG / 2),
        ("focal", {"pred": [-BIG, BIG], "target": [1, 1]}, {"alpha": -1}, BIG / 2),
        ("multilabel_soft_margin", {"pred": [[BIG, -BIG]], "target": [[0, 0]]}, {}, BIG / 2),
        ("softmax_focal", {"pred": [[BIG, -BIG]], "target": [1]}, {}, 2 * BIG),
        ("poly1", {"pred": [[BIG, -BIG]], "target": [1]}, {}, 2 * BIG + 1),
        ("gce", {"pred": [[BIG, -BIG]], "target": [1]}, {"q": 0.5}, 2.0),
        ("gan_d", {"real": [-BIG], "fake": [BIG]}, {"input": "logits"}, 2 * BIG),
        ("gan_g", {"fake": [-BIG]}, {"input": "logits"}, BIG),
        ("ghm_c", {"pred": [BIG, -BIG], "target": [0, 1]}, {}, BIG),
        (
            "reconstruction",
            {"pred": [[BIG]], "target": [[0]]},
            {"kind": "bce", "input": "logits"},
            BIG,
        ),
    ],
)
def test_logits_of_ten_thousand_stay_finite_and_exact(loss, inputs, params, expected):
    assert close(evaluate_arrays(loss, inputs, params), expected, 1e-12)


def test_probabilities_of_exactly_zero_and_one_clamp_at_minus_100():
    value = evaluate_arrays("bce", {"pred": [0.0, 1.0, 1.0], "target": [1, 0, 1]})
    assert value == pytest.approx(200 / 3, rel=1e-15)
    assert evaluate_arrays("gan_g", {"fake": [0.0]}) == 100.0


def test_wide_rows_come_in_smaller_chunks():
    # 1000 classes: a chunk holds at most about a million numbers, not 131072 rows of 1001.
    rng = np.random.default_rng(0)
    rows, classes = 3000, 1000
    data = {"pred": rng.normal(size=(rows, classes)), "target": rng.integers(0, classes, rows)}
    seen: list[int] = []
    report = losscli.evaluate(data, "ce", "pred", "target", on_progress=seen.append)
    sizes = np.diff([0, *seen])
    assert sizes.max() <= (1 << 20) // (classes + 1) and sizes.sum() == rows
    assert close(report.results[0].value, mean_ce(data["pred"], data["target"]), 1e-12)


def test_wide_parquet_rows_are_read_in_small_batches(tmp_path):
    from losscli.io.readers import open_reader
    from losscli.io.sources import expand_inputs

    classes, rows = 1000, 5000
    flat = pa.array(np.zeros(rows * classes))
    table = pa.table({"logits": pa.FixedSizeListArray.from_arrays(flat, classes)})
    pq.write_table(table, tmp_path / "wide.parquet", row_group_size=rows)
    reader = open_reader(expand_inputs([str(tmp_path / "wide.parquet")], None)[0])
    try:
        sizes = [batch.num_rows for batch in reader.batches(["logits"], {"logits"})]
    finally:
        reader.close()
    assert sum(sizes) == rows and max(sizes) <= (1 << 21) // classes


# -- roles and conventions ---------------------------------------------------------------------


def test_gan_roles_by_name_or_by_option(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("d_real,d_fake,other\n0.9,0.2,0.5\n0.6,0.4,0.5\n")
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.6) + math.log(0.6)) / 2
    found = results_of(run(capsys, "eval", "-l", "gan_d", data))
    assert close(found["gan_d"]["value"], expected, 1e-12)
    named = results_of(run(capsys, "eval", "-l", "gan_g", "--col", "fake=other", data))
    assert close(named["gan_g"]["value"], math.log(2), 1e-12)


def test_perplexity_of_token_log_probabilities_needs_no_target(tmp_path, capsys):
    data = tmp_path / "tokens.csv"
    data.write_text("logprob\n" + "\n".join(str(math.log(p)) for p in (0.5, 0.25, 0.125)) + "\n")
    found = results_of(run(capsys, "eval", "-l", "perplexity", "-p", "logprob", data))
    assert close(found["perplexity"]["value"], 4.0, 1e-12)


def test_multi_class_perplexity_without_a_target_says_what_to_give(scores):
    z, _ = scores
    with pytest.raises(InputError, match="needs the true class"):
        losscli.evaluate({"pred": z}, "perplexity:input=logits", pred="pred")


def test_every_new_loss_explains_its_input_convention():
    for loss in REGISTRY.values():
        if loss.family == "regression":
            continue
        assert loss.notes, loss.name
        if any(param.name == "input" for param in loss.params):
            assert "input" in loss.notes or "logits" in loss.notes, loss.name


@pytest.mark.parametrize(
    ("loss", "fragment"),
    [
        ("kl_div", "batchmean"),
        ("hinge", "{-1, 1} or {0, 1}"),
        ("brier", "scale_by_half"),
        ("bce", "scikit-learn's log_loss"),
        ("ce", "weighted mean"),
        ("softmax_focal", "Keras' default alpha"),
    ],
)
def test_describe_states_how_conventions_differ(capsys, loss, fragment):
    outcome = run(capsys, "describe", loss)
    assert outcome.code == 0
    assert fragment in " ".join(outcome.out.split())
