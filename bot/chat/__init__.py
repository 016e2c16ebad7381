"""The Telegram layer: the only code that imports ``telegram`` and ``httpx``.

:mod:`~bot.chat.app` wires the handlers (one module per job: questions, inline, channels,
help, admin, uploads, guards, failures) into an Application, :mod:`~bot.chat.intake` takes
the updates in (held, fair, bounded); :mod:`~bot.chat.run` serves it."""

from bot.chat.app import build_application, file_url_for, stop_application
from bot.chat.context import ChatApplication
from bot.chat.run import serve

__all__ = ["ChatApplication", "build_application", "file_url_for", "serve", "stop_application"]
