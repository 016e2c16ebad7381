"""The project's exceptions: one base class, so callers can catch everything citebot raises."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.corpus import Skipped


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
