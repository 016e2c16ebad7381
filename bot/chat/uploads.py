"""Admin uploads: a file sent in private joins the corpus (a .json Telegram export is imported
as posts), is indexed, and the admin is told what changed; anyone else is refused."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from telegram import Update
from telegram.error import BadRequest, NetworkError

from bot.chat.context import ChatContext, lang_of
from bot.chat.delivery import reply, send_with_retry
from bot.chat.guards import is_admin
from bot.chat.html import escape, shorten
from bot.errors import UploadError
from bot.ingest import accept_upload, check_upload, staging_path
from bot.texts import text

__all__ = ["document_upload"]

logger = logging.getLogger(__name__)


async def document_upload(update: Update, context: ChatContext) -> None:
    """A file sent in private: admins add it to the corpus (a .json Telegram export is imported
    as posts, its caption naming the channel); anyone else is refused."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    services = context.services
    lang = lang_of(update, context)
    if not is_admin(update, context):
        await reply(message, escape(text("upload_admin_only", lang)))
        return
    document = message.document
    settings = services.settings
    max_bytes = settings.max_file_mb * 1024 * 1024
    root = settings.corpus_dir
    try:
        name = check_upload(document.file_name, document.file_size, max_bytes)
    except UploadError as exc:
        await reply(message, escape(text(exc.code, lang, **exc.details)))
        return
    try:
        staged = await asyncio.to_thread(staging_path, root, name)
    except UploadError as exc:
        await reply(message, escape(text(exc.code, lang, **exc.details)))
        return
    try:
        try:
            tg_file = await send_with_retry(document.get_file, idempotent=True)
            await send_with_retry(lambda: tg_file.download_to_drive(staged), idempotent=True)
        except BadRequest as exc:
            logger.warning("upload %s: download refused: %s", name, exc.message)
            key = "upload_too_big_for_telegram" if "too big" in exc.message.lower() else None
            await reply(message, escape(text(key or "upload_download_failed", lang, name=name)))
            return
        except NetworkError:
            await reply(message, escape(text("upload_download_failed", lang, name=name)))
            return
        channel = (message.caption or "").strip() or None
        try:
            accepted = await asyncio.to_thread(
                accept_upload,
                staged,
                name,
                root,
                max_file_bytes=max_bytes,
                default_lang=settings.default_language,
                channel=channel,
            )
        except UploadError as exc:
            await reply(message, escape(text(exc.code, lang, **exc.details)))
            return
    finally:
        await asyncio.to_thread(_discard, staged)
    logger.info("upload %s from admin %s: %s", name, message.chat.id, accepted)
    result = await services.holder.update(accepted.paths) if accepted.paths else None
    if result is not None and not result.ok:
        reason = shorten(result.error, 3000)
        await reply(message, escape(text("upload_index_failed", lang, name=name, reason=reason)))
        return
    stats = services.holder.engine.stats
    totals = {"name": name, "total": stats.documents, "passages": stats.passages}
    if accepted.export:
        summary = text(
            "upload_imported",
            lang,
            created=accepted.created,
            updated=accepted.updated,
            unchanged=accepted.unchanged,
            skipped=accepted.skipped,
            **totals,
        )
    else:
        key = "upload_replaced" if accepted.replaced else "upload_added"
        summary = text(key, lang, documents=accepted.documents, **totals)
    await reply(message, escape(summary))


def _discard(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
