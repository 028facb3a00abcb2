"""The streaming engine: results do not depend on chunk size, merge order, row order or file count.

Every registered loss is checked (the parametrisation reads the registry), so a new loss is covered
without being listed; ``test_no_loss_escapes_the_invariance_tests`` makes sure of it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from losscli.engine import runs
from losscli.engine.run import update
from losscli.engine.table import CompensatedSum, KeyedTable
from losscli.engine.tally import Options, Tally
from losscli.errors import InputError
from losscli.io import chunks
from losscli.losses import REGISTRY, build_request
from tests.conftest import REFERENCE_CASES, close, evaluate_arrays

LOSSES = sorted(REGISTRY)
TESTED: set[str] = set()


@dataclass
class Rows:
    """A chunk as the engine sees it, for driving accumulators directly."""

    roles: dict[str, np.ndarray]
    weight: np.ndarray | None
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return len(next(iter(self.roles.values())))

    def where(self, index: int) -> str:
        return f"row {index + 1}"

    def take(self, index: np.ndarray) -> Rows:
        weight = None if self.weight is None else self.weight[index]
        return Rows({r: v[index] for r, v in self.roles.items()}, weight, self.columns)


def valid_inputs(name: str) -> list[tuple[dict, dict]]:
    """(params, role -> values) of each worked example and reference case of the loss."""
    cases = [(dict(e.params), dict(e.inputs)) for e in REGISTRY[name].examples]
    cases += [(c["params"], c["inputs"]) for c in REFERENCE_CASES if c["loss"] == name]
    return cases


@st.composite
def datasets(draw, name: str) -> tuple[dict, Rows]:
    """Parameters and rows inside the loss's domain; maybe weights.

    Regression losses take any positive values, scalar or 3-wide. Every loss also gets rows drawn
    with replacement from one of its worked examples or reference cases, which hold the forms it
    accepts (class indices, probability rows, labels in {-1, 1}, ...).
    """
    rows = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    definition = REGISTRY[name]
    if definition.family == "regression" and draw(st.booleans()):
        width = draw(st.sampled_from([None, 3]))
        shape = (rows,) if width is None else (rows, width)
        decimals = draw(st.sampled_from([1, 6, 15]))
        params: dict = {}
        roles = {r: np.round(rng.uniform(0.05, 20.0, shape), decimals) for r in definition.roles}
    else:
        params, inputs = draw(st.sampled_from(valid_inputs(name)))
        arrays = {role: np.asarray(values, dtype=float) for role, values in inputs.items()}
        picked = rng.integers(len(next(iter(arrays.values()))), size=rows)
        roles = {role: values[picked] for role, values in arrays.items()}
    weight = None
    if draw(st.booleans()):
        weight = rng.uniform(0.0, 3.0, rows)
        weight[rng.integers(rows)] = 1.0
    columns = {role: (role,) for role in roles}
    return params, Rows(roles, weight, columns)


def tally_of(request) -> Tally:
    return Tally(lambda: request.definition.statistic(request.params), Options())


def single_pass(name: str, params: dict, data: Rows, parts: list[np.ndarray]) -> float:
    request = build_request(name, params)
    state = tally_of(request)
    for index in parts:
        update(state, request, data.take(index))
    return state.result()[0]


def merged(name: str, params: dict, data: Rows, parts: list[np.ndarray], order: list[int]) -> float:
    request = build_request(name, params)
    states = []
    for index in parts:
        state = tally_of(request)
        update(state, request, data.take(index))
        states.append(state)
    total = tally_of(request)
    for position in order:
        total.merge(states[position])
    return total.result()[0]


def split(rows: int, cuts: list[int]) -> list[np.ndarray]:
    edges = sorted({0, rows, *(c % (rows + 1) for c in cuts)})
    return [np.arange(lo, hi) for lo, hi in zip(edges, edges[1:], strict=False) if hi > lo]


@pytest.mark.parametrize("name", LOSSES)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_chunking_merging_and_row_order_do_not_change_the_result(name, data):
    TESTED.add(name)
    if "batch" in REGISTRY[name].roles:
        batch_invariance(name, data)
        return
    params, rows = data.draw(datasets(name))
    cuts = data.draw(st.lists(st.integers(0, 1000), max_size=6))
    everything = [np.arange(rows.rows)]
    try:
        whole = single_pass(name, params, rows, everything)
    except InputError:
        reject()  # rows that leave nothing to average (every target ignored): another draw
    parts = split(rows.rows, cuts)
    # A NaN stays a NaN (dice with smooth=0 on an empty mask is 0/0 in any order).
    assert close(single_pass(name, params, rows, parts), whole, abs_tol=1e-13)
    order = data.draw(st.permutations(range(len(parts))))
    assert close(merged(name, params, rows, parts, list(order)), whole, abs_tol=1e-13)
    shuffled = data.draw(st.permutations(range(rows.rows)))
    assert close(
        single_pass(name, params, rows.take(np.array(shuffled)), everything), whole, abs_tol=1e-13
    )


def batch_invariance(name: str, data: st.DataObject) -> None:
    """A loss over whole batches depends on the order of rows within a batch (Keras' diagonal,
    optax's pairs do not, but nothing promises it) and on which rows share a batch, so rows are
    not shuffled or merged across parts: its value must not change with the chunk size (a batch
    split between chunks), with the order of the batches, or with the batches' ids."""
    params, inputs = data.draw(st.sampled_from(valid_inputs(name)))
    arrays = {role: np.asarray(values, dtype=float) for role, values in inputs.items()}
    rows = len(arrays["pred"])
    batch = arrays.get("batch", np.zeros(rows))
    starts = np.flatnonzero(np.r_[True, batch[1:] != batch[:-1]])
    runs = [np.arange(a, b) for a, b in zip(starts, [*starts[1:], rows], strict=True)]
    weight = np.random.default_rng(data.draw(st.integers(0, 99))).uniform(0.1, 3.0, rows)
    weight = weight if data.draw(st.booleans()) else None
    whole = evaluate_arrays(name, arrays, params, weight, chunk_rows=1 << 16)
    chunk_rows = data.draw(st.integers(1, rows + 1))
    assert close(evaluate_arrays(name, arrays, params, weight, chunk_rows=chunk_rows), whole, 1e-12)
    permuted = [runs[i] for i in data.draw(st.permutations(range(len(runs))))]
    order = np.concatenate(permuted)
    moved = {role: values[order] for role, values in arrays.items()}
    if "batch" in arrays:  # new ids, still one run per batch
        moved["batch"] = np.repeat(
            np.arange(len(runs))[::-1] * 10.0 + 3, [len(r) for r in permuted]
        )
    moved_weight = None if weight is None else weight[order]
    value = evaluate_arrays(name, moved, params, moved_weight, chunk_rows=chunk_rows)
    assert close(value, whole, 1e-12)


def test_no_loss_escapes_the_invariance_tests():
    # Runs after the parametrised test above (file order); every registered loss must be in it.
    assert set(REGISTRY) == TESTED


@pytest.mark.parametrize("name", LOSSES)
def test_chunk_size_through_the_api(name):
    # The largest case the loss has, repeated to 1000 rows, with random weights.
    params, inputs = max(valid_inputs(name), key=lambda case: len(next(iter(case[1].values()))))
    rng = np.random.default_rng(3)
    size = len(next(iter(inputs.values())))
    picked = rng.integers(size, size=1000)
    if "batch" in inputs:  # a batch is one run of rows
        picked = picked[np.argsort(np.asarray(inputs["batch"])[picked], kind="stable")]
    rows = {role: np.asarray(values, dtype=float)[picked] for role, values in inputs.items()}
    weight = rng.uniform(0.0, 2.0, 1000)
    whole = evaluate_arrays(name, rows, params, weight=weight, chunk_rows=1000)
    for chunk_rows in (1, 7, 333):
        value = evaluate_arrays(name, rows, params, weight=weight, chunk_rows=chunk_rows)
        assert math.isclose(value, whole, rel_tol=1e-12), (chunk_rows, value, whole)


def test_compensated_sum_recovers_what_plain_addition_loses():
    values = [1e16, 1.0, -1e16, 1.0] * 1000
    total = CompensatedSum()
    for value in values:
        total.add(value)
    assert total.value == math.fsum(values) == 2000.0
    assert sum(values) != 2000.0


def test_compensated_sums_merge_in_any_order():
    rng = random.Random(5)
    values = [rng.uniform(-1, 1) * 10 ** rng.randint(-8, 12) for _ in range(2000)]
    pieces = [values[i : i + 97] for i in range(0, len(values), 97)]
    states = []
    for piece in pieces:
        state = CompensatedSum()
        for value in piece:
            state.add(value)
        states.append(state)
    rng.shuffle(states)
    total = CompensatedSum()
    for state in states:
        total.merge(state)
    assert math.isclose(total.value, math.fsum(values), rel_tol=1e-15)


def test_compensated_sum_of_arrays():
    total = CompensatedSum((2,))
    for _ in range(1000):
        total.add(np.array([1e16, 1.0]))
        total.add(np.array([-1e16, 1.0]))
    assert total.value.tolist() == [0.0, 2000.0]


def _exact_r2(pred, target, weight) -> float:
    # Exact rational arithmetic on the same float inputs.
    w, t, p = ([Fraction(float(v)) for v in column] for column in (weight, target, pred))
    mean = sum(a * b for a, b in zip(w, t, strict=True)) / sum(w)
    total = sum(a * (b - mean) ** 2 for a, b in zip(w, t, strict=True))
    residual = sum(a * (b - c) ** 2 for a, b, c in zip(w, t, p, strict=True))
    return float(1 - residual / total)


def test_centred_moments_keep_every_digit_of_a_small_spread_around_a_large_mean():
    rng = np.random.default_rng(11)
    target = 1e9 + rng.normal(0, 1, 200)
    pred = target + rng.normal(0, 0.5, 200)
    weight = rng.uniform(0, 2, 200)
    exact = _exact_r2(pred, target, weight)
    for chunk_rows in (200, 37, 1):
        value = evaluate_arrays(
            "r2", {"pred": pred, "target": target}, weight=weight, chunk_rows=chunk_rows
        )
        assert math.isclose(value, exact, rel_tol=1e-12), chunk_rows


def test_tables_centred_on_different_shifts_merge_to_the_exact_value():
    # Each part's table centres the target on its own first row; merging re-centres one on the
    # other's shift before adding.
    rng = np.random.default_rng(12)
    target = 1e9 + rng.normal(0, 1, 300)
    pred = target + rng.normal(0, 0.5, 300)
    weight = rng.uniform(0.5, 2, 300)
    data = Rows({"pred": pred, "target": target}, weight, {"pred": ("p",), "target": ("t",)})
    parts = [np.arange(0, 100), np.arange(100, 300)]
    assert math.isclose(
        merged("r2", {}, data, parts, [1, 0]), _exact_r2(pred, target, weight), rel_tol=1e-12
    )


# -- per-key state: keys that come in runs ------------------------------------------------------


def _keyed(keys, columns, weight, run_length, monkeypatch):
    monkeypatch.setattr(runs, "RUN_LENGTH", run_length)
    state = KeyedTable(len(columns))
    for part in (slice(0, 700), slice(700, None)):  # two chunks, a run across the cut
        codes = keys[part].astype(np.intp)
        state.reserve(int(codes.max()) + 1, 1)
        state.add([c[part] for c in columns], codes, None, None, len(codes))
        state.count(None if weight is None else weight[part], len(codes), codes, None)
    return state.view()


@pytest.mark.parametrize("weighted", [False, True])
def test_keyed_sums_of_runs_equal_those_row_by_row(monkeypatch, weighted):
    rng = np.random.default_rng(4)
    keys = np.repeat([3.0, 0, 5, 3, 1], [250, 300, 150, 200, 100])  # a key back in a later run
    columns = [rng.normal(size=1000), rng.uniform(size=1000)]
    weight = rng.uniform(size=1000) if weighted else None
    assert len(chunks.run_starts(keys[:700])) * runs.RUN_LENGTH <= 700
    by_run = _keyed(keys, columns, weight, runs.RUN_LENGTH, monkeypatch)
    by_row = _keyed(keys, columns, weight, 10**9, monkeypatch)
    assert np.array_equal(by_run.counts[..., 1], by_row.counts[..., 1])
    assert np.array_equal(by_run.counts[:, 0, 1], [300, 100, 0, 450, 0, 150])
    assert np.allclose(by_run.sums, by_row.sums, rtol=1e-13, atol=1e-12)
    assert np.allclose(by_run.counts, by_row.counts, rtol=1e-13)


@pytest.mark.parametrize(
    ("values", "in_runs"),
    [
        (pa.array(np.repeat([7, 2, 9, 2], 40).astype(np.int32)), True),
        (pa.array(["b"] * 50 + ["a"] * 50 + ["c"] * 60), True),
        (pa.array(["b"] * 50 + ["a"] * 50 + ["c"] * 60).dictionary_encode(), True),
        (pa.array(np.repeat([1.5, -2.0, 0.0, 1.5], 40)), True),
        (pa.array(np.repeat([1.5, np.nan, 0.0, np.nan], 40)), False),  # NaN != NaN: short runs
        (pa.array([None] * 40 + [1] * 60 + [2] * 60, pa.int64()), False),  # nulls
        (pa.array(np.arange(160) % 3), False),  # short runs
    ],
)
def test_key_codes_of_runs_equal_those_row_by_row(monkeypatch, values, in_runs):
    """Codes stay in order of first appearance, across two chunks, whichever way they are made."""
    assert (chunks._runs(values.slice(0, 90)) is not None) == in_runs

    def codes(run_length):
        monkeypatch.setattr(runs, "RUN_LENGTH", run_length)
        encode = chunks.KeyCodes()
        return np.concatenate([encode(values.slice(0, 90)), encode(values.slice(90))])

    by_run, by_row = codes(runs.RUN_LENGTH), codes(10**9)
    assert np.array_equal(by_run, by_row, equal_nan=True)
    first_seen = {str(value): None for value in values.to_pylist() if value is not None}
    # One NaN is one key, in every chunk.
    assert np.nanmax(by_run) == len(first_seen) - 1


def test_codes_of_runs_are_int32_unless_a_key_is_missing_or_too_large(monkeypatch):
    """A chunk in runs gets its sample codes as int32 (half the bytes to repeat and compare),
    the same numbers as row by row; a missing key (an empty text: NaN) or a code of 2^31 keeps
    float64, and a loss reading the codes gives the same value either way."""
    ids = pa.array(np.repeat(["b", "a", "c"], 60))
    encode = chunks.KeyCodes()
    codes = encode(ids)
    assert codes.dtype == np.int32
    monkeypatch.setattr(runs, "RUN_LENGTH", 10**9)
    assert np.array_equal(codes, chunks.KeyCodes()(ids))
    assert chunks.KeyCodes()(ids).dtype == np.float64
    monkeypatch.undo()
    missing = chunks.KeyCodes()(pa.array(np.repeat(["b", "", "c"], 60)))
    assert missing.dtype == np.float64 and np.isnan(missing[60:120]).all()
    assert chunks._narrow(np.array([5.0, 2.0**31 - 1]), np.float64).dtype == np.int32
    large = chunks._narrow(np.array([5.0, 2.0**31]), np.float64)
    assert large.dtype == np.float64 and large[1] == 2**31
    assert chunks._narrow(np.array([5.0, 7.0]), np.int64).dtype == np.int64  # --by's codes
    seen = []
    real = chunks.KeyCodes._found
    monkeypatch.setattr(
        chunks.KeyCodes, "_found", lambda *a: (lambda c: seen.append(c.dtype) or c)(real(*a))
    )
    data = _pixels(images=5, pixels=700)
    for loss in ("dice", "tversky:alpha=0.3,beta=0.7"):
        narrow = _by_sample(data, loss, monkeypatch, 16, chunk_rows=1000, weight="w")
        assert seen and set(seen) == {np.dtype(np.int32)}
        seen.clear()
        monkeypatch.setattr(runs, "RUN_LENGTH", 10**9)  # the reader codes rows one by one
        wide = _by_sample(data, loss, monkeypatch, 16, chunk_rows=1000, weight="w")
        assert set(seen) == {np.dtype(np.float64)}
        assert narrow.results[0].value == wide.results[0].value
        seen.clear()
        monkeypatch.setattr(runs, "RUN_LENGTH", 16)


def test_long_runs_are_probed_in_the_first_rows_only():
    """Ids in random order are found out by their first RUN_PROBE rows; runs there are looked
    for in the whole chunk; either way, KeyCodes numbers keys in order of first appearance."""
    size = 5 * runs.RUN_PROBE
    rng = np.random.default_rng(8)
    shuffled = rng.integers(0, 1000, size)
    assert runs.long_runs(shuffled) is None
    # Long runs after a shuffled start: the probe sends the chunk down the row-by-row path.
    late = np.concatenate(
        [shuffled[: runs.RUN_PROBE], np.repeat(np.arange(40), 20 * runs.RUN_PROBE // 40)]
    )
    assert runs.long_runs(late) is None
    assert len(chunks.run_starts(late)) * runs.RUN_LENGTH < len(late)  # though runs are long
    sorted_ids = np.sort(shuffled)
    starts = runs.long_runs(sorted_ids)
    assert starts is not None and np.array_equal(starts, chunks.run_starts(sorted_ids))
    for keys in (shuffled, late, sorted_ids):
        distinct, first = np.unique(keys, return_index=True)
        appearance = np.argsort(np.argsort(first))  # each distinct key's place by first row
        expected = appearance[np.searchsorted(distinct, keys)]
        assert np.array_equal(chunks.KeyCodes()(pa.array(keys)), expected)


def test_a_dictionary_that_repeats_a_value_cuts_runs_that_code_the_same():
    """Runs of a dictionary array are read from its indices: a repeated dictionary value starts
    a run of its own, and both runs get the one code the plain texts get."""
    values = pa.DictionaryArray.from_arrays(
        pa.array(np.repeat([0, 2, 1, 0], 40), pa.int32()), pa.array(["a", "b", "a"])
    )
    assert chunks.run_starts(values).tolist() == [0, 40, 80, 120]
    plain = values.cast(pa.string())
    assert chunks.run_starts(plain).tolist() == [0, 80, 120]
    by_index, by_text = chunks.KeyCodes()(values), chunks.KeyCodes()(plain)
    assert by_index.dtype == np.int32 and np.array_equal(by_index, by_text)
    assert np.array_equal(by_text, np.repeat([0, 1, 0], [80, 40, 40]))


def _scans(tmp_path, names, files=1):
    """Per-pixel rows of images named ``names`` (runs of 700 rows), over ``files`` Parquet files
    cut inside an image; their paths."""
    import pyarrow.parquet as pq

    data = _pixels(images=len(names), pixels=700)
    data["image"] = np.repeat(np.asarray(names, dtype=object), 700)
    table = pa.table(data)
    cuts = np.linspace(0, len(table), files + 1).astype(int)
    paths = []
    for index, (start, stop) in enumerate(zip(cuts, cuts[1:], strict=False)):
        paths.append(str(tmp_path / f"scans_{index}.parquet"))
        pq.write_table(table.slice(start, stop - start), paths[-1], row_group_size=1000)
    return paths


@pytest.mark.parametrize("files", [1, 3])
def test_text_image_ids_in_parquet_are_read_by_dictionary_for_the_same_value(
    tmp_path, monkeypatch, files
):
    """A Parquet file's text sample ids come as dictionary arrays (each text once, runs from the
    indices) where row groups are long: the value of the same images with integer ids, at any
    chunk size, over files cut inside an image, and when the column is also --by's (then read
    as texts). Row groups shorter than DICTIONARY_GROUP_ROWS keep texts (and long batches)."""
    from losscli.api import evaluate
    from losscli.io import arrow_readers

    names = ["scan_b", "scan_a", "scan_c", "scan_b2", "scan_d"]
    (tmp_path / "texts").mkdir()
    texts = _scans(tmp_path / "texts", names, files)  # row groups of 1,000 rows
    numbers = _scans(tmp_path, list(range(5)))
    seen = []
    real = chunks.KeyCodes._found
    monkeypatch.setattr(
        chunks.KeyCodes, "_found", lambda s, v, k: seen.append(v.type) or real(s, v, k)
    )
    options = {"pred": "pred", "target": "target", "columns": {"sample": "image"}}
    expected = evaluate(numbers, "dice", weight="w", **options).results[0].value
    for group_rows, dictionary in ((arrow_readers.DICTIONARY_GROUP_ROWS, False), (500, True)):
        monkeypatch.setattr(arrow_readers, "DICTIONARY_GROUP_ROWS", group_rows)
        for chunk_rows in (300, 1750, 10**6):
            seen.clear()
            found = evaluate(texts, "dice", weight="w", chunk_rows=chunk_rows, **options)
            assert found.results[0].value == pytest.approx(expected, rel=1e-13)
            assert seen and {pa.types.is_dictionary(kind) for kind in seen} == {dictionary}
    grouped = evaluate(texts, "dice", by="image", **options)
    assert {r.group["image"] for r in grouped.results if r.group is not None} == set(names)


def test_an_empty_text_image_id_read_by_dictionary_is_a_missing_sample(tmp_path):
    from losscli.api import evaluate

    paths = _scans(tmp_path, ["scan_a", "", "scan_c"])
    with pytest.raises(InputError, match="Column 'image' has a missing value .* at row 701"):
        evaluate(paths, "dice", pred="pred", target="target", columns={"sample": "image"})


def test_keys_arrow_cannot_compare_are_not_cut_into_runs():
    assert chunks._runs(pa.array([[1]] * 100 + [[2]] * 60)) is None


@pytest.mark.parametrize(
    ("values", "starts"),
    [
        ([7, 7, 2, 7], [0, 2, 3]),
        ([1.5, math.nan, math.nan, 1.5, 1.5], [0, 1, 2, 3]),  # NaN equals nothing
        (["b", "b", None, None, "a"], [0, 2, 3, 4]),  # nor does a null
        ([3], [0]),
        ([], []),
    ],
)
def test_run_starts_are_where_a_value_differs_from_the_one_before(values, starts):
    """Worked by hand: a run begins at 0 and wherever the value changes."""
    forms = [pa.array(values, pa.string() if None in values else None)]
    if None not in values:
        forms += [np.array(values, dtype=float), forms[0].dictionary_encode()]
    for form in forms:
        found = chunks.run_starts(form)
        assert found.dtype == np.int64 and found.tolist() == starts


@given(st.lists(st.integers(0, 3), max_size=60))
def test_run_starts_agree_with_a_loop(values):
    expected = [i for i in range(len(values)) if i == 0 or values[i] != values[i - 1]]
    assert chunks.run_starts(np.array(values, dtype=np.int64)).tolist() == expected
    assert chunks.run_starts(pa.array([str(v) for v in values], pa.string())).tolist() == expected


@pytest.mark.parametrize(("name", "level"), [("mse", 0.9), ("r2", None), ("rmse", 0.9)])
def test_grouped_tables_with_intervals_merge_to_the_one_pass_result(name, level):
    # Targets near 1e9: each part centres its groups' moments on its own first rows.
    from types import SimpleNamespace

    from losscli.engine.run import compute
    from losscli.engine.tally import Rows

    rng = np.random.default_rng(0)
    target = 1e9 + rng.normal(size=3000)
    pred, groups = target + rng.normal(size=3000), rng.integers(0, 7, 3000).astype(np.intp)
    request = build_request(name, {})
    options = Options(level=level, grouped=True, replicates=50)

    def tally(rows: slice) -> Tally:
        state = Tally(lambda: request.definition.statistic(request.params), options)
        roles = {"pred": pred[rows], "target": target[rows]}
        names = {"pred": ("p",), "target": ("t",)}
        chunk = SimpleNamespace(roles=roles, weight=None, columns=names)
        values, inputs = compute(request, chunk)
        numbers = np.arange(3000)[rows]
        state.add(values, None, inputs, Rows(groups[rows], lambda: numbers))
        return state

    whole, merged = tally(slice(None)), tally(slice(1700, None))
    merged.merge(tally(slice(0, 1700)))
    one, two = whole.group_columns(level), merged.group_columns(level)
    assert np.array_equal(one.n, two.n)
    assert np.allclose(one.value, two.value, rtol=1e-12, atol=0)
    if level is not None:
        assert np.allclose(one.interval["low"], two.interval["low"], rtol=1e-9, atol=0)
        assert np.allclose(one.interval["high"], two.interval["high"], rtol=1e-9, atol=0)


# -- per-sample overlap sums: an image's pixels summed run by run ---------------------------------


def _pixels(images=6, pixels=400, seed=5):
    """One row per pixel, each image's rows together, the images in a shuffled order."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(images)
    return {
        "image": np.repeat(order * 10 + 3, pixels),
        "pred": rng.uniform(size=images * pixels),
        "target": (rng.uniform(size=images * pixels) < 0.3).astype(float),
        "w": rng.uniform(0.5, 2, images * pixels),
    }


def _by_sample(data, loss, monkeypatch, run_length, **options):
    from losscli.api import evaluate
    from losscli.losses import segmentation

    monkeypatch.setattr(segmentation, "RUN_LENGTH", run_length)
    report = evaluate(
        data, loss, pred="pred", target="target", columns={"sample": "image"}, **options
    )
    return report


@pytest.mark.parametrize("loss", ["dice", "iou", "tversky:alpha=0.3,beta=0.7", "focal_tversky"])
@pytest.mark.parametrize("weighted", [False, True])
def test_overlap_sums_of_runs_equal_those_row_by_row(monkeypatch, loss, weighted):
    """Runs summed in the loss, across chunk cuts inside an image, give the row-by-row value."""
    data = _pixels()
    weight = {"weight": "w"} if weighted else {}
    by_row = _by_sample(data, loss, monkeypatch, 10**9, chunk_rows=10**6, **weight)
    for chunk_rows in (97, 400, 1000, 10**6):
        by_run = _by_sample(data, loss, monkeypatch, 16, chunk_rows=chunk_rows, **weight)
        assert by_run.results[0].n == by_row.results[0].n == 2400
        assert math.isclose(by_run.results[0].value, by_row.results[0].value, rel_tol=1e-13)


@pytest.mark.parametrize("long_run", [64, 10**9])
@pytest.mark.parametrize("stored", [False, True])
def test_overlap_sums_of_long_runs_slice_by_slice_equal_those_row_by_row(
    monkeypatch, long_run, stored
):
    """Runs of LONG_RUN rows or more are summed a slice at a time (a mask's ones counted): the
    value of the row-by-row path, with float64 columns and with float32 scores and uint8 masks."""
    from losscli.losses import segmentation

    data = _pixels(images=5, pixels=700)
    if stored:
        data = {**data, "pred": data["pred"].astype(np.float32)}
        data["target"] = data["target"].astype(np.uint8)
    summed = []
    real = segmentation._summed
    monkeypatch.setattr(segmentation, "_summed", lambda c, s: summed.append(c.dtype) or real(c, s))
    monkeypatch.setattr(segmentation, "LONG_RUN", long_run)
    by_row = _by_sample(data, "dice", monkeypatch, 10**9, chunk_rows=10**6, weight="w")
    for chunk_rows in (300, 1750, 10**6):
        by_run = _by_sample(data, "dice", monkeypatch, 16, chunk_rows=chunk_rows, weight="w")
        assert math.isclose(by_run.results[0].value, by_row.results[0].value, rel_tol=1e-13)
    assert (np.dtype(np.uint8) in summed) == stored


def test_overlap_runs_agree_with_a_hand_computed_mean():
    data = _pixels()
    p, t, image = data["pred"], data["target"], data["image"]
    expected = np.mean(
        [
            1 - (2 * (p * t)[at].sum() + 1e-6) / (p[at].sum() + t[at].sum() + 1e-6)
            for at in (image == k for k in np.unique(image))
        ]
    )
    report = _by_sample(data, "dice", pytest.MonkeyPatch(), 16, chunk_rows=300)
    assert math.isclose(report.results[0].value, expected, rel_tol=1e-12)


def test_overlap_runs_with_groups_keep_groups_apart(monkeypatch):
    """--by: a run of one image's rows may cross two groups; each group gets its own rows."""
    data = _pixels(images=3, pixels=200)
    data["g"] = np.repeat([0, 1, 0, 1], 150)  # groups change inside images
    grouped = _by_sample(data, "dice", monkeypatch, 16, chunk_rows=128, by="g")
    groups = {r.group["g"]: r.value for r in grouped.results if r.group is not None}
    for g in (0, 1):
        alone = {k: v[data["g"] == g] for k, v in data.items()}
        single = _by_sample(alone, "dice", monkeypatch, 16, chunk_rows=128)
        assert math.isclose(groups[g], single.results[0].value, rel_tol=1e-13)
    row_by_row = _by_sample(data, "dice", monkeypatch, 10**9, chunk_rows=128)
    assert math.isclose(grouped.results[0].value, row_by_row.results[0].value, rel_tol=1e-13)


def test_overlap_runs_note_a_missing_prediction(monkeypatch):
    """A run's sum that is not finite sends the engine to the rows for its note."""
    data = _pixels(images=2, pixels=100)
    data["pred"][130] = math.nan
    report = _by_sample(data, "dice", monkeypatch, 16, nan="propagate")
    row_by_row = _by_sample(data, "dice", monkeypatch, 10**9, nan="propagate")
    assert math.isnan(report.results[0].value)
    assert report.results[0].note == row_by_row.results[0].note
    assert "missing" in report.results[0].note


def test_overlap_runs_name_the_row_without_a_sample(monkeypatch):
    data = _pixels(images=2, pixels=100)
    image = data.pop("image").tolist()
    image[150] = None
    data = pa.table({"image": pa.array(image, pa.int64()), **data})
    with pytest.raises(InputError) as failure:
        _by_sample(data, "dice", monkeypatch, 16, nan="propagate")
    assert "row 151" in str(failure.value)
