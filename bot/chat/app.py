"""Wiring: the one ordered list of handlers, :func:`build_application` that registers them with
the typed context and the services, and the startup work (command menu, "ready")."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any

from telegram import BotCommand
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.chat.admin import reload_command, stats_command
from bot.chat.channels import channel_post
from bot.chat.context import CONTEXT_TYPES, BotServices, ChatApplication, ChatContext
from bot.chat.delivery import send_with_retry
from bot.chat.failures import error_handler
from bot.chat.help import SOURCES_PATTERN, help_command, sources_button, sources_command
from bot.chat.inline import inline_query
from bot.chat.intake import LEASE_SECONDS, FairUpdates, replay_held
from bot.chat.questions import (
    PAGE_PATTERN,
    ask_command,
    group_message,
    non_text_message,
    page_button,
    private_message,
    unknown_command,
)
from bot.chat.uploads import document_upload
from bot.chat.webhook import WebhookServer
from bot.loader import LoadedCorpus, load_corpus_for, update_corpus_for
from bot.serving import CorpusHolder, CorpusWatch, ReplicaFollower
from bot.settings import Settings, require_token
from bot.store.states import open_state
from bot.texts import LANGUAGES, text

__all__ = ["build_application", "file_url_for", "stop_application"]

logger = logging.getLogger(__name__)


def _handlers() -> dict[int, Sequence[BaseHandler[Any, ChatContext, Any]]]:
    """Every handler, in the order PTB tries them (the first that matches in a group wins)."""
    new = filters.UpdateType.MESSAGE  # edited messages are never answered again
    private = filters.ChatType.PRIVATE & new
    groups = filters.ChatType.GROUPS & new
    # A repeated update never gets here: bot.chat.intake drops it at the door.
    return {
        0: [
            CommandHandler(["start", "help"], help_command, filters=new),
            CommandHandler("sources", sources_command, filters=new),
            CommandHandler("ask", ask_command, filters=new),
            CommandHandler("reload", reload_command, filters=new),
            CommandHandler("stats", stats_command, filters=new),
            MessageHandler(filters.UpdateType.CHANNEL_POSTS, channel_post),
            CallbackQueryHandler(page_button, pattern=PAGE_PATTERN),
            CallbackQueryHandler(sources_button, pattern=SOURCES_PATTERN),
            InlineQueryHandler(inline_query),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, private_message),
            MessageHandler(private & filters.COMMAND, unknown_command),
            MessageHandler(private & filters.Document.ALL, document_upload),
            MessageHandler(private & filters.ATTACHMENT, non_text_message),
            MessageHandler(groups & filters.TEXT & ~filters.COMMAND, group_message),
        ],
    }


def file_url_for(api_url: str) -> str:
    """PTB's base_file_url for a Bot API base URL: ``.../bot`` → ``.../file/bot``."""
    base = api_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


async def _post_init(application: ChatApplication) -> None:
    """Startup: the command menu, the description ("What can this bot do?") and the short
    description (profile, shared links) in German and English, following the other replicas'
    corpus changes (with a shared state store), and one "ready" line."""
    bot = application.bot
    services = application.bot_data.services
    if services.replicas is not None:
        services.replicas.start()
    if services.watch is not None:
        services.watch.start()
    # The updates a stopped or killed predecessor held: all of them when this process alone
    # owns the state file; with a shared store only those whose replica stopped renewing them.
    await replay_held(
        services.state,
        services.intake,
        bot,
        older_than=LEASE_SECONDS if services.state.shared else 0.0,
    )
    default = services.settings.default_language
    # Each language its own; everyone else (language None) gets DEFAULT_LANGUAGE's, as in chats.
    for lang in (None, *LANGUAGES):
        texts = lang or default
        pairs = text("bot_commands", texts).split("|")
        commands = [BotCommand(*pair.split(":", 1)) for pair in pairs]
        for call in (
            functools.partial(bot.set_my_commands, commands, language_code=lang),
            functools.partial(
                bot.set_my_description, text("bot_description", texts), language_code=lang
            ),
            functools.partial(
                bot.set_my_short_description,
                text("bot_short_description", texts),
                language_code=lang,
            ),
        ):
            await send_with_retry(call, idempotent=True)
    stats = application.bot_data.services.holder.engine.stats
    logger.info(
        "ready as @%s: %d documents, %d passages",
        bot.username,
        stats.documents,
        stats.passages,
    )


async def _post_shutdown(application: ChatApplication) -> None:
    """The replicas' changes are no longer followed, and the state is closed (everything in
    it is committed already)."""
    services = application.bot_data.services
    if services.replicas is not None:
        await services.replicas.stop()
    if services.watch is not None:
        await services.watch.stop()
    services.state.close()


def build_application(
    settings: Settings, loaded: LoadedCorpus, *, check_first: bool = False
) -> ChatApplication:
    """The bot: every handler, the error handler, startup work; not yet started.
    ``check_first``: ``loaded`` is the last committed index, opened before the files were
    looked at; they are checked once the bot runs (:mod:`bot.serving.watch`)."""
    token = require_token(settings)
    # The token's first part is the bot's public id.
    state = open_state(settings.state_dir, settings.state_url, bot=token.split(":", 1)[0])
    intake = FairUpdates(state)
    application = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .token(token)
        .base_url(settings.telegram_api_url)
        .base_file_url(file_url_for(settings.telegram_api_url))
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        # Updates are held in the state before Telegram is told they arrived, and handled
        # fairly, 64 at once: a slow /reload never holds up the other chats.
        .update_queue(intake.queue)
        .concurrent_updates(intake)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    holder = CorpusHolder(
        loaded,
        # The loader's functions are looked up at each call (tests stand in slow ones).
        lambda previous: load_corpus_for(settings, previous),
        lambda current, paths: update_corpus_for(settings, current, paths),
    )
    application.bot_data.services = BotServices(
        settings=settings,
        holder=holder,
        state=state,
        intake=intake,
        replicas=ReplicaFollower(holder, state) if state.shared else None,
        watch=CorpusWatch(holder, settings, check_first=check_first),
    )
    application.add_handlers(_handlers())
    application.add_error_handler(error_handler)
    return application


async def stop_application(
    application: ChatApplication, webhook: WebhookServer | None = None
) -> None:
    """Stop in the order that loses nothing: no more updates are fetched (or taken from the
    webhook), the waiting ones are sent away still held (the next start answers them), the
    running ones finish, then PTB shuts down. The caller bounds the time."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if webhook is not None:
        await webhook.stop()
    application.bot_data.services.intake.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
