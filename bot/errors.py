"""The project's exceptions: one base class, so callers can catch everything citebot raises."""


class CitebotError(Exception):
    """Base class of every error citebot raises on purpose."""


class SettingsError(CitebotError):
    """A setting has a bad value; the message names the setting."""


class CorpusError(CitebotError):
    """The corpus cannot be used at all (missing directory, no usable document)."""


class ExportError(CitebotError):
    """A Telegram export cannot be imported (not JSON, cut off, not an export, no channel)."""
