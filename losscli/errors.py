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
