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

The question is answered if the best passage covers ``min_coverage`` of its weight, or if for
some passage within ``min_relative_score`` of the best score a linear score of five signals is
positive: ``answer_weights`` . (its coverage, its document's coverage, the rarity of the rarest
question word it has in full, how many question words it has in full, its score relative to the
best) + ``answer_bias``. Then every such passage covering at least ``min_passage_coverage`` is
quoted, best first; else nothing is.

Fitted on the XQuAD-de dev split at passage level (``bench/retrieval.py``, its ``user`` block;
every figure and its command in docs/BENCHMARKS.md, "Answer or refuse"), by a replay of the
decision over the ranked candidates of three indexes (all articles; the even ones; the odd ones):

* The weights first, with a coverage rule alone, over a grid (``common_zipf`` 5.0-7.1,
  ``lacking_weight`` 1-3, ``lacking_zipf`` 4-5 or none, coverages 0.1-0.65, the credits of
  compound parts): ``lacking_weight`` 2 (at 1, twice as many questions about other articles get
  answers); ``common_zipf`` 6.2 to 7.1 alike, 6.2 lets the seed post's short questions through;
  ``lacking_zipf`` 5 the same on XQuAD as doubling every lacking word, but "Welche Rolle spielt
  die humanitäre Lage?" is answered on the seed post (its phrasing is common words it lacks).
* Then ``answer_weights`` and ``answer_bias``: a logistic regression (L2 0.01 on standardised
  signals) of "the question is about an indexed article" (826 questions) against "it is not"
  (826, each half's questions asked of the other half's index), one row per question, its
  passage of best coverage; the bias then moved so that 4 % of the latter score above zero.
  Cross-validated by article (4 folds) it does about as well as in-sample (docs/BENCHMARKS.md).
* ``min_coverage`` 0.5 of the best passage lets a question through whose only match is a
  compound's part ("Wie hoch ist die Inflationsrate?" on posts that say "Inflation"): the score
  weighs such questions low, as most XQuAD questions that match by parts only are off-corpus.
* ``min_passage_coverage`` 0.1 and ``min_relative_score`` 0.2: once answered, which passages to
  quote; 0.2 to 0.4 changed nothing.

Nothing here depends on the corpus's size: weights come from the language, coverages and the
relative score are shares, the other two signals count question words (the tests run it on 25
passages and on 6,000 documents).
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
    "answer_signals",
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
    """A question word: its term, its weight (rarity in the language), whether it is a topic
    word the corpus lacks (rarer than ``lacking_zipf``, in no form), and the vocabulary terms
    it is a part of or that are part of it."""

    term: str
    weight: float
    parts: frozenset[str]
    lacking: bool = False
    ids: PartIds = field(default_factory=_no_parts)
    #: A translated word's other terms (its translations): each counts in full, through
    #: ``ids`` (credit 1), and is highlighted in the quote.
    alternatives: frozenset[str] = frozenset()


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
    if not ranked:
        return []
    best = ranked[0][1]
    listed = ranked
    if best > 0:
        # BM25Okapi scores can be negative in tiny corpora; only positive ones compare.
        floor = config.min_relative_score * best
        listed = list(itertools.takewhile(lambda hit: not hit[1] < floor, ranked))
    pids = np.array([pid for pid, _ in listed], dtype=np.int64)
    signals = answer_signals(terms, pids, np.array([s for _, s in listed]), index, config)
    covered = signals[:, 0]
    quoted = covered >= config.min_passage_coverage
    score = signals @ np.array(config.answer_weights) + config.answer_bias
    if not (covered[0] >= config.min_coverage or np.any(score > 0)):
        return []
    return [hit for hit, keep in zip(listed, quoted.tolist(), strict=True) if keep]


def answer_signals(
    terms: Sequence[QuestionTerm],
    pids: IntArray,
    scores: FloatArray,
    index: IndexParts,
    config: SearchConfig,
) -> FloatArray:
    """Per passage of ``pids`` (best first, with their ``scores``): its coverage, its
    document's coverage, the rarity of the rarest question word it has in full, how many
    question words it has in full, and its score relative to the best (a passages x 5 array,
    the order of ``SearchConfig.answer_weights``)."""
    weights = np.array([t.weight for t in terms], dtype=np.float64)
    lacking = np.array([t.lacking for t in terms], dtype=bool)
    total = float((weights * np.where(lacking, config.lacking_weight, 1.0)).sum())
    out = np.zeros((len(pids), 5), dtype=np.float64)
    if not len(pids) or total <= 0:
        return out  # a question of common words only covers nothing
    documents, rows, doc_credits, row_credits = _document_credits(terms, pids, index)
    matched = row_credits[np.searchsorted(rows, pids)]
    full = matched >= 1.0
    doc_of = np.searchsorted(documents, index.passages.document[pids])
    out[:, 0] = matched @ weights / total
    out[:, 1] = doc_credits[doc_of] @ weights / total
    out[:, 2] = np.where(full, weights, 0.0).max(axis=1)
    out[:, 3] = full.sum(axis=1)
    out[:, 4] = scores / scores[0] if scores[0] > 0 else 1.0
    return out


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


def _document_credits(
    terms: Sequence[QuestionTerm], pids: IntArray, index: IndexParts
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """The documents of ``pids`` and their passages (both ascending: a document's passages are
    numbered together), with the :func:`credits` of each document (the best of its passages)
    and of each of those passages, read once for both."""
    groups = index.doc_grams.groups
    if groups is None:
        groups = index.passages.groups(len(index.doc_stems))
    documents = np.unique(index.passages.document[pids])
    rows, owner = gather_rows(groups, documents)
    row_credits = credits(terms, rows, index)
    out = np.zeros((len(documents), len(terms)), dtype=np.float64)
    np.maximum.at(out, owner, row_credits)
    return documents, rows, out, row_credits
