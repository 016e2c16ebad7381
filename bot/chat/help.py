"""What the bot offers: /start and /help (the sources at a glance, example questions, how to
ask) and /sources (every document with its date and link, newest first, paged in place)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType

from bot.chat.context import BotServices, ChatContext, lang_of
from bot.chat.delivery import answer_query, edit, reply
from bot.chat.html import escape, fit_html, shorten
from bot.chat.questions import PAGE_HERE
from bot.corpus import Document
from bot.texts import LANGUAGES, format_date, text

__all__ = [
    "SOURCES_PATTERN",
    "SOURCES_PER_PAGE",
    "help_command",
    "help_html",
    "newest_first",
    "sources_button",
    "sources_command",
    "sources_html",
    "sources_markup",
]

_DOCUMENTS_IN_HELP = 9
#: Documents on one /sources page: about one phone screen.
SOURCES_PER_PAGE = 10
_SOURCES_PREFIX = "src"
#: The callback_data the /sources page handler takes: ``src:<page>:<lang>``.
SOURCES_PATTERN = f"^{_SOURCES_PREFIX}:"
_MAX_PAGE_DIGITS = 6
# The corpus's documents newest first, for the documents tuple it was made from: sorted once
# per corpus (a reload makes a new tuple), not at every /start.
_newest_cache: list[tuple[Sequence[Document], tuple[Document, ...]]] = []


def newest_first(documents: Sequence[Document]) -> tuple[Document, ...]:
    """The documents newest first, undated ones last, each group by title: what a reader of a
    news corpus looks for first (file names say nothing: 10.md came before 2.md)."""
    if _newest_cache and _newest_cache[0][0] is documents:
        return _newest_cache[0][1]
    undated = sorted((d for d in documents if not d.date), key=lambda d: d.title or d.id)
    dated = sorted(
        (d for d in documents if d.date),
        key=lambda d: (d.date or "", d.title or d.id),
        reverse=True,
    )
    ordered = (*dated, *undated)
    _newest_cache[:] = [(documents, ordered)]
    return ordered


async def _sorted(services: BotServices) -> None:
    """Sort the current documents newest first in a worker thread (0.1-0.6 s at 100,000
    documents, once per corpus change), so the renderers below find them sorted and the other
    chats are not held up."""
    await asyncio.to_thread(newest_first, services.holder.engine.documents)


def help_html(services: BotServices, lang: str, username: str) -> str:
    """The welcome: corpus size, the newest documents, the example questions, how to ask."""
    stats = services.holder.engine.stats
    documents = newest_first(services.holder.engine.documents)
    lines = [
        escape(text("bot_welcome", lang, documents=stats.documents, passages=stats.passages)),
        "",
        f"<b>{escape(text('bot_documents_header', lang))}</b>",
    ]
    lines += [f"• {_document_line(d, lang, 120)}" for d in documents[:_DOCUMENTS_IN_HELP]]
    if not documents:
        lines.append(escape(text("bot_empty", lang)))
    if len(documents) > _DOCUMENTS_IN_HELP:
        more = len(documents) - _DOCUMENTS_IN_HELP
        lines.append(escape(text("bot_sources_more", lang, count=more)))
    if services.settings.example_questions:
        lines += ["", f"<b>{escape(text('bot_examples_header', lang))}</b>"]
        lines += [f"• <i>{escape(q)}</i>" for q in services.settings.example_questions]
    lines += ["", escape(text("bot_usage", lang, bot=username))]
    return "\n".join(lines)


async def help_command(update: Update, context: ChatContext) -> None:
    """/start and /help: what the bot knows and example questions."""
    message = update.effective_message
    if message is None:
        return
    await _sorted(context.services)
    body = help_html(context.services, lang_of(update, context), context.bot.username)
    await reply(message, fit_html(lambda _: body, 0), quote=message.chat.type != ChatType.PRIVATE)


def _document_line(doc: Document, lang: str, title_limit: int) -> str:
    """A document in a list: its title (linked to its source) and its date."""
    title = escape(shorten(doc.title or doc.id, title_limit))
    line = f'<a href="{escape(doc.url)}">{title}</a>' if doc.url and len(doc.url) <= 1000 else title
    day = format_date(doc.date, lang)
    return f"{line} · {escape(day)}" if day else line


def _pages(documents: Sequence[Document]) -> int:
    return max(-(-len(documents) // SOURCES_PER_PAGE), 1)


def sources_html(services: BotServices, lang: str, passage_limit: int | None, page: int = 0) -> str:
    """Page ``page`` (from 0) of the documents, newest first, each title cut to
    ``passage_limit`` (for :func:`fit_html`) and linked to its source."""
    documents = newest_first(services.holder.engine.documents)
    pages = _pages(documents)
    page = min(max(page, 0), pages - 1)
    title_limit = passage_limit or 200
    if pages > 1:
        header = text(
            "bot_sources_page", lang, documents=len(documents), page=page + 1, pages=pages
        )
    else:
        header = text("bot_sources_header", lang, documents=len(documents))
    shown = documents[page * SOURCES_PER_PAGE : (page + 1) * SOURCES_PER_PAGE]
    if not shown:
        return escape(text("bot_empty", lang))
    lines = [escape(header)] + [f"• {_document_line(d, lang, title_limit)}" for d in shown]
    return "\n".join(lines)


def sources_markup(services: BotServices, lang: str, page: int) -> InlineKeyboardMarkup | None:
    """◀ n/N ▶ under /sources when the documents take more than one page."""
    pages = _pages(services.holder.engine.documents)
    page = min(max(page, 0), pages - 1)
    if pages == 1:
        return None
    row = []
    if page > 0:
        back = f"{_SOURCES_PREFIX}:{page - 1}:{lang}"
        row.append(InlineKeyboardButton(text("bot_page_previous", lang), callback_data=back))
    label = text("bot_page_of", lang, page=page + 1, pages=pages)
    row.append(InlineKeyboardButton(label, callback_data=PAGE_HERE))
    if page < pages - 1:
        following = f"{_SOURCES_PREFIX}:{page + 1}:{lang}"
        row.append(InlineKeyboardButton(text("bot_page_next", lang), callback_data=following))
    return InlineKeyboardMarkup([row])


async def sources_command(update: Update, context: ChatContext) -> None:
    """/sources: every document with its date and link, newest first, a page at a time."""
    message = update.effective_message
    if message is None:
        return
    services = context.services
    lang = lang_of(update, context)
    await _sorted(services)
    body = fit_html(lambda limit: sources_html(services, lang, limit), 200)
    await reply(
        message,
        body,
        quote=message.chat.type != ChatType.PRIVATE,
        markup=sources_markup(services, lang, 0),
    )


async def sources_button(update: Update, context: ChatContext) -> None:
    """◀ ▶ under /sources: the same message edited to that page of the current documents (a
    list is public: its buttons need no key; after a reload a page shows what is there now)."""
    query = update.callback_query
    if query is None:
        return
    services = context.services
    lang = lang_of(update, context)
    parts = (query.data or "").split(":")
    number, list_lang = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
    message = query.message
    valid = number.isascii() and number.isdigit() and len(number) <= _MAX_PAGE_DIGITS
    if not valid or list_lang not in LANGUAGES or not isinstance(message, Message):
        await answer_query(lambda: query.answer(text("bot_expired_list", lang), show_alert=True))
        return
    page = int(number)
    await answer_query(lambda: query.answer())
    await _sorted(services)
    # The list stays in its own language, whoever turns the page (in a group, another reader).
    body = fit_html(lambda limit: sources_html(services, list_lang, limit, page), 200)
    await edit(message, body, sources_markup(services, list_lang, page))
