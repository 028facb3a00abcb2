"""Named checks for ``losscli check``, declared in ``losscli.toml`` or ``pyproject.toml``.

```toml
[checks.house_prices]                 # [tool.losscli.checks.house_prices] in pyproject.toml
files = ["sample_data/house_prices.csv"]
loss = ["mse", "huber:delta=10", "r2"]
max = { mse = 1200, "huber:delta=10" = 250 }
min = { r2 = 0.9 }
baseline = "reports/baseline.json"
tolerance = "2%"                      # or 0.5, or { default = "1%", mse = 0.5 }
# also: classes = "auto" (or ["cat", "dog"]), pos_label = "yes",
# csv = { delimiter = ";", header = false, skip_rows = 1, comment = "#", decimal = "," }
```

Paths are relative to the configuration file's directory. Every key is checked before any data is
read; an error names the key and its line (tomllib gives no line numbers, so the raw text is
searched for the key's table header or assignment).

This module reads and validates a configuration and says what each check evaluates
(``NamedCheck.arguments``); ``losscli.check`` runs them.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from losscli.errors import LossCliError, UsageError, option
from losscli.gates import CheckOptions, bound_twice, empty_range
from losscli.report.checks import (
    DEFAULT,
    Labels,
    parse_tolerance,
    read_baseline,
    tolerance_twice,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILES = ("losscli.toml", "pyproject.toml")
PYPROJECT_SECTION = ("tool", "losscli")
TOP_KEYS = ("checks", "plugins")
# The keys of one named check that are passed on to ``evaluate`` as they are.
TEXT_OPTIONS = (
    "pred",
    "target",
    "weight",
    "targets",
    "nan",
    "input_format",
    "pos_label",
    "compat",
)
CHECK_KEYS = (
    "files",
    "loss",
    *TEXT_OPTIONS,
    "on",
    "columns",
    "classes",
    "csv",
    "max",
    "min",
    "baseline",
    "tolerance",
    "allow_missing",
    "allow_other_rows",
)
EXAMPLE = 'Example: [checks.house_prices] files = "preds.csv", loss = "mse", max = { mse = 1.5 }'


class ConfigError(UsageError):
    """A configuration that cannot work; the message starts with ``FILE:LINE: key:``."""


@dataclass(frozen=True)
class NamedCheck:
    """One ``[checks.NAME]`` table: what to evaluate and what to check it against."""

    name: str
    files: list[str]
    loss: list[str]
    options: dict[str, Any] = field(default_factory=dict)
    gate: CheckOptions = field(default_factory=CheckOptions)

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``evaluate`` that compute this check's losses."""
        return {"data": self.files, "losses": self.loss, **self.options}


@dataclass(frozen=True)
class Config:
    path: Path
    checks: dict[str, NamedCheck]
    plugins: list[str] = field(default_factory=list)

    def select(self, names: Sequence[str] = ()) -> list[NamedCheck]:
        """The checks called ``names`` (every check when none is named), in the order asked."""
        chosen = []
        for name in dict.fromkeys(names or self.checks):
            if name not in self.checks:
                nearest = difflib.get_close_matches(name, list(self.checks), n=1)
                suggestion = f"Did you mean '{nearest[0]}'? " if nearest else ""
                raise UsageError(
                    f"{self.path} has no check named '{name}'.",
                    f"{suggestion}Its checks: {', '.join(self.checks)}.",
                )
            chosen.append(self.checks[name])
        return chosen


def find_config(directory: str | os.PathLike[str] = ".") -> Path:
    """``losscli.toml`` in ``directory``, else its ``pyproject.toml`` if that has [tool.losscli]."""
    base = Path(directory)
    for name in CONFIG_FILES:
        path = base / name
        if path.is_file() and (name != "pyproject.toml" or _has_section(path)):
            return path
    raise UsageError(
        f"No losscli.toml, and no [tool.losscli] in a pyproject.toml, in {base.resolve()}.",
        "Declare checks there ([checks.NAME] in losscli.toml), or name a file with "
        f"{option('config')} PATH.",
    )


def _has_section(path: Path) -> bool:
    return re.search(r"^\s*\[\s*tool\s*\.\s*losscli\b", _read(path), re.MULTILINE) is not None


def load_config(path: str | os.PathLike[str] | None = None, compat: str | None = None) -> Config:
    """The checks of a configuration file (found in the current directory when ``path`` is None);
    ``compat`` is the library whose names a check without its own ``compat`` uses."""
    if path is not None and not str(path):
        # Path('') is '.', and 'Cannot read the configuration .' says nothing useful.
        raise UsageError(
            "The configuration path is empty.",
            f"Name a file with {option('config')} PATH, or leave {option('config')} out to use "
            "losscli.toml here.",
        )
    source = Source(Path(path) if path is not None else find_config())
    section = source.section()
    _no_unknown_keys(source, section, (), TOP_KEYS)
    plugins = _plugins(source, section)  # before the checks: their losses may come from one
    tables = section.get("checks")
    if isinstance(tables, list):
        raise source.error(
            ("checks",),
            "is an array of tables ([[checks]]), which gives the checks no names.",
            "Write one [checks.NAME] table per check, e.g. [checks.house_prices].",
        )
    if not isinstance(tables, dict) or not tables:
        raise source.error(("checks",), "declares no checks.", EXAMPLE)
    checks = {}
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise source.error(("checks", name), "is not a table.", EXAMPLE)
        checks[name] = _named_check(source, name, table, compat)
    return Config(source.path, checks, plugins)


def _plugins(source: Source, section: Mapping[str, Any]) -> list[str]:
    """``plugins = ["my_losses.py", "mypackage.losses"]``, loaded: a path is relative to the
    file, anything else is a module name."""
    from losscli.plugins import load_plugins

    if "plugins" not in section:
        return []
    given = _strings(source, section, (), "plugins")
    plugins = [source.resolve(p) if p.endswith(".py") or "/" in p else p for p in given]
    try:
        load_plugins(plugins)
    except UsageError as error:
        raise source.error(("plugins",), error.message, error.hint) from None
    return plugins


class Source:
    """A configuration file's text and where its losscli keys live in it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = _read(path)
        self.prefix = PYPROJECT_SECTION if path.name == "pyproject.toml" else ()
        self.base = path.parent

    def section(self) -> dict[str, Any]:
        try:
            document = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{self.path}: not valid TOML: {error}.") from None
        except RecursionError:
            # Arrays or tables nested thousands deep exhaust the parser's stack.
            raise ConfigError(f"{self.path}: not valid TOML: nested too deeply to read.") from None
        for key in self.prefix:
            document = document.get(key)
            if not isinstance(document, dict):
                hint = EXAMPLE.replace("[", "[tool.losscli.")
                raise UsageError(f"{self.path} has no [tool.losscli] table.", hint)
        return document

    def error(self, keys: Sequence[str], problem: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{self.where(keys)}: {problem}", hint)

    def where(self, keys: Sequence[str]) -> str:
        """``FILE:LINE: dotted.key``, the line being where the key is written."""
        path = (*self.prefix, *keys)
        return f"{self.path}:{key_line(self.text, path)}: {dotted(path)}"

    def resolve(self, path: str) -> str:
        return path if os.path.isabs(path) else os.path.join(self.base, path)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise UsageError(f"Cannot read the configuration {path}: {reason}.") from None


def _named_check(
    source: Source, name: str, table: dict[str, Any], compat: str | None = None
) -> NamedCheck:
    from losscli.compat import requests as parse_specs

    at = ("checks", name)
    _no_unknown_keys(source, table, at, CHECK_KEYS)
    for required in ("files", "loss"):
        if required not in table:
            raise source.error(at, f"has no '{required}'.", EXAMPLE)
    files = [source.resolve(path) for path in _strings(source, table, at, "files")]
    loss = _strings(source, table, at, "loss")
    try:
        compat = table.get("compat", compat)
        labels = Labels.of_requests(parse_specs(loss, compat if isinstance(compat, str) else None))
    except UsageError as error:
        raise source.error((*at, "loss"), error.message, error.hint) from None
    bounds = {kind: _bounds(source, table, at, kind, labels) for kind in ("max", "min")}
    empty = empty_range(bounds["max"], bounds["min"], labels)
    if empty is not None:
        low_text, low, high_text, high = empty
        raise source.error(
            (*at, "min", low_text),
            f"{low:g} is above max.{dotted([high_text])} = {high:g}: no value can pass both.",
            "Swap them, or fix the one that is wrong.",
        )
    baseline = _baseline(source, table, at)
    tolerance = _tolerance(source, table, at, labels)
    allow_missing = table.get("allow_missing", False)
    if not isinstance(allow_missing, bool):
        raise source.error((*at, "allow_missing"), "must be true or false.")
    other_rows = table.get("allow_other_rows", False)
    if not isinstance(other_rows, bool):
        raise source.error((*at, "allow_other_rows"), "must be true or false.")
    if baseline is None and (tolerance is not None or allow_missing or other_rows):
        key = (
            "tolerance"
            if tolerance is not None
            else "allow_missing"
            if allow_missing
            else "allow_other_rows"
        )
        raise source.error((*at, key), "applies to a baseline, and there is none.")
    if not bounds["max"] and not bounds["min"] and baseline is None:
        raise source.error(at, "checks nothing: give max, min or baseline.", EXAMPLE)
    return NamedCheck(
        name=name,
        files=files,
        loss=loss,
        options=_options(source, table, at),
        gate=CheckOptions(
            bounds["max"], bounds["min"], baseline, tolerance, allow_missing, other_rows
        ),
    )


def _no_unknown_keys(
    source: Source, table: Mapping[str, Any], at: tuple[str, ...], known: Sequence[str]
) -> None:
    for key in table:
        if key not in known:
            nearest = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            suggestion = f"Did you mean '{nearest[0]}'? " if nearest else ""
            raise source.error(
                (*at, key), "is not a known key.", f"{suggestion}Known keys: {', '.join(known)}."
            )


def _strings(source: Source, table: Mapping[str, Any], at: tuple[str, ...], key: str) -> list[str]:
    """A string or a non-empty list of strings."""
    value = table[key]
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise source.error((*at, key), "must be a string or a list of strings.")
    return items


def _options(source: Source, table: Mapping[str, Any], at: tuple[str, ...]) -> dict[str, Any]:
    """The keywords of ``evaluate``: column names, targets file, nan policy, input format."""
    options: dict[str, Any] = {}
    for key in TEXT_OPTIONS:
        if key in table:
            if not isinstance(table[key], str):
                raise source.error((*at, key), "must be a string.")
            options[key] = source.resolve(table[key]) if key == "targets" else table[key]
    if "on" in table:
        options["on"] = _strings(source, table, at, "on")
    columns = table.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise source.error((*at, "columns"), 'must be a table of roles, e.g. { var = "sigma2" }.')
    for role in ("pred", "target", "weight"):
        # Passed on as they are, these would silently replace the check's own pred = "...".
        if role in columns:
            raise source.error(
                (*at, "columns", role), f"is the {role} key.", f'Write {role} = "..." instead.'
            )
    if columns:
        options["columns"] = dict(columns)
    if "classes" in table:
        # "auto", "cat,dog,bird" or ["cat", "dog", "bird"], checked when the check runs
        classes = _strings(source, table, at, "classes")
        options["classes"] = classes[0] if isinstance(table["classes"], str) else classes
    if "csv" in table:
        options["csv"] = _dialect(source, table["csv"], (*at, "csv"))
    return options


def _dialect(source: Source, given: Any, at: tuple[str, ...]) -> Any:
    """A check's CSV dialect: ``csv = { delimiter = ";", header = false, skip_rows = 1,
    comment = "#", decimal = "," }``, as ``evaluate``'s ``csv``."""
    from losscli.io.dialect import CsvDialect

    kinds = {"delimiter": str, "header": bool, "skip_rows": int, "comment": str, "decimal": str}
    example = 'Example: csv = { delimiter = ";", decimal = "," }'
    if not isinstance(given, dict):
        raise source.error(at, "must be a table of CSV options.", example)
    _no_unknown_keys(source, given, at, tuple(kinds))
    for key, value in given.items():
        if not isinstance(value, kinds[key]) or kinds[key] is int and isinstance(value, bool):
            raise source.error((*at, key), f"must be {_KIND_NAMES[kinds[key]]}.", example)
    try:
        return CsvDialect(**given)
    except UsageError as error:
        raise source.error(at, error.message, error.hint) from None


_KIND_NAMES = {str: "a string", bool: "true or false", int: "a whole number"}


def _bounds(
    source: Source, table: Mapping[str, Any], at: tuple[str, ...], kind: str, labels: Labels
) -> dict[str, float]:
    given = table.get(kind, {})
    if not isinstance(given, dict):
        raise source.error((*at, kind), "must be a table of LABEL = number, e.g. { mse = 1.5 }.")
    bounds = {}
    named: dict[str, str] = {}
    for label, value in given.items():
        key = (*at, kind, label)
        finite = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not finite or not math.isfinite(value):
            raise source.error(key, f"must be a finite number, not {json.dumps(value)}.")
        try:
            resolved = labels.resolve(label, source.where(key))
        except UsageError as error:
            raise ConfigError(error.message, error.hint) from None
        if resolved in named:
            raise source.error(key, *bound_twice(resolved, f"{kind}.{named[resolved]}"))
        named[resolved] = label
        bounds[label] = float(value)
    return bounds


def _baseline(source: Source, table: Mapping[str, Any], at: tuple[str, ...]) -> Any:
    if "baseline" not in table:
        return None
    if not isinstance(table["baseline"], str):
        raise source.error((*at, "baseline"), "must be the path of a JSON report.")
    try:
        return read_baseline(source.resolve(table["baseline"]))
    except LossCliError as error:
        where = source.where((*at, "baseline"))
        raise type(error)(f"{where}: {error.message}", error.hint) from None


def _tolerance(
    source: Source, table: Mapping[str, Any], at: tuple[str, ...], labels: Labels
) -> dict[str, str | float] | None:
    if "tolerance" not in table:
        return None
    given = table["tolerance"]
    per_label = given if isinstance(given, dict) else {DEFAULT: given}
    named: dict[str, Any] = {}
    for label, value in per_label.items():
        key = (*at, "tolerance", label) if given is per_label else (*at, "tolerance")
        where = source.where(key)
        try:
            resolved = labels.resolve(label, where) if label != DEFAULT else DEFAULT
            if resolved in named:
                raise UsageError(*tolerance_twice(where, resolved, named[resolved]))
            named[resolved] = value
            parse_tolerance(value, where)
        except UsageError as error:
            raise ConfigError(error.message, error.hint) from None
    return dict(per_label)


def dotted(keys: Sequence[str]) -> str:
    """Keys as TOML writes them: ``checks.house_prices.max."huber:delta=10"``."""
    bare = re.compile(r"[A-Za-z0-9_-]+")
    return ".".join(key if bare.fullmatch(key) else json.dumps(key) for key in keys)


_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_ASSIGNMENT = re.compile(rf"^\s*({_DOTTED})\s*=(.*)$")


def key_line(text: str, keys: Sequence[str]) -> int:
    """The line where ``keys`` is written: its table header or assignment, or the nearest parent.

    Keys inside an inline table (``max = { mse = 1200 }``) are found on that table's line.
    """
    best, best_depth = 1, 0
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        assignment = None if header else _ASSIGNMENT.match(line)
        if header:
            table = _split_keys(header.group(1))
            written = table
        elif assignment:
            written = table + _split_keys(assignment.group(1))
            inner = keys[len(written)] if len(keys) > len(written) else None
            if inner is not None and _inline_key(assignment.group(2), inner):
                written = [*written, inner]
        else:
            continue
        depth = _common(written, keys)
        if depth == len(keys) == len(written):
            return number
        if depth == len(written) and depth > best_depth:
            best, best_depth = number, depth
    return best


def _split_keys(text: str) -> list[str]:
    return [_unquote(key) for key in re.findall(_KEY, text)]


def _unquote(key: str) -> str:
    if key.startswith('"'):
        return str(json.loads(key))
    return key.strip("'")


def _inline_key(value: str, key: str) -> bool:
    """Whether an inline table ``{ a = 1, "b" = 2 }`` assigns ``key``."""
    for match in re.finditer(rf"[{{,]\s*({_KEY})\s*=", value):
        if _unquote(match.group(1)) == key:
            return True
    return False


def _common(written: Sequence[str], keys: Sequence[str]) -> int:
    depth = 0
    for mine, theirs in zip(written, keys, strict=False):
        if mine != theirs:
            break
        depth += 1
    return depth
