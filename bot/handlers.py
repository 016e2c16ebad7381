"""Telegram handlers: parse the update, ask the engine, send the reply (the only module that
imports ``telegram`` besides the wiring in :mod:`bot.app`)."""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import logging
import re
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

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
from telegram.ext import ContextTypes
from telegram.warnings import PTBDeprecationWarning

from bot.formatting import (
    MAX_MESSAGE_CHARS,
    escape,
    fit_html,
    hit_html,
    render_answer_html,
    shorten,
    utf16_len,
)
from bot.search import Answer
from bot.service import CorpusHolder, FloodLimiter, QueryStore, Usage
from bot.settings import Settings
from bot.texts import text, ui_language

__all__ = [
    "SERVICES_KEY",
    "BotServices",
    "ask_command",
    "channel_post",
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
_MAX_TRIES = 3
_MAX_RETRY_WAIT = 30.0
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


def _services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    services = context.bot_data[SERVICES_KEY]
    assert isinstance(services, BotServices)
    return services


def _lang(update: Update) -> str:
    user = update.effective_user
    return ui_language(user.language_code if user else None)


def _seconds(value: int | float | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def send_with_retry(call: Callable[[], Awaitable[T]]) -> T:
    """Run a Bot API call, waiting out 429 RetryAfter and retrying network errors (3 tries)."""
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
            if attempt == _MAX_TRIES:
                raise
            logger.warning("network error (%s), retrying (try %d)", exc, attempt)
            await asyncio.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


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
        await send_with_retry(lambda: query.answer(text("bot_expired", lang), show_alert=True))
        return
    answer = await services.holder.search(
        question, k=services.settings.results_per_answer, offset=offset
    )
    message = query.message
    if not answer.hits or not isinstance(message, Message):
        await send_with_retry(lambda: query.answer(text("bot_no_more", lang)))
        if isinstance(message, Message):
            await send_with_retry(lambda: message.edit_reply_markup(reply_markup=None))
        return
    await send_with_retry(lambda: query.answer())
    await send_with_retry(lambda: message.edit_reply_markup(reply_markup=None))
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
    """Channels: a post starting with /ask (or /ask@thisbot) gets the answer as a reply."""
    message = update.channel_post
    if message is None or message.text is None:
        return
    match = _ASK_RE.match(message.text)
    if match is None:
        return
    if match.group(1) and match.group(1).lower() != context.bot.username.lower():
        return
    question = message.text[match.end() :]
    if not question.strip():
        settings = _services(context).settings
        example = settings.example_questions[:1] or ("…",)
        # A channel post has no sender language: use the corpus's default language.
        usage = text("bot_ask_usage", settings.default_language, example=example[0])
        await _reply(message, escape(usage), quote=True)
        return
    await _answer_question(update, context, question, quote=True)


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
    result = await services.holder.reload()
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
        await send_with_retry(lambda: query.answer([help_article], cache_time=60))
        return
    offset = int(query.offset) if query.offset.isdigit() else 0
    if query.from_user and not services.flood.allow(query.from_user.id):
        await send_with_retry(lambda: query.answer([], cache_time=_INLINE_CACHE_SECONDS))
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
        body = fit_html(lambda limit, hit=hit: hit_html(hit, lang, limit), len(hit.text))
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
    await send_with_retry(
        lambda: query.answer(
            results, cache_time=_INLINE_CACHE_SECONDS, next_offset=next_offset, is_personal=False
        )
    )


# ------------------------------------------------------------------------------ errors


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error; tell the user one short sentence; never let it stop the bot."""
    logger.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    message = update.effective_message
    if message is None or update.inline_query is not None:
        return
    try:
        await send_with_retry(
            lambda: message.reply_text(text("bot_error", _lang(update)), parse_mode=None)
        )
    except TelegramError:
        logger.warning("could not tell the user about the error", exc_info=True)
