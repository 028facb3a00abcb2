"""Texts of whole columns of numbers and values, built in Arrow (C++), for the groups of --by.

The text is the one-value forms' of ``formatting`` (tests hold them equal), without a Python
object per row. Arrow arrays are made from buffers: ``pa.array`` and ``pa.scalar`` import pandas,
a third of a second a run would pay for nothing.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def arrow_numbers(values: np.ndarray) -> pa.Array:
    """A 1-D NumPy array of numbers or booleans as an Arrow array (copied when not contiguous)."""
    if values.dtype == bool:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    values = np.ascontiguousarray(values)
    kind = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def arrow_texts(texts: list[str]) -> pa.Array:
    """Python strings as an Arrow array of text."""
    encoded = [text.encode() for text in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(text) for text in encoded], out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.large_string(), len(encoded), buffers).cast(pa.string())


def constant(text: str) -> pa.Scalar:
    """One text, as an Arrow scalar that a row-by-row function repeats."""
    return arrow_texts([text])[0]


def exact_texts(values: np.ndarray) -> list[str]:
    """``exact`` of every number of a float or int array."""
    return exact_column(values).to_pylist()


def json_number_texts(values: np.ndarray) -> list[str]:
    """Each number of an array as JSON writes it (``null`` where it is NaN or infinite)."""
    return exact_column(values, missing="null").to_pylist()


# Arrow's text of a float is Python's ``repr`` for finite numbers that are not whole with
# 1e-4 <= |x| < 1e10 (both write the shortest digits that read back; they choose scientific
# notation at other sizes and Arrow writes a whole float without ".0"). Checked once per process.
ARROW_WRITES = (1e-4, 1e10)
WHOLE_WRITTEN = 1e16  # below, Python writes a whole float as its integer and ".0"


def exact_column(values: np.ndarray, missing: str = "") -> Any:
    """``exact`` of every number of a float or int array, as an Arrow array of text, ``missing``
    where a number is NaN or infinite. Arrow writes nearly all of them (in C++): fractions, and
    whole numbers as integers with ".0"; Python writes the rest (-0.0, the very small and large)."""
    if values.dtype.kind in "iu":
        return pc.cast(arrow_numbers(values), pa.string())
    values = values.astype(np.float64, copy=False)
    size = np.abs(values)
    with np.errstate(invalid="ignore"):
        whole = (values == np.floor(values)) & (size < WHOLE_WRITTEN)
        whole &= ~((values == 0) & np.signbit(values))  # -0.0
        fraction = (size >= ARROW_WRITES[0]) & (size < ARROW_WRITES[1]) & ~whole
    if not _arrow_writes_as_python():
        fraction[:] = False
    if fraction.all():
        return pc.cast(arrow_numbers(values), pa.string())
    kinds = [np.flatnonzero(fraction), np.flatnonzero(whole), np.flatnonzero(~(fraction | whole))]
    texts = [
        pc.cast(arrow_numbers(values[kinds[0]]), pa.string()),
        _whole_texts(values[kinds[1]]),
        _python_texts(values[kinds[2]], missing),
    ]
    if len(kinds[1]) == len(values):
        return texts[1]
    # The kinds' texts laid end to end, put back in the rows' order.
    place = np.empty(len(values), dtype=np.int64)
    place[np.concatenate(kinds)] = np.arange(len(values))
    return pa.concat_arrays(texts).take(arrow_numbers(place))


def _whole_texts(values: np.ndarray) -> Any:
    """Whole floats below WHOLE_WRITTEN (not -0.0) as Python writes them: ``3.0``."""
    digits = pc.cast(arrow_numbers(values.astype(np.int64)), pa.string())
    return pc.binary_join_element_wise(digits, constant(".0"), constant(""))


def _python_texts(values: np.ndarray, missing: str) -> Any:
    """``repr`` of each float (``missing`` where it is NaN or infinite) as an Arrow array; each
    distinct number (by its bits: -0.0 is not 0.0) written once when numbers repeat."""
    bits = values.view(np.int64)
    distinct, where = np.unique(bits, return_inverse=True)
    if len(distinct) * 4 <= len(values):
        texts = arrow_texts(_reprs(distinct.view(np.float64), missing))
        return texts.take(arrow_numbers(where.reshape(-1)))
    return arrow_texts(_reprs(values, missing))


def _reprs(values: np.ndarray, missing: str) -> list[str]:
    texts = list(map(float.__repr__, values.tolist()))
    for index in np.flatnonzero(~np.isfinite(values)).tolist():
        texts[index] = missing
    return texts


@functools.lru_cache(maxsize=1)
def _arrow_writes_as_python() -> bool:
    """Whether this Arrow writes the numbers it is given to write as Python does."""
    low, high = np.log10(ARROW_WRITES[0]), np.log10(ARROW_WRITES[1])
    exponents = np.linspace(low, high, 997, endpoint=False)
    probes = np.concatenate([10.0**exponents * 1.2345678901234567, [0.1, 0.3, 1 / 3, 2.5]])
    probes = probes[(probes >= ARROW_WRITES[0]) & (probes < ARROW_WRITES[1])]
    probes = np.concatenate([probes, -probes])
    arrow = pc.cast(arrow_numbers(probes), pa.string()).to_pylist()
    return arrow == list(map(float.__repr__, probes.tolist()))


def text_ranks(texts: pa.Array) -> np.ndarray:
    """Each text's rank in ascending order (equal texts share one), a null last: Arrow's order of
    UTF-8 bytes, which is Python's order of code points."""
    ranks = pc.rank(texts, sort_keys="ascending", tiebreaker="dense")  # nulls at the end
    data = ranks.buffers()[1]
    stored = np.frombuffer(data, dtype=np.uint64)[ranks.offset : ranks.offset + len(ranks)]
    return stored.astype(np.int64) - 1


def plain_texts(texts: pa.Array, special: str, write: Any, wrap: str = "") -> pa.Array:
    """Each text (or null) as ``write`` gives it, in Arrow: texts that match no ``special``
    (a regular expression) are the text itself between two ``wrap``s; ``write`` makes the
    others (and nulls) one by one."""
    texts = texts.cast(pa.string())
    python = pc.or_kleene(pc.match_substring_regex(texts, special), pc.is_null(texts))
    written = texts
    if wrap:
        written = pc.binary_join_element_wise(constant(wrap), texts, constant(wrap), constant(""))
    rows = np.flatnonzero(_booleans(python))
    if not len(rows):
        return written
    own = arrow_texts([write(text) for text in texts.take(arrow_numbers(rows)).to_pylist()])
    return pc.replace_with_mask(written, python, own)


def _booleans(values: pa.Array) -> np.ndarray:
    """An Arrow boolean array without nulls as NumPy."""
    bits = np.frombuffer(values.buffers()[1], dtype=np.uint8)
    unpacked = np.unpackbits(bits, bitorder="little")
    return unpacked[values.offset : values.offset + len(values)].astype(bool)
