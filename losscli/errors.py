"""One error hierarchy: every user-facing failure carries its exit code and a fix."""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class LossCliError(Exception):
    """An error the user can fix; ``str(error)`` is the whole message."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\n  {hint}")


class UsageError(LossCliError):
    """Options or loss specs that cannot work together or do not exist."""


class InputError(LossCliError):
    """The data cannot be read or does not have what the losses need."""


class DomainError(InputError):
    """Values outside what a loss is defined for (msle on values <= -1, negative variance)."""


class RowProblem(Exception):
    """Raised inside a loss or accumulator about one row of a chunk; the engine locates it.

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
