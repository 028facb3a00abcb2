"""How far through its input files a run is, for a progress bar's percentage and time left.

Parquet files say their row count in their footer. An uncompressed text file (CSV, TSV, JSON
Lines) holds about its size times the line ends per byte of three samples (its start, middle and
end): an estimate, so the fraction stops short of 1 until the run ends. Where neither can be told
(stdin, compressed text, Arrow files), there is no fraction: the bar counts rows only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

PARQUET_SUFFIXES = (".parquet", ".pq")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json")
SAMPLE_BYTES = 1 << 18
ESTIMATED_AT_MOST = 0.99  # an estimated total is never shown as reached


class Meter:
    """``fraction(rows)``: how much of ``files`` is read, in [0, 1], or None when unknown."""

    def __init__(self, files: Sequence[str]) -> None:
        paths = _paths(files)
        self.estimated = False
        self.total_rows = _parquet_rows(paths) if paths else None
        if self.total_rows is None and paths:
            self.total_rows = _text_rows(paths)
            self.estimated = self.total_rows is not None

    @property
    def known(self) -> bool:
        return self.total_rows is not None

    def fraction(self, rows: int) -> float | None:
        if self.total_rows is None:
            return None
        if not self.total_rows:
            return 1.0
        ceiling = ESTIMATED_AT_MOST if self.estimated else 1.0
        return min(ceiling, rows / self.total_rows)


def _paths(files: Sequence[str]) -> list[Path]:
    """The files that ``files`` (paths, globs, directories) name, in reading order; none when
    one is stdin or cannot be listed (the run will say why)."""
    from losscli.errors import LossCliError
    from losscli.io.sources import expand_inputs

    try:
        sources = expand_inputs(list(files))
    except LossCliError:
        return []
    if any(source.is_stdin for source in sources):
        return []
    return [Path(source.name) for source in sources]


def _parquet_rows(paths: Sequence[Path]) -> int | None:
    """The rows of all ``paths`` when each is a Parquet file, from their footers."""
    if not all(path.suffix.lower() in PARQUET_SUFFIXES and path.is_file() for path in paths):
        return None
    import pyarrow.parquet as pq

    try:
        return sum(pq.read_metadata(path).num_rows for path in paths)
    except Exception:  # an unreadable footer: the run itself will say what is wrong
        return None


def _text_rows(paths: Sequence[Path]) -> int | None:
    """About how many lines ``paths`` (uncompressed text files) hold, header lines left out."""
    if not all(path.suffix.lower() in TEXT_SUFFIXES and path.is_file() for path in paths):
        return None
    total = 0.0
    for path in paths:
        size = path.stat().st_size
        header = 0 if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else 1
        total += size * _line_ends_per_byte(path, size) - header
    return max(0, round(total))


def _line_ends_per_byte(path: Path, size: int) -> float:
    """Line ends per byte in samples from the start, middle and end of the file."""
    starts = {0, max(0, size // 2 - SAMPLE_BYTES // 2), max(0, size - SAMPLE_BYTES)}
    lines = sampled = 0
    with open(path, "rb") as stream:
        for start in sorted(starts):
            stream.seek(start)
            data = stream.read(min(SAMPLE_BYTES, size - start))
            lines += data.count(b"\n")
            sampled += len(data)
    return lines / sampled if sampled else 0.0
