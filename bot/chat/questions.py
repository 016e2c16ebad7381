"""Questions in chats: private messages, group mentions and replies, /ask, and the "more"
button that pages through the passages of a question asked before."""

from __future__ import annotations

import dataclasses
import html
import logging
import re
import time
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ChatType

from bot.chat.context import BotServices, ChatContext, lang_of
from bot.chat.delivery import answer_query, edit, reply
from bot.chat.guards import flood_refused
from bot.chat.html import escape, render_answer_html, shorten
from bot.chat.offsets import parse_offset
from bot.engine import Answer, parse_query
from bot.texts import LANGUAGES, quoted, text

__all__ = [
    "PAGE_HERE",
    "PAGE_PATTERN",
    "answer_question",
    "ask_command",
    "clean_question",
    "group_message",
    "no_answer_html",
    "non_text_message",
    "page_button",
    "page_markup",
    "private_message",
    "unknown_command",
]

logger = logging.getLogger(__name__)

# callback_data of a page button: ``pg:<offset>:<b|n>:<lang>:<question key>`` (see _Page).
_PAGE_PREFIX = "pg"
#: The page counter's callback_data (pressing it changes nothing).
PAGE_HERE = "pg:here"
# The "more" buttons sent before paging in place: ``more:<offset>:<question key>``.
_MORE_PREFIX = "more"
#: The callback_data the page handler takes.
PAGE_PATTERN = f"^(?:{_PAGE_PREFIX}|{_MORE_PREFIX}):"
_TITLES = 3
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


def no_answer_html(services: BotServices, lang: str, *, filtered: bool = False) -> str:
    """Nothing found: what the collection holds, and how to ask better; when a filter (period,
    channel) left nothing, that is said, since the question itself may be fine; and when there
    is no document yet, that."""
    documents = services.holder.engine.documents
    if not documents:  # started without documents, waiting for posts or uploads
        return escape(text("bot_empty", lang))
    if filtered:
        return escape(text("no_answer_filtered", lang) + " " + text("bot_filter_hint", lang))
    # Titles are cut like in /sources: a 5000-character title must not make the reply too long.
    titles = ", ".join(quoted(shorten(d.title or d.id, 100), lang) for d in documents[:_TITLES])
    if len(documents) > _TITLES:
        titles += ", …"
    return escape(text("bot_no_answer", lang, documents=len(documents), titles=titles))


@dataclass(frozen=True, slots=True)
class _Page:
    """What a page button asks for: ``pg:<offset>:<b|n>:<lang>:<question key>``."""

    offset: int
    newest: bool
    #: The answer's language: a page stays in it whoever presses (in a group, another reader).
    lang: str | None
    key: str

    def data(self) -> str:
        order = "n" if self.newest else "b"
        return f"{_PAGE_PREFIX}:{self.offset}:{order}:{self.lang}:{self.key}"

    @staticmethod
    def parse(data: str) -> _Page | None:
        """The request of a page button's data; also of the "more" buttons sent before paging
        in place (``more:<offset>:<key>``), which now open that page in the same message."""
        parts = data.split(":")
        if len(parts) == 5 and parts[0] == _PAGE_PREFIX and parts[2] in ("b", "n"):
            if parts[3] not in LANGUAGES:
                return None
            offset, newest, lang, key = parts[1], parts[2] == "n", parts[3], parts[4]
        elif len(parts) == 3 and parts[0] == _MORE_PREFIX:
            offset, newest, lang, key = parts[1], False, None, parts[2]
        else:
            return None
        start = parse_offset(offset)
        return None if start is None else _Page(start, newest, lang, key)


def page_markup(
    answer: Answer, key: str, lang: str, per_page: int, *, reorders: bool
) -> InlineKeyboardMarkup | None:
    """The buttons under an answer: ◀ 2/3 ▶ when there is more than one page, and the switch
    between best and newest first when ``reorders`` (the corpus has several documents: with
    one, newest first is the same order). Each carries the page's offset, the order, the
    answer's language and the question's key: well under 64 bytes."""
    rows: list[list[InlineKeyboardButton]] = []
    pages = -(-answer.total // per_page)
    page = answer.offset // per_page + 1
    if pages > 1:
        row = []
        if page > 1:
            back = _Page(max(answer.offset - per_page, 0), answer.newest, lang, key).data()
            row.append(InlineKeyboardButton(text("bot_page_previous", lang), callback_data=back))
        label = text("bot_page_of", lang, page=page, pages=pages)
        row.append(InlineKeyboardButton(label, callback_data=PAGE_HERE))
        if page < pages:
            following = _Page(answer.offset + per_page, answer.newest, lang, key).data()
            row.append(InlineKeyboardButton(text("bot_page_next", lang), callback_data=following))
        rows.append(row)
    if reorders:
        order = text("bot_order_best" if answer.newest else "bot_order_newest", lang)
        switch = _Page(0, not answer.newest, lang, key).data()
        rows.append([InlineKeyboardButton(order, callback_data=switch)])
    return InlineKeyboardMarkup(rows) if rows else None


def _reorders(services: BotServices, answer: Answer) -> bool:
    """Whether newest first can differ from best first: answers from more than one document,
    or more pages (whose answers may come from other documents) in a corpus of several."""
    several = len({hit.document for hit in answer.hits}) > 1
    more_pages = answer.total > services.settings.results_per_answer
    return (several or more_pages) and len(services.holder.engine.documents) > 1


async def answer_question(
    update: Update, context: ChatContext, question: str, *, quote: bool
) -> None:
    """The core of every question: flood limit, search, log, reply."""
    message = update.effective_message
    if message is None:
        return
    services = context.services
    lang = lang_of(update, context)
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
        await reply(message, no_answer_html(services, lang, filtered=answer.filtered), quote=quote)
        return
    per_page = services.settings.results_per_answer
    markup = None
    reorders = _reorders(services, answer)
    if answer.total > len(answer.hits) or reorders:
        key = services.state.put_page(message.chat.id, question)
        markup = page_markup(answer, key, lang, per_page, reorders=reorders)
    await reply(message, render_answer_html(answer, lang), quote=quote, markup=markup)


async def page_button(update: Update, context: ChatContext) -> None:
    """◀ ▶ and best/newest first: the same message edited to that page or order, in the
    answer's language (what the presser is told, in theirs). A key only opens the question it
    was made for, in the chat it was sent to; an expired or unknown one (or a button from
    before a restart whose state is gone) is answered politely."""
    query = update.callback_query
    if query is None:
        return
    services = context.services
    lang = lang_of(update, context)
    if query.data == PAGE_HERE:  # the page counter: nothing to do
        await answer_query(lambda: query.answer())
        return
    request = _Page.parse(query.data or "")
    message = query.message
    question = None
    if request is not None and isinstance(message, Message):
        question = services.state.page(request.key, message.chat.id)
    if request is None or question is None or not isinstance(message, Message):
        await answer_query(lambda: query.answer(text("bot_expired", lang), show_alert=True))
        return
    wanted = dataclasses.replace(parse_query(question), newest=request.newest)
    per_page = services.settings.results_per_answer
    answer = await services.holder.search(wanted, k=per_page, offset=request.offset)
    if not answer.hits:
        await answer_query(lambda: query.answer(text("bot_no_more", lang)))
        return
    await answer_query(lambda: query.answer())
    page_lang = request.lang or lang
    reorders = _reorders(services, answer)
    markup = page_markup(answer, request.key, page_lang, per_page, reorders=reorders)
    await edit(message, render_answer_html(answer, page_lang), markup)


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
        usage = text("bot_ask_usage", lang_of(update, context), example=example[0])
        await reply(message, escape(usage), quote=True)
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
    await reply(message, escape(text("bot_text_only", lang_of(update, context))))


async def unknown_command(update: Update, context: ChatContext) -> None:
    """A command this bot does not have (in private): point to /help."""
    message = update.effective_message
    if message is not None:
        await reply(message, escape(text("bot_unknown_command", lang_of(update, context))))
