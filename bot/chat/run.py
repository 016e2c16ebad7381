"""Running the bot (`citebot run`): long polling or a webhook, SIGINT/SIGTERM to stop, SIGHUP to
reload, the health endpoint beside it, and an orderly shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import resource
import signal
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import InvalidToken, TelegramError

from bot.chat.app import build_application, stop_application
from bot.chat.context import ChatApplication
from bot.chat.delivery import send_with_retry
from bot.chat.health import start_health_server
from bot.chat.intake import keep_lease
from bot.chat.webhook import WebhookServer
from bot.errors import CitebotError, SettingsError
from bot.loader import LoadedCorpus
from bot.settings import Settings

__all__ = ["serve", "start_webhook"]

logger = logging.getLogger(__name__)

_STOP_TIMEOUT = 20.0
# deleteWebhook at the start of polling: retried with PTB's back-off (1.5, 2.3, 3.4 ... s, about
# 20 s for 5), so a Telegram hiccup at start does not stop the bot (setWebhook goes through
# send_with_retry).
_BOOTSTRAP_RETRIES = 5
# Telegram's parallel webhook deliveries (its default is 40); the server takes more connections.
_WEBHOOK_CONNECTIONS = 40
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


async def start_webhook(
    application: ChatApplication,
    *,
    listen: str,
    port: int,
    path: str,
    url: str,
    secret: str | None,
) -> WebhookServer:
    """Listen for Telegram's POSTs (:mod:`bot.chat.webhook`), then tell Telegram where to send
    them (setWebhook, retried like every call that cannot show anything twice)."""
    server = WebhookServer(
        application.bot,
        application.update_queue,
        listen=listen,
        port=port,
        path=path,
        secret=secret,
    )
    server.start()
    try:
        await send_with_retry(
            functools.partial(
                application.bot.set_webhook,
                url=url,
                secret_token=secret,
                allowed_updates=_UPDATES,
                max_connections=_WEBHOOK_CONNECTIONS,
            ),
            idempotent=True,
        )
    except BaseException:
        await server.stop()
        raise
    return server


def _raise_file_limit() -> None:
    """Open files up to the hard limit (often 1024 soft of 1M hard): connections, the bot's own
    calls and the corpus then never compete for a small default."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 16
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def serve(settings: Settings, loaded: LoadedCorpus, *, check_first: bool = False) -> None:
    """Run the bot (long polling, or a webhook when WEBHOOK_URL is set) until SIGINT/SIGTERM;
    ``check_first``: see :func:`build_application`."""
    _raise_file_limit()
    application = build_application(settings, loaded, check_first=check_first)
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
    webhook: WebhookServer | None = None
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
                webhook = await start_webhook(
                    application,
                    listen=settings.webhook_listen,
                    port=settings.webhook_port,
                    path=urlsplit(settings.webhook_url).path,
                    url=settings.webhook_url,
                    secret=secret.get_secret_value() if secret else None,
                )
                logger.info("webhook on port %d", settings.webhook_port)
            else:
                await updater.start_polling(
                    allowed_updates=_UPDATES, bootstrap_retries=_BOOTSTRAP_RETRIES
                )
                logger.info("long polling")
            services = application.bot_data.services
            lease = loop.create_task(
                keep_lease(services.state, services.intake, application.bot, stop)
            )
            tasks.add(lease)
            await stop.wait()
            logger.info("stopping")
            # A reload or update in progress is abandoned (its admin is told so); answers that
            # are being sent finish first (PTB's stop() waits for running handlers).
            services.holder.close()
        finally:
            stop.set()
            async with asyncio.timeout(_STOP_TIMEOUT):
                await stop_application(application, webhook)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        for task in tasks:
            task.cancel()
        if health is not None:
            health.close()
            await health.wait_closed()
