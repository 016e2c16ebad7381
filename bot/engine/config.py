"""The engine's knobs, and which of them change the index.

Most knobs apply at question time; a few decide the passages and terms themselves. That split is
made once, here: a rebuild reuses a previous engine's analysis only when those fields agree, and
an index snapshot's key (:mod:`bot.store.snapshot`) holds exactly them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["INDEX_FIELDS", "SearchConfig", "index_settings"]


@dataclass(frozen=True, slots=True)
class SearchConfig:
    """Retrieval knobs; the defaults are the ones measured in docs/BENCHMARKS.md."""

    passage_chars: int = 500
    max_sentences: int = 3
    default_lang: str = "de"
    gram_weight: float = 0.2
    document_weight: float = 1.0
    #: The answer-or-refuse decision (:mod:`bot.engine.cutoff`, fitted as its docstring says):
    #: a question is answered if the best passage covers ``min_coverage`` of it, or if for a
    #: passage within ``min_relative_score`` of the best, ``answer_weights`` . (coverage,
    #: document coverage, rarest word matched, words matched, relative score) + ``answer_bias``
    #: > 0; then its passages covering ``min_passage_coverage`` are quoted.
    min_coverage: float = 0.5
    answer_weights: tuple[float, float, float, float, float] = (3.83, 4.12, 0.62, 0.48, 1.71)
    answer_bias: float = -7.27
    min_passage_coverage: float = 0.1
    min_relative_score: float = 0.2
    common_zipf: float = 6.2
    lacking_weight: float = 2.0
    lacking_zipf: float = 5.0
    candidates: int = 50
    rerank: int = 50
    neighbours: int = 5
    neighbour_dice: float = 0.4
    neighbour_weight: float = 0.5
    #: Processes that analyse documents in a build (0: one per CPU; 1: none besides this one),
    #: used once there are ``parallel_chars`` characters to analyse. The index is the same.
    build_workers: int = 0
    parallel_chars: int = 20_000_000


#: The fields that change passages and terms; every other field applies at question time (or,
#: as the build's workers, changes how fast the same index is made).
INDEX_FIELDS = ("passage_chars", "max_sentences", "default_lang")


def index_settings(config: SearchConfig) -> dict[str, int | str]:
    """``config``'s :data:`INDEX_FIELDS` by name: two configs with equal settings give the same
    index from the same documents."""
    return {name: getattr(config, name) for name in INDEX_FIELDS}
