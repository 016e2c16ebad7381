"""What the bot offers: /start and /help (the sources at a glance, example questions, how to
ask) and /sources (every document with its link)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from bot.chat.context import BotServices, ChatContext, lang_of
from bot.chat.delivery import reply
from bot.chat.html import escape, fit_html, shorten
from bot.texts import text

__all__ = ["help_command", "help_html", "sources_command", "sources_html"]

_DOCUMENTS_IN_HELP = 9
_SOURCES_SHOWN = 50


def help_html(services: BotServices, lang: str, username: str) -> str:
    """The welcome: corpus size, the first documents, the example questions, how to ask."""
    stats = services.holder.engine.stats
    documents = services.holder.engine.documents
    lines = [
        escape(text("bot_welcome", lang, documents=stats.documents, passages=stats.passages)),
        "",
        f"<b>{escape(text('bot_documents_header', lang))}</b>",
    ]
    lines += [f"• {escape(d.title or d.id)}" for d in documents[:_DOCUMENTS_IN_HELP]]
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
    body = help_html(context.services, lang_of(update, context), context.bot.username)
    await reply(message, fit_html(lambda _: body, 0), quote=message.chat.type != ChatType.PRIVATE)


def sources_html(services: BotServices, lang: str, passage_limit: int | None) -> str:
    """The first documents, each title cut to ``passage_limit`` (for :func:`fit_html`) and
    linked to its source."""
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


async def sources_command(update: Update, context: ChatContext) -> None:
    """/sources: every document with its link."""
    message = update.effective_message
    if message is None:
        return
    services = context.services
    lang = lang_of(update, context)
    body = fit_html(lambda limit: sources_html(services, lang, limit), 200)
    await reply(message, body, quote=message.chat.type != ChatType.PRIVATE)
