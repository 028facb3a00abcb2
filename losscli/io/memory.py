"""In-memory inputs for the Python API.

Tables: pandas DataFrames, Arrow tables, batches and readers, dicts of arrays, and any object with
the Arrow PyCapsule interface (a polars DataFrame, a DuckDB relation), found by its dunder method so
that polars is never imported here. Values for one role (``pred=series``) become an extra column of
the table, read row by row beside it. Whatever cannot be read by position without a guess (two
pandas indexes that differ, a lazy query, a generator) is refused with a message saying how to fix
it.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from os import PathLike
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from losscli.errors import InputError, LossCliError, UsageError
from losscli.io.sources import Source

ROLE_PARAMETERS = ("pred", "target", "weight")
# pyarrow 15 made importing a C stream public (RecordBatchReader.from_stream) and pyarrow 16 added
# ChunkedArray's; pyproject allows 14, which has the private importer for record batches only.
STREAM_READER = getattr(pa.RecordBatchReader, "from_stream", None)
STREAM_ARRAYS = hasattr(pa.ChunkedArray, "_import_from_c_capsule")
ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)

Function = TypeVar("Function", bound=Callable[..., Any])


def is_in_memory(data: Any) -> bool:
    """A table held by Python: not a path, a list of paths or ``-``."""
    if isinstance(data, (ArrayTable, pa.Table, pa.RecordBatch, pa.RecordBatchReader, Mapping)):
        return True
    if _is_pandas_frame(data):
        return True
    if _is_column(data):
        return False
    return hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__")


def takes_in_memory(*tables: str) -> Callable[[Function], Function]:
    """Let ``function`` take values as well as column names for its roles.

    ``tables`` name its table parameters (``data``; ``baseline``, ``candidate``); values given for
    ``pred``, ``target``, ``weight``, ``columns`` or ``targets`` become columns of the first, and
    messages about them name the parameter (``pred=``) instead of a column.
    """

    def wrap(function: Function) -> Function:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            generated = bind_values(bound.arguments, tables)
            try:
                return function(*bound.args, **bound.kwargs)
            except LossCliError as error:
                renamed = _renamed(error, generated)
                if renamed is error:
                    raise
                raise renamed from None

        return call  # type: ignore[return-value]

    return wrap


def bind_values(arguments: dict[str, Any], tables: tuple[str, ...]) -> list[str]:
    """Check the tables and put role values into the first: ``arguments`` changed in place.

    Returns the names given to the columns made from values (``pred=``, ...).
    """
    _check_names(arguments)
    _check_tables(arguments, tables)
    roles = {role: arguments.get(role) for role in ROLE_PARAMETERS if role in arguments}
    names, values = _split_roles({**roles, **(arguments.get("columns") or {})})
    _check_pairing(arguments, tables, names, values)
    if values:
        arguments[tables[0]] = _with_values(arguments[tables[0]], values, tables[0])
        names.update({role: f"{role}=" for role in values})
    for role in roles:
        arguments[role] = names.get(role)
    if arguments.get("columns"):
        arguments["columns"] = {role: names.get(role) for role in arguments["columns"]}
    return [f"{role}=" for role in values]


def _check_tables(arguments: dict[str, Any], tables: tuple[str, ...]) -> None:
    for name in tables:
        _check_table(arguments[name], name, may_be_none=name == "data")
    if _is_column(arguments.get("targets")) or _is_values_list(arguments.get("targets")):
        _targets_as_values(arguments)
    _check_table(arguments.get("targets"), "targets", may_be_none=True)


def _check_pairing(
    arguments: dict[str, Any],
    tables: tuple[str, ...],
    names: Mapping[str, str],
    values: Mapping[str, Any],
) -> None:
    """Values can be paired with the table's rows: there is one, or every role has values."""
    first = tables[0]
    if arguments[first] is None and (names or not values):
        named = f"{next(iter(names))}= names a column" if names else "no values were given"
        raise UsageError(
            f"{first}= is None, but {named}.",
            "Give a table or path as data=, or every role's values (pred=, target=, ...).",
        )
    if "pred" in values and len(tables) > 1:
        raise UsageError(
            "pred= must name a column here: each input gives its own predictions.",
            "Give the predictions' column name, e.g. pred='score'.",
        )
    _check_indexes([(name, arguments.get(name)) for name in (*tables, "targets")], values)


def _check_names(arguments: dict[str, Any]) -> None:
    """Parameters that only name things (losses, columns for an id or groups) get strings."""
    _check_losses(arguments)
    columns = arguments.get("columns")
    if columns is not None and not isinstance(columns, Mapping):
        raise UsageError(
            f"columns= is {_article(_kind(columns))}, not a dict of role to column.",
            "Example: columns={'var': 'sigma2'}.",
        )
    for name in ("id_column", "by"):
        given = arguments.get(name)
        if given is None or isinstance(given, str):
            continue
        if isinstance(given, (int, np.integer)) or name == "by" and _labels(given):
            labels = [given] if isinstance(given, (int, np.integer)) else given
            arguments[name] = ",".join(str(label) for label in labels)  # pandas labels such as 0
            continue
        example = "by='region'" if name == "by" else "id_column='row_id'"
        raise UsageError(
            f"{name}= is {_article(_kind(given))}; it names columns of the table.",
            f"Add the values to the table as a column and give its name, e.g. {example}.",
        )


def _check_losses(arguments: dict[str, Any]) -> None:
    losses = arguments.get("losses")
    if losses is None:
        arguments["losses"] = losses = ()  # as when left out: "No loss given", with a hint
    if isinstance(losses, str) or _strings(losses):
        return
    items = losses if isinstance(losses, (list, tuple)) else [losses]
    bad = next(item for item in items if not isinstance(item, str))
    raise UsageError(
        f"losses= holds {bad!r}, {_article(_kind(bad))}, not a SPEC string.",
        "Give a string or a list of them, e.g. 'mse,huber:delta=0.5' or ['mse', 'mae'].",
    )


def _strings(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


def _labels(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(
        isinstance(item, (str, int, np.integer)) for item in value
    )


def _is_values_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and _first_non_path(value) is not None


def _targets_as_values(arguments: dict[str, Any]) -> None:
    """``targets=`` holding values (a Series, an array) is the same as ``target=`` holding them."""
    if arguments.get("target") is not None:
        raise UsageError(
            "targets= holds values, so target= has no table to name a column in.",
            "Give the values as target= alone, or targets= a table with target= its column.",
        )
    arguments["target"], arguments["targets"] = arguments["targets"], None


def _split_roles(roles: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """Roles given column names (a label that is not a string as its ``str``), and given values."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    for role, given in roles.items():
        if given is None:
            continue
        if isinstance(given, str):
            names[role] = given
        elif isinstance(given, (int, float, np.generic)):
            names[role] = str(given)  # a pandas label such as 0: columns are named str(label)
        elif isinstance(given, (list, tuple)) and given and all(isinstance(g, str) for g in given):
            names[role] = ",".join(given)  # a group of columns
        else:
            values[role] = given
    return names, values


def _check_table(data: Any, name: str, may_be_none: bool) -> None:
    """A table parameter holds something it can read: else a usage error saying what to give."""
    if data is None and may_be_none:
        return
    kind = _kind(data)
    if _is_column(data):
        hint = "Pass it as pred= or target=, or make a table of it (e.g. .to_frame())."
        if isinstance(data, np.ndarray):
            hint = "Name its columns in a dict ({'pred': p, 'target': t}), or use pred=, target=."
        raise UsageError(f"{name}= is {_article(kind)}, which has no column names.", hint)
    if _is_table_or_paths(data):
        return
    hint = _TABLE_HINT
    if kind == "polars.LazyFrame":
        problem = "a polars LazyFrame, a query that has not run"
        hint = "Run it first with .collect(), or pass the files it scans as paths (read in chunks)."
    elif isinstance(data, (list, tuple)):
        problem = f"a list holding {_article(_kind(_first_non_path(data)))}"
        hint = "Give one table (pd.concat or pa.concat_tables joins several), or a list of paths."
    elif isinstance(data, Iterator):
        problem = f"an iterator ({type(data).__name__}), which can be read only once"
        hint = "Give a table, or wrap batches: pa.RecordBatchReader.from_batches(schema, it)."
    else:
        problem = _article(kind)
    raise UsageError(f"{name}= is {problem}, not a table or path.", hint)


_TABLE_HINT = (
    "Give a path, a list of paths, a pandas or polars DataFrame, an Arrow table or reader, "
    "or a dict of arrays."
)


def _is_table_or_paths(data: Any) -> bool:
    if isinstance(data, (str, PathLike)) or is_in_memory(data):
        return True
    return isinstance(data, (list, tuple)) and all(isinstance(i, (str, PathLike)) for i in data)


def _is_column(value: Any) -> bool:
    """One column of values (not a table): a Series, an array."""
    if isinstance(value, (np.ndarray, pa.Array, pa.ChunkedArray)) or _is_pandas_column(value):
        return True
    # A polars Series, found without importing polars: it has the Arrow stream interface too.
    return type(value).__name__ == "Series" and hasattr(value, "__arrow_c_stream__")


def _first_non_path(items: list | tuple) -> Any:
    return next((i for i in items if not isinstance(i, (str, PathLike))), None)


def _kind(value: Any) -> str:
    """``module.Type`` with the module's top-level name: pandas.Series, numpy.ndarray."""
    kind = type(value)
    module = kind.__module__.split(".")[0]
    return kind.__name__ if module == "builtins" else f"{module}.{kind.__name__}"


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiouAEIOU" else f"a {kind}"


def _is_pandas_frame(value: Any) -> bool:
    # Only if pandas is imported: else the value is none of its types, and importing it costs.
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def _is_pandas_column(value: Any) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, (pandas.Series, pandas.Index))


# -- pandas indexes ------------------------------------------------------------------------------


def _check_indexes(tables: list[tuple[str, Any]], values: Mapping[str, Any]) -> None:
    """Refuse pandas objects whose indexes differ: paired by position or by label is a guess."""
    indexed = [(f"{name}=", table) for name, table in tables if table is not None]
    indexed += [(f"{role}=", value) for role, value in values.items()]
    seen = [(name, index) for name, value in indexed for name, index in _indexes(name, value)]
    for name, index in seen[1:]:
        first, first_index = seen[0]
        if not index.equals(first_index):
            raise InputError(
                f"{first} and {name} have different pandas indexes (not the same labels in the "
                "same order): rows could be paired by position or by label.",
                "Pair by position with .reset_index(drop=True) on both, or by label with "
                ".reindex() on one; losscli does not guess.",
            )


def _indexes(name: str, value: Any) -> list[tuple[str, Any]]:
    """The pandas indexes ``value`` brings: its own, or those of a dict's pandas values."""
    if _is_pandas_frame(value) or _is_pandas_column(value) and hasattr(value, "index"):
        return [(name, value.index)]
    if isinstance(value, Mapping) and not isinstance(value, ArrayTable):
        return [
            (f"{name[:-1]}[{key!r}]", column.index)
            for key, column in value.items()
            if _is_pandas_frame(column) or _is_pandas_column(column) and hasattr(column, "index")
        ]
    return []


# -- values for one role -------------------------------------------------------------------------


class ArrayTable:
    """A table (or none) with role values beside it as columns, read row by row.

    A plain class: a dataclass compiles its methods when the module loads, ~1 ms of every run.
    """

    __slots__ = ("base", "arrays", "display")

    def __init__(
        self, base: Any, arrays: dict[str, pa.Array] | None = None, display: str = "<arrays>"
    ) -> None:
        self.base = base  # a table as given, or None
        self.arrays = {} if arrays is None else arrays
        self.display = display


def _with_values(data: Any, values: Mapping[str, Any], parameter: str) -> ArrayTable:
    if data is not None and not is_in_memory(data):
        role = next(iter(values))
        raise UsageError(
            f"{role}= holds values, but {parameter}= is a path: its rows are not in memory to "
            "pair them with.",
            f"Give {role}= a column name, or load the file (e.g. pd.read_parquet) and pass it.",
        )
    arrays = {f"{role}=": role_column(value, f"{role}=") for role, value in values.items()}
    lengths = {name: len(array) for name, array in arrays.items()}
    first = next(iter(lengths))
    for name, length in lengths.items():
        if length != lengths[first]:
            raise InputError(
                f"{first} has {lengths[first]} values but {name} has {length}.",
                "Give each one value per row, in the same row order.",
            )
    return ArrayTable(data, arrays, _display(data) if data is not None else "<arrays>")


def role_column(value: Any, what: str) -> pa.Array:
    """One column's values as Arrow: a 2-D array or a DataFrame is a vector per row."""
    if _is_pandas_frame(value):
        return _matrix_column(_frame_matrix(value, what), what)
    if _is_pandas_column(value):
        return _convert(lambda: pa.Array.from_pandas(value), what)
    if isinstance(value, pa.ChunkedArray):
        return value.combine_chunks()
    if isinstance(value, pa.Array):
        return value
    if hasattr(value, "__arrow_c_array__"):
        return _convert(lambda: pa.array(value), what)
    if hasattr(value, "__arrow_c_stream__") and STREAM_ARRAYS:
        return _convert(lambda: pa.chunked_array(value).combine_chunks(), what)
    if isinstance(value, np.ma.MaskedArray):
        return _matrix_column(_unmasked(value, what), what)
    if isinstance(value, (np.ndarray, list, tuple)) or hasattr(value, "__array__"):
        return _matrix_column(_as_numpy(value, what), what)
    kind = f"an iterator ({type(value).__name__})" if isinstance(value, Iterator) else _kind(value)
    kind = kind if kind.startswith("an ") else _article(kind)
    raise UsageError(
        f"{what} is {kind}, not a column name or values.",
        "Give a column name, or the values as a list, NumPy array or pandas Series.",
    )


def _convert(make: Callable[[], Any], what: str) -> Any:
    try:
        return make()
    except ARROW_ERRORS as error:
        raise InputError(f"{what} cannot be read: {_first_line(error)}", _VALUES_HINT) from None


_VALUES_HINT = "Give numbers: a list, NumPy array or pandas Series of ints, floats or bools."


def _unmasked(values: np.ma.MaskedArray, what: str) -> np.ndarray:
    """A masked array's masked entries as NaN: np.asarray would keep the numbers under the mask."""
    try:
        return np.ma.filled(values.astype(np.float64), np.nan)
    except (ValueError, TypeError):
        raise InputError(
            f"{what} is a masked array of {values.dtype}, not numbers.", _VALUES_HINT
        ) from None


def _as_numpy(value: Any, what: str) -> np.ndarray:
    try:
        return np.asarray(value)
    except (ValueError, TypeError, RuntimeError) as error:  # RuntimeError: a tensor needing grad
        raise InputError(
            f"{what} cannot be read as an array: {_first_line(error)}.",
            "Give one number per row, or for a vector per row, rows of equal length.",
        ) from None


def _frame_matrix(frame: Any, what: str) -> np.ndarray:
    """A DataFrame given for one role: its columns are each row's vector (class scores, ...)."""
    if not len(frame.columns):
        raise InputError(f"{what} is a DataFrame without columns.", "Give it a column per class.")
    try:
        return frame.to_numpy(dtype=np.float64, na_value=np.nan)
    except (ValueError, TypeError) as error:
        raise InputError(
            f"{what} is a DataFrame with a column that is not numbers: {_first_line(error)}.",
            "Select its numeric columns, e.g. frame.select_dtypes('number').",
        ) from None


def _matrix_column(values: np.ndarray, what: str) -> pa.Array:
    if values.ndim == 1:
        return _convert(lambda: pa.array(values), what)
    if values.ndim == 2 and values.shape[1] > 0:
        flat = _convert(lambda: pa.array(np.ascontiguousarray(values).reshape(-1)), what)
        return pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
    raise InputError(
        f"{what} has shape {values.shape}; give one value per row (1-D) or one vector per row "
        "(2-D).",
        "Reshape it, e.g. values.reshape(len(values), -1) for a vector per row.",
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0].rstrip(".") if text else type(error).__name__


def _renamed(error: LossCliError, generated: list[str]) -> LossCliError:
    """The message naming ``pred=`` as such, not as "column 'pred='"."""
    if not generated:
        return error
    names = "|".join(re.escape(name) for name in generated)
    message = re.sub(rf"(?:Weight c|C|c)olumn '({names})'(?: of <[^>]*>)?", r"\1", error.message)
    if message == error.message:
        return error
    return type(error)(message, error.hint)


# -- reading ------------------------------------------------------------------------------------


def _display(data: Any) -> str:
    return f"<{type(data).__name__}>"


class MemoryReader:
    """The reader interface (names, types, batches, close) over an in-memory table."""

    def __init__(self, data: Any) -> None:
        given = data if isinstance(data, ArrayTable) else ArrayTable(data, {}, _display(data))
        self.base = _table(given.base) if given.base is not None else None
        self.arrays = given.arrays
        self.source = Source(given.display, "memory")
        self.names = (self.base.names if self.base is not None else []) + list(self.arrays)
        _check_unique(self.names, given.display)
        if not self.names:
            raise InputError(f"{given.display} has no columns.", "Give a table with columns.")
        self.rows = self.base.rows if self.base is not None else self._length()
        if self.arrays and self.rows is not None:
            self._check_rows(self.rows)

    @property
    def types(self) -> dict[str, pa.DataType]:
        types = self.base.types() if self.base is not None else {}
        return {**types, **{name: array.type for name, array in self.arrays.items()}}

    def batches(
        self,
        columns: list[str],
        numeric: set[str],
        coded: frozenset[str] = frozenset(),
        rows: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        own = [name for name in columns if name not in self.arrays]
        if self.base is None:
            yield self._joined(None, columns, 0, self.rows)
            return
        done = 0
        for batch in self.base.batches(own):
            size = batch.num_rows
            if self.arrays and self.rows is None and done + size > self._length():
                self._check_rows(done + size + sum(b.num_rows for b in self.base.batches([])))
            yield self._joined(batch, columns, done, size)
            done += size
        if self.arrays and self.rows is None:
            self._check_rows(done)

    def _joined(
        self, batch: pa.RecordBatch | None, columns: list[str], start: int, size: int
    ) -> pa.RecordBatch:
        arrays = [
            self.arrays[name].slice(start, size)
            if batch is None or name in self.arrays
            else batch.column(name)
            for name in columns
        ]
        return pa.RecordBatch.from_arrays([_plain(a) for a in arrays], names=columns)

    def _length(self) -> int:
        return len(next(iter(self.arrays.values())))

    def _check_rows(self, rows: int) -> None:
        length = self._length()
        if rows != length:
            name = next(iter(self.arrays))
            raise InputError(
                f"{name} has {length} values but {self.source.display} has {rows} rows.",
                "Give one value per row of the table, in its row order.",
            )

    def close(self) -> None:
        return None


# Arrow's string and binary views (polars' strings): many kernels (take, for --by) lack them.
VIEWS = [
    (getattr(pa.types, f"is_{kind}_view", None), getattr(pa, f"large_{kind}"))
    for kind in ("string", "binary")
]


def _plain(column: pa.Array) -> pa.Array:
    """A column in the types the rest reads: a dictionary column (a pandas or polars categorical)
    as its values, so numbers stay numbers; a string or binary view as a plain large string."""
    if pa.types.is_dictionary(column.type):
        # Values made plain first: a dictionary of string views cannot be decoded (no take).
        values = _plain(column.dictionary)
        return pa.DictionaryArray.from_arrays(column.indices, values).dictionary_decode()
    for is_view, plain in VIEWS:
        if is_view is not None and is_view(column.type):
            return column.cast(plain())
    return column


def _check_unique(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(
                f"{where} has more than one column named '{name}'.",
                "Rename the columns so that each name is used once.",
            )
        seen.add(name)


def _table(data: Any) -> Any:
    """A table source: names, rows (None for a stream), types() and batches(columns)."""
    if _is_pandas_frame(data):
        return PandasTable(data)
    return ArrowTable(to_arrow(data))


def to_arrow(data: Any) -> pa.Table | pa.RecordBatchReader:
    if isinstance(data, (pa.Table, pa.RecordBatchReader)):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, Mapping):
        return _mapping_table(data)
    if hasattr(data, "__arrow_c_stream__"):
        return _stream_reader(data)
    return _convert(lambda: pa.Table.from_batches([pa.record_batch(data)]), "data=")


def _stream_reader(data: Any) -> pa.RecordBatchReader | pa.Table:
    """The producer's C stream; else its own ``to_arrow()`` (polars, ibis), whose types are older.

    polars streams strings as Arrow string views, which pyarrow reads from version 16 on.
    """
    try:
        if STREAM_READER is not None:
            return STREAM_READER(data)
        return pa.RecordBatchReader._import_from_c_capsule(data.__arrow_c_stream__())
    except ARROW_ERRORS as error:
        exported = getattr(data, "to_arrow", None)
        table = _convert(exported, _display(data)) if callable(exported) else None
        if isinstance(table, (pa.Table, pa.RecordBatchReader)):
            return table
        raise InputError(
            f"{_display(data)} cannot be read by pyarrow {pa.__version__}: {_first_line(error)}.",
            "Upgrade pyarrow, or convert the table to a pyarrow Table first.",
        ) from None


def _mapping_table(data: Mapping[Any, Any]) -> pa.Table:
    _check_unique([str(key) for key in data], "data=")  # 1 and '1' would both be column '1'
    columns = {str(key): role_column(value, f"data[{key!r}]") for key, value in data.items()}
    lengths = {name: len(column) for name, column in columns.items()}
    if len(set(lengths.values())) > 1:
        first, *rest = lengths.items()
        other = next(item for item in rest if item[1] != first[1])
        raise InputError(
            f"data['{first[0]}'] has {first[1]} values but data['{other[0]}'] has {other[1]}.",
            "Give every column one value per row.",
        )
    return pa.table(columns)


class ArrowTable:
    """An Arrow table or a stream of record batches (then its row count is known at the end)."""

    def __init__(self, table: pa.Table | pa.RecordBatchReader) -> None:
        self.table = table
        self.names = list(table.schema.names)
        self.rows = table.num_rows if isinstance(table, pa.Table) else None

    def types(self) -> dict[str, pa.DataType]:
        return {f.name: f.type for f in self.table.schema}

    def batches(self, columns: list[str]) -> Iterator[pa.RecordBatch]:
        batches = self.table.to_batches() if isinstance(self.table, pa.Table) else self.table
        for batch in batches:
            yield batch.select(columns)


class PandasTable:
    """A DataFrame read column by column: only the columns used are converted (and can fail)."""

    def __init__(self, frame: Any) -> None:
        self.display = _display(frame)
        if frame.columns.nlevels > 1:
            raise InputError(
                f"{self.display} has MultiIndex columns, which have no single name to select.",
                "Flatten them, e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns].",
            )
        self.frame = frame
        self.names = [str(label) for label in frame.columns]  # 0 -> '0', as pred=0 is named
        self.rows = len(frame)

    def types(self) -> dict[str, pa.DataType]:
        return {name: self._column(name).type for name in self.names}

    def batches(self, columns: list[str]) -> Iterator[pa.RecordBatch]:
        arrays = [self._column(name) for name in columns]
        yield pa.RecordBatch.from_arrays(arrays, names=columns) if columns else _empty(self.rows)

    def _column(self, name: str) -> pa.Array:
        series = self.frame.iloc[:, self.names.index(name)]
        return _convert(lambda: pa.Array.from_pandas(series), f"Column '{name}' of {self.display}")


def _empty(rows: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"": pa.nulls(rows)}).select([])
