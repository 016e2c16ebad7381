"""Serving: the corpus holder (reloads and live updates off the event loop, one search thread),
the per-user state a bot keeps, and an answer as plain text or JSON. Free of Telegram, so any
front end can serve with it."""

from bot.serving.answers import answer_to_dict, format_plain, mark_highlights, quote_language
from bot.serving.holder import CorpusHolder, ReloadResult, builds_running
from bot.serving.replicas import ReplicaFollower
from bot.serving.watch import CheckResult, CorpusWatch

__all__ = [
    "CheckResult",
    "CorpusHolder",
    "CorpusWatch",
    "ReloadResult",
    "ReplicaFollower",
    "answer_to_dict",
    "builds_running",
    "format_plain",
    "mark_highlights",
    "quote_language",
]
