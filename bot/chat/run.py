"""Running the bot (`citebot run`): long polling or a webhook, SIGINT/SIGTERM to stop, SIGHUP to
reload, the health endpoint beside it, and an orderly shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import InvalidToken, TelegramError

from bot.chat.app import build_application
from bot.chat.context import ChatApplication
from bot.chat.health import start_health_server
from bot.errors import CitebotError, SettingsError
from bot.loader import LoadedCorpus
from bot.settings import Settings

__all__ = ["serve"]

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


async def _reload_on_signal(application: ChatApplication) -> None:
    result = await application.bot_data.services.holder.reload()
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
            health = await start_health_server(settings.webhook_listen, settings.health_port)
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
            application.bot_data.services.holder.close()
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
