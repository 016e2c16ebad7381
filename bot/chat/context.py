"""The typed context every handler gets: ``context.services`` is the bot's state (corpus holder,
settings, counters, limits), registered with PTB through :data:`CONTEXT_TYPES`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.chat.intake import FairUpdates
from bot.serving import CorpusHolder, CorpusWatch, ReplicaFollower
from bot.settings import Settings
from bot.store.state import StateStore
from bot.texts import ui_language

__all__ = [
    "CONTEXT_TYPES",
    "BotData",
    "BotServices",
    "ChatApplication",
    "ChatContext",
    "lang_of",
]


@dataclass(frozen=True, slots=True)
class BotServices:
    """Everything the handlers need; one per Application, made by ``build_application``."""

    settings: Settings
    holder: CorpusHolder
    #: Buttons, /stats, held updates and flood limits, kept across restarts.
    state: StateStore
    #: How updates are taken in, handled fairly and released (see :mod:`bot.chat.intake`).
    intake: FairUpdates
    #: With a shared state store: corpus changes to and from the other replicas.
    replicas: ReplicaFollower | None = None
    #: CORPUS_DIR checked after a restart and watched (:mod:`bot.serving.watch`).
    watch: CorpusWatch | None = None
    #: When this process started (monotonic): /stats shows its uptime.
    started: float = field(default_factory=time.monotonic)


class BotData:
    """``application.bot_data``. PTB makes it, without arguments, while the Application is
    built; ``build_application`` then hands it the services."""

    __slots__ = ("_services",)

    def __init__(self) -> None:
        self._services: BotServices | None = None

    @property
    def services(self) -> BotServices:
        if self._services is None:
            raise RuntimeError("the Application was not made by build_application")
        return self._services

    @services.setter
    def services(self, services: BotServices) -> None:
        self._services = services


class ChatContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """PTB's context with the bot's services as a typed property."""

    @property
    def services(self) -> BotServices:
        return self.bot_data.services


CONTEXT_TYPES = ContextTypes(context=ChatContext, bot_data=BotData)

#: The Application ``build_application`` makes (no job queue is used).
ChatApplication = Application[
    ExtBot[None], ChatContext, dict[Any, Any], dict[Any, Any], BotData, Any
]


def lang_of(update: Update, context: ChatContext) -> str:
    """THE rule for the interface language of a reply: the reader's Telegram language if the
    bot speaks it, else ``DEFAULT_LANGUAGE``. A channel post (also an /ask there) has no
    reader's language, and a reply in a channel is read by all its subscribers: it gets
    ``DEFAULT_LANGUAGE`` too."""
    default = context.services.settings.default_language
    if update.channel_post is not None or update.edited_channel_post is not None:
        return default
    user = update.effective_user
    return ui_language(user.language_code if user else None, default)
