"""Inline mode: ``@bot question`` in any chat, one article per passage, paged with next_offset."""

from __future__ import annotations

import functools
import logging
import time

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode

from bot.chat.context import ChatContext, lang_of
from bot.chat.delivery import NO_PREVIEW, answer_query
from bot.chat.guards import flood_allows
from bot.chat.html import escape, fit_html, hit_html, shorten
from bot.chat.offsets import parse_offset
from bot.chat.questions import clean_question, no_answer_html
from bot.texts import text

__all__ = ["inline_query"]

logger = logging.getLogger(__name__)

_INLINE_PAGE = 5
_INLINE_CACHE_SECONDS = 10


async def inline_query(update: Update, context: ChatContext) -> None:
    """``@bot question``: one article per passage, paged with next_offset."""
    query = update.inline_query
    if query is None:
        return
    services = context.services
    lang = lang_of(update)
    question = clean_question(query.query, services.settings.max_question_chars)
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
        await answer_query(lambda: query.answer([help_article], cache_time=60))
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
    results = []
    for hit in answer.hits:
        body = fit_html(functools.partial(hit_html, hit, lang), len(hit.text))
        results.append(
            InlineQueryResultArticle(
                id=f"r{hit.rank}",
                title=shorten(hit.title or hit.text, 60) or "…",
                description=shorten(hit.text, 150),
                input_message_content=InputTextMessageContent(
                    body, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
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
                    no_answer_html(services, lang), parse_mode=ParseMode.HTML
                ),
            )
        )
    next_offset = str(answer.offset + len(answer.hits)) if answer.has_more else None
    await answer_query(
        lambda: query.answer(
            results, cache_time=_INLINE_CACHE_SECONDS, next_offset=next_offset, is_personal=False
        )
    )
