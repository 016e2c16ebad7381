"""What stops an update before any work: a user over the flood limit, a non-admin asking for an
admin command (a repeated delivery is dropped before, by :mod:`bot.chat.intake`)."""

from __future__ import annotations

import logging

from telegram import Message, Update

from bot.chat.context import ChatContext, lang_of
from bot.chat.delivery import reply
from bot.chat.html import escape
from bot.texts import text

__all__ = [
    "admin_request",
    "flood_allows",
    "flood_refused",
    "is_admin",
]

logger = logging.getLogger(__name__)


def flood_allows(context: ChatContext, user_id: int) -> bool:
    """Whether ``user_id`` may ask now (and, if so, counted): QUESTIONS_PER_MINUTE a minute."""
    services = context.services
    return services.state.allow(user_id, services.settings.questions_per_minute)


async def flood_refused(
    update: Update, context: ChatContext, message: Message, *, quote: bool
) -> bool:
    """True after telling the sender of ``message`` to slow down; False (the question counted)
    when it may be answered. A channel post has no sender: its chat counts instead."""
    sender = update.effective_user.id if update.effective_user else message.chat.id
    if flood_allows(context, sender):
        return False
    limit = context.services.settings.questions_per_minute
    lang = lang_of(update, context)
    await reply(message, escape(text("bot_flood", lang, limit=limit)), quote=quote)
    return True


def is_admin(update: Update, context: ChatContext) -> bool:
    """Admins are numeric ids (ADMIN_IDS); usernames can change hands and never count."""
    user = update.effective_user
    return user is not None and user.id in context.services.settings.admin_ids


async def admin_request(update: Update, context: ChatContext) -> tuple[Message, str] | None:
    """Message and language of an admin command, or None after refusing a non-admin."""
    message = update.effective_message
    if message is None:
        return None
    lang = lang_of(update, context)
    if not is_admin(update, context):
        await reply(message, escape(text("bot_admin_only", lang)))
        return None
    return message, lang
