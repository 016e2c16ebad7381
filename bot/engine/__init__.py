"""The retrieval engine: documents in, quoted passages out. It knows nothing of files, caches or
Telegram: the CLI, the bot and the benchmarks call the same :class:`Engine`.

Inside: :mod:`~bot.engine.config` (the knobs), :mod:`~bot.engine.build` (documents to
:class:`IndexParts`), :mod:`~bot.engine.search` (the engine: two-stage ranking, answers),
:mod:`~bot.engine.cutoff` (the answer-or-refuse decision), :mod:`~bot.engine.query` (a
question's filters), :mod:`~bot.engine.facets` (the documents' dates and channels that filters
select), :mod:`~bot.engine.crossquery` and :mod:`~bot.engine.bilingual` (questions in the other
language), :mod:`~bot.engine.results` (what it hands out) and :mod:`~bot.engine.links`; below them
the text analysis (passages, quotes, analysis, workers, frequency: words' frequency in the
language) and the index structures (index, grams, parts)."""

from bot.engine.config import SearchConfig
from bot.engine.links import quote_link
from bot.engine.parts import IndexParts
from bot.engine.query import Query, parse_query, period_end, period_start
from bot.engine.results import Answer, EngineStats, Hit
from bot.engine.search import Engine, guess_question_language

__all__ = [
    "Answer",
    "Engine",
    "EngineStats",
    "Hit",
    "IndexParts",
    "Query",
    "SearchConfig",
    "guess_question_language",
    "parse_query",
    "period_end",
    "period_start",
    "quote_link",
]
