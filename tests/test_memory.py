"""Bounded memory: on a file many times the chunk size, nothing ever holds more than a few chunks.

Memory is asserted through rows, not bytes or time: how many rows the readers have produced when
each chunk is consumed (reading runs ahead on a second thread, a bounded distance), the largest
batch a reader hands over, and the largest chunk.
"""

from __future__ import annotations

import math
import sys
import threading

import numpy as np
import pytest

import losscli
import losscli.io.arrow_readers
import losscli.io.chunks
import losscli.io.stream
import losscli.io.text_readers
from losscli.errors import InputError
from losscli.io.source_reader import SourceReader
from tests.conftest import random_pairs, run_script, write_data

ROWS = 200_000
CHUNK_ROWS = 1_000


@pytest.fixture
def data():
    pred, target = random_pairs(ROWS, seed=7)
    return {"pred": pred, "target": target}


def write(tmp_path, data, fmt):
    return write_data(tmp_path / f"big.{fmt}", data, fmt, batch_rows=20_000)


class Watch:
    """Rows produced by the readers (on whichever thread) and, per chunk consumed, how far ahead."""

    def __init__(self, monkeypatch):
        self.lock = threading.Lock()
        self.produced = 0
        self.batches: list[int] = []
        self.ahead: list[int] = []
        self.consumed: list[int] = []
        real = SourceReader.batches
        watch = self

        def batches(reader, columns, numeric, coded=frozenset(), rows=None):
            for batch in real(reader, columns, numeric, coded, rows):
                with watch.lock:
                    watch.produced += batch.num_rows
                    watch.batches.append(batch.num_rows)
                yield batch

        monkeypatch.setattr(SourceReader, "batches", batches)

    def progress(self, rows_read: int) -> None:
        with self.lock:
            self.ahead.append(self.produced - rows_read)
        self.consumed.append(rows_read)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_reading_stays_a_few_chunks_ahead_of_the_losses(tmp_path, monkeypatch, data, fmt):
    monkeypatch.setattr(losscli.io.text_readers, "BLOCK_BYTES", 64 << 10)  # about 1,600 rows
    monkeypatch.setattr(losscli.io.arrow_readers, "BATCH_ROWS", 2_000)
    path = write(tmp_path, data, fmt)
    watch = Watch(monkeypatch)
    report = losscli.evaluate(
        path, "mse,huber", "pred", "target", chunk_rows=CHUNK_ROWS, on_progress=watch.progress
    )
    expected = float(np.mean((data["pred"] - data["target"]) ** 2))
    assert math.isclose(report.results[0].value, expected, rel_tol=1e-12)
    assert watch.produced == ROWS == watch.consumed[-1]
    chunks = np.diff([0, *watch.consumed])
    assert chunks.max() <= CHUNK_ROWS
    # A reader's batch is bounded by the block or batch size, whatever the file's size...
    assert max(watch.batches) <= 2_000
    # ...and reading runs at most a few batches ahead of the chunk being computed.
    assert max(watch.ahead) <= 4 * max(watch.batches) + 2 * CHUNK_ROWS
    assert max(watch.ahead) < ROWS // 20


def test_a_run_that_stops_early_stops_the_reading_thread(tmp_path, data):
    data["target"][150_000] = np.nan
    path = write(tmp_path, data, "parquet")
    with pytest.raises(InputError, match="row 150001"):
        losscli.evaluate(path, "mse", "pred", "target", chunk_rows=CHUNK_ROWS)
    assert not [t for t in threading.enumerate() if t.name == "losscli-read"]


def test_parsing_threads_keep_order_and_hold_a_bounded_number_of_blocks():
    from losscli.io.ahead import ordered_map

    taken = []

    def items():
        for k in range(40):
            taken.append(k)
            yield k

    def parse(k):
        if k == 25:
            raise ValueError("bad block")
        return k * k

    seen = []
    before = set(threading.enumerate())
    for item, result, error in ordered_map(parse, items(), workers=3):
        # Never more than workers + 1 items read beyond the one handed over.
        assert len(taken) - item <= 3 + 1
        seen.append((item, result, type(error).__name__ if error else None))
        if error is not None:
            break
    assert seen[:25] == [(k, k * k, None) for k in range(25)]
    assert seen[25] == (25, None, "ValueError")
    assert not [
        t for t in set(threading.enumerate()) - before if t.name.startswith("losscli-parse")
    ]


def test_a_bad_block_stops_the_parser_threads_at_once(tmp_path):
    """The error's traceback outlives the read; the threads must not wait for the collector."""
    import gc

    rows = "".join(f"{i / 7:.6f},{i % 5}\n" for i in range(400_000))
    path = tmp_path / "late.csv"
    path.write_text("pred,target\n" + rows + "oops,1\n")
    before = set(threading.enumerate())
    gc.disable()  # only an explicit close may end them
    try:
        with pytest.raises(InputError, match="oops") as caught:
            losscli.evaluate(str(path), "mse")
        started = [t for t in threading.enumerate() if t not in before]
        assert caught.value is not None
        assert not [t for t in started if t.name.startswith("losscli-parse")]
    finally:
        gc.enable()


FAULTS_SCRIPT = """
import resource, numpy as np, losscli
rng = np.random.default_rng(0)
data = {"pred": rng.normal(size=1 << 20), "target": rng.normal(size=1 << 20)}
losses = ["mse", "mae", "huber", "log_cosh", "smooth_l1"]
losscli.evaluate(data, losses)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
losscli.evaluate(data, losses)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator settings")
def test_chunk_arrays_reuse_freed_memory_instead_of_faulting_in_fresh_pages():
    """A fresh process (the setting is per process): a second run of five losses on 8 chunks.

    Without the allocator settings each 1 MiB temporary is mapped afresh: about 10,000 page
    faults here. With them the freed arrays are reused: a handful.
    """
    outcome = run_script(FAULTS_SCRIPT)
    assert outcome.code == 0, outcome.err
    assert int(outcome.out) < 1000


def mapped_resident_kib(address: int) -> int:
    """Resident KiB of this process's mapping that holds ``address`` (from /proc/self/smaps)."""
    inside = False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split()[0]
            if "-" in head and ":" not in head:
                low, high = (int(bound, 16) for bound in head.split("-"))
                inside = low <= address < high
            elif inside and head == "Rss:":
                return int(line.split()[1])
    raise AssertionError("no mapping holds that address")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pages are let go on Linux")
@pytest.mark.parametrize("release", [True, False])
def test_mapped_text_keeps_only_unparsed_blocks_resident(tmp_path, release):
    """Blocks of a mapped 32 MiB file, each touched as the parser would and then released.

    Released, the mapping never holds more than the block in hand (256 KiB) and what the kernel
    maps around it (a 2 MiB page either side, where the page cache holds large pages); not
    released (the control), it grows to the whole file.
    """
    from losscli.io.mapped import MappedText

    line = b"0.123456789012345678,-1.23456789012345678\n"
    path = tmp_path / "big.csv"
    path.write_bytes(b"pred,target\n" + line * ((32 << 20) // len(line)))
    mapped = MappedText.open(str(path))
    assert mapped is not None
    block_bytes = 256 << 10
    largest = 0
    try:
        for block in mapped.blocks(block_bytes):
            assert np.frombuffer(block, dtype=np.uint8).max() > 0  # touch every page
            largest = max(largest, mapped_resident_kib(block.address) << 10)
            if release:
                mapped.release_through(block)
    finally:
        mapped.close()
    if release:
        assert largest <= block_bytes + (4 << 20)
    else:
        assert largest > (30 << 20)


@pytest.mark.parametrize("size", [1, 7, 64, 1 << 20])
@pytest.mark.parametrize("end", [b"9,9", b"9,9\n", b"9," + b"9" * 150])
def test_mapped_blocks_end_at_line_ends_and_join_to_the_file(tmp_path, monkeypatch, size, end):
    """A mapped file and the same text read as a stream (a pipe, a decompressor) are cut into
    the same blocks: their rows are then summed alike, to the last digit."""
    import io

    text = b"a,b\r\n1,2\n" + b"".join(b"%d,%d\r" % (k, k * k) for k in range(300)) + end
    path = tmp_path / "lines.csv"
    path.write_bytes(text)
    blocks = mapped_blocks(path, size)
    assert b"".join(blocks) == text
    assert all(block[-1:] in (b"\n", b"\r") for block in blocks[:-1])
    assert all(block for block in blocks)
    monkeypatch.setattr(losscli.io.text_readers, "BLOCK_BYTES", size)
    read = losscli.io.text_readers._line_blocks(io.BytesIO(text))
    assert [block.to_pybytes() for block in read] == blocks


def mapped_blocks(path, size: int) -> list[bytes]:
    """The blocks a mapping of ``path`` is cut into (the test skips where nothing maps)."""
    from losscli.io.mapped import MappedText

    mapped = MappedText.open(str(path))
    if mapped is None:
        pytest.skip("no mapping on this platform: text is read instead")
    try:
        return [block.to_pybytes() for block in mapped.blocks(size)]
    finally:
        mapped.close()


STREAMED_TEXTS = [
    b"a,b\n1,2\n33,44\n5,6",
    b"a,b\r\n1,2\r\n3,4\r\n",
    b"h\n" + b"x" * 50 + b"\n1,2",
    b"a,b\n" + b"".join(b"%d,%d\r" % (k, k * k) for k in range(40)) + b"9,9",
]


@pytest.mark.parametrize("text", STREAMED_TEXTS)
def test_a_stream_is_cut_as_the_mapped_file_at_every_block_size(tmp_path, monkeypatch, text):
    """Every block size up to past the text's length, so that the text ends at a window's end,
    inside one, and after a line longer than a window: the stream's blocks are the mapping's."""
    import io

    path = tmp_path / "lines.csv"
    path.write_bytes(text)
    for size in range(1, len(text) + 2):
        blocks = mapped_blocks(path, size)
        monkeypatch.setattr(losscli.io.text_readers, "BLOCK_BYTES", size)
        read = losscli.io.text_readers._line_blocks(io.BytesIO(text))
        assert [block.to_pybytes() for block in read] == blocks, size


def test_a_wide_parquet_file_is_read_with_buffers_sized_to_its_width(tmp_path, monkeypatch):
    """1000 class scores: each column's read buffer shrinks so that all of them stay within
    READ_BUFFERS (they were 1 MiB each, a gigabyte), and batches hold about BATCH_NUMBERS."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from losscli.io import arrow_readers

    classes, rows = 1000, 300
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(rows, classes)).astype(np.float32)
    table = {f"logit_{k}": logits[:, k] for k in range(classes)}
    table["label"] = rng.integers(0, classes, rows)
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table(table), path)
    opened: list[int] = []
    real = arrow_readers.open_parquet

    def open_parquet(path, buffer=arrow_readers.COLUMN_BUFFER, dictionary=()):
        opened.append(buffer)
        return real(path, buffer, dictionary)

    monkeypatch.setattr(arrow_readers, "open_parquet", open_parquet)
    watch = Watch(monkeypatch)
    # With a loss that has no fold beside it, ce reads whole rows (ce alone folds: see below).
    losses = ["ce", "multiclass_hinge"]
    report = losscli.evaluate(str(path), losses, pred="logit_*", target="label")
    exact = logits.astype(np.float64)
    shifted = exact - exact.max(axis=1, keepdims=True)
    picked = shifted[np.arange(rows), table["label"]]
    expected = np.mean(np.log(np.exp(shifted).sum(axis=1)) - picked)  # cross-entropy by hand
    assert report.results[0].value == pytest.approx(expected, rel=1e-12)
    assert opened[-1] * (classes + 1) <= arrow_readers.READ_BUFFERS
    assert max(watch.batches) * classes <= 2 * arrow_readers.BATCH_NUMBERS


FOLDED_SCRIPT = """
import sys, tracemalloc, pyarrow as pa, losscli
tracemalloc.start()
report = losscli.evaluate(sys.argv[1], "ce", pred="logit_*", target="label")
peak = tracemalloc.get_traced_memory()[1]
print(report.results[0].value, peak, pa.default_memory_pool().max_memory())
"""


@pytest.mark.parametrize("classes, rows", [(1000, 20_000), (10_000, 2_000)])
def test_a_wide_parquet_file_is_folded_a_block_of_columns_at_a_time(tmp_path, classes, rows):
    """ce over 1000 and 10,000 class columns in one row group (pyarrow's defaults): read a
    block of columns at a time, Arrow holds about BLOCK_BYTES of pages and NumPy a few
    per-row arrays and a block of rows x block width, never rows x classes (160 MB here)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from losscli.io import arrow_readers

    rng = np.random.default_rng(5)
    logits = rng.normal(0, 2, size=(rows, classes)).astype(np.float32)
    label = rng.integers(0, classes, rows)
    columns = {f"logit_{k}": logits[:, k] for k in range(classes)} | {"label": label}
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table(columns), path)
    outcome = run_script(FOLDED_SCRIPT, str(path))
    assert outcome.code == 0, outcome.err
    value, numpy_peak, arrow_peak = (float(word) for word in outcome.out.split())
    exact = logits.astype(np.float64)
    top = exact.max(axis=1)
    lse = top + np.log(np.exp(exact - top[:, None]).sum(axis=1))
    assert value == pytest.approx(np.mean(lse - exact[np.arange(rows), label]), rel=1e-12)
    whole = rows * classes * 8
    per_row = 16 * 8  # the fold's state, the target and its copies: a few numbers per row
    block = 4 * arrow_readers.BLOCK_NUMBERS * 8  # a block of rows, its temporaries, one ahead
    python = 8 << 20  # modules imported on the way, 10,000 column names, the report
    assert numpy_peak <= python + rows * per_row + block < whole / 4
    assert arrow_peak <= 2 * arrow_readers.BLOCK_BYTES + rows * 8 < whole / 4


def test_wide_text_blocks_are_parsed_on_fewer_threads(tmp_path, monkeypatch):
    """Arrow's CSV parser holds about COLUMN_PARSE_BYTES per column of each block in parsing
    (100 MB at 10,000 columns, outside its pool): wide rows are parsed on fewer threads at once,
    narrow ones on every thread. The value is the same either way."""
    from losscli.io import ahead, text_readers

    monkeypatch.setattr(text_readers, "parse_workers", lambda: 4)
    assert text_readers.parsers_for(3) == 4
    assert text_readers.parsers_for(2_000) == 3
    assert text_readers.parsers_for(10_001) == 1
    classes, rows = 2_000, 400
    rng = np.random.default_rng(8)
    logits = rng.normal(0, 2, size=(rows, classes))
    label = rng.integers(0, classes, rows)
    header = ",".join([f"logit_{k}" for k in range(classes)] + ["label"])
    lines = [
        ",".join([*map(repr, row.tolist()), str(c)]) for row, c in zip(logits, label, strict=True)
    ]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join([header, *lines]) + "\n")
    used: list[int] = []
    real = ahead.ordered_map

    def ordered_map(function, items, workers):
        used.append(workers)
        return real(function, items, workers)

    monkeypatch.setattr(text_readers, "ordered_map", ordered_map)
    monkeypatch.setattr(text_readers, "BLOCK_BYTES", 1 << 20)  # several blocks
    values = {}
    for budget in (text_readers.PARSING_BYTES, 1):
        monkeypatch.setattr(text_readers, "PARSING_BYTES", budget)
        report = losscli.evaluate(str(path), "ce", pred="logit_*", target="label")
        values[budget] = report.results[0].value
    assert used == [3, 1]
    top = logits.max(axis=1)
    lse = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
    expected = np.mean(lse - logits[np.arange(rows), label])
    assert values[1] == values[text_readers.PARSING_BYTES] == pytest.approx(expected, rel=1e-12)


class Threads:
    """The threads that produce batches and that assemble chunks (code their keys), by ident."""

    def __init__(self, monkeypatch):
        self.reading: set[int] = set()
        self.coding: set[int] = set()
        batches, assemble = SourceReader.batches, losscli.io.stream.assemble
        threads = self

        def read(reader, columns, numeric, coded=frozenset(), rows=None):
            for batch in batches(reader, columns, numeric, coded, rows):
                threads.reading.add(threading.get_ident())
                yield batch

        def assembled(*args, **kwargs):
            threads.coding.add(threading.get_ident())
            return assemble(*args, **kwargs)

        monkeypatch.setattr(SourceReader, "batches", read)
        monkeypatch.setattr(losscli.io.stream, "assemble", assembled)


def test_text_by_keys_are_coded_on_a_thread_of_their_own_a_bounded_way_ahead(
    tmp_path, monkeypatch, data
):
    """Text --by keys from Parquet: frames are read on one thread and their keys coded on
    another, ahead of the losses by a bounded number of rows; the groups' values are those of
    a plain per-group mean, and both threads end with the run."""
    monkeypatch.setattr(losscli.io.arrow_readers, "BATCH_ROWS", 2_000)
    rng = np.random.default_rng(11)
    ids = np.array([f"user_{i:04d}" for i in range(500)])[rng.integers(0, 500, ROWS)]
    path = write(tmp_path, {**data, "grp": ids}, "parquet")
    watch, threads = Watch(monkeypatch), Threads(monkeypatch)
    report = losscli.evaluate(
        path, "mse", "pred", "target", by="grp", chunk_rows=CHUNK_ROWS, on_progress=watch.progress
    )
    squares = (data["pred"] - data["target"]) ** 2
    values = {r.group["grp"]: r.value for r in report.results if r.group is not None}
    assert len(values) == 500
    for name in ("user_0000", "user_0123", "user_0499"):
        assert math.isclose(values[name], float(np.mean(squares[ids == name])), rel_tol=1e-12)
    # (The first batch is read where keys are coded: it tells the frames' width.)
    assert len(threads.coding) == 1 and len(threads.reading - threads.coding) == 1
    assert threading.get_ident() not in threads.reading | threads.coding
    assert watch.produced == ROWS == watch.consumed[-1]
    # Two stages ahead of the losses, each holding a bounded number of rows: Parquet's batches
    # no longer than a chunk (not BATCH_ROWS).
    assert max(watch.batches) <= CHUNK_ROWS
    assert max(watch.ahead) <= 6 * max(watch.batches) + 3 * CHUNK_ROWS
    assert max(watch.ahead) < ROWS // 20
    assert not [t for t in threading.enumerate() if t.name == "losscli-read"]


@pytest.mark.parametrize(("fmt", "ids"), [("parquet", "integers"), ("csv", "texts")])
def test_other_by_keys_are_read_and_coded_on_one_thread(tmp_path, monkeypatch, data, fmt, ids):
    """Integer keys cost little to code, and a CSV is parsed on threads of its own already."""
    monkeypatch.setattr(losscli.io.arrow_readers, "BATCH_ROWS", 2_000)
    monkeypatch.setattr(losscli.io.text_readers, "BLOCK_BYTES", 64 << 10)
    groups = np.arange(ROWS) % 97
    keys = groups if ids == "integers" else np.array([f"g{g}" for g in groups])
    path = write(tmp_path, {**data, "grp": keys}, fmt)
    threads = Threads(monkeypatch)
    report = losscli.evaluate(path, "mse", "pred", "target", by="grp", chunk_rows=CHUNK_ROWS)
    assert len([r for r in report.results if r.group is not None]) == 97
    assert threads.reading == threads.coding and len(threads.coding) == 1


def test_images_of_a_parquet_file_are_assembled_apart_from_its_decoding(
    tmp_path, monkeypatch, data
):
    """A sample key (per-image dice): the rows' image codes are made on their own thread too."""
    monkeypatch.setattr(losscli.io.arrow_readers, "BATCH_ROWS", 2_000)
    images = np.arange(ROWS) // 4_000
    pred = (data["pred"] > 0).astype(float)
    mask = (data["target"] > 0).astype(float)
    path = write(tmp_path, {"pred": pred, "target": mask, "image": images}, "parquet")
    threads = Threads(monkeypatch)
    report = losscli.evaluate(
        path, "dice", "pred", "target", columns={"sample": "image"}, chunk_rows=CHUNK_ROWS
    )
    scores = []
    for image in range(ROWS // 4_000):
        p, t = pred[images == image], mask[images == image]
        scores.append(1 - (2 * np.sum(p * t) + 1e-6) / (np.sum(p) + np.sum(t) + 1e-6))  # smooth
    assert math.isclose(report.results[0].value, float(np.mean(scores)), rel_tol=1e-12)
    assert len(threads.coding) == 1 and len(threads.reading - threads.coding) == 1


def test_a_text_by_run_that_stops_early_stops_both_reading_threads(tmp_path, data):
    data["target"][150_000] = np.nan
    ids = np.array([f"user_{i % 300:04d}" for i in range(ROWS)])
    path = write(tmp_path, {**data, "grp": ids}, "parquet")
    with pytest.raises(InputError, match="row 150001"):
        losscli.evaluate(path, "mse", "pred", "target", by="grp", chunk_rows=CHUNK_ROWS)
    assert not [t for t in threading.enumerate() if t.name == "losscli-read"]
