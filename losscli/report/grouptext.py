"""JSON and CSV text of ``--by`` groups, written from their arrays.

Each loss's rows follow one template (its label, parameters and layout are the same in every
row); what differs (numbers, notes, group values) is formatted a column at a time with the
one-value rules of ``formatting``, a --by column's distinct values once each, into Arrow arrays
of text that Arrow joins row by row (in C++: no Python string per row). The text is what
``json.dumps(report.to_dict(), indent=2)`` and the csv module write for the same results; tests
hold the two equal.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from json.encoder import encode_basestring_ascii
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from losscli.report.formatting import (
    CSV_SPECIAL,
    csv_cells,
    csv_label,
    exact,
    json_ready,
    json_text,
    json_value_text,
)
from losscli.report.groups import GroupArrays, GroupResults, KeyColumn, is_none
from losscli.report.textcolumns import (
    arrow_numbers,
    arrow_texts,
    constant,
    exact_column,
    plain_texts,
)

BLOCK_ROWS = 1 << 16  # rows formatted at a time: their texts are the memory this needs
AHEAD = 2  # blocks made ahead of the one written
# Text a JSON string or a CSV cell holds as it is (JSON: between quotes): what may not be in it.
JSON_PLAIN = (r"[^\x20-\x21\x23-\x5b\x5d-\x7e]", '"')  # printable ASCII but for " and \\
CSV_PLAIN = (CSV_SPECIAL.pattern, "")


class _Template:
    """Constant text with slots; a row's text is the constants with its slot texts between."""

    def __init__(self) -> None:
        self.pieces = [""]

    def text(self, text: str) -> None:
        self.pieces[-1] += text

    def slot(self) -> None:
        self.pieces.append("")

    def fill(self, columns: list[pa.Array]) -> pa.Array:
        """Each row's text: the constants with the columns' texts (Arrow arrays) between."""
        pieces: list[Any] = [constant(self.pieces[0])]
        for column, piece in zip(columns, self.pieces[1:], strict=True):
            pieces += [column, constant(piece)]
        return pc.binary_join_element_wise(*pieces, constant(""))


class _Dictionaries:
    """The texts of a --by column's values, each distinct value of a block formatted once.

    ``write`` formats one value; ``fast`` maps a type to a formatter of that type alone, used
    when every value is of it (ids are ints or text: one C-level call per value).
    """

    def __init__(
        self,
        write: Callable[[Any], str],
        fast: Mapping[type, Callable[[Any], str]],
        plain: tuple[str, str],
    ):
        self.write = write
        self.fast = fast
        self.plain = plain  # texts written as they are (between quotes): what they never hold

    def texts(self, key: KeyColumn, rows: np.ndarray) -> pa.Array:
        if key.numbers is not None and key.numbers.dtype.kind == "i":
            return exact_column(key.numbers[key.codes[rows]])  # ids: written by Arrow
        if key.texts is not None:  # text ids: written by Arrow, but for the few odd ones
            chosen = key.texts.take(arrow_numbers(key.codes[rows]))
            return plain_texts(chosen, self.plain[0], self.write, self.plain[1])
        # Per block, not for the whole dictionary: a million ids would all be held as text.
        codes, where = np.unique(key.codes[rows], return_inverse=True)
        values = key.values[codes].tolist()
        kinds = {type(value) for value in values}
        write = self.fast.get(kinds.pop(), self.write) if len(kinds) == 1 else self.write
        return arrow_texts(list(map(write, values))).take(arrow_numbers(where.reshape(-1)))


def _by_block(
    groups: GroupResults, write: Callable[[int, np.ndarray], pa.Array], between: str
) -> Iterator[bytes]:
    """The rows' texts in the report's order, BLOCK_ROWS at a time, each block's rows joined by
    ``between``; ``write(part, rows)`` gives the texts of one loss's rows."""

    def block(start: int) -> bytes:
        parts = groups.part_of[start : start + BLOCK_ROWS]
        rows = groups.row_of[start : start + BLOCK_ROWS]
        if len(groups.parts) == 1:  # one loss: its rows in order
            numbers, places = [0], [np.arange(len(parts))]
        else:
            numbers = np.unique(parts).tolist()
            places = [np.flatnonzero(parts == part) for part in numbers]
        written = [write(part, rows[place]) for part, place in zip(numbers, places, strict=True)]
        texts = pa.concat_arrays(written)
        if len(written) > 1:  # the losses' rows interleaved again, in the report's order
            texts = texts.take(arrow_numbers(np.argsort(np.concatenate(places), kind="stable")))
        return _joined(texts, between)

    starts = range(0, len(groups), BLOCK_ROWS)
    if len(starts) <= AHEAD:
        yield from map(block, starts)
        return
    # Arrow formats and joins outside the GIL: a second thread makes the next block meanwhile.
    # Blocks are handed on in order, at most AHEAD made and not yet written.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="losscli-text") as pool:
        made: deque[Future[bytes]] = deque()
        for start in starts:
            made.append(pool.submit(block, start))
            if len(made) > AHEAD:
                yield made.popleft().result()
        while made:
            yield made.popleft().result()


def _joined(texts: pa.Array, between: str) -> bytes:
    """The texts with ``between`` between each two, as UTF-8 bytes (no string is made: the
    bytes go out as they are)."""
    if between:
        texts = pc.binary_join_element_wise(texts, constant(between), constant(""))
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)
    first, last = offsets[texts.offset], offsets[texts.offset + len(texts)]
    data = texts.buffers()[2]
    whole = b"" if data is None else bytes(memoryview(data)[first:last])
    return whole[: -len(between.encode()) or None]


def json_entries(groups: GroupResults, depth: int) -> Iterator[bytes]:
    """The group results' JSON objects as items of a list ``depth`` levels deep, in blocks of
    items joined by ``,\\n``."""
    dictionaries = _Dictionaries(
        json_value_text, {int: int.__repr__, str: encode_basestring_ascii}, JSON_PLAIN
    )
    templates = [_json_template(part, depth) for part in groups.parts]

    def write(number: int, rows: np.ndarray) -> pa.Array:
        part = groups.parts[number]
        inner = "  " * (depth + 1)
        columns = [
            exact_column(part.value[rows], "null"),
            exact_column(part.n[rows]),
            exact_column(part.weight_sum[rows], "null"),
            _member_texts(part.notes[rows], inner + '"note": '),
            *_interval_json(part, rows, inner + "  "),
            *(dictionaries.texts(key, rows) for key in part.keys),
        ]
        return templates[number].fill(columns)

    return _by_block(groups, write, ",\n")


def _json_template(part: GroupArrays, depth: int) -> _Template:
    """The layout ``json.dumps(indent=2)`` gives a group result, with slots for what varies."""
    outer, inner = "  " * depth, "  " * (depth + 1)
    template = _Template()
    template.text(outer + "{\n")
    for key, value in (("label", part.label), ("loss", part.loss), ("params", part.params)):
        template.text(f"{inner}{json.dumps(key)}: {json_text(value, depth + 1)},\n")
    template.text(f'{inner}"value": ')
    template.slot()
    for key in ("n", "weight_sum"):
        template.text(f',\n{inner}"{key}": ')
        template.slot()
    template.text(f',\n{inner}"direction": {json_text(part.direction)}')
    template.slot()  # the note, when there is one
    if part.interval is not None:
        _interval_template(template, part, depth + 1)
    template.text(f',\n{inner}"group": ')
    _object_template(template, [key.name for key in part.keys], depth + 1)
    template.text("\n" + outer + "}")
    return template


def _interval_template(template: _Template, part: GroupArrays, depth: int) -> None:
    assert part.interval is not None
    inner = "  " * (depth + 1)
    template.text(f',\n{"  " * depth}"ci": {{\n{inner}"level": {json_text(part.interval.level)}')
    for key in ("low", "high"):
        template.text(f",\n{inner}{json.dumps(key)}: ")
        template.slot()
    template.text(f',\n{inner}"method": {json_text(part.interval.method)}')
    for key in ("se", "replicates"):
        if getattr(part.interval, key) is not None:
            template.text(f",\n{inner}{json.dumps(key)}: ")
            template.slot()
    if part.interval.blocks is not None:
        template.text(f',\n{inner}"blocks": {part.interval.blocks}')
    template.slot()  # the interval's note, when there is one
    template.text(f"\n{'  ' * depth}}}")


def _object_template(template: _Template, keys: list[str], depth: int) -> None:
    """An object of slots, one per key; ``{}`` without keys."""
    if not keys:
        template.text("{}")
        return
    inner = "  " * (depth + 1)
    for number, key in enumerate(keys):
        template.text(("{\n" if number == 0 else ",\n") + f"{inner}{json.dumps(key)}: ")
        template.slot()
    template.text(f"\n{'  ' * depth}}}")


def _interval_json(part: GroupArrays, rows: np.ndarray, inner: str) -> list[pa.Array]:
    interval = part.interval
    if interval is None:
        return []
    columns = [exact_column(interval.low[rows], "null"), exact_column(interval.high[rows], "null")]
    if interval.se is not None:
        columns.append(exact_column(interval.se[rows], "null"))
    if interval.replicates is not None:
        columns.append(exact_column(interval.replicates[rows]))
    columns.append(_member_texts(interval.note[rows], inner + '"note": '))
    return columns


def _member_texts(notes: np.ndarray, prefix: str) -> Any:
    """An optional text member per row: ``,\\n<prefix>"text"``, or nothing where it is None."""
    return _note_texts(notes, lambda note: f",\n{prefix}{encode_basestring_ascii(note)}")


def _note_texts(notes: np.ndarray, write: Callable[[str], str]) -> Any:
    """Each note's text by ``write`` (empty where it is None), each distinct note written once:
    an Arrow array, or one empty text (a scalar) when no row has a note."""
    present = np.flatnonzero(~is_none(notes))
    if not len(present):
        return constant("")
    written = {note: write(note) for note in dict.fromkeys(notes[present].tolist())}
    texts = np.full(len(notes), "", dtype=object)
    texts[present] = [written[note] for note in notes[present].tolist()]
    return arrow_texts(texts.tolist())


def csv_rows(
    groups: GroupResults, columns: list[str], with_ci: bool, with_note: bool
) -> Iterator[bytes]:
    """The CSV lines of every group result, under the report's header (``columns`` are its --by
    columns; ``with_ci`` and ``with_note`` say whether it has those columns), in blocks."""
    dictionaries = _Dictionaries(_csv_value, {int: int.__repr__}, CSV_PLAIN)
    templates = [
        [_csv_template(part, columns, with_ci, with_note, counted) for counted in (False, True)]
        for part in groups.parts
    ]

    def write(number: int, rows: np.ndarray) -> pa.Array:
        part = groups.parts[number]
        named = {key.name: key for key in part.keys}
        texts = [dictionaries.texts(named[name], rows) for name in columns if name in named]
        n = part.n[rows]
        texts += [exact_column(part.value[rows]), exact_column(n)]
        # Without weights each weight sum is its row count: its text is the count's and ".0".
        counted = bool(np.array_equal(part.weight_sum[rows], n))
        texts.append(texts[-1] if counted else exact_column(part.weight_sum[rows]))
        if with_ci and part.interval is not None:
            interval = part.interval
            texts += [exact_column(interval.low[rows]), exact_column(interval.high[rows])]
        if with_note:
            texts.append(_note_cells(part.notes[rows]))
        return templates[number][counted].fill(texts)

    return _by_block(groups, write, "")


def _csv_template(
    part: GroupArrays, columns: list[str], with_ci: bool, with_note: bool, counted: bool
) -> _Template:
    """A part's CSV line; ``counted``: its weight-sum slot is given the row count's text."""
    names = [key.name for key in part.keys]
    params = json.dumps(json_ready(part.params), allow_nan=False)
    label, loss, params, direction = csv_cells([part.label, part.loss, params, part.direction])
    template = _Template()
    template.text(f"{label},group")
    for name in columns:
        template.text(",")
        if name in names:
            template.slot()
    template.text(f",{loss},{params},")
    template.slot()  # value
    template.text(",")
    template.slot()  # n
    template.text(",")
    template.slot()  # weight_sum
    template.text(f"{'.0' if counted else ''},{direction}")
    if with_ci and part.interval is not None:
        template.text(",")
        template.slot()
        template.text(",")
        template.slot()
        template.text(f",{exact(part.interval.level)}")
    elif with_ci:
        template.text(",,,")
    if with_note:
        template.text(",")
        template.slot()
    template.text("\n")
    return template


def _csv_value(value: Any) -> str:
    return csv_cells([csv_label(value)])[0]


def _note_cells(notes: np.ndarray) -> Any:
    return _note_texts(notes, lambda note: csv_cells([note])[0])
