"""The answer-or-refuse decision: whether the ranked passages answer the question at all, and
which of them to quote.

BM25 scores are not comparable across questions or corpus sizes, so the decision asks what is:
how much of the question do a passage and its document cover? Every content word of the question
weighs by its rarity in the language in general (:mod:`bot.engine.frequency`), not in the
corpus: ``common_zipf - zipf``, so a word as common as ``common_zipf`` or more ("gut", "wäre",
"ab") weighs nothing and phrasing like "Welche Rolle spielt ..." weighs little, by one rule
rather than a longer stop list. A word the corpus lacks altogether (neither the word nor a
compound with it) and rarer than ``lacking_zipf`` weighs ``lacking_weight`` times as much: no
passage can answer for it, and such topic words are what a question about something else is
made of (a common word the corpus lacks, "Rolle", is phrasing). A passage word matches a
question word as :meth:`Analyzer.match` says (the same term, a name variant, a compound's head
or modifier in full, other compound parts by the share they spell).

The question is answered if some passage within ``min_relative_score`` of the best score
covers ``min_coverage`` of its weight, or covers ``min_passage_coverage`` while its document
(a post, a paragraph) covers ``min_document_coverage``. Then every such passage covering at
least ``min_passage_coverage`` is quoted, best first; else nothing is.

Fitted on the XQuAD-de dev split at passage level (``bench/retrieval.py``, its ``user`` block;
every figure and its command in docs/BENCHMARKS.md, "Answer or refuse"). A replay of the
decision over the ranked candidates of three indexes (all articles; the even ones; the odd ones)
searched a grid: ``common_zipf`` 5.0-7.1, ``lacking_weight`` 1-3, ``lacking_zipf`` 4-5 or none,
``min_coverage`` 0.3-0.55, ``min_document_coverage`` 0.4-0.65 or off, ``min_passage_coverage``
0.1-0.15, ``min_relative_score`` 0.2-0.6, and the credits of compound parts; kept is the
setting that quotes a right passage most often while answering at most about 4 % of the
questions about articles not indexed. Why these values:

* ``lacking_weight`` 2: at 1 more than twice as many off-corpus questions get answers; 3
  refuses more answerable ones.
* ``common_zipf`` 6.2 to 7.1 came out alike; 6.2 (everyday words such as "gibt", "Jahr" weigh
  almost nothing) also lets the seed post's short questions through.
* ``lacking_zipf`` 5: the same on XQuAD as doubling every lacking word, but "Welche Rolle spielt
  die humanitäre Lage?" is answered on the seed post (its phrasing is common words it lacks).
* ``min_document_coverage`` 0.5 with ``min_passage_coverage`` 0.1: questions whose words spread
  over a post's (a paragraph's) sentences; ``min_relative_score`` changed nothing up to 0.4.

Nothing here depends on the corpus's size: weights come from the language, coverages are shares
(the tests run it on 25 passages and on 6,000 documents).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.engine.analysis import CLOSED_COMPOUNDS, MIN_PART, Analyzer, Token
from bot.engine.config import SearchConfig
from bot.engine.frequency import zipf
from bot.engine.grams import scratch
from bot.engine.index import FloatArray, Id32Array, IntArray, gather_rows
from bot.engine.parts import IndexParts
from bot.engine.termcache import TermCache

__all__ = [
    "PartIds",
    "QuestionTerm",
    "answers",
    "credits",
    "parts_of",
    "weighted_terms",
]


@dataclass(frozen=True, slots=True)
class PartIds:
    """A question term's id (-1 if the corpus lacks it), and the ids of the vocabulary terms it
    matches as a compound part with the credit of each (:meth:`Analyzer.match`)."""

    tid: int
    ids: Id32Array
    credit: FloatArray


def _no_parts() -> PartIds:
    return PartIds(-1, np.zeros(0, np.int32), np.zeros(0, np.float64))


@dataclass(frozen=True, slots=True)
class QuestionTerm:
    """A question word: its term, its weight (rarity in the language), whether the corpus lacks
    it, and the vocabulary terms it is a part of or that are part of it."""

    term: str
    weight: float
    parts: frozenset[str]
    lacking: bool = False
    ids: PartIds = field(default_factory=_no_parts)


def weighted_terms(
    query: str,
    tokens: Iterable[Token],
    lang: str,
    index: IndexParts,
    config: SearchConfig,
    part_cache: TermCache[frozenset[str]],
    id_cache: TermCache[PartIds],
) -> list[QuestionTerm]:
    """Distinct question words, each weighed by the rarity of its first spelling in ``query``."""
    seen: set[str] = set()
    out = []
    for token in tokens:
        if token.term in seen:
            continue
        seen.add(token.term)
        frequency = zipf(query[token.start : token.end], lang)
        rarity = max(config.common_zipf - frequency, 0.0)
        parts = parts_of(token.term, index, part_cache)
        # Credits depend on the question's language (compounds); the key says which.
        ids = id_cache.get(
            f"{lang} {token.term}",
            functools.partial(_ids_of, term=token.term, parts=parts, index=index),
        )
        lacking = ids.tid < 0 and not parts and frequency < config.lacking_zipf
        out.append(QuestionTerm(token.term, rarity, parts, lacking, ids))
    return out


def parts_of(term: str, index: IndexParts, cache: TermCache[frozenset[str]]) -> frozenset[str]:
    """Vocabulary terms that ``term`` is a part of or that are a part of it (a match of
    ``Analyzer.match`` short of the same term); looked up once per term, not per passage word."""
    return cache.get(term, lambda term: _find_parts(term, index))


def _find_parts(term: str, index: IndexParts) -> frozenset[str]:
    vocabulary = index.stems.vocabulary
    parts = {
        term[i:j]
        for i in range(len(term))
        for j in range(i + MIN_PART + 1, len(term) + 1)
        if term[i:j] != term and term[i:j] in vocabulary
    }
    if len(term) >= MIN_PART - 1:
        parts.update(
            w
            for w in index.term_grams.containing(term)
            if w != term and Analyzer.match(term, w) > 0
        )
    return frozenset(parts)


def _ids_of(key: str, term: str, parts: frozenset[str], index: IndexParts) -> PartIds:
    compounds = key.split(" ", 1)[0] in CLOSED_COMPOUNDS
    vocabulary = index.stems.vocabulary
    ordered = sorted(parts, key=vocabulary.__getitem__)
    return PartIds(
        vocabulary.get(term, -1),
        np.array([vocabulary[w] for w in ordered], dtype=np.int32),
        np.array([Analyzer.match(term, w, compounds) for w in ordered], dtype=np.float64),
    )


def answers(
    ranked: list[tuple[int, float]],
    terms: Sequence[QuestionTerm],
    index: IndexParts,
    config: SearchConfig,
) -> list[tuple[int, float]]:
    """The (passage, score) of ``ranked`` (best first) to quote, in their order: none if the
    question is not answered."""
    weights = np.array([t.weight for t in terms], dtype=np.float64)
    lacking = np.array([t.lacking for t in terms], dtype=bool)
    total = float((weights * np.where(lacking, config.lacking_weight, 1.0)).sum())
    if not ranked:
        return []
    best = ranked[0][1]
    listed = ranked
    if best > 0:
        # BM25Okapi scores can be negative in tiny corpora; only positive ones compare.
        floor = config.min_relative_score * best
        listed = list(itertools.takewhile(lambda hit: not hit[1] < floor, ranked))
    pids = np.array([pid for pid, _ in listed], dtype=np.int64)
    # A question of common words only covers nothing (and is answered only with the cut-off off).
    covered = credits(terms, pids, index) @ weights / total if total > 0 else np.zeros(len(pids))
    quoted = covered >= config.min_passage_coverage
    if not np.any(covered >= config.min_coverage):
        if not np.any(quoted):
            return []
        documents = _document_coverage(terms, pids[quoted], index) @ weights / max(total, 1e-9)
        if not np.any(documents >= config.min_document_coverage):
            return []
    return [hit for hit, keep in zip(listed, quoted.tolist(), strict=True) if keep]


def credits(terms: Sequence[QuestionTerm], pids: IntArray, index: IndexParts) -> FloatArray:
    """How well each passage of ``pids`` matches each question term (a passages x terms array
    of :meth:`Analyzer.match` values, the best of the passage's words), read from the forward
    index for all passages at once."""
    out = np.zeros((len(pids), len(terms)), dtype=np.float64)
    if not len(pids) or not terms:
        return out
    forward = index.forward
    positions, owner = gather_rows(forward.indptr, pids)
    present = forward.terms[positions]
    table = scratch("clean", len(index.stems.vocabulary))
    for j, term in enumerate(terms):
        ids = term.ids
        if len(ids.ids):
            table[ids.ids] = np.arange(len(ids.ids), dtype=np.int32)
            try:
                slot = table[present]
            finally:
                table[ids.ids] = -1
            found = slot >= 0
            np.maximum.at(out[:, j], owner[found], ids.credit[slot[found]])
        if ids.tid >= 0:
            out[owner[present == ids.tid], j] = 1.0
    return out


def _document_coverage(
    terms: Sequence[QuestionTerm], pids: IntArray, index: IndexParts
) -> FloatArray:
    """:func:`credits` of the documents of ``pids`` (each the best of its passages)."""
    groups = index.doc_grams.groups
    if groups is None:
        groups = index.passages.groups(len(index.doc_stems))
    documents = np.unique(index.passages.document[pids])
    rows, owner = gather_rows(groups, documents)
    out = np.zeros((len(documents), len(terms)), dtype=np.float64)
    np.maximum.at(out, owner, credits(terms, rows, index))
    return out
