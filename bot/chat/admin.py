"""Admin commands: /reload (read CORPUS_DIR again, report what was skipped) and /stats
(uptime, corpus size, questions, the most frequent ones without an answer, in private only)."""

from __future__ import annotations

import logging
import time

from telegram import Update
from telegram.constants import ChatType

from bot.chat.context import ChatContext
from bot.chat.delivery import reply
from bot.chat.guards import admin_request
from bot.chat.html import escape, fit_html, pack_html, shorten
from bot.serving import CorpusWatch
from bot.texts import text

__all__ = ["reload_command", "stats_command"]

logger = logging.getLogger(__name__)

_SKIPPED_LINE_CHARS = 300
_STATS_DAYS = (7, 30)  # /stats windows, shortest first


async def reload_command(update: Update, context: ChatContext) -> None:
    """/reload (admins): read CORPUS_DIR again; the old corpus serves until the new one is ready."""
    request = await admin_request(update, context)
    if request is None:
        return
    message, lang = request
    logger.info(
        "reload requested by admin %s", update.effective_user.id if update.effective_user else "?"
    )
    result = await context.services.holder.reload()
    if result.stopped:
        await reply(message, escape(text("bot_reload_stopped", lang)))
        return
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
    # The log lists every skipped file; the chat gets a few messages at most.
    for body in pack_html(lines, lambda rest: escape(text("bot_skipped_more", lang, count=rest))):
        await reply(message, body)


def _uptime(seconds: float, lang: str) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return text("bot_uptime_days", lang, days=days, clock=clock) if days else clock


def _clock(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))


def _check_line(watch: CorpusWatch | None, lang: str) -> str:
    """When the corpus files were last checked and what that changed (or that a check runs)."""
    if watch is None:
        return ""
    if watch.checking_since is not None:
        return text("bot_stats_check_running", lang, time=_clock(watch.checking_since))
    last = watch.last
    if last is None:
        return ""
    if last.error:
        reason = shorten(last.error, 300)
        return text("bot_stats_check_failed", lang, time=_clock(last.finished), reason=reason)
    changed = len(last.changed)
    moment = _clock(last.finished)
    trigger = text(f"bot_stats_trigger_{last.trigger}", lang)
    return text("bot_stats_check", lang, time=moment, trigger=trigger, changed=changed)


async def stats_command(update: Update, context: ChatContext) -> None:
    """/stats (admins): uptime, corpus size, and for the last 7 and 30 days the questions, the
    share without an answer and the most frequent of those (kept across restarts)."""
    request = await admin_request(update, context)
    if request is None:
        return
    message, lang = request
    services = context.services
    stats = services.holder.engine.stats
    uptime = _uptime(time.monotonic() - services.started, lang)
    lines = [
        escape(
            text(
                "bot_stats",
                lang,
                uptime=uptime,
                documents=stats.documents,
                passages=stats.passages,
            )
        )
    ]
    check = _check_line(services.watch, lang)
    if check:
        lines.append(escape(check))
    windows = [services.state.usage(days) for days in _STATS_DAYS]
    lines += [
        escape(
            text(
                "bot_stats_window",
                lang,
                days=window.days,
                questions=window.questions,
                unanswered=window.unanswered,
                percent=round(100 * window.unanswered_share),
            )
        )
        for window in windows
    ]
    widest = windows[-1]
    if widest.missing and message.chat.type != ChatType.PRIVATE:
        # Questions asked in private are private: a group sees the counts only.
        lines += ["", escape(text("bot_stats_missing_private", lang))]
    elif widest.missing:
        lines += ["", escape(text("bot_stats_missing", lang, days=widest.days))]
        lines += [f"• {escape(question)} ({count})" for question, count in widest.missing]
    await reply(message, fit_html(lambda _: "\n".join(lines), 0))
