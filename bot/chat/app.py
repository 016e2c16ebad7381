"""Wiring: the one :func:`build_application`, and :func:`serve` behind `citebot run`."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import loader
from bot.chat import handlers
from bot.errors import CitebotError, SettingsError
from bot.loader import LoadedCorpus
from bot.serving import CorpusHolder, FloodLimiter, QueryStore, Usage
from bot.settings import Settings, require_token
from bot.texts import LANGUAGES, text

__all__ = ["build_application", "file_url_for", "serve"]

logger = logging.getLogger(__name__)

_STOP_TIMEOUT = 20.0
# setWebhook/deleteWebhook at start: retried with PTB's back-off (1.5, 2.3, 3.4 ... s, about
# 20 s for 5), so a Telegram hiccup at start does not stop the bot.
_BOOTSTRAP_RETRIES = 5
_UPDATES = [
    Update.MESSAGE,
    Update.CHANNEL_POST,
    Update.EDITED_CHANNEL_POST,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
]


def file_url_for(api_url: str) -> str:
    """PTB's base_file_url for a Bot API base URL: ``.../bot`` → ``.../file/bot``."""
    base = api_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


async def _post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Startup: the command menu in German and English, and one "ready" line."""
    bot = application.bot
    for lang in (None, *LANGUAGES):
        pairs = text("bot_commands", lang or "en").split("|")
        commands = [BotCommand(*pair.split(":", 1)) for pair in pairs]
        await handlers.send_with_retry(
            functools.partial(bot.set_my_commands, commands, language_code=lang), idempotent=True
        )
    services = application.bot_data[handlers.SERVICES_KEY]
    stats = services.holder.engine.stats
    logger.info(
        "ready as @%s: %d documents, %d passages",
        bot.username,
        stats.documents,
        stats.passages,
    )


def build_application(
    settings: Settings, loaded: LoadedCorpus
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The bot: every handler, the error handler, startup work; not yet started."""
    token = require_token(settings)
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_url)
        .base_file_url(file_url_for(settings.telegram_api_url))
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .concurrent_updates(64)  # a slow /reload never holds up the other chats
        .post_init(_post_init)
        .build()
    )
    application.bot_data[handlers.SERVICES_KEY] = handlers.BotServices(
        settings=settings,
        holder=CorpusHolder(
            loaded,
            lambda previous: loader.load_corpus_for(settings, previous),
            lambda current, paths: loader.update_corpus_for(settings, current, paths),
        ),
        usage=Usage(),
        flood=FloodLimiter(settings.questions_per_minute),
        queries=QueryStore(),
    )
    new = filters.UpdateType.MESSAGE  # edited messages are never answered again
    private = filters.ChatType.PRIVATE & new
    groups = filters.ChatType.GROUPS & new
    # Group -1 runs first: a repeated update stops there (ApplicationHandlerStop).
    application.add_handler(TypeHandler(Update, handlers.drop_repeated_update), group=-1)
    application.add_handlers(
        [
            CommandHandler(["start", "help"], handlers.help_command, filters=new),
            CommandHandler("sources", handlers.sources_command, filters=new),
            CommandHandler("ask", handlers.ask_command, filters=new),
            CommandHandler("reload", handlers.reload_command, filters=new),
            CommandHandler("stats", handlers.stats_command, filters=new),
            MessageHandler(filters.UpdateType.CHANNEL_POSTS, handlers.channel_post),
            CallbackQueryHandler(handlers.more_button, pattern=f"^{handlers.MORE_PREFIX}:"),
            InlineQueryHandler(handlers.inline_query),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, handlers.private_message),
            MessageHandler(private & filters.COMMAND, handlers.unknown_command),
            MessageHandler(private & filters.Document.ALL, handlers.document_upload),
            MessageHandler(private & filters.ATTACHMENT, handlers.non_text_message),
            MessageHandler(groups & filters.TEXT & ~filters.COMMAND, handlers.group_message),
        ]
    )
    application.add_error_handler(handlers.error_handler)
    return application


# ------------------------------------------------------------------------------ running


async def _health(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """GET /healthz → 200 "ok" (for container probes); anything else → 404."""
    try:
        async with asyncio.timeout(5):
            request = await reader.readuntil(b"\r\n\r\n")
        line = request.split(b"\r\n", 1)[0].split()
        ok = len(line) >= 2 and line[0] in (b"GET", b"HEAD") and line[1] == b"/healthz"
        status, body = (b"200 OK", b"ok") if ok else (b"404 Not Found", b"not found")
        writer.write(
            b"HTTP/1.1 "
            + status
            + b"\r\nContent-Type: text/plain\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        await writer.drain()
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _reload_on_signal(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services = application.bot_data[handlers.SERVICES_KEY]
    result = await services.holder.reload()
    if result.ok:
        logger.info(
            "SIGHUP reload: %d documents, %d passages in %.2f s, %d skipped",
            result.documents,
            result.passages,
            result.seconds,
            len(result.skipped),
        )
    elif result.stopped:
        logger.info("SIGHUP reload abandoned: shutting down")
    else:
        logger.error("SIGHUP reload failed, the previous corpus stays: %s", result.error)
    for skipped in result.skipped:
        logger.warning("skipped %s: %s", skipped.path, skipped.reason)


async def serve(settings: Settings, loaded: LoadedCorpus) -> None:
    """Run the bot (long polling, or a webhook when WEBHOOK_URL is set) until SIGINT/SIGTERM."""
    application = build_application(settings, loaded)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    tasks: set[asyncio.Task[None]] = set()

    def on_hup() -> None:
        task = loop.create_task(_reload_on_signal(application))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, on_hup)
    health: asyncio.Server | None = None
    try:
        if settings.health_port is not None:
            health = await asyncio.start_server(
                _health, settings.webhook_listen, settings.health_port
            )
        try:
            await application.initialize()
        except InvalidToken:
            raise SettingsError(
                "invalid setting TELEGRAM_BOT_TOKEN: rejected by the Bot API"
            ) from None
        except TelegramError as exc:
            raise CitebotError(f"cannot reach the Bot API: {type(exc).__name__}") from None
        try:
            updater = application.updater
            assert updater is not None
            if application.post_init is not None:
                await application.post_init(application)
            await application.start()
            if settings.webhook_url:
                secret = settings.webhook_secret
                path = urlsplit(settings.webhook_url).path.strip("/")
                await updater.start_webhook(
                    listen=settings.webhook_listen,
                    port=settings.webhook_port,
                    url_path=path,
                    webhook_url=settings.webhook_url,
                    secret_token=secret.get_secret_value() if secret else None,
                    allowed_updates=_UPDATES,
                    bootstrap_retries=_BOOTSTRAP_RETRIES,
                )
                logger.info("webhook on port %d", settings.webhook_port)
            else:
                await updater.start_polling(
                    allowed_updates=_UPDATES, bootstrap_retries=_BOOTSTRAP_RETRIES
                )
                logger.info("long polling")
            await stop.wait()
            logger.info("stopping")
            # A reload or update in progress is abandoned (its admin is told so); answers that
            # are being sent finish first (PTB's stop() waits for running handlers).
            application.bot_data[handlers.SERVICES_KEY].holder.close()
        finally:
            async with asyncio.timeout(_STOP_TIMEOUT):
                if application.updater is not None and application.updater.running:
                    await application.updater.stop()
                if application.running:
                    await application.stop()
                await application.shutdown()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        for task in tasks:
            task.cancel()
        if health is not None:
            health.close()
            await health.wait_closed()
