"""Questions in chats: private messages, group mentions and replies, /ask, and the "more"
button that pages through the passages of a question asked before."""

from __future__ import annotations

import html
import logging
import re
import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ChatType

from bot.chat.context import BotServices, ChatContext, lang_of
from bot.chat.delivery import answer_query, remove_button, reply
from bot.chat.guards import flood_refused
from bot.chat.html import escape, render_answer_html, shorten
from bot.chat.offsets import parse_offset
from bot.engine import Answer
from bot.texts import text

__all__ = [
    "MORE_PREFIX",
    "answer_question",
    "ask_command",
    "clean_question",
    "group_message",
    "more_button",
    "no_answer_html",
    "non_text_message",
    "private_message",
    "unknown_command",
]

logger = logging.getLogger(__name__)

#: callback_data of the "more" button: ``more:<offset>:<question key>``.
MORE_PREFIX = "more"
_TITLES_IN_HINT = 3
_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]{0,20}(?:\s[^<>]{0,200})?/?>")


def clean_question(raw: str, limit: int) -> str:
    """Markup typed as text dropped (HTML tags, entities), whitespace collapsed, at most
    ``limit`` characters, never ending in a cut word."""
    question = " ".join(html.unescape(_TAG_RE.sub(" ", raw)).split())
    if len(question) > limit:
        cut = question[: limit + 1]
        space = cut.rfind(" ")
        question = cut[:space] if space > limit // 2 else cut[:limit]
    return question.strip()


def no_answer_html(services: BotServices, lang: str) -> str:
    """Nothing found: what the collection holds, and how to ask better."""
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


async def answer_question(
    update: Update, context: ChatContext, question: str, *, quote: bool
) -> None:
    """The core of every question: flood limit, search, log, reply."""
    message = update.effective_message
    if message is None:
        return
    services = context.services
    lang = lang_of(update)
    question = clean_question(question, services.settings.max_question_chars)
    if await flood_refused(update, context, message, quote=quote):
        return
    if not any(ch.isalnum() for ch in question):
        example = services.settings.example_questions[:1] or ("…",)
        await reply(
            message, escape(text("bot_not_a_question", lang, example=example[0])), quote=quote
        )
        return
    started = time.perf_counter()
    answer = await services.holder.search(question, k=services.settings.results_per_answer)
    services.state.record_question(question, answered=bool(answer.hits))
    logger.info(
        "question chat=%s hits=%d total=%d ms=%.0f",
        message.chat.type,
        len(answer.hits),
        answer.total,
        (time.perf_counter() - started) * 1000,
    )
    if not answer.hits:
        await reply(message, no_answer_html(services, lang), quote=quote)
        return
    key = services.state.put_page(message.chat.id, question)
    await reply(
        message,
        render_answer_html(answer, lang),
        quote=quote,
        markup=_more_markup(answer, key, lang),
    )


async def more_button(update: Update, context: ChatContext) -> None:
    """The "more" button: the next page of passages as a new message."""
    query = update.callback_query
    if query is None:
        return
    services = context.services
    lang = lang_of(update)
    parts = (query.data or "").split(":")
    question = None
    offset = parse_offset(parts[1]) if len(parts) == 3 else None
    chat = query.message.chat if query.message is not None else None
    if chat is not None and offset is not None and parts[0] == MORE_PREFIX:
        # A key only opens the question it was made for, in the chat it was sent to.
        question = services.state.page(parts[2], chat.id)
    if question is None or offset is None:
        await answer_query(lambda: query.answer(text("bot_expired", lang), show_alert=True))
        return
    answer = await services.holder.search(
        question, k=services.settings.results_per_answer, offset=offset
    )
    message = query.message
    if not answer.hits or not isinstance(message, Message):
        await answer_query(lambda: query.answer(text("bot_no_more", lang)))
        if isinstance(message, Message):
            await remove_button(message)
        return
    await answer_query(lambda: query.answer())
    await remove_button(message)
    await reply(
        message, render_answer_html(answer, lang), markup=_more_markup(answer, parts[2], lang)
    )


async def private_message(update: Update, context: ChatContext) -> None:
    """In private chats every text is a question."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    await answer_question(update, context, message.text, quote=False)


def _mentions_bot(message: Message, username: str) -> str | None:
    """The question if ``message`` mentions @username, else None."""
    entities = message.parse_entities([MessageEntity.MENTION])
    wanted = "@" + username.lower()
    found = [e for e, value in entities.items() if value.lower() == wanted]
    if not found or message.text is None:
        return None
    # Entity offsets count UTF-16 units: cut there. (Finding the name in a lower-cased copy
    # cut in the wrong place: lower-casing "İ" gives two characters.)
    units = message.text.encode("utf-16-le", "surrogatepass")
    for entity in sorted(found, key=lambda e: e.offset, reverse=True):
        start, end = 2 * entity.offset, 2 * (entity.offset + entity.length)
        units = units[:start] + " ".encode("utf-16-le") + units[end:]
    return units.decode("utf-16-le", "surrogatepass")


async def group_message(update: Update, context: ChatContext) -> None:
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
    await answer_question(update, context, question, quote=True)


async def ask_command(update: Update, context: ChatContext) -> None:
    """/ask question (private, groups; /ask@otherbot never reaches here)."""
    message = update.effective_message
    if message is None:
        return
    question = " ".join(context.args or [])
    if not question.strip():
        example = context.services.settings.example_questions[:1] or ("…",)
        await reply(
            message, escape(text("bot_ask_usage", lang_of(update), example=example[0])), quote=True
        )
        return
    await answer_question(update, context, question, quote=message.chat.type != ChatType.PRIVATE)


async def non_text_message(update: Update, context: ChatContext) -> None:
    """Private stickers, photos, files ...: a caption is the question; else say that only text
    questions are answered."""
    message = update.effective_message
    if message is None:
        return
    if message.caption:
        await answer_question(update, context, message.caption, quote=False)
        return
    await reply(message, escape(text("bot_text_only", lang_of(update))))


async def unknown_command(update: Update, context: ChatContext) -> None:
    """A command this bot does not have (in private): point to /help."""
    message = update.effective_message
    if message is not None:
        await reply(message, escape(text("bot_unknown_command", lang_of(update))))
