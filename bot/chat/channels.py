"""Channels: a post in a SOURCE_CHANNELS channel joins the corpus (an edit replaces it, a post
edited down to no text leaves), and a post starting with /ask in any other channel gets its answer
as a reply. Source channels are read-only for the bot: nothing is ever posted there, and a command
posted there is neither answered nor kept."""

from __future__ import annotations

import asyncio
import datetime as dtm
import functools
import logging
import re
from pathlib import Path

from telegram import Bot, Message, MessageEntity, Update
from telegram.error import TelegramError

from bot.chat.context import BotServices, ChatContext, lang_of
from bot.chat.delivery import reply, send_with_retry
from bot.chat.html import escape
from bot.chat.questions import answer_question
from bot.ingest import (
    ChannelDirs,
    ChannelPost,
    WriteOutcome,
    post_link,
    remove_post,
    write_post,
)
from bot.texts import text

__all__ = ["SAVE_RETRY_PAUSES", "asks_the_bot", "channel_post"]

logger = logging.getLogger(__name__)

_ASK_RE = re.compile(r"^/ask(?:@(\w+))?(?:\s+|$)", re.IGNORECASE)
# What Telegram marks as a bot command at the start of a text (/stats, /ask@somebot ...).
_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@\w+)?(?:\s|$)")


def asks_the_bot(body: str) -> bool:
    """Whether a channel post's text is a question (/ask or /ask@somebot), not a post to keep."""
    return _ASK_RE.match(body) is not None


async def channel_post(update: Update, context: ChatContext) -> None:
    """Channels: a post in a SOURCE_CHANNELS channel joins the corpus (an edit replaces it) unless
    it is a command; elsewhere a post starting with /ask (or /ask@thisbot) gets the answer as a
    reply."""
    message = update.channel_post or update.edited_channel_post
    if message is None:
        return
    services = context.services
    body = message.text or ""
    if services.settings.is_source_channel(message.chat.id, message.chat.username):
        if _COMMAND_RE.match(body or message.caption or "") is None:
            await _ingest_post(message, services, context.bot)
        else:  # the bot never posts into a source channel, and a command is no document
            logger.info(
                "command in source channel %s ignored (not answered, not saved)", message.chat.id
            )
        return
    match = _ASK_RE.match(body)
    if match is None:
        return
    if update.channel_post is None:
        return  # an edited question is not answered again
    if match.group(1) and match.group(1).lower() != context.bot.username.lower():
        return
    question = body[match.end() :]
    if not question.strip():
        example = services.settings.example_questions[:1] or ("…",)
        usage = text("bot_ask_usage", lang_of(update, context), example=example[0])
        await reply(message, escape(usage), quote=True)
        return
    await answer_question(update, context, question, quote=True)


def _post_of(message: Message) -> ChannelPost:
    """The corpus's view of a channel post: text or caption, and the links behind its entities
    in text order (a "text_link" hides its URL behind words)."""
    if message.text is not None:
        text_value = message.text
        entities = message.parse_entities([MessageEntity.URL, MessageEntity.TEXT_LINK])
    else:
        text_value = message.caption or ""
        entities = message.parse_caption_entities([MessageEntity.URL, MessageEntity.TEXT_LINK])
    links = [
        (entity.url or "") if entity.type == MessageEntity.TEXT_LINK else value
        for entity, value in sorted(entities.items(), key=lambda item: item[0].offset)
    ]
    return ChannelPost(
        chat_id=message.chat.id,
        username=message.chat.username or "",
        message_id=message.message_id,
        text=text_value,
        date=message.date.astimezone(dtm.UTC).isoformat(),
        links=tuple(link for link in links if link),
        channel_title=message.chat.title or "",
    )


#: Pauses between tries to save a post (a disk that filled up may have room again soon).
SAVE_RETRY_PAUSES = (1.0, 2.0, 4.0, 8.0, 16.0)


async def _ingest_post(message: Message, services: BotServices, bot: Bot) -> None:
    """Write the post's corpus file and index it; a post whose text was edited away leaves."""
    post = _post_of(message)
    saved = await _save_post(post, services, bot)
    if saved is None:
        return
    outcome, path, copies = saved
    logger.info("post %s saved as %s, indexing", post_link(post), path)
    result = await services.holder.update([path, *copies])
    if result.stopped:
        logger.info("post %s: indexing abandoned at shutdown (indexed at the next start)", path)
    elif result.ok:
        logger.info(
            "post %s %s: %d documents, %d passages (%.2f s)",
            post_link(post),
            "removed" if outcome == WriteOutcome.EMPTY else outcome,
            result.documents,
            result.passages,
            result.seconds,
        )
    else:
        logger.error("post %s saved but not indexed: %s", post_link(post), result.error)


async def _save_post(
    post: ChannelPost, services: BotServices, bot: Bot
) -> tuple[str, Path, list[Path]] | None:
    """The post's file written (or removed), and its copies under the channel's other name
    removed (imported earlier as ``c<id>`` or by username); None if there is nothing to index.
    A failed write
    (a full disk) is tried again for about half a minute, and the admins are told: a post not
    saved is lost (Telegram does not send it again)."""
    root = services.settings.corpus_dir
    link = post_link(post)
    error: OSError | None = None
    for pause in (*SAVE_RETRY_PAUSES, None):
        try:
            outcome, path = await asyncio.to_thread(write_post, root, post)
            copies: list[Path] = []
            if outcome == WriteOutcome.EMPTY:
                if await asyncio.to_thread(remove_post, root, post) is None:
                    return None  # a post without text (photo, sticker ...): nothing to quote
            else:
                copies = await asyncio.to_thread(ChannelDirs(root).remove_other_copies, post)
                if outcome == WriteOutcome.UNCHANGED and not copies:
                    return None
        except OSError as exc:
            logger.warning("could not save post %s: %s", link, exc)
            if error is None:
                reason = exc.strerror or str(exc)
                await _tell_admins(bot, services, "bot_post_retrying", link=link, error=reason)
            error = exc
            if pause is None or await services.holder.closed_within(pause):
                break
            continue
        if error is not None:
            await _tell_admins(bot, services, "bot_post_saved_late", link=link)
        return outcome, path, copies
    logger.error("post %s not saved, given up: %s", link, error)
    reason = (error.strerror or str(error)) if error is not None else "?"
    await _tell_admins(bot, services, "bot_post_not_saved", link=link, error=reason)
    return None


async def _tell_admins(bot: Bot, services: BotServices, key: str, **values: object) -> None:
    """A private message to every admin (in the corpus's language: there is no sender here);
    one who never opened a chat with the bot cannot be reached, which the log says."""
    body = escape(text(key, services.settings.default_language, **values))
    for admin in sorted(services.settings.admin_ids):
        try:
            await send_with_retry(functools.partial(bot.send_message, admin, body))
        except TelegramError as exc:
            logger.warning("could not tell admin %d about a post: %s", admin, exc)
