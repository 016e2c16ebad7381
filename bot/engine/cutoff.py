"""The no-answer cut-off: which of the ranked passages answer the question at all.

BM25 scores are not comparable across questions or corpus sizes, so the cut-off asks a question
that is: how much of the question's content does a passage cover? Each content word of the
question weighs its idf (rare words matter more; a word the corpus never uses weighs as much as
the rarest word it has). A passage is an answer only if the words it matches, word by word (same
stem, same name variant, or part of a compound), carry at least ``min_coverage`` of that weight,
and if it scores at least ``min_relative_score`` of the best answer.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.engine.analysis import MIN_PART, PART_MATCH, Token
from bot.engine.config import SearchConfig
from bot.engine.grams import scratch
from bot.engine.index import FloatArray, Id32Array, IntArray, gather_rows
from bot.engine.parts import IndexParts
from bot.engine.termcache import TermCache

__all__ = ["QuestionTerm", "answers", "coverage", "parts_of", "weighted_terms"]


@dataclass(frozen=True, slots=True)
class QuestionTerm:
    """A question word: its term, its idf weight, and the vocabulary terms it is a part of or
    that are part of it (what ``Analyzer.match`` calls a part match)."""

    term: str
    weight: float
    parts: frozenset[str]
    #: The term's id (-1 if the corpus lacks it) and its parts' ids, for the forward index.
    tid: int = -1
    part_ids: Id32Array = field(default_factory=lambda: np.zeros(0, np.int32))
    #: A translated word's other terms (its translations) and their ids: each counts fully.
    alternatives: frozenset[str] = frozenset()
    alt_ids: Id32Array = field(default_factory=lambda: np.zeros(0, np.int32))


def weighted_terms(
    tokens: Iterable[Token],
    index: IndexParts,
    part_cache: TermCache[frozenset[str]],
    id_cache: TermCache[tuple[int, Id32Array]],
) -> list[QuestionTerm]:
    """Distinct question words with their idf (a word the corpus lacks counts as rarest)."""
    n = max(len(index.passages), 1)
    seen: set[str] = set()
    out = []
    for token in tokens:
        if token.term in seen:
            continue
        seen.add(token.term)
        df = max(index.stems.document_frequency(token.term), 1)
        weight = math.log(1 + (n - df + 0.5) / (df + 0.5))
        parts = parts_of(token.term, index, part_cache)
        tid, part_ids = id_cache.get(
            token.term, functools.partial(_ids_of, parts=parts, index=index)
        )
        out.append(QuestionTerm(token.term, weight, parts, tid, part_ids))
    return out


def parts_of(term: str, index: IndexParts, cache: TermCache[frozenset[str]]) -> frozenset[str]:
    """Vocabulary terms that ``term`` is a part of or that are a part of it, as
    ``Analyzer.match`` defines it; looked up once per term, not per passage word."""
    return cache.get(term, lambda term: _find_parts(term, index))


def _find_parts(term: str, index: IndexParts) -> frozenset[str]:
    vocabulary = index.stems.vocabulary
    parts = {
        term[i:j]
        for i in range(len(term))
        for j in range(i + MIN_PART + 1, len(term) + 1)
        if term[i:j] != term and term[i:j] in vocabulary
    }
    if len(term) >= MIN_PART:
        parts.update(w for w in index.term_grams.containing(term) if w != term)
    return frozenset(parts)


def _ids_of(term: str, parts: frozenset[str], index: IndexParts) -> tuple[int, Id32Array]:
    """A question term's id (-1 if the corpus lacks it) and the ids of its parts."""
    vocabulary = index.stems.vocabulary
    ids = sorted(vocabulary[w] for w in parts)
    return vocabulary.get(term, -1), np.array(ids, dtype=np.int32)


def answers(
    ranked: list[tuple[int, float]],
    terms: Sequence[QuestionTerm],
    index: IndexParts,
    config: SearchConfig,
) -> list[tuple[int, float]]:
    """The (passage, score) of ``ranked`` (best first) that pass the cut-off, in their order."""
    if not ranked:
        return []
    best = ranked[0][1]
    listed = ranked
    if best > 0:
        # BM25Okapi scores can be negative in tiny corpora; only positive ones compare.
        floor = config.min_relative_score * best
        listed = list(itertools.takewhile(lambda hit: not hit[1] < floor, ranked))
    covered = coverage(terms, np.array([pid for pid, _ in listed], dtype=np.int64), index)
    return [
        hit
        for hit, share in zip(listed, covered.tolist(), strict=True)
        if share >= config.min_coverage
    ]


def coverage(terms: Sequence[QuestionTerm], pids: IntArray, index: IndexParts) -> FloatArray:
    """Share of the question's weight that each passage's words match, read from the forward
    index for all of them at once: a word itself counts fully, a compound part
    (``QuestionTerm.parts``) counts ``PART_MATCH``."""
    total = sum(t.weight for t in terms)
    if total <= 0 or not len(pids):
        return np.zeros(len(pids), dtype=np.float64)
    forward = index.forward
    positions, owner = gather_rows(forward.indptr, pids)
    present = forward.terms[positions]
    matched = np.zeros(len(pids), dtype=np.float64)
    table = scratch("clean", len(index.stems.vocabulary))
    for term in terms:
        full = np.zeros(len(pids), dtype=bool)
        if term.tid >= 0:
            full[owner[present == term.tid]] = True
        if len(term.alt_ids):
            full[owner[np.isin(present, term.alt_ids)]] = True
        part = np.zeros(len(pids), dtype=bool)
        if len(term.part_ids):
            table[term.part_ids] = 0
            try:
                part[owner[table[present] == 0]] = True
            finally:
                table[term.part_ids] = -1
        matched += np.where(full, term.weight, np.where(part, PART_MATCH * term.weight, 0.0))
    covered: FloatArray = matched / total
    return covered
