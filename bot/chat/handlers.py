"""Telegram handlers: parse the update, ask the engine, send the reply (the only module that
imports ``telegram`` besides the wiring in :mod:`bot.chat.app`)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import functools
import html
import logging
import re
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes
from telegram.warnings import PTBDeprecationWarning

from bot.chat.html import (
    MAX_MESSAGE_CHARS,
    escape,
    fit_html,
    hit_html,
    render_answer_html,
    shorten,
    utf16_len,
)
from bot.engine import Answer
from bot.errors import UploadError
from bot.ingest import (
    ChannelPost,
    WriteOutcome,
    accept_upload,
    check_upload,
    post_link,
    remove_post,
    staging_path,
    write_post,
)
from bot.serving import CorpusHolder, FloodLimiter, QueryStore, SeenUpdates, Usage
from bot.settings import Settings
from bot.texts import text, ui_language

__all__ = [
    "SERVICES_KEY",
    "BotServices",
    "ask_command",
    "channel_post",
    "document_upload",
    "drop_repeated_update",
    "error_handler",
    "group_message",
    "help_command",
    "inline_query",
    "more_button",
    "non_text_message",
    "private_message",
    "reload_command",
    "send_with_retry",
    "sources_command",
    "stats_command",
    "unknown_command",
]

logger = logging.getLogger(__name__)

SERVICES_KEY = "citebot"
MORE_PREFIX = "more"
_MAX_TRIES = 6
_MAX_RETRY_WAIT = 30.0
_BACKOFF_FIRST = 0.25  # then doubled: 0.25 + 0.5 + 1 + 2 + 4 s over the six tries
_BACKOFF_MAX = 4.0
# httpx errors raised before the whole request left this machine: Telegram cannot have carried
# it out (an HTTP server does not act on a request it did not fully receive).
_NEVER_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
)
_QUERY_GONE = ("query is too old", "query id is invalid")
_NOT_MODIFIED = "message is not modified"
_INLINE_PAGE = 5
_INLINE_CACHE_SECONDS = 10
_SOURCES_SHOWN = 50
_TITLES_IN_HINT = 3
_SKIPPED_LINE_CHARS = 300
_MAX_PACKED_MESSAGES = 5
_PACK_RESERVE = 200  # room for the "… and N more" line
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]{0,20}(?:\s[^<>]{0,200})?/?>")
_ASK_RE = re.compile(r"^/ask(?:@(\w+))?(?:\s+|$)", re.IGNORECASE)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BotServices:
    """Everything the handlers need, stored once in ``application.bot_data``."""

    settings: Settings
    holder: CorpusHolder
    usage: Usage
    flood: FloodLimiter
    queries: QueryStore
    seen: SeenUpdates = field(default_factory=SeenUpdates)


def _services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    services = context.bot_data[SERVICES_KEY]
    assert isinstance(services, BotServices)
    return services


def _lang(update: Update) -> str:
    user = update.effective_user
    return ui_language(user.language_code if user else None)


def _seconds(value: int | float | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def outcome_unknown(exc: BaseException | None) -> bool:
    """True for a network error after the request may have reached Telegram (a read timeout,
    a connection dropped while waiting for the answer): Telegram may have carried it out or not,
    and the bot cannot ask which."""
    if not isinstance(exc, NetworkError) or isinstance(exc, BadRequest):
        return False
    cause = exc.__cause__
    if cause is None or isinstance(cause, TelegramError):
        return False  # Telegram answered with an error status (5xx): nothing was carried out
    return not isinstance(cause, _NEVER_SENT)


async def send_with_retry(call: Callable[[], Awaitable[T]], *, idempotent: bool = False) -> T:
    """Run a Bot API call; retry it (6 tries) only where a retry cannot show anything twice.

    Always retried: 429 (after ``retry_after``), 5xx answers and errors before the request was
    sent (connect, pool, write): Telegram did not carry those out. An outcome that is unknown
    (:func:`outcome_unknown`: read timeout, connection dropped after sending) is retried only
    for an ``idempotent`` call (answering a query, editing to a fixed state, reading); a
    sendMessage is not repeated, since the first one may have arrived and a second would be a
    duplicate answer. 400 and 403 are never retried."""
    for attempt in range(1, _MAX_TRIES + 1):
        try:
            return await call()
        except RetryAfter as exc:
            if attempt == _MAX_TRIES:
                raise
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                wait = _seconds(exc.retry_after)
            logger.warning("flood control: waiting %.1f s (try %d)", wait, attempt)
            await asyncio.sleep(min(max(wait, 0.0), _MAX_RETRY_WAIT))
        except (BadRequest, Forbidden):
            raise  # our mistake or the user's choice: retrying would not help
        except NetworkError as exc:
            unknown = outcome_unknown(exc)
            if attempt == _MAX_TRIES or (unknown and not idempotent):
                if unknown:
                    logger.warning("outcome unknown (%s): not repeated, to send nothing twice", exc)
                raise
            logger.warning("network error (%s), retrying (try %d)", exc, attempt)
            await asyncio.sleep(min(_BACKOFF_FIRST * 2 ** (attempt - 1), _BACKOFF_MAX))
    raise AssertionError("unreachable")


async def _answer_query(call: Callable[[], Awaitable[bool]]) -> None:
    """Answer an inline or callback query. Telegram takes one answer per query, so any failure
    is retried (a second answer can never show); "query is too old" then means an earlier try
    arrived, or the query expired: either way nothing is left to do."""
    try:
        await send_with_retry(call, idempotent=True)
    except BadRequest as exc:
        if not any(gone in exc.message.lower() for gone in _QUERY_GONE):
            raise
        logger.warning("query answer refused (answered before, or expired): %s", exc.message)


async def _remove_button(message: Message) -> None:
    """Remove a message's button. Editing to a fixed state is idempotent: any failure is
    retried, and "not modified" (an earlier try arrived) or a message that is gone is fine; a
    leftover button must never cost the answer itself."""
    try:
        await send_with_retry(lambda: message.edit_reply_markup(reply_markup=None), idempotent=True)
    except BadRequest as exc:
        if _NOT_MODIFIED not in exc.message.lower():
            logger.warning("could not remove the button: %s", exc.message)


async def _reply(
    message: Message,
    html_text: str,
    *,
    quote: bool = False,
    markup: InlineKeyboardMarkup | None = None,
) -> Message:
    return await send_with_retry(
        lambda: message.reply_text(
            html_text,
            parse_mode=ParseMode.HTML,
            do_quote=quote,
            reply_markup=markup,
            link_preview_options=_NO_PREVIEW,
        )
    )


# ------------------------------------------------------------------------------ answers


def _no_answer_html(services: BotServices, lang: str) -> str:
    documents = services.holder.engine.documents
    # Titles are cut like in /sources: a 5000-character title must not make the reply too long.
    titles = ", ".join(f"„{shorten(d.title or d.id, 100)}“" for d in documents[:_TITLES_IN_HINT])
    if len(documents) > _TITLES_IN_HINT:
        titles += ", …"
    return escape(text("bot_no_answer", lang, documents=len(documents), titles=titles))


def _more_markup(answer: Answer, key: str, lang: str) -> InlineKeyboardMarkup | None:
    if not answer.has_more:
        return None
    offset = answer.offset + len(answer.hits)
    button = InlineKeyboardButton(
        text("bot_more_button", lang), callback_data=f"{MORE_PREFIX}:{offset}:{key}"
    )
    return InlineKeyboardMarkup([[button]])


def _clean_question(raw: str, limit: int) -> str:
    """Markup typed as text dropped (HTML tags, entities), whitespace collapsed, at most
    ``limit`` characters, never ending in a cut word."""
    question = " ".join(html.unescape(_TAG_RE.sub(" ", raw)).split())
    if len(question) > limit:
        cut = question[: limit + 1]
        space = cut.rfind(" ")
        question = cut[:space] if space > limit // 2 else cut[:limit]
    return question.strip()


async def _answer_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, question: str, *, quote: bool
) -> None:
    """The core of every question: flood limit, search, log, reply."""
    message = update.effective_message
    if message is None:
        return
    services = _services(context)
    lang = _lang(update)
    question = _clean_question(question, services.settings.max_question_chars)
    sender = update.effective_user.id if update.effective_user else message.chat.id
    if not services.flood.allow(sender):
        limit = services.settings.questions_per_minute
        await _reply(message, escape(text("bot_flood", lang, limit=limit)), quote=quote)
        return
    if not any(ch.isalnum() for ch in question):
        example = services.settings.example_questions[:1] or ("…",)
        await _reply(
            message, escape(text("bot_not_a_question", lang, example=example[0])), quote=quote
        )
        return
    started = time.perf_counter()
    answer = await services.holder.search(question, k=services.settings.results_per_answer)
    services.usage.record(question, len(answer.hits))
    logger.info(
        "question chat=%s hits=%d total=%d ms=%.0f",
        message.chat.type,
        len(answer.hits),
        answer.total,
        (time.perf_counter() - started) * 1000,
    )
    if not answer.hits:
        await _reply(message, _no_answer_html(services, lang), quote=quote)
        return
    key = services.queries.put(question)
    await _reply(
        message,
        render_answer_html(answer, lang),
        quote=quote,
        markup=_more_markup(answer, key, lang),
    )


async def more_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The "more" button: the next page of passages as a new message."""
    query = update.callback_query
    if query is None:
        return
    services = _services(context)
    lang = _lang(update)
    parts = (query.data or "").split(":")
    question = None
    offset = 0
    if len(parts) == 3 and parts[0] == MORE_PREFIX and parts[1].isdigit():
        offset = int(parts[1])
        question = services.queries.get(parts[2])
    if question is None:
        await _answer_query(lambda: query.answer(text("bot_expired", lang), show_alert=True))
        return
    answer = await services.holder.search(
        question, k=services.settings.results_per_answer, offset=offset
    )
    message = query.message
    if not answer.hits or not isinstance(message, Message):
        await _answer_query(lambda: query.answer(text("bot_no_more", lang)))
        if isinstance(message, Message):
            await _remove_button(message)
        return
    await _answer_query(lambda: query.answer())
    await _remove_button(message)
    await send_with_retry(
        lambda: message.reply_text(
            render_answer_html(answer, lang),
            parse_mode=ParseMode.HTML,
            do_quote=False,
            reply_markup=_more_markup(answer, parts[2], lang),
            link_preview_options=_NO_PREVIEW,
        )
    )


# ------------------------------------------------------------------------------ messages


async def private_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In private chats every text is a question."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    await _answer_question(update, context, message.text, quote=False)


def _mentions_bot(message: Message, username: str) -> str | None:
    """The question if ``message`` mentions @username, else None."""
    entities = message.parse_entities([MessageEntity.MENTION])
    wanted = "@" + username.lower()
    found = [e for e, value in entities.items() if value.lower() == wanted]
    if not found or message.text is None:
        return None
    question = message.text
    for entity in sorted(found, key=lambda e: e.offset, reverse=True):
        # Entity offsets are UTF-16; parse_entities gave us the exact text to cut out.
        value = entities[entity]
        index = question.lower().rfind(value.lower())
        if index >= 0:
            question = question[:index] + " " + question[index + len(value) :]
    return question


async def group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Groups: answer a mention of the bot or a reply to the bot; ignore everything else."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    question = _mentions_bot(message, context.bot.username)
    if question is None:
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
            return
        question = message.text
    await _answer_question(update, context, question, quote=True)


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask question (private, groups; /ask@otherbot never reaches here)."""
    message = update.effective_message
    if message is None:
        return
    question = " ".join(context.args or [])
    if not question.strip():
        example = _services(context).settings.example_questions[:1] or ("…",)
        await _reply(
            message, escape(text("bot_ask_usage", _lang(update), example=example[0])), quote=True
        )
        return
    await _answer_question(update, context, question, quote=message.chat.type != ChatType.PRIVATE)


async def channel_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Channels: a post in a SOURCE_CHANNELS channel joins the corpus (an edit replaces it); a
    post starting with /ask (or /ask@thisbot) gets the answer as a reply."""
    message = update.channel_post or update.edited_channel_post
    if message is None:
        return
    services = _services(context)
    body = message.text or ""
    match = _ASK_RE.match(body)
    if match is None:
        if services.settings.is_source_channel(message.chat.id, message.chat.username):
            await _ingest_post(message, services)
        return
    if update.channel_post is None:
        return  # an edited question is not answered again
    if match.group(1) and match.group(1).lower() != context.bot.username.lower():
        return
    question = body[match.end() :]
    if not question.strip():
        settings = services.settings
        example = settings.example_questions[:1] or ("…",)
        # A channel post has no sender language: use the corpus's default language.
        usage = text("bot_ask_usage", settings.default_language, example=example[0])
        await _reply(message, escape(usage), quote=True)
        return
    await _answer_question(update, context, question, quote=True)


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


async def _ingest_post(message: Message, services: BotServices) -> None:
    """Write the post's corpus file and index it; a post whose text was edited away leaves."""
    post = _post_of(message)
    root = services.settings.corpus_dir
    try:
        outcome, path = await asyncio.to_thread(write_post, root, post)
        if outcome == WriteOutcome.EMPTY:
            removed = await asyncio.to_thread(remove_post, root, post)
            if removed is None:
                return  # a post without text (photo, sticker ...): nothing to quote
        elif outcome == WriteOutcome.UNCHANGED:
            return
    except OSError as exc:
        logger.error("could not save post %s: %s", post_link(post), exc)
        return
    logger.info("post %s saved as %s, indexing", post_link(post), path)
    result = await services.holder.update([path])
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


async def document_upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file sent in private: admins add it to the corpus (a .json Telegram export is imported
    as posts, its caption naming the channel); anyone else is refused."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    services = _services(context)
    lang = _lang(update)
    if not _is_admin(update, services):
        await _reply(message, escape(text("upload_admin_only", lang)))
        return
    document = message.document
    settings = services.settings
    max_bytes = settings.max_file_mb * 1024 * 1024
    root = settings.corpus_dir
    try:
        name = check_upload(document.file_name, document.file_size, max_bytes)
    except UploadError as exc:
        await _reply(message, escape(text(exc.code, lang, **exc.details)))
        return
    try:
        staged = await asyncio.to_thread(staging_path, root, name)
    except UploadError as exc:
        await _reply(message, escape(text(exc.code, lang, **exc.details)))
        return
    try:
        try:
            tg_file = await send_with_retry(document.get_file, idempotent=True)
            await send_with_retry(lambda: tg_file.download_to_drive(staged), idempotent=True)
        except BadRequest as exc:
            logger.warning("upload %s: download refused: %s", name, exc.message)
            key = "upload_too_big_for_telegram" if "too big" in exc.message.lower() else None
            await _reply(message, escape(text(key or "upload_download_failed", lang, name=name)))
            return
        except NetworkError:
            await _reply(message, escape(text("upload_download_failed", lang, name=name)))
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
            await _reply(message, escape(text(exc.code, lang, **exc.details)))
            return
    finally:
        await asyncio.to_thread(_discard, staged)
    logger.info("upload %s from admin %s: %s", name, message.chat.id, accepted)
    result = await services.holder.update(accepted.paths) if accepted.paths else None
    if result is not None and not result.ok:
        reason = shorten(result.error, 3000)
        await _reply(message, escape(text("upload_index_failed", lang, name=name, reason=reason)))
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
    await _reply(message, escape(summary))


def _discard(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


async def non_text_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Private stickers, photos, files ...: say that only text questions are answered."""
    message = update.effective_message
    if message is None:
        return
    if message.caption:
        await _answer_question(update, context, message.caption, quote=False)
        return
    await _reply(message, escape(text("bot_text_only", _lang(update))))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None:
        await _reply(message, escape(text("bot_unknown_command", _lang(update))))


# ------------------------------------------------------------------------------ commands


def _help_html(services: BotServices, lang: str, username: str) -> str:
    stats = services.holder.engine.stats
    documents = services.holder.engine.documents
    lines = [
        escape(text("bot_welcome", lang, documents=stats.documents, passages=stats.passages)),
        "",
        f"<b>{escape(text('bot_documents_header', lang))}</b>",
    ]
    lines += [f"• {escape(d.title or d.id)}" for d in documents[: _TITLES_IN_HINT * 3]]
    if len(documents) > _TITLES_IN_HINT * 3:
        more = len(documents) - _TITLES_IN_HINT * 3
        lines.append(escape(text("bot_sources_more", lang, count=more)))
    if services.settings.example_questions:
        lines += ["", f"<b>{escape(text('bot_examples_header', lang))}</b>"]
        lines += [f"• <i>{escape(q)}</i>" for q in services.settings.example_questions]
    lines += ["", escape(text("bot_usage", lang, bot=username))]
    return "\n".join(lines)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start and /help: what the bot knows and example questions."""
    message = update.effective_message
    if message is None:
        return
    services = _services(context)
    body = _help_html(services, _lang(update), context.bot.username)
    await _reply(message, fit_html(lambda _: body, 0), quote=message.chat.type != "private")


def _sources_html(services: BotServices, lang: str, passage_limit: int | None) -> str:
    documents = services.holder.engine.documents
    title_limit = passage_limit or 200
    lines = [escape(text("bot_sources_header", lang, documents=len(documents)))]
    for doc in documents[:_SOURCES_SHOWN]:
        title = escape(shorten(doc.title or doc.id, title_limit))
        if doc.url and len(doc.url) <= 1000:
            lines.append(f'• <a href="{escape(doc.url)}">{title}</a>')
        else:
            lines.append(f"• {title}")
    if len(documents) > _SOURCES_SHOWN:
        lines.append(escape(text("bot_sources_more", lang, count=len(documents) - _SOURCES_SHOWN)))
    return "\n".join(lines)


async def sources_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sources: every document with its link."""
    message = update.effective_message
    if message is None:
        return
    services = _services(context)
    lang = _lang(update)
    body = fit_html(lambda limit: _sources_html(services, lang, limit), 200)
    await _reply(message, body, quote=message.chat.type != "private")


def _is_admin(update: Update, services: BotServices) -> bool:
    user = update.effective_user
    return user is not None and user.id in services.settings.admin_ids


async def _admin_request(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[Message, BotServices, str] | None:
    """Message, services and language of an admin command, or None after refusing a non-admin
    (admins are numeric ids; usernames can change hands and never count)."""
    message = update.effective_message
    if message is None:
        return None
    services = _services(context)
    lang = _lang(update)
    if not _is_admin(update, services):
        await _reply(message, escape(text("bot_admin_only", lang)))
        return None
    return message, services, lang


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload (admins): read CORPUS_DIR again; the old corpus serves until the new one is ready."""
    request = await _admin_request(update, context)
    if request is None:
        return
    message, services, lang = request
    logger.info(
        "reload requested by admin %s", update.effective_user.id if update.effective_user else "?"
    )
    result = await services.holder.reload()
    if result.stopped:
        await _reply(message, escape(text("bot_reload_stopped", lang)))
        return
    for skipped in result.skipped:
        logger.warning("reload skipped %s: %s", skipped.path, skipped.reason)
    if result.ok:
        summary = text(
            "bot_reloaded",
            lang,
            documents=result.documents,
            passages=result.passages,
            seconds=result.seconds,
        )
    else:  # the list below names every problem, not just the error's first three
        summary = text("bot_reload_failed", lang, reason=shorten(result.error, 600))
    lines = [escape(summary)]
    if result.skipped:
        lines.append(escape(text("skipped_header", lang, count=len(result.skipped))))
        lines += [
            f"• {escape(shorten(f'{s.path}: {s.reason}', _SKIPPED_LINE_CHARS))}"
            for s in result.skipped
        ]
    for body in _pack_lines(lines, lang):
        await _reply(message, body)


def _pack_lines(lines: list[str], lang: str) -> list[str]:
    """HTML lines (each far below the limit) packed into as few messages as fit; at most
    ``_MAX_PACKED_MESSAGES``, the rest summed up in one line (the log lists every one)."""
    messages: list[str] = []
    current = ""
    for index, line in enumerate(lines):
        candidate = f"{current}\n{line}" if current else line
        if current and utf16_len(candidate) > MAX_MESSAGE_CHARS - _PACK_RESERVE:
            if len(messages) == _MAX_PACKED_MESSAGES - 1:
                rest = escape(text("bot_skipped_more", lang, count=len(lines) - index))
                return [*messages, f"{current}\n{rest}"]
            messages.append(current)
            current = line
        else:
            current = candidate
    return [*messages, current] if current else messages


def _uptime(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return (f"{days}d " if days else "") + f"{hours:02d}:{minutes:02d}:{secs:02d}"


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins): uptime, corpus size, questions, share without answer, top misses."""
    request = await _admin_request(update, context)
    if request is None:
        return
    message, services, lang = request
    usage = services.usage
    stats = services.holder.engine.stats
    lines = [
        escape(
            text(
                "bot_stats",
                lang,
                uptime=_uptime(usage.uptime),
                documents=stats.documents,
                passages=stats.passages,
                questions=usage.questions,
                unanswered=usage.unanswered,
                share=usage.unanswered_share,
            )
        )
    ]
    if usage.missing:
        lines += ["", escape(text("bot_stats_missing", lang))]
        lines += [
            f"• {escape(question)} ({count})" for question, count in usage.missing.most_common(10)
        ]
    await _reply(message, fit_html(lambda _: "\n".join(lines), 0))


# ------------------------------------------------------------------------------ inline


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``@bot question``: one article per passage, paged with next_offset."""
    query = update.inline_query
    if query is None:
        return
    services = _services(context)
    lang = _lang(update)
    question = _clean_question(query.query, services.settings.max_question_chars)
    username = context.bot.username
    example = (services.settings.example_questions or ("…",))[0]
    if not any(ch.isalnum() for ch in question):
        help_article = InlineQueryResultArticle(
            id="help",
            title=text("bot_inline_help_title", lang),
            description=text("bot_inline_help_description", lang, bot=username, example=example),
            input_message_content=InputTextMessageContent(
                escape(text("bot_usage", lang, bot=username)), parse_mode=ParseMode.HTML
            ),
        )
        await _answer_query(lambda: query.answer([help_article], cache_time=60))
        return
    offset = int(query.offset) if query.offset.isdigit() else 0
    if query.from_user and not services.flood.allow(query.from_user.id):
        await _answer_query(lambda: query.answer([], cache_time=_INLINE_CACHE_SECONDS))
        return
    started = time.perf_counter()
    answer = await services.holder.search(question, k=_INLINE_PAGE, offset=offset)
    logger.info(
        "question chat=inline hits=%d total=%d ms=%.0f",
        len(answer.hits),
        answer.total,
        (time.perf_counter() - started) * 1000,
    )
    results = []
    for hit in answer.hits:
        body = fit_html(functools.partial(hit_html, hit, lang), len(hit.text))
        results.append(
            InlineQueryResultArticle(
                id=f"r{hit.rank}",
                title=shorten(hit.title or hit.text, 60) or "…",
                description=shorten(hit.text, 150),
                input_message_content=InputTextMessageContent(
                    body, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW
                ),
            )
        )
    if not results and offset == 0:
        results.append(
            InlineQueryResultArticle(
                id="none",
                title=text("bot_inline_no_answer_title", lang),
                description=text("no_answer", lang),
                input_message_content=InputTextMessageContent(
                    _no_answer_html(services, lang), parse_mode=ParseMode.HTML
                ),
            )
        )
    next_offset = str(answer.offset + len(answer.hits)) if answer.has_more else None
    await _answer_query(
        lambda: query.answer(
            results, cache_time=_INLINE_CACHE_SECONDS, next_offset=next_offset, is_personal=False
        )
    )


# ------------------------------------------------------------------------------ updates


async def drop_repeated_update(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """First of all handlers: an update seen before (a webhook POSTed again after its answer
    was lost, getUpdates handing it out again) stops here, so each question is answered once."""
    if isinstance(update, Update) and not _services(context).seen.first_time(update.update_id):
        logger.info("update %d delivered again: ignored", update.update_id)
        raise ApplicationHandlerStop


# ------------------------------------------------------------------------------ errors


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error; tell the user one short sentence; never let it stop the bot."""
    logger.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or outcome_unknown(context.error):
        return  # an answer whose fate is unknown may have arrived: no second message after it
    message = update.effective_message
    if message is None or update.inline_query is not None:
        return
    if update.edited_channel_post is not None or (
        update.channel_post is not None and not _ASK_RE.match(message.text or "")
    ):
        return  # a channel's readers did not ask anything: the log is enough
    try:
        await send_with_retry(
            lambda: message.reply_text(text("bot_error", _lang(update)), parse_mode=None)
        )
    except TelegramError:
        logger.warning("could not tell the user about the error", exc_info=True)
