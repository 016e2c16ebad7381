"""The error handler: every failure is logged; the user who asked gets one short sentence, and
nobody gets a second message after an answer that may have arrived."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.chat.channels import asks_the_bot
from bot.chat.context import ChatContext, lang_of
from bot.chat.delivery import outcome_unknown, send_with_retry
from bot.texts import text

__all__ = ["error_handler"]

logger = logging.getLogger(__name__)


async def error_handler(update: object, context: ChatContext) -> None:
    """Log the error; tell the user one short sentence; never let it stop the bot."""
    logger.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or outcome_unknown(context.error):
        return  # an answer whose fate is unknown may have arrived: no second message after it
    message = update.effective_message
    if message is None or update.inline_query is not None:
        return
    if update.edited_channel_post is not None or (
        update.channel_post is not None and not asks_the_bot(message.text or "")
    ):
        return  # a channel's readers did not ask anything: the log is enough
    chat = message.chat
    if context.services.settings.is_source_channel(chat.id, chat.username):
        return  # the bot never posts into a source channel
    try:
        await send_with_retry(
            lambda: message.reply_text(text("bot_error", lang_of(update, context)), parse_mode=None)
        )
    except TelegramError:
        logger.warning("could not tell the user about the error", exc_info=True)
