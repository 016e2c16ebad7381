"""How common a word is in its language in general, not in the corpus: the no-answer cut-off
weighs question words by it (:mod:`bot.engine.cutoff`).

A corpus's own statistics cannot tell question phrasing ("Welche Rolle spielt ...") from a topic
the corpus lacks: neither occurs in it. A word-frequency list made from a large mixed corpus
(wordfreq: Wikipedia, subtitles, news, books, web text) can, and it is the same on 25 passages
and on a million. The Zipf scale is log10 of a word's frequency per billion words: about 7 for
"und", 5 for "Rolle", 3 for "Inflationsrate"; a word the list lacks counts as ``ZIPF_FLOOR``.
"""

from __future__ import annotations

from functools import lru_cache

from wordfreq import zipf_frequency

__all__ = ["ZIPF_FLOOR", "prepare", "zipf"]

#: The rarest words wordfreq's large lists hold are about Zipf 1 (once per 100 million words);
#: a word it does not know (a name, a fresh compound) is taken to be that rare.
ZIPF_FLOOR = 1.0
#: Distinct (word, language) pairs remembered; questions repeat their words (Zipf), and a
#: bounded cache cannot grow forever on a stream of junk.
_CACHE_SIZE = 100_000


@lru_cache(maxsize=_CACHE_SIZE)
def zipf(word: str, lang: str) -> float:
    """``word``'s Zipf frequency in ``lang`` (case folded by wordfreq), at least ``ZIPF_FLOOR``."""
    return max(zipf_frequency(word, lang), ZIPF_FLOOR)


def prepare(langs: tuple[str, ...]) -> None:
    """Load the word lists of ``langs`` now (about 0.4 s each, once per process), so the first
    question does not wait for them."""
    for lang in langs:
        zipf_frequency("und" if lang == "de" else "and", lang)
