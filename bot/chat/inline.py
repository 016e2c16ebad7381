"""Inline mode: ``@bot question`` in any chat, one article per passage, paged with next_offset."""

from __future__ import annotations

import functools
import logging
import time

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode

from bot.chat.context import ChatContext, lang_of
from bot.chat.delivery import NO_PREVIEW, answer_query
from bot.chat.guards import flood_allows
from bot.chat.html import fit_html, focused_text, hit_html, shorten
from bot.chat.offsets import parse_offset
from bot.chat.questions import clean_question
from bot.engine import Hit
from bot.texts import format_date, text

__all__ = ["HELP_START", "inline_query"]

logger = logging.getLogger(__name__)

_INLINE_PAGE = 5
_INLINE_CACHE_SECONDS = 10
_TITLE_CHARS = 60
_DESCRIPTION_CHARS = 150
#: The /start parameter of the inline mode's help button.
HELP_START = "help"


def _description(hit: Hit, title: str, lang: str) -> str:
    """The line under a result's title: the date, then the quote around its first highlight,
    without the words the title already shows (a post's title is its first line)."""
    snippet = focused_text(hit, _DESCRIPTION_CHARS)
    head = title.removesuffix("…").strip()
    if head and snippet.startswith(head):
        snippet = snippet[len(head) :].lstrip(" .:;,–—-\n") or snippet
    day = format_date(hit.date, lang)
    return f"{day} · {snippet}" if day else snippet


def _result(hit: Hit, lang: str) -> InlineQueryResultArticle:
    """One quote as an inline result; sent, it is the quote with its document's title, date and
    links, as in a chat answer."""
    body = fit_html(functools.partial(hit_html, hit, lang), len(hit.text))
    title = shorten(hit.title or hit.document, _TITLE_CHARS) or "…"
    return InlineQueryResultArticle(
        id=f"r{hit.rank}",
        title=title,
        description=_description(hit, title, lang),
        input_message_content=InputTextMessageContent(
            body, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
        ),
    )


async def inline_query(update: Update, context: ChatContext) -> None:
    """``@bot question``: one article per passage, paged with next_offset. Help and "nothing
    found" are the button above the results (it opens the chat with the bot), never a result:
    a result is sent into the chat when tapped, and a help text has no place there."""
    query = update.inline_query
    if query is None:
        return
    services = context.services
    lang = lang_of(update, context)
    question = clean_question(query.query, services.settings.max_question_chars)
    if not any(ch.isalnum() for ch in question):
        button = InlineQueryResultsButton(
            text("bot_inline_help_button", lang), start_parameter=HELP_START
        )
        await answer_query(lambda: query.answer([], cache_time=60, button=button))
        return
    offset = parse_offset(query.offset) or 0  # "" on the first page, and anything forged
    if query.from_user and not flood_allows(context, query.from_user.id):
        await answer_query(lambda: query.answer([], cache_time=_INLINE_CACHE_SECONDS))
        return
    started = time.perf_counter()
    answer = await services.holder.search(question, k=_INLINE_PAGE, offset=offset)
    logger.info(
        "question chat=inline hits=%d total=%d ms=%.0f",
        len(answer.hits),
        answer.total,
        (time.perf_counter() - started) * 1000,
    )
    results = [_result(hit, lang) for hit in answer.hits]
    none_button = None
    if not results and offset == 0:
        none_button = InlineQueryResultsButton(
            text("bot_inline_no_answer_button", lang), start_parameter=HELP_START
        )
    next_offset = str(answer.offset + len(answer.hits)) if answer.has_more else None
    await answer_query(
        lambda: query.answer(
            results,
            cache_time=_INLINE_CACHE_SECONDS,
            next_offset=next_offset,
            is_personal=False,
            button=none_button,
        )
    )
