"""Serving: the corpus holder (reloads and live updates off the event loop, one search thread)
and the per-user state a bot keeps. Free of Telegram, so any front end can serve with it."""

from bot.serving.holder import CorpusHolder, ReloadResult, builds_running
from bot.serving.state import FloodLimiter, QueryStore, SeenUpdates, Usage

__all__ = [
    "CorpusHolder",
    "FloodLimiter",
    "QueryStore",
    "ReloadResult",
    "SeenUpdates",
    "Usage",
    "builds_running",
]
