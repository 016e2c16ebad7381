"""The retrieval engine: documents in, quoted passages out. It knows nothing of files, caches or
Telegram: the CLI, the bot and the benchmarks call the same :class:`Engine`.

Inside: :mod:`~bot.engine.config` (the knobs), :mod:`~bot.engine.build` (documents to
:class:`IndexParts`), :mod:`~bot.engine.search` (the engine: two-stage ranking, answers),
:mod:`~bot.engine.cutoff` (the answer-or-refuse decision), :mod:`~bot.engine.results` (what it
hands out) and :mod:`~bot.engine.links`; below them the text analysis (passages, analysis,
workers, frequency: words' frequency in the language) and the index structures (index, grams,
parts)."""

from bot.engine.config import SearchConfig
from bot.engine.links import quote_link
from bot.engine.parts import IndexParts
from bot.engine.results import Answer, EngineStats, Hit
from bot.engine.search import Engine, guess_question_language

__all__ = [
    "Answer",
    "Engine",
    "EngineStats",
    "Hit",
    "IndexParts",
    "SearchConfig",
    "guess_question_language",
    "quote_link",
]
