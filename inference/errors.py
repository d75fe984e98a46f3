"""One error type for every user-facing failure: a message and a hint, printed as one line by the CLI."""

from __future__ import annotations


class GhostpilotError(Exception):
    """A failure the user can act on; `str()` is the one-line message, `hint` what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class EpisodeError(GhostpilotError):
    """A malformed episode folder; the message names the file and, where known, the line."""


class ModelError(GhostpilotError):
    """A model file that is missing, corrupt, or of an incompatible version."""


class MissingExtraError(GhostpilotError):
    """An optional dependency (the `train` extra) is not installed."""
