"""Codes of key values kept across chunks with array operations: no Python object per key.

Each key becomes a 64-bit fingerprint (``fingerprints``): its own bits for numbers, dates and
times (exact: equal fingerprints are equal keys), a hash of its bytes for text (equal texts,
equal fingerprints; the rare unequal texts with one fingerprint are told apart by comparing them).
``KeyTable`` maps fingerprints to codes: a direct table while they lie close together (ids,
dates), else a hash table with open addressing held in two NumPy arrays, probed for a whole array
of fingerprints at once, so a chunk costs time in proportion to its own keys, never to all the
keys seen before it.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pyarrow as pa

GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / golden ratio: spreads neighbouring keys apart
BASE = np.uint64(0x100000001B3)  # odd, and its powers spread over all 64 bits
SLICE_BYTES = 1 << 20  # long texts hashed in slices: a slice's words stay 1 MB
FIRST_SLOTS = 1 << 10
# A direct table spans at most this many slots per key, or DIRECT_SLOTS (8 MB) for few keys.
DIRECT_PER_KEY = 8
DIRECT_SLOTS = 1 << 20


class KeyTable:
    """Fingerprint -> code, -1 for none.

    While the keys, read as int64, lie close together (ids 0..N, dates), a direct table: the
    code of key k at ``direct[k - low]``, one lookup per key. Once they spread out (texts' hashes,
    floats' bits, far-apart ids), open addressing, probing the next slot on. Either holds a code
    plus one: an empty slot is 0, so a table starts as zeros, which the allocator gives without
    writing them.
    """

    def __init__(self) -> None:
        self.direct: np.ndarray | None = np.zeros(0, dtype=np.int64)  # None: hashed
        self.low = 0
        self.high = -1  # the largest key in the direct table (its slots above are room to grow)
        self.keys = np.zeros(0, dtype=np.uint64)
        self.codes = np.zeros(0, dtype=np.int64)  # code + 1; 0: empty
        self.count = 0

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The code of each of ``keys``, -1 where it has none."""
        if self.direct is not None:
            return self._find_direct(keys.view(np.int64))
        # Most keys are in their first slot, or it is empty: all keys looked at there at once.
        slots = self._home(keys)
        codes = self.codes[slots]
        found = codes - 1  # -1 at an empty slot
        other = np.flatnonzero((self.keys[slots] != keys) & (codes > 0))
        if other.size:
            found[other] = self._probe(keys[other], self._next(slots[other]))
        return found

    def _probe(self, keys: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """The code of each of ``keys``, -1 where it has none, looking from ``slots`` on."""
        found = np.full(len(keys), -1, dtype=np.int64)
        pending = np.arange(len(keys))
        while pending.size:
            codes = self.codes[slots]
            occupied = codes > 0
            hit = occupied & (self.keys[slots] == keys[pending])
            found[pending[hit]] = codes[hit] - 1
            # A slot held by another key: look in the next one. An empty slot ends the search.
            other = occupied & ~hit
            pending, slots = pending[other], self._next(slots[other])
        return found

    def add(self, keys: np.ndarray, codes: np.ndarray) -> None:
        """Add ``keys`` with their distinct ``codes``; a key added twice is found with either."""
        if self.direct is not None and self._add_direct(keys.view(np.int64), codes + 1):
            self.count += len(keys)
            return
        self._make_room(self.count + len(keys))
        self._place(keys, codes + 1)
        self.count += len(keys)

    def first_places(self, keys: np.ndarray) -> np.ndarray | None:
        """Where each distinct one of ``keys`` (none of them in the table) first appears, in
        order, found in the direct table itself: one pass, no sort. None when the table is
        hashed, or turns hashed to take them."""
        if self.direct is None or not len(keys):
            return None
        ints = keys.view(np.int64)
        places = np.arange(1, len(keys) + 1, dtype=np.int64)
        if not self._add_direct(ints, np.full(len(keys), len(keys) + 1, dtype=np.int64)):
            return None
        assert self.direct is not None
        offsets = ints - np.int64(self.low)
        np.minimum.at(self.direct, offsets, places)  # each key's slot: its first place + 1
        firsts = np.flatnonzero(self.direct[offsets] == places)
        self.direct[offsets] = 0  # empty again: the caller adds the keys with their codes
        return firsts

    def _find_direct(self, keys: np.ndarray) -> np.ndarray:
        assert self.direct is not None
        # As unsigned, an offset below the table wraps round to a huge one: outside too.
        offsets = (keys - np.int64(self.low)).view(np.uint64)
        inside = offsets < np.uint64(len(self.direct))
        if inside.all():
            return self.direct[offsets.view(np.int64)] - 1  # signed: NumPy indexes it faster
        found = np.full(len(keys), -1, dtype=np.int64)
        found[inside] = self.direct[offsets[inside]] - 1
        return found

    def _add_direct(self, keys: np.ndarray, stored: np.ndarray) -> bool:
        """Add to the direct table, grown to take ``keys``; False (and hashed from now on) when
        they lie too far apart for one."""
        assert self.direct is not None
        if not len(keys):
            return True
        known = len(self.direct) > 0
        low = min(int(keys.min()), self.low) if known else int(keys.min())
        high = max(int(keys.max()), self.high) if known else int(keys.max())
        span = high - low + 1  # of the keys: the room above them is not counted
        if span > max(DIRECT_PER_KEY * (self.count + len(keys)), DIRECT_SLOTS):
            self._hash_all()
            return False
        if low < self.low or high >= self.low + len(self.direct) or not known:
            # Room for half as much again above: ids that grow need not copy at every chunk.
            grown = np.zeros(span + span // 2, dtype=np.int64)
            kept = min(len(self.direct), len(grown) - (self.low - low))
            grown[self.low - low : self.low - low + kept] = self.direct[:kept]
            self.direct, self.low = grown, low
        self.high = high
        self.direct[keys - np.int64(self.low)] = stored
        return True

    def _hash_all(self) -> None:
        """From now on, open addressing, with the direct table's keys."""
        assert self.direct is not None
        slots = np.flatnonzero(self.direct)
        keys = (slots + self.low).astype(np.int64).view(np.uint64)
        stored = self.direct[slots]
        self.direct = None
        self.keys = np.zeros(FIRST_SLOTS, dtype=np.uint64)
        self.codes = np.zeros(FIRST_SLOTS, dtype=np.int64)
        self._make_room(len(keys))
        self._place(keys, stored)

    def _place(self, keys: np.ndarray, codes: np.ndarray) -> None:
        """Put ``keys`` with their stored ``codes`` (each a code plus one) in free slots."""
        pending = np.arange(len(keys))
        slots = self._home(keys)
        while pending.size:
            free = np.flatnonzero(self.codes[slots] == 0)
            # Of several keys after one free slot, one takes it (whichever wrote last); the
            # others find it taken and move on with the keys that found it taken already.
            wanted, claims = slots[free], codes[pending[free]]
            self.codes[wanted] = claims
            placed = free[self.codes[wanted] == claims]
            self.keys[slots[placed]] = keys[pending[placed]]
            left = np.ones(len(pending), dtype=bool)
            left[placed] = False
            pending, slots = pending[left], self._next(slots[left])

    def _make_room(self, count: int) -> None:
        """At most half the slots in use: probes stay short."""
        if 2 * count <= len(self.codes):
            return
        size = len(self.codes)
        while 2 * count > size:
            size *= 2
        used = self.codes > 0
        keys, codes = self.keys[used], self.codes[used]
        self.keys = np.zeros(size, dtype=np.uint64)
        self.codes = np.zeros(size, dtype=np.int64)
        self._refill(keys, codes)

    def _refill(self, keys: np.ndarray, codes: np.ndarray) -> None:
        """Place keys in the empty table without probing. In order of their first slots h, each
        takes the first free slot from its own: the i-th takes i + max(h[j] - j for j <= i)."""
        homes = self._home(keys)
        # Taken in slot order from the smaller table, keys come nearly in order of their slots.
        order = np.argsort(homes, kind="stable")
        counted = np.arange(len(order))
        slots = counted + np.maximum.accumulate(homes[order] - counted)
        inside = slots < len(self.codes)
        self.keys[slots[inside]] = keys[order[inside]]
        self.codes[slots[inside]] = codes[order[inside]]
        beyond = order[~inside]  # past the last slot: they go round to the first ones
        self._place(keys[beyond], codes[beyond])

    def _home(self, keys: np.ndarray) -> np.ndarray:
        """Each key's first slot: the top bits of its product with GOLDEN."""
        bits = np.uint64(64 - (len(self.codes).bit_length() - 1))
        return ((keys * GOLDEN) >> bits).astype(np.intp)

    def _next(self, slots: np.ndarray) -> np.ndarray:
        return (slots + 1) & (len(self.codes) - 1)


def fingerprints(values: pa.Array) -> tuple[np.ndarray, bool] | None:
    """A 64-bit fingerprint of each value, and whether equal fingerprints mean equal values.

    Numbers (a float's NaNs as one, -0.0 as 0.0), true/false, dates, times and durations are
    their own bits: exact. Text and bytes are a hash: equal for equal values, not always unequal
    for unequal ones. A null's fingerprint is meaningless. None for other types.
    """
    kind = values.type
    if pa.types.is_floating(kind):
        return _float_bits(values), True
    if pa.types.is_boolean(kind):
        values, kind = values.cast(pa.uint8()), pa.uint8()
    if _fixed_width(kind):
        return _bits(values, kind), True
    if is_text(kind):
        return _text_hash(values), False
    return None


# Text read as the integer it writes: an optional minus, then digits without a leading zero, at
# most 18 of them (so it fits in int64). A CSV's ids are text (read as written: '007' is not 7),
# and hashing them costs far more than finding them by their numbers.
PLAIN_INTEGER = r"^(0|-?[1-9][0-9]{0,17})$"


def plain_integers(values: pa.Array) -> pa.Array | None:
    """Text without a null as int64 when every value is an integer written plainly
    (``PLAIN_INTEGER``), else None."""
    import pyarrow.compute as pc

    # Arrow reads '007', '-0' and '0x1f' as integers too: the bytes are checked first.
    if not _written_plainly(values):
        return None
    try:
        return pc.cast(values, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _written_plainly(values: pa.Array) -> bool:
    """Whether every text (string or large_string, no null) matches ``PLAIN_INTEGER``, read from
    its bytes: digits and minus signs only, a sign only first, 1 to 18 digits, the first not 0
    unless the text is '0'. (Writing the numbers back as text to compare took twice as long.)"""
    kind = values.type
    text_type = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    buffers = _text_buffers(values) if text_type and not values.null_count else None
    if buffers is None or not len(values):
        return False
    offsets, stored = buffers
    lengths = np.diff(offsets)
    if lengths.min() < 1 or lengths.max() > 19:
        return False
    text = stored[offsets[0] : offsets[-1]]
    minus = text == ord("-")
    if not (((text - np.uint8(ord("0"))) <= 9) | minus).all():
        return False
    starts = offsets[:-1] - offsets[0]
    signed = minus[starts]
    digits = lengths - signed
    if np.count_nonzero(minus) != np.count_nonzero(signed) or digits.min() < 1 or digits.max() > 18:
        return False
    zero = text[starts + signed] == ord("0")
    return not (zero & ((lengths > 1) | signed)).any()


def integer_prints(keys: pa.Array, prints: np.ndarray) -> np.ndarray:
    """The fingerprints of text ``keys``, those written plainly as integers (``PLAIN_INTEGER``)
    printed as their numbers, as ``plain_integers`` reads them; the others' hashes kept."""
    import pyarrow.compute as pc

    plain = pc.match_substring_regex(keys, PLAIN_INTEGER).fill_null(False)
    found = pc.indices_nonzero(plain)
    if not len(found):
        return prints
    where = np.frombuffer(found.buffers()[1], dtype=np.uint64)[: len(found)].astype(np.intp)
    numbers = pc.cast(keys.take(found), pa.int64())
    prints = prints.copy()
    prints[where] = stored_numbers(numbers, np.int64).view(np.uint64)
    return prints


ZERO_PRINT = np.zeros(1).view(np.uint64)[0]
NAN_PRINT = np.full(1, np.nan).view(np.uint64)[0]


def float_repeats(kind: pa.DataType, prints: np.ndarray) -> bool:
    """Whether distinct float values have equal fingerprints among ``prints``: 0.0 and -0.0,
    or NaNs of other bits, met."""
    if not pa.types.is_floating(kind):
        return False
    zeros = int(np.count_nonzero(prints == ZERO_PRINT))
    nans = int(np.count_nonzero(prints == NAN_PRINT))
    return zeros > 1 or nans > 1


TEXT_TYPES = (
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_binary,
    pa.types.is_large_binary,
    pa.types.is_string_view,
    pa.types.is_binary_view,
)


def is_text(kind: pa.DataType | None) -> bool:
    """A text or bytes type (not a dictionary of them)."""
    return kind is not None and any(test(kind) for test in TEXT_TYPES)


def _fixed_width(kind: pa.DataType) -> bool:
    """Integers and the types stored as one: dates, times, timestamps, durations."""
    return (
        pa.types.is_integer(kind)
        or pa.types.is_date(kind)
        or pa.types.is_time(kind)
        or pa.types.is_timestamp(kind)
        or pa.types.is_duration(kind)
    )


def stored_numbers(values: pa.Array, dtype: Any) -> np.ndarray:
    """The values buffer of a fixed-width Arrow array as NumPy, without a copy."""
    data = values.buffers()[1]
    if data is None:
        return np.zeros(len(values), dtype=dtype)
    return np.frombuffer(data, dtype=dtype)[values.offset : values.offset + len(values)]


def _bits(values: pa.Array, kind: pa.DataType) -> np.ndarray:
    signed = not (pa.types.is_integer(kind) and pa.types.is_unsigned_integer(kind))
    stored = stored_numbers(values, np.dtype(f"{'i' if signed else 'u'}{kind.bit_width // 8}"))
    return stored.astype(np.int64 if signed else np.uint64).view(np.uint64)


def _float_bits(values: pa.Array) -> np.ndarray:
    numbers = stored_numbers(values, np.dtype(f"f{values.type.bit_width // 8}")).astype(np.float64)
    numbers += 0.0  # -0.0 becomes 0.0
    numbers[np.isnan(numbers)] = np.nan  # every NaN with the same bits
    return numbers.view(np.uint64)


def _text_hash(values: pa.Array) -> np.ndarray:
    """A hash of each value's bytes (of a text or bytes array), its length mixed in.

    A polynomial in the value's 8-byte words (``text_words``), over slices of the data of at
    most SLICE_BYTES (but whole values) when a value is longer than SHORT_BYTES.
    """
    words = text_words(values)
    if words is not None:
        return word_prints(*words)
    # Text views have no offsets: as bytes with offsets first.
    buffers = _text_buffers(values) or _text_buffers(values.cast(pa.large_binary()))
    assert buffers is not None
    offsets, stored = buffers
    sums = np.zeros(len(values), dtype=np.uint64)
    first = 0
    while first < len(values):
        fits = np.searchsorted(offsets, offsets[first] + SLICE_BYTES, side="right") - 1
        last = max(first + 1, int(fits))
        sums[first:last] = _polynomial(stored, offsets[first : last + 1])
        first = last
    return _text_print(sums, np.diff(offsets))


# Texts at most this long are compared as words in NumPy: a chunk's texts are found among the
# keys without Arrow making a dictionary of them first.
SHORT_BYTES = 32
# The low i bytes of a word (i = 0 .. 8).
LOW_BYTES = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def _text_buffers(values: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """The offsets (int64) of a string, binary or large array's values, and the bytes they point
    into, without a copy of the bytes; None for other types."""
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_binary(kind):
        width: Any = np.int32
    elif pa.types.is_large_string(kind) or pa.types.is_large_binary(kind):
        width = np.int64
    else:
        return None
    ends = np.frombuffer(values.buffers()[1], dtype=width)
    offsets = ends[values.offset : values.offset + len(values) + 1].astype(np.int64)
    data = values.buffers()[2]
    stored = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return offsets, stored


def text_words(values: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """Each value's bytes as little-endian 64-bit words, zeros past its end (a row of words per
    value), and its length in bytes, -1 for a null; None for texts longer than SHORT_BYTES and
    for types other than text and bytes with offsets (string, binary and their large forms).

    Two texts are equal when their lengths and words are: an exact key in a few integers.
    """
    buffers = _text_buffers(values)
    if buffers is None:
        return None
    offsets, stored = buffers
    lengths = np.diff(offsets)
    longest = int(lengths.max()) if len(lengths) else 0
    if longest > SHORT_BYTES:
        return None
    count = max(1, -(-longest // 8))
    first, end = (int(offsets[0]), int(offsets[-1])) if len(values) else (0, 0)
    if end - first == longest * len(values):  # every value as long as the longest: a table
        table = np.zeros((len(values), 8 * count), dtype=np.uint8)
        table[:, :longest] = stored[first:end].reshape(len(values), longest)
        words = table.view(np.uint64)
    else:
        words = _words_at(stored, offsets, lengths, count)
    if values.null_count:
        valid = np.unpackbits(
            np.frombuffer(values.buffers()[0], dtype=np.uint8),
            count=values.offset + len(values),
            bitorder="little",
        )[values.offset :]
        lengths[valid == 0] = -1
    return words, lengths


def _words_at(
    stored: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, count: int
) -> np.ndarray:
    """The ``count`` words from each value's first byte on, the bytes past its end cleared.

    A word at any byte is the aligned word it starts in shifted down, with the next aligned
    word's low bytes shifted up above it.
    """
    base = int(offsets[0]) & ~7
    end = int(offsets[-1])
    aligned = np.zeros((end - base) // 8 + count + 2, dtype=np.uint64)
    aligned.view(np.uint8)[: end - base] = stored[base:end]
    starts = offsets[:-1] - base
    at = (starts >> 3).astype(np.intp)
    down = ((starts & 7) << 3).astype(np.uint64)
    up = np.uint64(63) - down  # then one more: 64 - down, which is 64 (all gone) when down is 0
    words = np.empty((count, len(starts)), dtype=np.uint64)
    below = aligned[at]
    for k in range(count):
        at += 1
        above = aligned[at]
        np.right_shift(below, down, out=words[k])
        below = above
        above = np.left_shift(above, up)
        above <<= np.uint64(1)
        words[k] |= above
        left = lengths - 8 * k
        if len(left) and left.min() < 8:
            words[k] &= LOW_BYTES[np.clip(left, 0, 8)]
    return words.T


def word_prints(words: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The hash of texts given as ``text_words``: what ``_text_hash`` gives for them."""
    powers = _powers(words.shape[1])
    sums = words[:, 0].copy()
    for k in range(1, words.shape[1]):
        sums += words[:, k] * powers[k]
    return _text_print(sums, lengths)


def _text_print(sums: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A text's fingerprint from the polynomial of its words and its length.

    Not mixed further: mixing is one-to-one, so it makes no two texts' fingerprints equal or
    unequal, and the table spreads keys by the top bits of their product with GOLDEN anyway
    (--by over 10^5 text ids: 0.955x the time without it, paired, 11 runs)."""
    return sums + lengths.astype(np.uint64) * GOLDEN


def _polynomial(stored: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sum of word * BASE^i over each value's 8-byte words, i counted from the value's start."""
    lengths = np.diff(offsets)
    counts = (lengths + 7) // 8
    firsts = np.cumsum(counts) - counts
    value = np.repeat(np.arange(len(counts)), counts)
    place = np.arange(int(counts.sum())) - firsts[value]  # each word's number in its value
    starts = offsets[:-1][value] + 8 * place
    words = _words_at(stored, np.append(starts, offsets[-1]), lengths[value] - 8 * place, 1)
    terms = words[:, 0] * _powers(int(counts.max(initial=0)))[place]
    sums = np.zeros(len(counts), dtype=np.uint64)
    filled = counts > 0
    if filled.any():
        sums[filled] = np.add.reduceat(terms, firsts[filled])
    return sums


@functools.lru_cache(maxsize=2)
def _power_table(size: int) -> np.ndarray:
    factors = np.full(size, BASE, dtype=np.uint64)
    factors[0] = 1
    return np.cumprod(factors)


def _powers(count: int) -> np.ndarray:
    """BASE^i for i below ``count`` at least, modulo 2^64."""
    return _power_table(max(1024, 1 << max(count - 1, 0).bit_length()))


class DigitTemplate:
    """Texts of one length that differ only in some of their digits: ids like 'id_000042',
    'scan_0117.png' or '000731', dates like '2024-01-05'. The places that hold a digit in the
    first text (at most 18) are read as one decimal number, and every other byte must be the
    first text's: two texts that fit are equal exactly when their numbers are, so the number is
    an exact key (found in the direct table, as integer ids are, with no hash and no check).
    """

    def __init__(self, first: np.ndarray) -> None:
        self.length = len(first)
        digit = (first >= ord("0")) & (first <= ord("9"))
        self.digits = np.flatnonzero(digit)
        self.fixed = np.flatnonzero(~digit)
        self.bytes = first[self.fixed]

    @classmethod
    def of(cls, values: pa.Array) -> tuple[DigitTemplate, np.ndarray] | None:
        """The template of ``values`` (text without a null) and their numbers, or None when they
        have none."""
        table = _same_lengths(values)
        if table is None or not 0 < table.shape[1] <= SHORT_BYTES:
            return None
        template = cls(table[0])
        if not 0 < len(template.digits) <= 18:
            return None
        numbers = template.numbers(values, table)
        return None if numbers is None else (template, numbers)

    def numbers(self, values: pa.Array, table: np.ndarray | None = None) -> np.ndarray | None:
        """Each text's number (int64), or None unless every text fits the template."""
        table = _same_lengths(values) if table is None else table
        if table is None or table.shape[1] != self.length:
            return None
        if len(self.fixed) and not (table[:, self.fixed] == self.bytes).all():
            return None
        digits = table[:, self.digits] - np.uint8(ord("0"))  # past '9' or below '0': above 9
        if (digits > 9).any():
            return None
        numbers = np.zeros(len(table), dtype=np.int64)
        for place in range(digits.shape[1]):
            numbers *= 10
            numbers += digits[:, place]
        return numbers


def _same_lengths(values: pa.Array) -> np.ndarray | None:
    """The bytes of texts (string or large_string, no null) all of one length, a row each (a
    view of Arrow's buffer); None when their lengths differ."""
    buffers = _text_buffers(values)
    if buffers is None or not len(values):
        return None
    offsets, stored = buffers
    first, end = int(offsets[0]), int(offsets[-1])
    length = (end - first) // len(values)
    if not np.array_equal(offsets, first + length * np.arange(len(offsets))):
        return None
    return stored[first:end].reshape(len(values), length)


class TextWords:
    """The texts of codes 0, 1, 2, ... as ``text_words``: a chunk's texts are checked against the
    texts of the codes their fingerprints found with a few array comparisons, exactly."""

    def __init__(self) -> None:
        self.words: list[np.ndarray] = []  # word k of every code's text; as many as the longest
        self.lengths = np.zeros(0, dtype=np.int64)
        self.size = 0

    def add(self, words: np.ndarray, lengths: np.ndarray) -> None:
        """The texts of the next codes, in order."""
        start, self.size = self.size, self.size + len(lengths)
        if self.size > len(self.lengths):  # room for twice as many: chunks add few at a time
            room = max(2 * self.size, 1024)
            self.lengths = np.resize(self.lengths, room)
            self.words = [np.resize(column, room) for column in self.words]
        for _ in range(len(self.words), words.shape[1]):
            self.words.append(np.zeros(len(self.lengths), dtype=np.uint64))
        self.lengths[start : self.size] = lengths
        for k, column in enumerate(self.words):
            column[start : self.size] = words[:, k] if k < words.shape[1] else 0

    def same(self, codes: np.ndarray, words: np.ndarray, lengths: np.ndarray) -> bool:
        """Whether each text is the text of its code (codes of -1 aside)."""
        found = np.maximum(codes, 0)
        if not self.size:
            return bool((codes < 0).all())
        same = self.lengths[found] == lengths
        # Equal lengths: as many words, no more than the fewer of the two kept.
        for k in range(min(len(self.words), words.shape[1])):
            same &= self.words[k][found] == words[:, k]
        return bool((same | (codes < 0)).all())


class Numbering:
    """Dense codes 0, 1, 2, ... of 64-bit keys, given in the order keys are first numbered."""

    def __init__(self) -> None:
        self.table = KeyTable()
        self.count = 0

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The code of each of ``keys``, -1 where it has none yet."""
        return self.table.find(keys)

    def number(self, keys: np.ndarray) -> np.ndarray:
        """Codes for distinct ``keys`` not numbered yet, in their order."""
        numbers = np.arange(self.count, self.count + len(keys), dtype=np.int64)
        self.table.add(keys, numbers)
        self.count += len(keys)
        return numbers

    def codes(self, keys: np.ndarray) -> np.ndarray:
        """The code of each of ``keys``, new ones numbered in ascending order of key."""
        unique, inverse = np.unique(keys, return_inverse=True)
        found = self.find(unique)
        new = found < 0
        found[new] = self.number(unique[new])
        return found[inverse.reshape(-1)]
