"""An input cut into units of work for a cluster: its files, and a Parquet file's row groups.

Each unit knows the global number of its first row, so a row is resampled (``--ci``) and named
(``--worst``) as in a run on one machine: a Parquet file's row counts come from its footer, any
other file's from counting its rows (on the cluster, and only when the numbers are needed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from losscli.errors import InputError
from losscli.io.sources import Source

# A CSV, TSV or JSON Lines file larger than this is read in ranges of this many bytes, each a
# unit of work (dask.dataframe.read_csv's default block size).
UNIT_BYTES = 64 << 20
TEXT_FORMATS = ("csv", "tsv", "jsonl")


@dataclass(frozen=True)
class Unit:
    """One task's share of the input: a source of the main input (and of each side input read
    beside it, row by row), and the global number of its first row."""

    sources: tuple[Source, ...]
    first_row: int = 0
    rows: int | None = None  # None: not known before reading
    name: str = ""  # its --per-row part file's name


def _plain_parquet(source: Source) -> bool:
    """A Parquet file as it is: its footer says its row groups."""
    plain = not (source.compression or source.is_stream or source.member)
    return source.format == "parquet" and plain


def parquet_row_groups(source: Source) -> list[int] | None:
    """The row count of each row group of a plain Parquet file (from its footer); else None."""
    if not _plain_parquet(source):
        return None
    from losscli.io.arrow_readers import parquet_metadata

    metadata = parquet_metadata(source)
    return [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]


def byte_ranges(source: Source, size: int | None = None) -> list[tuple[int, int]] | None:
    """Ranges of about ``size`` bytes of a large, uncompressed CSV, TSV or JSON Lines file (a
    unit each); None for any other source, or a file of one range or less."""
    if source.format not in TEXT_FORMATS or source.compression or source.is_stream:
        return None
    if source.member:
        return None
    size = size or UNIT_BYTES
    total = _size_of(source.name)
    if total <= size:
        return None
    return [(start, min(start + size, total)) for start in range(0, total, size)]


def _size_of(name: str) -> int:
    from losscli.io.remote import filesystem, is_url

    if not is_url(name):
        return os.path.getsize(name)
    fs, path = filesystem(name)
    return int(fs.size(path))


Footers = Callable[[list[Source]], list["list[int] | None"]]


def units_of(
    sources: Sequence[Source],
    sides: Sequence[Sequence[Source]] = (),
    count: Callable[[list[Source]], list[int]] | None = None,
    footers: Footers | None = None,
) -> list[Unit]:
    """The units of an input, in row order; ``count`` gives the row counts of files that are not
    plain Parquet when row numbers are needed (None: they are not, and are left unknown);
    ``footers`` reads the Parquet files' row groups (on a cluster: by the workers, at once).

    With side inputs read row by row beside the main one, the i-th files of each make a unit.
    """
    if sides:
        return _paired(sources, sides, count)
    read = footers or (lambda found: [parquet_row_groups(source) for source in found])
    every_groups = iter(read([s for s in sources if _plain_parquet(s)]))
    parts: list[tuple[Source, int | None]] = []
    for source in sources:
        ranges = byte_ranges(source)
        if ranges is not None:
            cut = (replace(source, byte_range=part, rows_known=False) for part in ranges)
            parts.extend((part, None) for part in cut)
            continue
        groups = next(every_groups) if _plain_parquet(source) else None
        if groups is None or len(groups) < 2:
            parts.append((source, sum(groups) if groups is not None else None))
            continue
        before = 0
        for index, rows in enumerate(groups):
            parts.append((replace(source, row_groups=(index, index + 1), rows_before=before), rows))
            before += rows
    return _numbered(parts, count)


def _paired(
    sources: Sequence[Source],
    sides: Sequence[Sequence[Source]],
    count: Callable[[list[Source]], list[int]] | None,
) -> list[Unit]:
    for side in sides:
        if len(side) != len(sources):
            raise InputError(
                f"On a cluster two inputs read row by row are paired file by file, but one has "
                f"{len(sources)} files and the other {len(side)}.",
                "Give both as many files, each pair with the same rows; or run without a "
                "scheduler.",
            )
    rows = _row_counts(list(sources), count)
    units, start = [], 0
    for index, source in enumerate(sources):
        paired = (source, *(side[index] for side in sides))
        units.append(Unit(paired, start, rows[index]))
        start += rows[index] or 0
    return units


def _numbered(
    parts: list[tuple[Source, int | None]], count: Callable[[list[Source]], list[int]] | None
) -> list[Unit]:
    unknown = [source for source, rows in parts if rows is None]
    if unknown and count is not None:
        found = iter(count(unknown))
        parts = [(source, next(found) if rows is None else rows) for source, rows in parts]
    units, start, before = [], 0, 0
    for source, rows in parts:
        if source.byte_range is not None and rows is not None:
            # Counted: the rows of the file before this range number its rows in messages.
            if source.byte_range[0] == 0:
                before = 0
            source = replace(source, rows_before=before, rows_known=True)
            before += rows
        units.append(Unit((source,), start, rows))
        start += rows or 0
    return units


def _row_counts(
    sources: list[Source], count: Callable[[list[Source]], list[int]] | None
) -> list[int | None]:
    known: list[int | None] = []
    for source in sources:
        groups = parquet_row_groups(source)
        known.append(None if groups is None else sum(groups))
    unknown = [source for source, rows in zip(sources, known, strict=True) if rows is None]
    if unknown and count is not None:
        found = iter(count(unknown))
        known = [next(found) if rows is None else rows for rows in known]
    return known


def count_rows(source: Source) -> int:
    """How many rows ``source`` holds, read through (its first column only)."""
    from losscli.io.readers import open_reader

    reader = open_reader(source)
    try:
        return sum(batch.num_rows for batch in reader.batches(reader.names[:1], set()))
    finally:
        reader.close()
