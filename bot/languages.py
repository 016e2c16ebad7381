"""The languages a corpus may be in, and the guess of a text's language from its function words
(the corpus readers guess a document's language; the engine picks its analyzer by it)."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Mapping

__all__ = [
    "DE_MARKERS",
    "EN_MARKERS",
    "SUPPORTED_LANGUAGES",
    "WORD_RE",
    "guess_language",
    "language_of_words",
]

SUPPORTED_LANGUAGES = ("de", "en")

WORD_RE = re.compile(r"[^\W\d_]+")
DE_MARKERS = frozenset(
    """
der die das und ist nicht mit sich auch auf für von dem den zu ein eine einer wird werden
hat haben sind wurde dass oder aber nach bei
""".split()
)
EN_MARKERS = frozenset(
    """
the and is of to that it with for was on are as be this by from has have were which not but
or at
""".split()
)


def guess_language(text: str, default: str) -> str:
    """Guess "de" or "en" from function words; ``default`` when the text is too short to tell."""
    head = text[:20_000]
    if "\u0130" in head:  # "İ" lowers to two characters: go word by word
        words = Counter(match.group().lower() for match in WORD_RE.finditer(head))
    else:
        # Lowering keeps letters letters (but for "İ"), so the words of the lowered text are
        # the lowered words. A whitespace-separated piece of letters only is one word; the
        # regex splits only the other pieces. All counted in C, not word by word in Python (a
        # corpus load guesses every document: that took ~0.2 ms a post).
        words = Counter(head.lower().split())
        for piece in list(itertools.filterfalse(str.isalpha, words)):
            count = words[piece]
            for word in WORD_RE.findall(piece):
                words[word] += count
    return language_of_words(words, default)


def language_of_words(words: Mapping[str, int], default: str) -> str:
    """The decision of :func:`guess_language`, from how often each lowered word occurs."""
    # Only the markers the text has (a Counter's missing key costs a Python call).
    de = sum([words[w] for w in words.keys() & DE_MARKERS])
    en = sum([words[w] for w in words.keys() & EN_MARKERS])
    if de + en < 3:
        return default
    if de >= 1.5 * en:
        return "de"
    if en >= 1.5 * de:
        return "en"
    return default
