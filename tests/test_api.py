"""The Python API: ``losscli.evaluate`` over paths and in-memory tables, and its Report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest

import losscli
from losscli.errors import InputError, UsageError
from losscli.io.source_reader import SourceReader

RNG = np.random.default_rng(2)
PRED = RNG.normal(size=500)
TARGET = RNG.normal(size=500)
MSE = float(np.mean((PRED - TARGET) ** 2))


@pytest.mark.parametrize(
    "data",
    [
        pd.DataFrame({"prediction": PRED, "target": TARGET}),
        pa.table({"prediction": PRED, "target": TARGET}),
        pa.RecordBatchReader.from_batches(
            pa.schema([("prediction", pa.float64()), ("target", pa.float64())]),
            pa.table({"prediction": PRED, "target": TARGET}).to_batches(max_chunksize=64),
        ),
        {"prediction": PRED, "target": TARGET},
    ],
    ids=["pandas", "arrow-table", "arrow-reader", "numpy-dict"],
)
def test_in_memory_inputs(data):
    report = losscli.evaluate(data, "mse")
    assert math.isclose(report["mse"], MSE, rel_tol=1e-13)


def test_numpy_matrices_are_vector_rows():
    pred, target = RNG.normal(size=(50, 3)), RNG.normal(size=(50, 3))
    report = losscli.evaluate({"pred": pred, "target": target}, "mae")
    assert math.isclose(report["mae"], float(np.mean(np.abs(pred - target))), rel_tol=1e-13)


def test_path_input_and_report(tmp_path):
    path = tmp_path / "preds.csv"
    pa_csv.write_csv(pa.table({"y_pred": PRED, "y_true": TARGET, "w": np.ones(500)}), path)
    report = losscli.evaluate(path, ["mse", "huber:delta=0.5,r2"], weight="w")
    assert [r.label for r in report.results] == ["mse", "huber:delta=0.5", "r2"]
    assert math.isclose(report["mse"], MSE, rel_tol=1e-13)
    document = report.to_dict()
    assert document["inputs"] == {
        "files": [str(path)],
        "targets": None,
        "rows_read": 500,
        "rows_used": 500,
        "rows_dropped": 0,
    }
    assert document["results"][1]["params"] == {"delta": 0.5, "reduction": "mean"}
    frame = report.to_frame()
    assert list(frame["label"]) == ["mse", "huber:delta=0.5", "r2"]
    assert frame.loc[0, "value"] == report["mse"]
    with pytest.raises(KeyError, match="labels: mse"):
        report["mae"]


def test_several_losses_read_the_input_once(tmp_path, monkeypatch):
    path = tmp_path / "preds.csv"
    pa_csv.write_csv(pa.table({"pred": PRED, "target": TARGET}), path)
    calls = []
    original = SourceReader.batches

    def counted(self, columns, numeric, coded=frozenset(), rows=None):
        calls.append(tuple(columns))
        yield from original(self, columns, numeric, coded, rows)

    monkeypatch.setattr(SourceReader, "batches", counted)
    report = losscli.evaluate(str(path), "mse,mae,huber,log_cosh,r2,max_error")
    assert len(report.results) == 6
    assert calls == [("pred", "target")]


def test_columns_for_other_roles():
    var = RNG.uniform(0.5, 2.0, 500)
    data = {"pred": PRED, "target": TARGET, "sigma2": var}
    report = losscli.evaluate(data, "gaussian_nll", columns={"var": "sigma2"})
    expected = float(np.mean(0.5 * (np.log(var) + (PRED - TARGET) ** 2 / var)))
    assert math.isclose(report["gaussian_nll"], expected, rel_tol=1e-13)
    with pytest.raises(InputError, match=r'Name it with columns\["var"\]= COLUMN'):
        losscli.evaluate({"pred": PRED, "target": TARGET}, "gaussian_nll")


def test_errors_are_typed():
    with pytest.raises(UsageError, match="No loss given"):
        losscli.evaluate({"pred": PRED, "target": TARGET}, [])
    with pytest.raises(UsageError, match="^nan skip is not a policy"):
        losscli.evaluate({"pred": PRED, "target": TARGET}, "mse", nan="skip")
    with pytest.raises(InputError, match="sum to 0"):
        losscli.evaluate({"pred": PRED, "target": TARGET, "w": np.zeros(500)}, "mse", weight="w")
    with pytest.raises(InputError, match="weights must be finite and >= 0"):
        losscli.evaluate({"pred": PRED, "target": TARGET, "w": -np.ones(500)}, "mse", weight="w")
