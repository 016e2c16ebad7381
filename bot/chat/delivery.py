"""Getting replies to Telegram: the Bot API retry policy (what may be retried without showing
anything twice) and the reply helpers every handler sends through."""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

__all__ = [
    "NO_PREVIEW",
    "answer_query",
    "edit",
    "outcome_unknown",
    "reply",
    "send_with_retry",
]

logger = logging.getLogger(__name__)

#: Answers quote many links: none of them gets a preview.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
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

_T = TypeVar("_T")


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


async def send_with_retry(call: Callable[[], Awaitable[_T]], *, idempotent: bool = False) -> _T:
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


async def answer_query(call: Callable[[], Awaitable[bool]]) -> None:
    """Answer an inline or callback query. Telegram takes one answer per query, so any failure
    is retried (a second answer can never show); "query is too old" then means an earlier try
    arrived, or the query expired: either way nothing is left to do."""
    try:
        await send_with_retry(call, idempotent=True)
    except BadRequest as exc:
        if not any(gone in exc.message.lower() for gone in _QUERY_GONE):
            raise
        logger.warning("query answer refused (answered before, or expired): %s", exc.message)


async def edit(message: Message, html_text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit one of the bot's messages in place (a page of an answer). Editing to a fixed state
    is idempotent: any failure is retried, and "not modified" (an earlier try arrived, or the
    same page was asked for twice) or a message that is gone is fine."""
    try:
        await send_with_retry(
            lambda: message.edit_text(
                html_text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=NO_PREVIEW,
            ),
            idempotent=True,
        )
    except BadRequest as exc:
        if _NOT_MODIFIED not in exc.message.lower():
            logger.warning("could not edit the message: %s", exc.message)


async def reply(
    message: Message,
    html_text: str,
    *,
    quote: bool = False,
    markup: InlineKeyboardMarkup | None = None,
) -> Message:
    """Reply to ``message`` with Telegram HTML (already escaped and fitted), link previews off;
    sent once (see :func:`send_with_retry`)."""
    return await send_with_retry(
        lambda: message.reply_text(
            html_text,
            parse_mode=ParseMode.HTML,
            do_quote=quote,
            reply_markup=markup,
            link_preview_options=NO_PREVIEW,
        )
    )
