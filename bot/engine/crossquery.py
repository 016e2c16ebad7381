"""A question translated as a structured query (Pirkola 1998): each question word becomes one
group of terms, itself and its translations, and the group weighs as one term.

Without that, a word with six translations would count six times, and each common translation
with its own (low) idf: the rare, precise words of a question would be drowned by one vague
word's many senses. Here every term of a group is scaled so that it weighs the idf of the
union of the group's postings (the group's document frequency), and the no-answer cut-off
counts the group once, covered when any of its terms matches.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.engine.analysis import Token
from bot.engine.bilingual import Lexicon
from bot.engine.cutoff import QuestionTerm, parts_of
from bot.engine.index import Id32Array
from bot.engine.parts import IndexParts
from bot.engine.termcache import TermCache

__all__ = ["TermGroup", "group_terms", "term_groups"]


@dataclass(frozen=True, slots=True)
class TermGroup:
    """One question word: its own term, then its translations, each with its ranking scale."""

    term: str
    members: tuple[tuple[str, float], ...]
    #: The group's idf over passages, from the union of its terms' postings.
    idf: float


def term_groups(
    query: str,
    tokens: Sequence[Token],
    lang: str,
    lexicon: Lexicon,
    index: IndexParts,
    cache: TermCache[TermGroup],
) -> list[TermGroup]:
    """The question's words as groups, in question order (a repeated word repeats its group,
    as a repeated term counts again in BM25)."""
    out = []
    for token in tokens:
        word = query[token.start : token.end]
        # The key names the word's language and term, and the word (whose parts a compound
        # translation needs).
        key = f"{lang}\0{token.term}\0{word}"
        out.append(cache.get(key, functools.partial(_group_of, lexicon=lexicon, index=index)))
    return out


def _group_of(key: str, lexicon: Lexicon, index: IndexParts) -> TermGroup:
    lang, term, word = key.split("\0")
    translation = lexicon.translate(word, term, lang)
    terms = tuple(dict.fromkeys((term, *translation.terms)))
    stems = index.stems
    present = [t for t in terms if stems.document_frequency(t)]
    n = max(len(index.passages), 1)
    if present:
        union = np.unique(np.concatenate([stems.postings(t)[0] for t in present]))
        df = len(union)
    else:
        df = 0
    idf = math.log(1 + (n - max(df, 1) + 0.5) / (max(df, 1) + 0.5))
    members = []
    for t in terms:
        tid = stems.vocabulary.get(t)
        if tid is None:
            continue
        own = float(stems.idf[tid])
        # The group's BM25 idf (rank_bm25's form) instead of the term's own.
        group = math.log(n - df + 0.5) - math.log(df + 0.5)
        scale = group / own if own > 0 and group > 0 else 1.0
        members.append((t, scale))
    return TermGroup(term, tuple(members), idf)


def group_terms(
    groups: Sequence[TermGroup],
    index: IndexParts,
    part_cache: TermCache[frozenset[str]],
) -> list[QuestionTerm]:
    """The cut-off's question words of a translated question: one per distinct group, its
    weight the group's idf, covered fully by any of its terms and by half by their parts."""
    vocabulary = index.stems.vocabulary
    seen: set[str] = set()
    out = []
    for group in groups:
        if group.term in seen:
            continue
        seen.add(group.term)
        others = frozenset(t for t, _ in group.members if t != group.term)
        parts = (
            frozenset().union(*(parts_of(t, index, part_cache) for t in (group.term, *others)))
            - others
            - {group.term}
        )
        out.append(
            QuestionTerm(
                group.term,
                group.idf,
                parts,
                vocabulary.get(group.term, -1),
                _ids(parts, vocabulary),
                others,
                _ids(others, vocabulary),
            )
        )
    return out


def _ids(terms: frozenset[str], vocabulary: dict[str, int]) -> Id32Array:
    return np.array(sorted(vocabulary[t] for t in terms if t in vocabulary), dtype=np.int32)
