"""The retrieval engine: documents in, quoted passages out. It knows nothing of files, caches or
Telegram: the CLI, the bot and the benchmarks call the same :class:`Engine`."""

from bot.engine.search import (
    Answer,
    Engine,
    EngineStats,
    Hit,
    SearchConfig,
    guess_question_language,
    quote_link,
)

__all__ = [
    "Answer",
    "Engine",
    "EngineStats",
    "Hit",
    "SearchConfig",
    "guess_question_language",
    "quote_link",
]
