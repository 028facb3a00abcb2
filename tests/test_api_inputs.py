"""What notebook users hand ``losscli.evaluate``: polars and Arrow PyCapsule objects, pandas
frames of every kind, Series and arrays for one role, and ``per_row=True``.

Every value is checked against the same loss run on plain NumPy arrays in a dict, the input that
the rest of the suite checks against reference values; every refusal is a one-line LossCliError.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import losscli
from losscli.errors import InputError, LossCliError, UsageError
from losscli.io import memory
from tests.conftest import close, run_script

try:
    import polars as pl
except ImportError:  # the test extra installs it; without it only the polars tests are skipped
    pl = None
needs_polars = pytest.mark.skipif(pl is None, reason="polars: pip install -e '.[test]'")

RNG = np.random.default_rng(11)
ROWS = 200
PRED = RNG.normal(size=ROWS)
TARGET = RNG.normal(size=ROWS)
WEIGHT = RNG.uniform(0.5, 2.0, ROWS)
SCORES = RNG.normal(size=(ROWS, 3))
LABELS = RNG.integers(0, 3, ROWS)
LOSSES = "mse,mae,huber:delta=0.5"


def reference(losses: str = LOSSES, **arrays: np.ndarray) -> dict[str, float]:
    """Each loss's value over plain NumPy arrays."""
    data = {"pred": PRED, "target": TARGET, **arrays}
    weight = "weight" if "weight" in data else None
    report = losscli.evaluate(data, losses, pred="pred", target="target", weight=weight)
    return values(report)


def values(report: losscli.Report) -> dict[str, float]:
    return {result.label: result.value for result in report.results}


def same(report: losscli.Report, expected: dict[str, float]) -> bool:
    got = values(report)
    return got.keys() == expected.keys() and all(
        close(got[label], expected[label], 1e-12) for label in expected
    )


def refused(error: pytest.ExceptionInfo, kind: type[LossCliError], *fragments: str) -> bool:
    """A LossCliError of ``kind``: one line of what is wrong, one of how to fix it."""
    text = str(error.value)
    lines = text.splitlines()
    assert isinstance(error.value, kind), repr(error.value)
    assert len(lines) <= 2 and error.value.hint, text
    missing = [fragment for fragment in fragments if fragment not in text]
    assert not missing, f"{missing} not in {text!r}"
    return True


# -- 1. polars, the Arrow PyCapsule interface, pandas frames of every kind ------------------------


class StreamOnly:
    """A producer with nothing but the Arrow C stream interface (as polars, DuckDB, ...)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self.table.__arrow_c_stream__(requested_schema)


class ArrayOnly:
    """A producer with nothing but the Arrow C array interface: one record batch."""

    def __init__(self, batch: pa.RecordBatch) -> None:
        self.batch = batch

    def __arrow_c_array__(self, requested_schema=None):
        return self.batch.__arrow_c_array__(requested_schema)


@needs_polars
def test_polars_dataframe():
    frame = pl.DataFrame({"prediction": PRED, "target": TARGET})
    assert same(losscli.evaluate(frame, LOSSES), reference())


@needs_polars
def test_polars_nulls_are_missing_values():
    pred = PRED.copy()
    pred[[3, 50]] = np.nan
    frame = pl.DataFrame({"pred": pl.Series(pred).fill_nan(None), "target": TARGET})
    assert frame["pred"].null_count() == 2
    report = losscli.evaluate(frame, LOSSES, nan="drop")
    expected = losscli.evaluate({"pred": pred, "target": TARGET}, LOSSES, nan="drop")
    assert same(report, values(expected))
    assert report.inputs["rows_dropped"] == 2
    with pytest.raises(InputError) as error:
        losscli.evaluate(frame, LOSSES)
    assert refused(error, InputError, "'pred'", "row 4")


@needs_polars
def test_polars_targets_and_series():
    frame = pl.DataFrame({"pred": PRED})
    report = losscli.evaluate(frame, LOSSES, targets=pl.DataFrame({"y": TARGET}))
    assert same(report, reference())
    report = losscli.evaluate(None, LOSSES, pred=pl.Series(PRED), target=pl.Series(TARGET))
    assert same(report, reference())
    assert same(losscli.evaluate({"pred": pl.Series(PRED), "target": TARGET}, LOSSES), reference())


@needs_polars
def test_polars_lazyframe_is_refused_with_how_to_run_it():
    lazy = pl.DataFrame({"pred": PRED, "target": TARGET}).lazy()
    with pytest.raises(UsageError) as error:
        losscli.evaluate(lazy, "mse")
    assert refused(error, UsageError, "LazyFrame", ".collect()")


def test_any_arrow_c_stream_producer():
    table = pa.table({"pred": PRED, "target": TARGET})
    assert same(losscli.evaluate(StreamOnly(table), LOSSES), reference())
    # Read as a stream: the batches arrive one at a time, never joined into a table.
    batches = pa.Table.from_batches(table.to_batches(max_chunksize=30))
    assert same(losscli.evaluate(StreamOnly(batches), LOSSES, chunk_rows=7), reference())


def test_any_arrow_c_array_producer():
    batch = pa.RecordBatch.from_pydict({"pred": PRED, "target": TARGET})
    assert same(losscli.evaluate(ArrayOnly(batch), LOSSES), reference())


def test_the_stream_import_of_pyarrow_14(monkeypatch):
    """pyarrow 14 has no RecordBatchReader.from_stream; its C stream importer reads the same."""
    monkeypatch.setattr(memory, "STREAM_READER", None)
    table = pa.table({"pred": PRED, "target": TARGET})
    assert same(losscli.evaluate(StreamOnly(table), LOSSES), reference())


class NewerTypes(StreamOnly):
    """A stream this pyarrow cannot import (as polars' string views before pyarrow 16)."""

    def __arrow_c_stream__(self, requested_schema=None):
        raise pa.ArrowInvalid("Invalid or unsupported format string: 'vu'")


class NewerTypesWithExport(NewerTypes):
    def to_arrow(self):
        return self.table


def test_a_stream_in_newer_types_is_read_through_its_own_export():
    table = pa.table({"pred": PRED, "target": TARGET})
    assert same(losscli.evaluate(NewerTypesWithExport(table), LOSSES), reference())
    with pytest.raises(InputError) as error:
        losscli.evaluate(NewerTypes(table), LOSSES)
    assert refused(error, InputError, "<NewerTypes>", f"pyarrow {pa.__version__}", "'vu'")


def test_a_stream_producer_does_not_import_polars():
    script = (
        "import sys, pyarrow as pa, losscli\n"
        "class S:\n"
        "    def __arrow_c_stream__(self, requested_schema=None):\n"
        "        return pa.table({'pred': [1.0, 2.0], 'target': [1.0, 4.0]}).__arrow_c_stream__()\n"
        "print(losscli.evaluate(S(), 'mse')['mse'], 'polars' in sys.modules)\n"
    )
    outcome = run_script(script)
    assert outcome.code == 0, outcome.err
    assert outcome.out.split() == ["2.0", "False"]


def test_pandas_with_a_shuffled_index():
    order = RNG.permutation(ROWS)
    frame = pd.DataFrame({"pred": PRED, "target": TARGET}, index=order * 10)
    assert same(losscli.evaluate(frame, LOSSES), reference())


def test_pandas_categorical_numbers_are_their_values_not_their_codes():
    labels = LABELS.astype(float) * 10  # categories 0, 10, 20: codes 0, 1, 2 would differ
    frame = pd.DataFrame({"pred": PRED, "target": pd.Categorical(labels)})
    assert same(losscli.evaluate(frame, LOSSES), reference(target=labels))


def test_pandas_categorical_strings_are_not_numbers():
    frame = pd.DataFrame({"pred": PRED, "target": pd.Categorical(np.where(LABELS, "a", "b"))})
    with pytest.raises(InputError) as error:
        losscli.evaluate(frame, "mse")
    assert refused(error, InputError, "'target'", "not numbers")


def test_pandas_nullable_dtypes():
    pred = PRED.copy()
    pred[7] = np.nan
    frame = pd.DataFrame(
        {
            "pred": pd.array(np.where(np.isnan(pred), None, pred), dtype="Float64"),
            "target": pd.array(LABELS, dtype="Int64"),
        }
    )
    frame.loc[9, "target"] = pd.NA
    report = losscli.evaluate(frame, LOSSES, nan="drop")
    target = LABELS.astype(float)
    target[9] = np.nan
    expected = losscli.evaluate({"pred": pred, "target": target}, LOSSES, nan="drop")
    assert same(report, values(expected))
    assert report.inputs["rows_dropped"] == 2
    with pytest.raises(InputError) as error:
        losscli.evaluate(frame, LOSSES)
    assert refused(error, InputError, "'pred'", "row 8")


def test_pandas_column_labels_that_are_not_strings():
    frame = pd.DataFrame({0: PRED, 1: TARGET, "w": WEIGHT})
    report = losscli.evaluate(frame, LOSSES, pred=0, target=1, weight="w")
    assert same(report, reference(weight=WEIGHT))
    assert same(losscli.evaluate(frame, LOSSES, pred="0", target="1", weight="w"), values(report))


def test_pandas_unused_columns_are_not_converted():
    frame = pd.DataFrame({"pred": PRED, "target": TARGET, "notes": [{"a": 1}, "x"] * (ROWS // 2)})
    assert same(losscli.evaluate(frame, LOSSES), reference())
    with pytest.raises(InputError) as error:
        losscli.evaluate(frame, "mse", target="notes")
    assert refused(error, InputError, "'notes'")


@pytest.mark.parametrize(
    ("frame", "fragments"),
    [
        (pd.DataFrame([[1.0, 2.0, 3.0]], columns=["pred", "target", "pred"]), ["named 'pred'"]),
        (pd.DataFrame([[1.0, 2.0]], columns=[1, "1"]), ["named '1'"]),
        (
            pd.DataFrame(
                [[1.0, 2.0]], columns=pd.MultiIndex.from_tuples([("a", "pred"), ("a", "target")])
            ),
            ["MultiIndex", "df.columns ="],
        ),
        (pd.DataFrame(), ["no columns"]),
        (pd.DataFrame({"pred": [], "target": []}), ["no data rows"]),
    ],
    ids=["duplicate-names", "1-and-'1'", "multiindex-columns", "empty", "no-rows"],
)
def test_pandas_frames_that_cannot_be_read(frame, fragments):
    with pytest.raises(InputError) as error:
        losscli.evaluate(frame, "mse")
    assert refused(error, InputError, *fragments)


# -- 2. values for one role: Series, arrays, lists ------------------------------------------------


def test_series_for_every_role_without_data():
    report = losscli.evaluate(
        None, LOSSES, pred=pd.Series(PRED), target=pd.Series(TARGET), weight=pd.Series(WEIGHT)
    )
    assert same(report, reference(weight=WEIGHT))
    assert report.inputs["files"] == ["<arrays>"]
    report = losscli.evaluate(losses=LOSSES, pred=list(PRED), target=TARGET)  # data left out
    assert same(report, reference())


def test_values_beside_columns_of_a_table():
    frame = pd.DataFrame({"score": PRED, "other": TARGET})
    report = losscli.evaluate(frame, LOSSES, pred="score", target=pd.Series(TARGET))
    assert same(report, reference())
    report = losscli.evaluate(frame, LOSSES, pred="score", target="other", weight=WEIGHT)
    assert same(report, reference(weight=WEIGHT))
    table = pa.table({"score": PRED})
    assert same(losscli.evaluate(table, LOSSES, pred="score", target=TARGET), reference())


def test_values_beside_a_stream_are_paired_batch_by_batch():
    table = pa.table({"pred": PRED})
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=17))
    report = losscli.evaluate(reader, LOSSES, target=TARGET, chunk_rows=40)
    assert same(report, reference())


@pytest.mark.parametrize("length", [ROWS - 1, ROWS + 5])
def test_values_beside_a_stream_must_have_its_length(length):
    table = pa.table({"pred": PRED})
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=17))
    with pytest.raises(InputError) as error:
        losscli.evaluate(reader, "mse", target=np.zeros(length))
    assert refused(error, InputError, f"target= has {length} values", f"has {ROWS} rows")


def test_targets_given_as_values():
    frame = pd.DataFrame({"pred": PRED})
    assert same(losscli.evaluate(frame, LOSSES, targets=pd.Series(TARGET)), reference())
    assert same(losscli.evaluate(frame, LOSSES, targets=list(TARGET)), reference())


def test_a_matrix_or_frame_is_a_vector_per_row():
    expected = losscli.evaluate({"pred": SCORES, "target": LABELS}, "ce")["ce"]
    for pred in (SCORES, pd.DataFrame(SCORES, columns=["a", "b", "c"]), SCORES.tolist()):
        report = losscli.evaluate(None, "ce", pred=pred, target=pd.Series(LABELS))
        assert math.isclose(report["ce"], expected, rel_tol=1e-12)
    frame = pd.DataFrame({"a": SCORES[:, 0], "b": SCORES[:, 1], "c": SCORES[:, 2], "y": LABELS})
    report = losscli.evaluate(frame, "ce", pred=["a", "b", "c"], target="y")  # a group of columns
    assert math.isclose(report["ce"], expected, rel_tol=1e-12)


def test_lengths_must_agree():
    with pytest.raises(InputError) as error:
        losscli.evaluate(None, "mse", pred=PRED, target=TARGET[:-1])
    assert refused(error, InputError, f"pred= has {ROWS}", f"target= has {ROWS - 1}")
    frame = pd.DataFrame({"pred": PRED})
    with pytest.raises(InputError) as error:
        losscli.evaluate(frame, "mse", target=TARGET[:-1])
    assert refused(error, InputError, f"target= has {ROWS - 1}", f"has {ROWS} rows")


def test_different_pandas_indexes_are_refused_not_guessed():
    pred = pd.Series(PRED, index=np.arange(ROWS)[::-1])
    target = pd.Series(TARGET)
    with pytest.raises(InputError) as error:
        losscli.evaluate(None, "mse", pred=pred, target=target)
    assert refused(error, InputError, "pred=", "target=", "position or by label", "reset_index")
    frame = pd.DataFrame({"pred": PRED}, index=np.arange(ROWS) + 1)
    with pytest.raises(InputError) as error:
        losscli.evaluate(frame, "mse", target=target)
    assert refused(error, InputError, "data=", "target=", "reset_index(drop=True)")
    with pytest.raises(InputError) as error:
        losscli.evaluate(frame, "mse", targets=pd.DataFrame({"y": TARGET}))
    assert refused(error, InputError, "data=", "targets=")
    with pytest.raises(InputError) as error:
        losscli.evaluate({"pred": pred, "target": target}, "mse")
    assert refused(error, InputError, "data['pred']", "data['target']")
    # The same labels in the same order pair the same rows either way: no question to ask.
    same_index = pd.Series(TARGET, index=pred.index)
    assert same(losscli.evaluate(None, LOSSES, pred=pred, target=same_index), reference())


def test_messages_name_the_parameter():
    pred = PRED.copy()
    pred[4] = np.nan
    with pytest.raises(InputError) as error:
        losscli.evaluate(None, "mse", pred=pd.Series(pred), target=TARGET)
    assert refused(error, InputError, "pred= has a missing value", "row 5")
    assert "olumn" not in error.value.message
    with pytest.raises(InputError) as error:
        losscli.evaluate(None, "mse", pred=PRED, target=TARGET, weight=-WEIGHT)
    assert refused(error, InputError, "weight= has")
    assert "olumn" not in error.value.message
    with pytest.raises(InputError) as error:
        losscli.evaluate(None, "bce", pred=np.full(ROWS, 0.5), target=TARGET + 5)
    assert refused(error, InputError, "target= is")
    with pytest.raises(InputError) as error:
        losscli.evaluate(None, "mse", pred=np.array(["a"] * ROWS), target=TARGET)
    assert refused(error, InputError, "pred= holds")


def test_compare_takes_target_values():
    baseline, candidate = {"pred": PRED}, {"pred": PRED * 0.9}
    expected = losscli.compare({"pred": PRED, "target": TARGET}, candidate, LOSSES).to_dict()
    got = losscli.compare(baseline, candidate, LOSSES, target=pd.Series(TARGET)).to_dict()
    assert got["comparisons"] == expected["comparisons"]
    with pytest.raises(UsageError) as error:
        losscli.compare(baseline, candidate, "mse", pred=PRED, target=TARGET)
    assert refused(error, UsageError, "pred=")
    with pytest.raises(InputError) as error:
        losscli.compare(
            pd.DataFrame({"pred": PRED, "target": TARGET}),
            pd.DataFrame({"pred": PRED}, index=np.arange(ROWS) + 3),
            "mse",
        )
    assert refused(error, InputError, "baseline=", "candidate=")


def test_values_and_a_file_are_refused(tmp_path):
    path = tmp_path / "preds.parquet"
    pq.write_table(pa.table({"pred": PRED, "target": TARGET}), path)
    with pytest.raises(UsageError) as error:
        losscli.evaluate(path, "mse", target=TARGET)
    assert refused(error, UsageError, "target=", "path")


@pytest.mark.parametrize(
    ("arguments", "kind", "fragments"),
    [
        ({"data": None}, UsageError, ["data= is None"]),
        ({"data": None, "pred": "p", "target": TARGET}, UsageError, ["pred= names a column"]),
        ({"data": None, "pred": (x for x in PRED), "target": TARGET}, UsageError, ["iterator"]),
        ({"data": None, "pred": {1.0, 2.0}, "target": TARGET}, UsageError, ["a set"]),
        ({"data": None, "pred": [[1.0, 2.0], [3.0]], "target": [1, 2]}, InputError, ["pred="]),
        ({"data": None, "pred": np.ones((2, 2, 2)), "target": [1, 2]}, InputError, ["(2, 2, 2)"]),
    ],
    ids=["nothing", "name-without-table", "generator", "set", "ragged", "3-d"],
)
def test_values_that_cannot_be_read(arguments, kind, fragments):
    with pytest.raises(kind) as error:
        losscli.evaluate(losses="mse", **arguments)
    assert refused(error, kind, *fragments)


# -- 3. per_row=True ------------------------------------------------------------------------------


def test_per_row_in_memory_matches_the_per_row_file(tmp_path):
    ids = [f"r{i}" for i in range(ROWS)]
    data = {"id": ids, "pred": PRED, "target": TARGET}
    report = losscli.evaluate(data, "mse,mae,r2", per_row=True, id_column="id", chunk_rows=64)
    frame = report.per_row
    assert list(frame.columns) == ["id", "mse", "mae", "r2"]
    assert list(frame.index) == list(range(ROWS))
    assert [str(frame[label].dtype) for label in ("mse", "mae", "r2")] == ["float64"] * 3
    assert frame["r2"].isna().all()  # no per-row values, as in the file
    np.testing.assert_allclose(frame["mse"], (PRED - TARGET) ** 2, rtol=1e-15)
    np.testing.assert_allclose(frame["mae"], np.abs(PRED - TARGET), rtol=1e-15)
    assert list(frame["id"]) == ids
    path = tmp_path / "rows.parquet"
    losscli.evaluate(data, "mse,mae,r2", per_row=path, id_column="id", chunk_rows=64)
    written = pq.read_table(path).to_pandas()
    pd.testing.assert_frame_equal(frame, written, check_dtype=False)


def test_per_row_leaves_dropped_rows_empty_in_order():
    pred = PRED.copy()
    pred[[0, 65, 199]] = np.nan
    report = losscli.evaluate(
        None, "mse", pred=pd.Series(pred), target=TARGET, nan="drop", per_row=True, chunk_rows=64
    )
    frame = report.per_row
    assert len(frame) == ROWS
    assert list(np.flatnonzero(frame["mse"].isna())) == [0, 65, 199]
    kept = ~np.isnan(pred)
    np.testing.assert_allclose(frame["mse"][kept], (pred[kept] - TARGET[kept]) ** 2, rtol=1e-15)
    assert math.isclose(frame["mse"].mean(), report["mse"], rel_tol=1e-12)


def test_per_row_keeps_integer_ids_with_a_null_exact():
    big = 2**53 + 1  # a float64 would round it to 2**53
    ids = pd.array([big, None] + list(range(ROWS - 2)), dtype="Int64")
    frame = pd.DataFrame({"key": ids, "pred": PRED, "target": TARGET})
    rows = losscli.evaluate(frame, "mse", per_row=True, id_column="key").per_row
    assert str(rows["key"].dtype) == "Int64"
    assert rows["key"][0] == big and rows["key"].isna().tolist()[:2] == [False, True]


def test_per_row_is_not_in_the_json():
    data = {"pred": PRED, "target": TARGET}
    with_rows = losscli.evaluate(data, LOSSES, per_row=True)
    without = losscli.evaluate(data, LOSSES)
    assert with_rows.to_dict() == without.to_dict()
    assert without.per_row is None
    # A copy of the frame: equal reports, never a DataFrame compared for truth.
    assert replace(with_rows, per_row=with_rows.per_row.copy()) == with_rows
    assert losscli.evaluate(data, LOSSES, per_row=False).per_row is None
    assert "per_row" not in repr(with_rows)


def test_per_row_options_that_cannot_work():
    data = {"mse": PRED, "pred": PRED, "target": TARGET}
    with pytest.raises(UsageError) as error:
        losscli.evaluate(data, "mse", per_row=True, id_column="mse")
    assert refused(error, UsageError, "'mse'")
    with pytest.raises(UsageError) as error:
        losscli.evaluate(data, "mse", per_row=3)
    assert refused(error, UsageError, "per_row=3")


# -- 4. other things a notebook holds -------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pa.RecordBatch.from_pydict({"pred": PRED, "target": TARGET}),
        {"pred": pa.chunked_array([PRED[:70], PRED[70:]]), "target": pa.array(TARGET)},
        {"pred": list(PRED), "target": list(TARGET)},
        {"pred": pd.Series(PRED), "target": pd.Series(TARGET).to_numpy()},
        pa.Table.from_batches(pa.table({"pred": PRED, "target": TARGET}).to_batches(50)),
    ],
    ids=["record-batch", "chunked-arrays", "lists", "series", "chunked-table"],
)
def test_other_tables(data):
    assert same(losscli.evaluate(data, LOSSES), reference())


@pytest.mark.parametrize(
    ("data", "kind", "fragments"),
    [
        ((x for x in [PRED]), UsageError, ["iterator", "RecordBatchReader.from_batches"]),
        ([pd.DataFrame({"pred": PRED})], UsageError, ["list holding a pandas.DataFrame"]),
        (pd.Series(PRED), UsageError, ["pandas.Series", "pred="]),
        (np.ones((3, 2)), UsageError, ["numpy.ndarray", "dict"]),
        (42, UsageError, ["data= is an int"]),
        ({"pred": PRED, "target": TARGET[:5]}, InputError, ["data['target'] has 5"]),
        ({"pred": np.ones((2, 2, 2)), "target": [1, 2]}, InputError, ["(2, 2, 2)"]),
        ({1: PRED, "1": TARGET}, InputError, ["'1'"]),
    ],
    ids=["generator", "list-of-frames", "series", "array", "int", "uneven", "3-d", "1-and-'1'"],
)
def test_other_inputs_are_refused_in_one_line(data, kind, fragments):
    with pytest.raises(kind) as error:
        losscli.evaluate(data, "mse")
    assert refused(error, kind, *fragments)


def test_a_masked_array_is_missing_where_masked():
    mask = np.zeros(ROWS, dtype=bool)
    mask[[2, 90]] = True
    report = losscli.evaluate(
        None, LOSSES, pred=np.ma.masked_array(PRED, mask), target=TARGET, nan="drop"
    )
    expected = losscli.evaluate(
        {"pred": np.where(mask, np.nan, PRED), "target": TARGET}, LOSSES, nan="drop"
    )
    assert same(report, values(expected))
    assert report.inputs["rows_dropped"] == 2
    with pytest.raises(InputError) as error:
        losscli.evaluate({"pred": np.ma.masked_array(PRED, mask), "target": TARGET}, "mse")
    assert refused(error, InputError, "'pred'", "row 3")


def test_an_array_that_refuses_numpy():
    class NeedsGrad:  # as a torch tensor that requires grad
        def __array__(self, dtype=None, copy=None):
            raise RuntimeError("Can't call numpy() on Tensor that requires grad.")

    with pytest.raises(InputError) as error:
        losscli.evaluate(None, "mse", pred=NeedsGrad(), target=TARGET)
    assert refused(error, InputError, "pred=", "requires grad")


@needs_polars
def test_polars_strings_and_categoricals_group_rows():
    """polars hands strings over as Arrow string views, categoricals as dictionaries of them."""
    groups = np.repeat(["north", "south", "east", "west"], ROWS // 4)  # long runs of each
    expected = losscli.evaluate({"pred": PRED, "target": TARGET, "g": groups}, "mse", by="g")
    for column in (pl.Series(groups), pl.Series(groups, dtype=pl.Categorical)):
        frame = pl.DataFrame({"pred": PRED, "target": TARGET, "g": column})
        report = losscli.evaluate(frame, "mse", by="g")
        assert [(r.group, r.value) for r in report.results] == [
            (r.group, r.value) for r in expected.results
        ]


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        ({"losses": ["mse", 3]}, ["losses= holds 3"]),
        ({"losses": "mse", "columns": ["var"]}, ["columns= is a list"]),
        ({"losses": "mse", "by": pd.Series(LABELS)}, ["by= is a pandas.Series", "by='region'"]),
        ({"losses": "mse", "id_column": pd.Series(LABELS), "per_row": True}, ["id_column="]),
        ({"losses": None}, ["No loss given"]),
    ],
    ids=["losses", "columns", "by", "id_column", "no-losses"],
)
def test_naming_parameters_given_something_else(arguments, fragments):
    with pytest.raises(UsageError) as error:
        losscli.evaluate({"pred": PRED, "target": TARGET}, **arguments)
    assert refused(error, UsageError, *fragments)
