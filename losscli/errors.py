"""One error hierarchy: every user-facing failure carries its exit code and a fix."""

from __future__ import annotations

import re
from collections.abc import Callable

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


# A parameter named in a message is marked, not spelled: a Python caller reads ``chunk_rows``,
# the command line reads ``--chunk-rows``. The marks are private-use characters: a quoted value
# holding one could at worst lose it, never change another word of the message.
OPEN_MARK, CLOSE_MARK = "\ue000", "\ue001"
MARKED = re.compile(f"{OPEN_MARK}([^{CLOSE_MARK}]*){CLOSE_MARK}")


def option(name: str) -> str:
    """``name`` (a Python parameter: ``nan``, ``columns["var"]``) marked for its reader to spell."""
    return f"{OPEN_MARK}{name}{CLOSE_MARK}"


def spelled(text: str, spell: Callable[[str], str] | None = None) -> str:
    """``text`` with each marked parameter spelled by ``spell`` (its Python name by default)."""
    if spell is None:
        return MARKED.sub(lambda found: found.group(1), text)
    return MARKED.sub(lambda found: spell(found.group(1)), text)


class LossCliError(Exception):
    """An error the user can fix; ``str(error)`` is the whole message, in Python's words."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        # Escaped here, once, so no path can echo a file's bytes to a terminal as they are; and
        # capped, so none can fill a terminal with a megabyte-long value or column name.
        # ``message`` and ``hint`` keep their marks, so an error raised again with them keeps them.
        self.message = capped(escape_controls(message))
        self.hint = None if hint is None else capped(escape_controls(hint))
        super().__init__(self.spelled())

    def __reduce__(self) -> tuple[type, tuple[str, str | None]]:
        # Sent from a cluster's worker, an error keeps its marks: the CLI still spells flags.
        return type(self), (self.message, self.hint)

    def spelled(self, spell: Callable[[str], str] | None = None) -> str:
        """The whole message with parameters spelled by ``spell`` (the CLI passes its flags)."""
        text = self.message if self.hint is None else f"{self.message}\n  {self.hint}"
        return spelled(text, spell)


# Characters a terminal acts on instead of showing: C0 and C1 controls (ESC starts a colour or
# cursor sequence, CR overwrites the line), line and paragraph separators, and the bidirectional
# marks, embeddings, overrides and isolates that reorder the text around them.
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def escape_controls(text: str) -> str:
    """``text`` with every control character written as an escape (``\\x1b``, ``\\u202e``).

    Other characters, non-ASCII letters included, stay as they are. A backslash is left alone
    (Windows paths), so escaping twice changes nothing.
    """
    return CONTROLS.sub(_escaped, text)


# A value from the data is quoted up to this many characters; a message line is at most MAX_LINE.
MAX_QUOTED = 60
MAX_LINE = 1000
# A capped line keeps more of its start (what is wrong) but also its end (where: 'at row N').
LINE_TAIL = 300
ELLIPSIS = "..."


def excerpt(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` as a message quotes it: its first ``limit`` characters, '...' marking a cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)] + ELLIPSIS


def capped(line: str) -> str:
    """``line`` (escaped: one line) cut in the middle, at ' ... ', if longer than MAX_LINE."""
    if len(line) <= MAX_LINE:
        return line
    cut = f" {ELLIPSIS} "
    head = MAX_LINE - LINE_TAIL - len(cut)
    return line[:head] + cut + line[-LINE_TAIL:]


def _escaped(found: re.Match[str]) -> str:
    char = found.group()
    if char in NAMED:
        return NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class UsageError(LossCliError):
    """Options or loss specs that cannot work together or do not exist."""


class InputError(LossCliError):
    """The data cannot be read or does not have what the losses need."""


class DomainError(InputError):
    """Values outside what a loss is defined for (msle on values <= -1, negative variance)."""


class RowProblem(Exception):
    """Raised inside a loss or its statistic about one row of a chunk; the engine locates it.

    ``row`` counts the chunk's kept rows from 0, ``element`` is a position within a vector role.
    The engine turns it into an ``InputError`` naming the loss, the column and 'row N of FILE'.
    """

    def __init__(
        self, row: int, role: str, problem: str, hint: str, element: int | None = None
    ) -> None:
        self.row = row
        self.role = role
        self.problem = problem
        self.hint = hint
        self.element = element
        super().__init__(problem)
