"""The parts an index is made of, as one typed record: what a build returns, what an
:class:`~bot.engine.search.Engine` answers from, and what an index snapshot saves and loads
(:mod:`bot.store.snapshot`)."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.corpus import Document
from bot.engine.grams import GramField, TermGrams
from bot.engine.index import BM25Field, ForwardIndex, IntArray

__all__ = ["IndexParts", "Passages"]

_TEXT = operator.attrgetter("text")


@dataclass(frozen=True, slots=True)
class Passages:
    """Where every passage stands in its document: arrays, not a million objects (the texts are
    the documents' own, sliced when a passage is quoted)."""

    document: IntArray
    index: IntArray
    start: IntArray
    end: IntArray
    lang: npt.NDArray[np.uint8]
    langs: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.document)

    def groups(self, documents: int) -> IntArray:
        """Document d's passages are ``groups[d]`` to ``groups[d + 1]`` (numbered together)."""
        return np.searchsorted(self.document, np.arange(documents + 1), side="left").astype(
            np.int64
        )

    def check(self, documents: Sequence[Document]) -> None:
        """ValueError unless every passage lies inside its document's text."""
        n = len(self.document)
        if not (len(self.index) == len(self.start) == len(self.end) == len(self.lang) == n):
            raise ValueError("passage arrays differ in length")
        if not n:
            return
        if int(self.document.min()) < 0 or int(self.document.max()) >= len(documents):
            raise ValueError("passage of a document that is not there")
        if int(self.lang.max()) >= len(self.langs):
            raise ValueError("passage language out of range")
        lengths = np.fromiter(map(len, map(_TEXT, documents)), np.int64, len(documents))
        if np.any(self.start < 0) or np.any(self.end < self.start):
            raise ValueError("passage span out of order")
        if np.any(self.end > lengths[self.document]):
            raise ValueError("passage span beyond its document")


@dataclass(frozen=True, slots=True)
class IndexParts:
    """An index over a list of documents (which it does not hold): the passages, the four
    BM25 fields (terms and n-grams, of passages and of whole documents) and the terms' n-grams
    they share, and how many documents each language has."""

    passages: Passages
    stems: BM25Field
    doc_stems: BM25Field
    term_grams: TermGrams
    grams: GramField
    doc_grams: GramField
    languages: tuple[tuple[str, int], ...]

    @property
    def forward(self) -> ForwardIndex:
        """The passages' forward index (the documents read theirs from their passages)."""
        return self.stems.forward_index()

    def check(self, documents: Sequence[Document]) -> None:
        """ValueError unless the parts fit ``documents`` and each other (parts from a file must
        never index out of bounds)."""
        self.passages.check(documents)
        if len(self.stems) != len(self.passages):
            raise ValueError("passage fields do not match the passages")
        if len(self.doc_stems) != len(documents):
            raise ValueError("document fields do not match the documents")
        if list(self.stems.vocabulary) != list(self.doc_stems.vocabulary) or list(
            self.term_grams.vocabulary
        ) != list(self.stems.vocabulary):
            raise ValueError("vocabularies differ")
