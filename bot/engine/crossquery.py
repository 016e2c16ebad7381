"""A question translated as a structured query (Pirkola 1998): each question word becomes one
group of terms, itself and its translations, and the group weighs as one term.

Without that, a word with six translations would count six times, and each common translation
with its own (low) idf: the rare, precise words of a question would be drowned by one vague
word's many senses. Here every term of a group is scaled so that it weighs the idf of the
union of the group's postings (the group's document frequency), and the answer-or-refuse
decision counts the word once, covered when any of its terms matches.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.engine.analysis import Token
from bot.engine.bilingual import Lexicon
from bot.engine.cutoff import PartIds, QuestionTerm
from bot.engine.parts import IndexParts
from bot.engine.termcache import TermCache

__all__ = ["TermGroup", "term_groups", "with_translations"]


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


def with_translations(
    terms: Sequence[QuestionTerm], groups: Sequence[TermGroup], index: IndexParts
) -> list[QuestionTerm]:
    """The cut-off's question words of a translated question: each weighs as the word itself
    (its rarity in the question's language) and is covered in full by any of its translations
    the corpus has, which also makes it no word the corpus lacks."""
    vocabulary = index.stems.vocabulary
    by_term = {group.term: group for group in groups}
    out = []
    for term in terms:
        group = by_term.get(term.term)
        others = (
            frozenset(t for t, _ in group.members if t != term.term)
            if group is not None
            else frozenset()
        )
        present = [vocabulary[t] for t in others if t in vocabulary]
        if not present:
            out.append(term)
            continue
        ids = np.concatenate([term.ids.ids, np.array(present, dtype=np.int32)])
        credit = np.concatenate([term.ids.credit, np.ones(len(present), dtype=np.float64)])
        unique, where = np.unique(ids, return_inverse=True)
        best = np.zeros(len(unique), dtype=np.float64)
        np.maximum.at(best, where, credit)
        out.append(
            dataclasses.replace(
                term,
                lacking=False,
                ids=PartIds(term.ids.tid, unique.astype(np.int32), best),
                alternatives=others,
            )
        )
    return out
