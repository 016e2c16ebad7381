"""The project's exceptions, one tree, so a caller can catch everything citebot raises on purpose
(and the error handler can tell a known fault from a bug)::

    CitebotError
    ├── SettingsError   a setting has a bad value; the message names the setting
    ├── CorpusError     the corpus cannot be used at all; carries every file left out (Skipped)
    ├── ExportError     a Telegram export cannot be imported
    ├── UploadError     an admin's upload was refused; its code selects the message in bot.texts
    └── CacheError      a cache file must not be used; never leaves bot.store (logged, rebuilt)

``Skipped`` lives here with the error that carries it: the corpus readers, the loader and the
reload report all name a file left out the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CacheError",
    "CitebotError",
    "CorpusError",
    "ExportError",
    "SettingsError",
    "Skipped",
    "UploadError",
]


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file (or ``.jsonl`` line) that was left out, and why, so the operator can fix it."""

    path: str
    reason: str


class CitebotError(Exception):
    """Base class of every error citebot raises on purpose."""


class SettingsError(CitebotError):
    """A setting has a bad value; the message names the setting."""


class CorpusError(CitebotError):
    """The corpus cannot be used at all (missing directory, no usable document); ``skipped``
    holds every file left out, so a failed reload can still name each problem."""

    def __init__(self, message: str, skipped: tuple[Skipped, ...] = ()) -> None:
        super().__init__(message)
        self.skipped = skipped


class ExportError(CitebotError):
    """A Telegram export cannot be imported (not JSON, cut off, not an export, no channel)."""


class UploadError(CitebotError):
    """An upload was refused; ``code`` selects the message in :mod:`bot.texts`, ``details``
    fills it in."""

    def __init__(self, code: str, **details: object) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


class CacheError(CitebotError):
    """A cache file that must not be used (the message says why)."""
