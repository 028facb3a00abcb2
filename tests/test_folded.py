"""A wide pred folded a block of columns at a time gives the numbers of whole rows.

The whole-row path (``io.folded.FOLD_COLUMNS`` raised above the width) is the reference; it is
itself checked against hand-computed cross-entropy in test_memory.py and the reference tests.
Blocks are made narrow and short (a block boundary falls at many targets' columns), and the
file has several row groups.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import losscli
from losscli.errors import InputError
from losscli.io import arrow_readers, folded
from losscli.losses.classification import SoftmaxFold, cross_entropy
from losscli.losses.registry import Params, get_loss

CLASSES, ROWS = 70, 240


def wide_file(tmp_path, holes: bool = False, scale: float = 2.0):
    rng = np.random.default_rng(11)
    logits = rng.normal(0, scale, size=(ROWS, CLASSES))
    label = rng.integers(0, CLASSES, ROWS).astype(np.float64)
    label[::17] = -100  # ignore_index
    if holes:
        logits[5, 40] = np.nan
        logits[9, 3] = np.nan
        label[30] = np.nan
    columns = {f"logit_{k}": logits[:, k] for k in range(CLASSES)} | {"label": label}
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table(columns), path, row_group_size=100)
    return path


def run(path, losses, folded_too: bool, monkeypatch, width: int = 7, rows: int = 30, **options):
    """The run's results, folded (blocks of ``width`` columns, ``rows`` rows) or whole."""
    with monkeypatch.context() as patch:
        patch.setattr(folded, "FOLD_COLUMNS", 64 if folded_too else 10**6)
        patch.setattr(arrow_readers.ParquetReader, "_block_width", lambda self, wide: width)
        patch.setattr(arrow_readers, "BLOCK_NUMBERS", rows * width)
        report = losscli.evaluate(str(path), losses, pred="logit_*", target="label", **options)
    return report


SPECS = [
    "ce",
    "ce:label_smoothing=0.2",
    "ce:weight=[" + ",".join(str(1 + k % 5) for k in range(CLASSES)) + "]",
    "ce:weight=[" + ",".join(str(k % 3) for k in range(CLASSES)) + "],label_smoothing=0.1",
    "label_smoothing_ce",
    "ce:input=logits,reduction=sum",
]


@pytest.mark.parametrize("width, rows", [(1, 7), (7, 30), (64, 1000), (70, 13), (200, 240)])
def test_folded_ce_equals_whole_rows(tmp_path, monkeypatch, width, rows):
    path = wide_file(tmp_path)
    whole = run(path, SPECS, False, monkeypatch, per_row=True, chunk_rows=50)
    blocks = run(path, SPECS, True, monkeypatch, width, rows, per_row=True, chunk_rows=37)
    for mine, theirs in zip(blocks.results, whole.results, strict=True):
        assert mine.value == pytest.approx(theirs.value, rel=1e-12, abs=1e-12), mine.label
    for label in [result.label for result in whole.results]:
        np.testing.assert_allclose(
            blocks.per_row[label].to_numpy(), whole.per_row[label].to_numpy(), rtol=1e-12
        )


@pytest.mark.parametrize("nan", ["drop", "propagate"])
def test_missing_scores_follow_the_nan_policy_as_on_whole_rows(tmp_path, monkeypatch, nan):
    path = wide_file(tmp_path, holes=True)
    whole = run(path, SPECS[:3], False, monkeypatch, nan=nan)
    blocks = run(path, SPECS[:3], True, monkeypatch, nan=nan)
    for mine, theirs in zip(blocks.results, whole.results, strict=True):
        assert mine.n == theirs.n
        assert mine.value == pytest.approx(theirs.value, rel=1e-12, nan_ok=True)
    if nan == "drop":
        assert blocks.results[0].n == ROWS - 3  # two rows miss a score, one its label


def test_a_missing_score_is_named_by_its_column_and_row(tmp_path, monkeypatch):
    path = wide_file(tmp_path, holes=True)
    messages = []
    for folded_too in (False, True):
        with pytest.raises(InputError) as caught:
            run(path, "ce", folded_too, monkeypatch)
        messages.append(caught.value.message)
    assert messages[0] == messages[1]
    assert "'logit_40'" in messages[1] and "row 6" in messages[1]


def test_probability_rows_read_as_default_logits_are_refused_when_folded(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    p = rng.dirichlet(np.ones(CLASSES), size=ROWS)
    columns = {f"logit_{k}": p[:, k] for k in range(CLASSES)} | {"label": np.zeros(ROWS)}
    path = tmp_path / "probs.parquet"
    pq.write_table(pa.table(columns), path)
    with pytest.raises(InputError, match="input=probs"):
        run(path, "ce", True, monkeypatch)
    given = run(path, "ce:input=logits", True, monkeypatch).results[0].value
    assert given == pytest.approx(run(path, "ce:input=logits", False, monkeypatch).results[0].value)


def test_a_bad_class_index_is_refused_as_on_whole_rows(tmp_path, monkeypatch):
    path = wide_file(tmp_path)
    table = pq.read_table(path)
    label = table.column("label").to_numpy().copy()
    label[12] = CLASSES  # one past the last class
    pq.write_table(table.set_column(CLASSES, "label", pa.array(label)), path)
    with pytest.raises(InputError, match="row 13") as caught:
        run(path, "ce", True, monkeypatch)
    assert "not a class index 0..69" in caught.value.message


def fold_by_hand(pred, target, params, width):
    """The fold over blocks of ``width`` columns, straight from the loss layer."""
    fold = SoftmaxFold(params, "ce")
    state = fold.start(target, pred.shape[1])
    for offset in range(0, pred.shape[1], width):
        fold.add(state, pred[:, offset : offset + width], offset)
    return fold.finish(state, target, pred.shape[1])


@pytest.mark.parametrize("width", [1, 2, 3, 5])
def test_the_fold_keeps_extreme_logits_as_whole_rows_do(width):
    """Hand-made rows: logits of +-1e4 (exp would overflow unshifted), a row rising block by
    block (the running sum is rescaled each time), -inf scores (a class that cannot be), a
    first block of -inf only, and +inf and NaN (no number: NaN either way)."""
    inf = math.inf
    pred = np.array(
        [
            [1e4, -1e4, 0.0, 5.0, 1e4 - 1],
            [0.0, 1.0, 2.0, 3.0, 4.0],
            [-inf, -inf, -inf, 0.0, 1.0],
            [-inf, 3.0, -inf, 3.0, -inf],
            [inf, 0.0, 0.0, 0.0, 0.0],
            [0.0, np.nan, 0.0, 0.0, 0.0],
        ]
    )
    target = np.array([4.0, 0.0, 3.0, 1.0, 1.0, 2.0])
    params = Params(get_loss("ce").resolve_params({"input": "logits"}))
    params.given = frozenset({"input"})
    keywords = {k: params[k] for k in ("input", "weight", "ignore_index", "label_smoothing")}
    with np.errstate(all="ignore"):
        whole = cross_entropy(pred, target, rows="check", clip=0.0, clip_high=None, **keywords)
        folded_values = fold_by_hand(pred, target, params, width)
    np.testing.assert_allclose(folded_values, whole, rtol=1e-12)
    assert folded_values[3] == pytest.approx(math.log(2))  # by hand: two equal logits
    assert np.isnan(folded_values[4:]).all()
