"""Key and group codes (io/chunks.py, io/key_table.py) against the Python dict they replace.

The reference numbers keys as a dict of Python values would, chunk by chunk: in order of first
appearance, every NaN one key, 0.0 and -0.0 one key, an empty text no key unless nulls are
encoded; combinations of --by columns new in a chunk in the order of their columns' codes. The
codes and labels made with array operations must be the very same, whatever the types, chunking
and hash collisions.
"""

from __future__ import annotations

import datetime
import decimal
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from losscli.io import chunks, key_table
from losscli.io.chunks import KeyCodes
from losscli.io.key_table import KeyTable, fingerprints


class DictCodes:
    """Codes of a chunk's distinct values from a dict of their Python values."""

    def __init__(self, nulls: bool = False) -> None:
        self.codes: dict = {}
        self.nulls = "encode" if nulls else "mask"

    def __call__(self, values) -> np.ndarray:
        if isinstance(values, np.ndarray):
            values = pa.array(values, from_pandas=True)
        encoded = pc.dictionary_encode(values, null_encoding=self.nulls)
        known = [self._code(value) for value in encoded.dictionary.to_pylist()]
        table = np.asarray([*known, math.nan], dtype=float)
        return table[[len(known) if i is None else i for i in encoded.indices.to_pylist()]]

    def _code(self, value) -> float:
        if self.nulls == "mask" and isinstance(value, (str, bytes)) and not value:
            return math.nan
        if isinstance(value, float) and value != value:
            value = math.nan  # one object: a dict finds it by identity
        return self.codes.setdefault(value, len(self.codes))

    def values(self) -> list:
        return [chunks._whole(value) for value in self.codes]


class DictGroups:
    def __init__(self, columns) -> None:
        self.columns = columns
        self.each = [DictCodes(nulls=True) for _ in columns]
        self.combined: dict = {}

    def __call__(self, frame) -> np.ndarray:
        codes = [
            encode(frame[name]).astype(np.int64)
            for encode, name in zip(self.each, self.columns, strict=True)
        ]
        if len(codes) == 1:
            return codes[0]
        tuples, inverse = np.unique(np.column_stack(codes), axis=0, return_inverse=True)
        known = [self.combined.setdefault(tuple(t), len(self.combined)) for t in tuples.tolist()]
        return np.asarray(known, dtype=np.int64)[inverse.reshape(-1)]

    def labels(self) -> dict:
        values = [each.values() for each in self.each]
        if len(self.columns) == 1:
            return {code: {self.columns[0]: value} for code, value in enumerate(values[0])}
        named = (self.columns, values)
        return {
            code: {name: column[part] for name, column, part in zip(*named, c, strict=True)}
            for c, code in self.combined.items()
        }


def same(a, b) -> bool:
    """Equal, a NaN equal to a NaN, and of the same Python type."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and a != a:
        return isinstance(b, float) and b != b
    return type(a) is type(b) and a == b


def coded_as_a_dict(parts, nulls: bool, collide: bool) -> None:
    """KeyCodes codes ``parts`` as a dict does; with ``collide``, every text's fingerprint is
    0, 1 or 2 (the very fingerprints of the integers 0, 1 and 2)."""
    real = key_table._text_print
    if collide:
        key_table._text_print = lambda sums, lengths: real(sums, lengths) % np.uint64(3)
    try:
        encode, reference = chunks.KeyCodes(nulls=nulls), DictCodes(nulls=nulls)
        for part in parts:
            assert np.array_equal(encode(part), reference(part), equal_nan=True)
        assert same(dict(enumerate(encode.values())), dict(enumerate(reference.values())))
    finally:
        key_table._text_print = real


@pytest.fixture
def unhashed(monkeypatch):
    """Hashing a text fails the test."""

    def hashed(sums, lengths):
        raise AssertionError("hashed")

    monkeypatch.setattr(key_table, "_text_print", hashed)
    return monkeypatch


NAN_BITS = np.array([0x7FF8000000000001, 0xFFF8000000000000], dtype=np.uint64).view(np.float64)
POOLS = {
    "int64": (pa.int64(), [0, 1, -1, 7, 2**40, -(2**62), None]),
    "int8": (pa.int8(), [0, 1, -1, 127, -128, None]),
    "uint64": (pa.uint64(), [0, 1, 2**63, 2**64 - 1, None]),
    "float64": (pa.float64(), [0.0, -0.0, 1.5, 2.0, math.nan, *NAN_BITS, math.inf, None]),
    "float32": (pa.float32(), [0.0, -0.0, 1.5, math.nan, -math.inf, None]),
    "bool": (pa.bool_(), [True, False, None]),
    "string": (pa.string(), ["", "a", "b", "ab", "a\x00", "é", "0" * 40, None]),
    "large_string": (pa.large_string(), ["", "x", "yy", None]),
    "binary": (pa.binary(), [b"", b"\x00", b"\x00\x00", b"z", None]),
    "date32": (pa.date32(), [datetime.date(2020, 1, 1), datetime.date(1969, 12, 31), None]),
    "timestamp": (pa.timestamp("ms"), [datetime.datetime(2020, 1, 1), None]),
    "decimal": (pa.decimal128(5, 2), [decimal.Decimal("1.00"), decimal.Decimal("-2.50"), None]),
}


@st.composite
def keyed_chunks(draw, kinds=tuple(POOLS)):
    name = draw(st.sampled_from(kinds))
    kind, pool = POOLS[name]
    values = draw(st.lists(st.sampled_from(pool), min_size=0, max_size=80))
    cuts = sorted(draw(st.lists(st.integers(0, len(values)), max_size=4)))
    array = pa.array(values, kind)
    if draw(st.booleans()) and name in ("string", "int64", "float64"):
        array = _repeating_dictionary(draw, values, pool, kind)
    bounds = [0, *cuts, len(values)]
    return [array.slice(a, b - a) for a, b in zip(bounds, bounds[1:], strict=False)]


def _repeating_dictionary(draw, values, pool, kind) -> pa.DictionaryArray:
    """``values`` as a dictionary array whose dictionary holds each value twice, and unused ones
    (as Arrow allows): a dictionary column comes through dictionary encoding as it is."""
    words = [value for value in pool if value is not None]
    dictionary = pa.array(words + words[::-1], kind)
    indices = [
        None if value is None else words.index(value) + draw(st.sampled_from([0, len(words)]))
        for value in values
    ]
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), dictionary)


@settings(max_examples=300, deadline=None)
@given(keyed_chunks(), st.booleans())
def test_key_codes_are_those_of_a_dict(parts, nulls):
    encode, reference = chunks.KeyCodes(nulls=nulls), DictCodes(nulls=nulls)
    for part in parts:
        assert np.array_equal(encode(part), reference(part), equal_nan=True)
    assert same(dict(enumerate(encode.values())), dict(enumerate(reference.values())))


@st.composite
def grouped_frames(draw):
    """Frames of one to three --by columns of any of a few kinds, cut into chunks alike."""
    rows = draw(st.integers(0, 60))
    names = [f"c{i}" for i in range(draw(st.integers(1, 3)))]
    columns = {}
    for name in names:
        kind, pool = POOLS[draw(st.sampled_from(["int64", "string", "float64", "bool"]))]
        values = draw(st.lists(st.sampled_from(pool), min_size=rows, max_size=rows))
        columns[name] = pa.array(values, kind)
    cuts = sorted(draw(st.lists(st.integers(0, rows), max_size=3)))
    bounds = [0, *cuts, rows]
    frames = [
        {name: column.slice(a, b - a) for name, column in columns.items()}
        for a, b in zip(bounds, bounds[1:], strict=False)
    ]
    return tuple(names), frames


@settings(max_examples=200, deadline=None)
@given(grouped_frames())
def test_group_codes_are_those_of_a_dict(grouped):
    names, frames = grouped
    groups, reference = chunks.GroupCodes(names), DictGroups(names)
    for frame in frames:
        assert np.array_equal(groups(frame), reference(frame))
    assert same(groups.labels(), reference.labels())


def test_group_codes_of_three_columns_across_chunks():
    rng = np.random.default_rng(5)
    names = ("a", "b", "c")
    groups, reference = chunks.GroupCodes(names), DictGroups(names)
    for _ in range(6):
        frame = {
            "a": pa.array(rng.integers(0, 4, 500)),
            "b": pa.array([str(v) for v in rng.integers(0, 5, 500)]),
            "c": pa.array(rng.integers(0, 3, 500).astype(float)),
        }
        assert np.array_equal(groups(frame), reference(frame))
    assert same(groups.labels(), reference.labels())


@settings(max_examples=100, deadline=None)
@given(keyed_chunks(("string", "large_string", "binary")), st.booleans())
def test_texts_sharing_a_fingerprint_are_still_told_apart(parts, nulls):
    """A hash that gives many texts one fingerprint: codes are still those of the dict."""
    coded_as_a_dict(parts, nulls, collide=True)


# Ids read from a CSV are text: those written plainly as integers are found by their numbers,
# the others by a hash of their text, and '007' is never 7.
PLAIN = ["0", "1", "-1", "2", "7", "42", "999999999999999999", "-999999999999999999"]
NOT_PLAIN = ["007", "-0", "+5", "0x1f", "1000000000000000000", "abc", "", " 1", "٣", None]


@st.composite
def integer_text_chunks(draw):
    """Chunks of text ids, each either all written plainly as integers or a mix."""
    kind = draw(st.sampled_from([pa.string(), pa.large_string()]))
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        pool = PLAIN if draw(st.booleans()) else PLAIN + NOT_PLAIN
        parts.append(pa.array(draw(st.lists(st.sampled_from(pool), max_size=30)), kind))
    return parts


@pytest.mark.parametrize("collide", [False, True])
@settings(max_examples=150, deadline=None)
@given(integer_text_chunks(), st.booleans())
def test_integer_texts_are_coded_as_a_dict_codes_them(collide, parts, nulls):
    """Whichever chunks come first; with ``collide``, every text hash is 0, 1 or 2, the very
    fingerprints of the integers 0, 1 and 2."""
    coded_as_a_dict(parts, nulls, collide)


def test_text_ids_written_plainly_are_never_hashed(unhashed):
    encode = chunks.KeyCodes(nulls=True)
    for part in (["10", "3", "10", "-4"], ["3", "999999999999999999", "0"]):
        encode(pa.array(part))
    assert encode.values() == ["10", "3", "-4", "999999999999999999", "0"]
    assert encode.texts == "integers"
    for written in ("007", "-0", "+5", "0x1f", "1000000000000000000"):
        assert key_table.plain_integers(pa.array(["1", written])) is None, written


def test_numeric_key_columns_arrive_as_numpy():
    encode, reference = chunks.KeyCodes(), DictCodes()
    for values in (np.array([1.0, np.nan, 2.0, -0.0]), np.array([0.0, 3.0, np.nan])):
        assert np.array_equal(encode(values), reference(values), equal_nan=True)


def test_a_million_distinct_keys_are_coded_in_order_of_first_appearance():
    rng = np.random.default_rng(2)
    keys = rng.permutation(1_000_000)
    encode = chunks.KeyCodes(nulls=True)
    parts = [encode(pa.array(part)) for part in np.array_split(np.concatenate([keys, keys]), 9)]
    codes = np.concatenate(parts)
    assert np.array_equal(codes, np.tile(np.arange(1_000_000), 2))
    assert encode.values()[:3] == keys[:3].tolist()


def test_key_table_finds_what_it_was_given():
    rng = np.random.default_rng(3)
    table = KeyTable()
    # Keys that share their low or high bits crowd the same slots.
    keys = np.unique(
        np.concatenate(
            [
                rng.integers(0, 2**63, 20_000).astype(np.uint64),
                np.arange(20_000, dtype=np.uint64) << np.uint64(40),
                np.arange(20_000, dtype=np.uint64),
            ]
        )
    )
    order = rng.permutation(len(keys))
    for part in np.array_split(order, 7):
        table.add(keys[part], part.astype(np.int64))
    assert np.array_equal(table.find(keys), np.arange(len(keys)))
    absent = np.array([2**63 + 5, 2**64 - 1], dtype=np.uint64)
    assert table.find(absent).tolist() == [-1, -1]
    assert 2 * table.count <= len(table.codes)


@pytest.mark.parametrize(
    ("values", "exact"),
    [
        (pa.array([1, -1, 2**62]), True),
        (pa.array([0.0, -0.0]), True),
        (pa.array(["a", "b"]), False),
        (pa.array([decimal.Decimal("1.5")]), None),
    ],
)
def test_fingerprints_say_whether_they_are_exact(values, exact):
    marks = fingerprints(values)
    assert (marks is None) if exact is None else (marks is not None and marks[1] == exact)


@pytest.mark.parametrize("slice_bytes", [1, 3, 1 << 20])
def test_text_hashes_depend_on_the_text_alone(monkeypatch, slice_bytes):
    """Hashed in slices of any size, a text hashes alike wherever it stands in the array."""
    monkeypatch.setattr(key_table, "SLICE_BYTES", slice_bytes)
    words = ["", "a", "ab", "ba", "a\x00", "\x00a", "é" * 7, "", "ab", "a" * 50, "b"]
    texts = pa.array(words, pa.large_binary())
    hashes = key_table._text_hash(texts)
    for offset in (0, 1, 4):
        alone = key_table._text_hash(texts.slice(offset))
        assert alone.tolist() == hashes[offset:].tolist()
    by_word = dict(zip(words, hashes.tolist(), strict=True))
    assert len(set(by_word.values())) == len(by_word)
    assert hashes[0] == hashes[7] and hashes[2] == hashes[8]


TEXTS = ["", "a", "ab", "a\x00", "\x00a", "é", "x" * 8, "x" * 16, "x" * 17, "y" * 32, "y" * 33]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([*TEXTS, None]), max_size=40),
    st.sampled_from([pa.string(), pa.large_string(), pa.binary(), pa.large_binary()]),
    st.integers(0, 5),
)
def test_text_words_hold_each_text_exactly(texts, kind, offset):
    values = pa.array(
        [t if t is None or not pa.types.is_binary(kind) else t.encode() for t in texts], kind
    ).slice(offset)
    marks = key_table.text_words(values)
    given = [None if t is None else t.encode() for t in texts[offset:]]
    if any(t is not None and len(t) > key_table.SHORT_BYTES for t in given):
        assert marks is None
        return
    assert marks is not None
    words, lengths = marks
    for text, row, length in zip(given, words, lengths.tolist(), strict=True):
        if text is None:
            assert length == -1
            continue
        assert length == len(text)
        assert row.tobytes() == text.ljust(8 * len(row), b"\x00")


def test_text_words_of_one_length_and_of_other_types():
    ids = pa.array(["id_01", "id_02", "id_03"]).slice(1)
    words, lengths = key_table.text_words(ids)
    assert lengths.tolist() == [5, 5] and words[:, 0].tobytes() == b"id_02\0\0\0id_03\0\0\0"
    assert key_table.text_words(pa.array([1, 2])) is None
    assert key_table.text_words(pa.array(["a"], pa.string_view())) is None


def test_a_text_hashes_alike_among_short_and_long_texts():
    """Texts of at most SHORT_BYTES are hashed from their words, longer ones a slice at a time:
    either way a text's hash is the same."""
    for text in TEXTS:
        among_short = key_table._text_hash(pa.array([text, "b"]))[0]
        among_long = key_table._text_hash(pa.array(["z" * 100, text], pa.large_string()))[1]
        alone = key_table._text_hash(pa.array([text], pa.binary()))[0]
        assert among_short == among_long == alone, text


@st.composite
def text_chunks(draw, narrow, wide):
    """Chunks of texts, each from the ``narrow`` pool or the ``wide`` one, some cut from a
    longer array."""
    kind = draw(st.sampled_from([pa.string(), pa.large_string()]))
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        pool = narrow if draw(st.booleans()) else wide
        texts = draw(st.lists(st.sampled_from(pool), max_size=30))
        offset = draw(st.integers(0, 2))
        parts.append(pa.array([narrow[0]] * offset + texts, kind).slice(offset))
    return parts


@pytest.mark.parametrize("collide", [False, True])
@settings(max_examples=150, deadline=None)
@given(text_chunks(["id_01", "id_02", "id_03", "ab_01"], TEXTS), st.booleans())
def test_short_texts_are_coded_as_a_dict_codes_them(collide, parts, nulls):
    """Texts found by their words in NumPy; with ``collide``, every text's fingerprint is 0, 1
    or 2, and those that share one are still told apart."""
    coded_as_a_dict(parts, nulls, collide)


def test_short_texts_are_coded_without_a_dictionary_of_the_chunk(monkeypatch):
    def encoded(*args, **kwargs):
        raise AssertionError("dictionary_encode")

    encode = chunks.KeyCodes(nulls=True)
    encode.integers(pa.array(["id_1", "id_2"]))  # Arrow's compute functions imported
    monkeypatch.setattr(pc, "dictionary_encode", encoded)
    parts = [["id_2", "id_10", "id_2", "b"], ["b", "id_3", "", "id_10"]]
    codes = [encode.integers(pa.array(part)).tolist() for part in parts]
    assert codes == [[1, 2, 1, 3], [3, 4, 5, 2]]
    assert encode.values() == ["id_1", "id_2", "id_10", "b", "id_3", ""]


def test_fingerprints_of_equal_keys_are_equal():
    zeros = fingerprints(pa.array([0.0, -0.0, math.nan, *NAN_BITS]))
    assert zeros is not None and len(set(zeros[0][:2].tolist())) == 1
    assert len(set(zeros[0][2:].tolist())) == 1
    texts = fingerprints(pa.array(["ab", "ab", "ba", "", "a\x00"]).slice(0, 5))
    assert texts is not None
    assert texts[0][0] == texts[0][1] and len(set(texts[0][1:].tolist())) == 4


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.integers(-40, 40),  # close together: a direct table
                st.integers(-(2**63), 2**63 - 1),  # anywhere: hashed from then on
            ),
            max_size=30,
        ),
        max_size=6,
    )
)
def test_a_key_table_finds_what_a_dict_does_direct_or_hashed(chunks_of_keys):
    table, reference = KeyTable(), {}
    for keys in chunks_of_keys:
        prints = np.array(keys, dtype=np.int64).view(np.uint64)
        expected = [reference.get(key, -1) for key in keys]
        assert table.find(prints).tolist() == expected
        new = list(dict.fromkeys(key for key in keys if key not in reference))
        codes = np.arange(len(reference), len(reference) + len(new), dtype=np.int64)
        table.add(np.array(new, dtype=np.int64).view(np.uint64), codes)
        reference.update(zip(new, codes.tolist(), strict=True))
        assert table.find(prints).tolist() == [reference[key] for key in keys]


def test_ids_close_together_stay_in_a_direct_table_and_far_apart_ones_are_hashed():
    table = KeyTable()
    ids = np.arange(1000, 3000, dtype=np.int64)
    table.add(ids.view(np.uint64), np.arange(len(ids)))
    table.add((ids - 500).view(np.uint64)[:500], np.arange(len(ids), len(ids) + 500))
    assert table.direct is not None  # ids 500..2999: one direct table
    far = np.array([2**40], dtype=np.int64)
    table.add(far.view(np.uint64), np.array([9999]))
    assert table.direct is None
    found = table.find(np.array([1000, 500, 2**40, 7], dtype=np.int64).view(np.uint64))
    assert found.tolist() == [0, 2000, 9999, -1]


def test_a_million_user_ids_in_random_order_stay_in_one_direct_table():
    # The room a direct table keeps above its largest key is not counted as the keys' spread:
    # counted, the second chunk of ids drawn from 0..10^6 turned the table hashed.
    ids = np.random.default_rng(3).integers(0, 10**6, 300_000)
    codes = KeyCodes()
    parts = [codes(pa.array(part)) for part in np.array_split(ids, 6)]
    assert codes.table is not None and codes.table.direct is not None
    # Codes in order of first appearance, as a dict numbering keys as it meets them.
    seen: dict[int, int] = {}
    expected = [seen.setdefault(key, len(seen)) for key in ids.tolist()]
    assert np.concatenate(parts).astype(np.int64).tolist() == expected


def test_first_places_in_a_direct_table_are_the_first_appearances():
    table = KeyTable()
    keys = np.array([7, 3, 7, 9, 3, 3, 12], dtype=np.int64)
    assert table.first_places(keys.view(np.uint64)).tolist() == [0, 1, 3, 6]
    assert (table.find(keys.view(np.uint64)) == -1).all()  # found nothing: the caller adds them


@pytest.mark.parametrize("kind", [pa.binary(), pa.large_binary(), pa.binary(2)])
def test_by_keys_stored_as_bytes_are_grouped_as_their_text(tmp_path, kind):
    """Some writers store Parquet text as plain bytes: groups are the texts, as with strings."""
    import pyarrow.parquet as pq

    import losscli
    from losscli.errors import InputError

    fixed = pa.types.is_fixed_size_binary(kind)  # every value two bytes ("é!" is three)
    keys = ["ab", "cd", "ab", "xy" if fixed else "é!", "cd", "ab"]
    written = {"pred": np.arange(6.0), "target": np.zeros(6)}
    as_text, as_bytes = tmp_path / "text.parquet", tmp_path / "bytes.parquet"
    pq.write_table(pa.table({**written, "g": pa.array(keys)}), as_text)
    pq.write_table(pa.table({**written, "g": pa.array([k.encode() for k in keys], kind)}), as_bytes)

    def groups(path):
        report = losscli.evaluate(path, "mse", by="g")
        return {r.group["g"]: r.value for r in report.results if r.group is not None}

    assert groups(as_bytes) == groups(as_text)
    assert all(isinstance(key, str) for key in groups(as_bytes))
    bad = tmp_path / "bad.parquet"
    raw = pa.array([b"ab", b"cd", b"\xff\xfe", b"ab", b"cd", b"ab"], kind)
    pq.write_table(pa.table({**written, "g": raw}), bad)
    with pytest.raises(InputError, match=r"not UTF-8 text \(row 3\)"):
        losscli.evaluate(bad, "mse", by="g")


# Texts of one length that differ in digits only fit a template: each is found by its number.
FITTING = ["id_001", "id_002", "id_010", "id_999", "id_000"]
UNFITTING = ["id_0a1", "ix_001", "id_0001", "id_01", "", "2024-01-05", "id_00\u00e9"]


@pytest.mark.parametrize("collide", [False, True])
@settings(max_examples=200, deadline=None)
@given(text_chunks(FITTING, [*FITTING, *UNFITTING, None]), st.booleans())
def test_texts_of_a_template_are_coded_as_a_dict_codes_them(collide, parts, nulls):
    """Whether every chunk fits the first one's template or one leaves it (then every key so far
    is found by its text's fingerprint, forced with ``collide`` to be 0, 1 or 2)."""
    coded_as_a_dict(parts, nulls, collide)


def test_texts_of_a_template_are_found_by_their_numbers(unhashed):
    encode = chunks.KeyCodes(nulls=True)
    parts = [["2024-01-05", "2024-01-06", "2024-01-05"], ["2023-12-31", "2024-01-06"]]
    codes = [encode.integers(pa.array(part)).tolist() for part in parts]
    assert codes == [[0, 1, 0], [2, 1]] and encode.texts == "template"
    assert encode.values() == ["2024-01-05", "2024-01-06", "2023-12-31"]
    unhashed.undo()
    assert encode.integers(pa.array(["2024-1-5", "2024-01-06"])).tolist() == [3, 1]
    assert encode.texts == "hashed"
    template = key_table.DigitTemplate(np.frombuffer(b"id_007", dtype=np.uint8))
    assert template.numbers(pa.array(["id_042", "id_900"])).tolist() == [42, 900]
    for unfitting in (["id_04x"], ["ix_042"], ["id_0042"], ["id_/42"], ["id_:42"]):
        assert template.numbers(pa.array(unfitting)) is None, unfitting


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.from_regex(r"\A(0|-?[1-9][0-9]{0,17})\Z"),
            st.text(alphabet="-0123456789a+ \u0663", max_size=21),
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([pa.string(), pa.large_string()]),
    st.integers(0, 3),
)
def test_texts_are_plain_integers_exactly_when_the_pattern_says_so(texts, kind, offset):
    """Read from the bytes, as ``PLAIN_INTEGER`` reads each text; then as Python's int."""
    import re

    values = pa.array(["7"] * offset + texts, kind).slice(offset)
    plain = all(re.fullmatch(key_table.PLAIN_INTEGER, text) for text in texts)
    assert key_table._written_plainly(values) == plain
    numbers = key_table.plain_integers(values)
    assert (numbers is not None) == plain
    if numbers is not None:
        assert numbers.to_pylist() == [int(text) for text in texts]


def test_by_keys_of_a_dictionary_of_bytes_are_grouped_as_their_text(tmp_path):
    import pyarrow.feather as feather

    import losscli
    from losscli.errors import InputError

    written = {"pred": np.arange(4.0), "target": np.zeros(4)}
    path = tmp_path / "keys.arrow"
    feather.write_feather(
        pa.table({**written, "g": pa.array([b"a", b"b", b"a", b"c"]).dictionary_encode()}), path
    )
    report = losscli.evaluate(path, "mse", by="g")
    values = {r.group["g"]: r.value for r in report.results if r.group is not None}
    assert values == {"a": 2.0, "b": 1.0, "c": 9.0}
    bad = pa.array([b"a", b"\xff", b"a", b"c"]).dictionary_encode()
    feather.write_feather(pa.table({**written, "g": bad}), path)
    with pytest.raises(InputError, match=r"not UTF-8 text \(row 2"):
        losscli.evaluate(path, "mse", by="g")
