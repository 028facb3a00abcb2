"""Losses over whole batches (circle, ntxent): the batch role, its runs, its limits and refusals.

Their reference values (Keras' Circle, optax's ntxent, batch by batch) are in
``tests/reference/libraries.json`` and ``compat.json``; here the batch rules themselves.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import losscli
from losscli.engine.batches import MAX_BATCH_ROWS
from losscli.errors import InputError, UsageError
from tests.conftest import close, evaluate_arrays, run


def embeddings(rows: int, seed: int = 0, batches: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    return {
        "pred": x / np.linalg.norm(x, axis=1, keepdims=True),
        "target": rng.integers(0, 3, rows).astype(float),
        "batch": np.repeat(np.arange(batches), -(-rows // batches))[:rows].astype(float),
    }


@pytest.mark.parametrize("loss", ["circle", "ntxent"])
def test_the_value_is_the_mean_of_each_batch_computed_alone(loss):
    data = embeddings(40)
    whole = evaluate_arrays(loss, data, chunk_rows=7)
    alone = []
    for b in range(4):
        rows = data["batch"] == b
        alone.append(evaluate_arrays(loss, {k: v[rows] for k, v in data.items() if k != "batch"}))
    assert close(whole, float(np.mean(alone)), 1e-12)


@pytest.mark.parametrize("loss", ["circle", "ntxent"])
def test_a_batch_weighs_the_mean_weight_of_its_rows(loss):
    data = embeddings(40)
    weight = np.repeat([1.0, 3.0, 0.0, 2.0], 10)
    alone = [
        evaluate_arrays(loss, {k: v[data["batch"] == b] for k, v in data.items() if k != "batch"})
        for b in range(4)
    ]
    expected = float(np.dot([1, 3, 0, 2], alone) / 6)
    assert close(evaluate_arrays(loss, data, weight=weight, chunk_rows=9), expected, 1e-12)


def test_a_batch_id_that_comes_back_is_refused_naming_its_row():
    data = embeddings(12, batches=3)
    data["batch"][8:] = 0.0  # batch 0 again after batch 1
    with pytest.raises(InputError, match=r"row 9.*one run of consecutive rows"):
        evaluate_arrays("ntxent", data, chunk_rows=5)
    with pytest.raises(InputError, match=r"row 9"):
        evaluate_arrays("ntxent", data)  # within one chunk too


def test_a_row_without_a_batch_is_refused(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("e,label,b\n0.1,0,1\n0.5,0,1\n0.2,1,\n0.3,1,2\n")
    with pytest.raises(InputError, match=r"'b' \(the batch\) has no value at row 3"):
        losscli.evaluate(
            str(path), "ntxent", pred="e", target="label", columns={"batch": "b"}, nan="propagate"
        )


def test_without_a_batch_column_the_input_is_one_batch_up_to_the_limit():
    data = embeddings(30)
    one = {k: v for k, v in data.items() if k != "batch"}
    assert close(
        evaluate_arrays("ntxent", one, chunk_rows=4),
        evaluate_arrays("ntxent", {**one, "batch": np.zeros(30)}),
        1e-12,
    )
    big = embeddings(MAX_BATCH_ROWS + 1, batches=1)
    with pytest.raises(InputError, match=r'(?s)whole input .*columns\["batch"\]=COLUMN'):
        evaluate_arrays("circle", {k: v for k, v in big.items() if k != "batch"}, chunk_rows=4096)
    with pytest.raises(InputError, match=r"more than 20,000 rows"):
        evaluate_arrays("circle", big, chunk_rows=4096)


def test_the_cli_names_the_batch_column_and_writes_circle_rows(tmp_path, capsys):
    data = embeddings(16)
    path = tmp_path / "e.csv"
    lines = ["e0,e1,e2,label,b"] + [
        ",".join(repr(float(v)) for v in [*row, t, b])
        for row, t, b in zip(data["pred"], data["target"], data["batch"], strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    rows = tmp_path / "rows.csv"
    outcome = run(
        capsys, "eval", "-l", "circle", "--pred", "e*", "--target", "label", "--col", "batch=b",
        "--per-row", rows, str(path), "-f", "json",
    )  # fmt: skip
    assert outcome.code == 0, outcome.err
    value = json.loads(outcome.out)["results"][0]["value"]
    assert close(value, evaluate_arrays("circle", data), 1e-12)
    assert len(rows.read_text().splitlines()) == 17


def test_batch_losses_do_not_run_on_a_cluster(tmp_path):
    data = embeddings(8)
    path = tmp_path / "e.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"p": data["pred"][:, 0], "t": data["target"]}), path)
    with pytest.raises(UsageError, match="cannot run on a cluster"):
        losscli.evaluate(str(path), "ntxent", pred="p", target="t", scheduler="local:1")
