"""Quotes that contain the answer: a hit's passage, widened by the sentence next to it when the
answer is likely there.

A question's words and its answer are often in two sentences ("Tesla wurde 1856 geboren. Er
erfand den Wechselstrommotor."): the passage that matches best holds one, its neighbour the
other. Passages stay as they are (the ranking does not change); at quoting time the next
sentence joins the quote when it opens with a word that points back ("Er", "Dies", "Dabei") or
holds question words the passage lacks, and the previous one when the passage itself opens
pointing back (a reader needs to know who "Er" is) or it holds such words. A quote stays
short: at most :data:`MAX_SENTENCES` sentences and about :data:`MAX_CHARS` characters,
dropping a sentence of the passage that matches no question word to make room, else not
widened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.engine.passages import SENTENCE_END, Sentence, split_sentences

__all__ = ["ANAPHORS", "MAX_CHARS", "MAX_SENTENCES", "quote_span"]

MAX_SENTENCES = 3
MAX_CHARS = 600

# Words that open a sentence continuing the one before (compared in lower case): pronouns,
# demonstratives and pronominal adverbs of German and English.
ANAPHORS = frozenset(
    """
er sie es ihm ihn ihr ihre ihrer ihren ihrem ihres sein seine seiner seinen seinem seines
dies diese dieser dieses diesem diesen dessen deren jener jene jenes damit dabei dadurch daher
danach dafür dagegen darauf daraus darin darunter davon dazu deshalb deswegen dort hierbei
hierfür hiervon somit letzterer letztere letzteres beide beiden all alle
he she it they him them his her its their this these those there such both
""".split()
)
_EDGE = "\"'„“”‚‘’«»‹›([{"


@dataclass(frozen=True, slots=True)
class _Piece:
    start: int
    end: int
    terms: frozenset[str]
    own: bool  # a sentence of the passage itself


def _opens_with_anaphor(text: str) -> bool:
    words = text.split(None, 1)
    return bool(words) and words[0].strip(_EDGE).rstrip(",:;").lower() in ANAPHORS


def quote_span(
    text: str,
    start: int,
    end: int,
    lower: int,
    upper: int,
    matched: Callable[[str], frozenset[str]],
) -> tuple[int, int]:
    """The span of ``text`` to quote for the passage at ``start:end``: the passage, or the
    passage with its previous or next sentence from ``lower:upper`` (the neighbouring passages
    of the same document). ``matched`` gives the question words a piece of text holds."""
    # A quote never crosses a paragraph.
    before = text.rfind("\n\n", lower, start)
    lower = lower if before < 0 else before + 2
    after = text.find("\n\n", end, upper)
    upper = upper if after < 0 else after
    if lower >= start and upper <= end:
        return start, end
    pieces: list[_Piece] = []
    prev: _Piece | None = None
    nxt: _Piece | None = None
    for s in _sentences(text, lower, upper):
        if s.end <= start:
            prev = _piece(text, s, matched, own=False)
        elif s.start >= end:
            nxt = _piece(text, s, matched, own=False)
            break
        elif s.start >= start and s.end <= end:
            pieces.append(_piece(text, s, matched, own=True))
        else:
            return start, end  # split otherwise than at build time: quote the passage
    if not pieces:
        return start, end
    if nxt is not None and _continues(text, pieces, nxt):
        pieces = _fit([*pieces, nxt], drop_first=True) or pieces
    if prev is not None and pieces[0].own and _points_back(text, pieces, prev):
        pieces = _fit([prev, *pieces], drop_first=False) or pieces
    return pieces[0].start, pieces[-1].end


def _sentences(text: str, lower: int, upper: int) -> list[Sentence]:
    return [Sentence(lower + s.start, lower + s.end) for s in split_sentences(text[lower:upper])]


def _piece(
    text: str, s: Sentence, matched: Callable[[str], frozenset[str]], *, own: bool
) -> _Piece:
    return _Piece(s.start, s.end, matched(text[s.start : s.end]), own)


def _heading_free(text: str, piece: _Piece) -> bool:
    """A line without end punctuation (a heading) is no sentence to join a quote."""
    return text[piece.end - 1] in SENTENCE_END


def _continues(text: str, pieces: list[_Piece], nxt: _Piece) -> bool:
    """The next sentence likely holds the answer: it points back to a sentence with question
    words, or holds question words the passage lacks."""
    if not _heading_free(text, nxt) and "\n" in text[pieces[-1].end : nxt.start]:
        return False
    if pieces[-1].terms and _opens_with_anaphor(text[nxt.start : nxt.end]):
        return True
    held = frozenset().union(*(p.terms for p in pieces))
    return bool(held) and bool(nxt.terms - held)


def _points_back(text: str, pieces: list[_Piece], prev: _Piece) -> bool:
    """The previous sentence likely holds the answer: the passage opens pointing back to it, or
    it holds question words the passage lacks (measured on XQuAD-de: both help)."""
    held = frozenset().union(*(p.terms for p in pieces))
    if not held or not _heading_free(text, prev):
        return False
    first = pieces[0]
    return _opens_with_anaphor(text[first.start : first.end]) or bool(prev.terms - held)


def _fit(pieces: list[_Piece], *, drop_first: bool) -> list[_Piece] | None:
    """``pieces`` within the quote's limits, dropping passage sentences without a question word
    from the end away from the new sentence; None if they cannot fit."""
    while len(pieces) > MAX_SENTENCES or pieces[-1].end - pieces[0].start > MAX_CHARS:
        edge = pieces[0] if drop_first else pieces[-1]
        if not edge.own or edge.terms or sum(p.own for p in pieces) <= 1:
            return None
        pieces = pieces[1:] if drop_first else pieces[:-1]
    return pieces
