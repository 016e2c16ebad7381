"""BM25 index: rank_bm25's BM25Okapi scores, computed from postings instead of a loop over passages.

For every term the index stores the passages that contain it and the term's finished BM25 weight
in each of them, computed with exactly rank_bm25's formula and float64 arithmetic. A question then
costs only the postings of its own terms: scores are summed per candidate passage in question-term
order, which is the order rank_bm25 adds them in, so the scores are equal to
``rank_bm25.BM25Okapi(corpus).get_scores(question)``.

The word field of passages and the one of documents are two ``BM25Field`` objects over the same
numbered tokens; the n-gram fields are scored from the passages' forward index
(:mod:`bot.engine.grams`); :mod:`bot.engine.search` adds them with weights.
"""

from __future__ import annotations

import itertools
import math
import threading
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

__all__ = [
    "Accumulator",
    "AnyIds",
    "BM25Field",
    "BM25Params",
    "FloatArray",
    "ForwardIndex",
    "Id32Array",
    "IntArray",
    "SparseScores",
    "TermIds",
    "TokenIds",
    "UnitEntries",
    "gather_rows",
    "top_k",
    "top_k_dense",
    "top_k_grouped",
    "unique_counts",
    "unit_entries",
]

IntArray = npt.NDArray[np.int64]
# Passage ids and term ids of the postings and the forward index: 32 bits halve the biggest
# arrays (a corpus stays far below 2**31 passages and terms).
Id32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
AnyIds = npt.NDArray[np.int32] | npt.NDArray[np.int64]
# Tokens per slice of units when counting term frequencies (bounds the build's sort memory).
_ENTRY_CHUNK = 500_000


@dataclass(frozen=True, slots=True)
class BM25Params:
    """rank_bm25.BM25Okapi's parameters, with its defaults."""

    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25


@dataclass(frozen=True, slots=True)
class SparseScores:
    """Scores of the passages that matched at least one term; ``ids`` sorted ascending."""

    ids: IntArray
    scores: FloatArray

    @staticmethod
    def empty() -> SparseScores:
        return SparseScores(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


def unique_counts(keys: IntArray) -> tuple[IntArray, IntArray]:
    """Sorted distinct keys and how often each occurs (a plain sort: numpy's hash-based
    ``unique`` is several times slower on the tens of millions of keys a build makes)."""
    if not len(keys):
        return keys.astype(np.int64), np.zeros(0, dtype=np.int64)
    ordered = np.sort(keys)
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    counts = np.diff(np.append(starts, len(ordered)))
    return ordered[starts], counts


@dataclass(frozen=True, slots=True)
class ForwardIndex:
    """Each passage's (term id, term frequency) pairs in CSR form: what a passage contains, for
    scoring the n-gram field of a few candidates (see :mod:`bot.engine.grams`)."""

    indptr: IntArray
    terms: Id32Array
    tf: Id32Array

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def check(self, units: int, n_terms: int) -> None:
        """ValueError unless the arrays describe ``units`` units over ``n_terms`` terms."""
        ok = (
            self.indptr.dtype == np.int64
            and self.terms.dtype == self.tf.dtype == np.int32
            and len(self.indptr) == units + 1
            and len(self.terms) == len(self.tf)
            and int(self.indptr[0]) == 0
            and int(self.indptr[-1]) == len(self.terms)
            and not np.any(np.diff(self.indptr) < 0)
            and (not len(self.terms) or (self.terms.min() >= 0 and self.terms.max() < n_terms))
            and (not len(self.tf) or self.tf.min() > 0)
        )
        if not ok:
            raise ValueError("inconsistent forward index")


@dataclass(frozen=True, slots=True)
class TermIds:
    """A corpus's tokens numbered: term ids by first occurrence (rank_bm25's order), and for
    each token its term and its unit."""

    vocabulary: dict[str, int]
    terms: AnyIds
    units: AnyIds

    @classmethod
    def of(cls, corpus: Sequence[Sequence[str]]) -> TermIds:
        vocabulary: dict[str, int] = {}
        number = vocabulary.setdefault
        ids: list[int] = []
        lengths = np.zeros(len(corpus), dtype=np.int64)
        for unit, tokens in enumerate(corpus):
            # setdefault numbers a new term with the size before it was added: first occurrence.
            ids.extend([number(term, len(vocabulary)) for term in tokens])
            lengths[unit] = len(tokens)
        units = np.repeat(np.arange(len(corpus), dtype=np.int64), lengths)
        return cls(vocabulary, np.asarray(ids, dtype=np.int64), units)


class _Words(dict[str, int]):
    """Word -> word id; a word not seen before is analysed once, its terms numbered."""

    def __init__(self, numbering: TokenIds, analyse: Callable[[str], Sequence[str]]) -> None:
        super().__init__()
        self._numbering = numbering
        self._analyse = analyse

    def __missing__(self, word: str) -> int:
        number = self._numbering.vocabulary.setdefault
        vocabulary = self._numbering.vocabulary
        terms = tuple(number(term, len(vocabulary)) for term in self._analyse(word))
        expansions = self._numbering.expansions
        word_id = self[word] = len(expansions)
        expansions.append(terms)
        return word_id


class TokenIds:
    """A corpus numbered as it is read, unit after unit, without a Python object per token.

    Each distinct word (per kind of analysis) is analysed once and gets a word id; a unit is
    stored as the word ids of its words (4 bytes each). Terms are numbered when the first word
    bringing them is read, so in order of first occurrence, as :class:`TermIds` numbers them.
    :meth:`finish` expands the words into the same arrays :class:`TermIds` holds."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self.expansions: list[tuple[int, ...]] = []
        self._words: dict[str, _Words] = {}
        self._tokens = array("i")
        self._lengths = array("q")

    def words(self, kind: str, analyse: Callable[[str], Sequence[str]]) -> _Words:
        """The word table of one kind of analysis (a language, or terms that are already
        analysed: ``analyse`` then returns the term itself)."""
        table = self._words.get(kind)
        if table is None:
            table = self._words[kind] = _Words(self, analyse)
        return table

    def add(self, table: _Words, words: Iterable[str]) -> None:
        """One unit: its words, in order."""
        before = len(self._tokens)
        self._tokens.extend(map(table.__getitem__, words))
        self._lengths.append(len(self._tokens) - before)

    def add_ids(self, ids: Id32Array, lengths: IntArray) -> None:
        """Units whose words are numbered already (``ids``, ``lengths[i]`` of them per unit)."""
        self._tokens.frombytes(ids.astype(np.int32, copy=False).tobytes())
        self._lengths.frombytes(lengths.astype(np.int64, copy=False).tobytes())

    def __len__(self) -> int:
        return len(self._lengths)

    def finish(self) -> TermIds:
        """The numbered corpus. The word tables, which point back at this object, are dropped
        here: left to the cycle collector, a corpus's worth of words outlived the build's
        memory release."""
        self._words.clear()
        tokens = (
            np.frombuffer(self._tokens, dtype=np.int32) if self._tokens else np.zeros(0, np.int32)
        )
        lengths = (
            np.frombuffer(self._lengths, dtype=np.int64) if self._lengths else np.zeros(0, np.int64)
        )
        count = len(self.expansions)
        sizes = np.fromiter(map(len, self.expansions), np.int32, count)
        first = np.fromiter((e[0] if e else -1 for e in self.expansions), np.int32, count)
        size = sizes[tokens]  # 0 for a stop word, more than 1 for a hyphenated word or a tag
        unit_of = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
        several = np.flatnonzero(size > 1)
        if not len(several):
            keep = size == 1
            return TermIds(self.vocabulary, first[tokens[keep]], unit_of[keep])
        # Each word's terms in its place, so the units stay in order.
        terms = np.repeat(first[tokens], size)
        units = np.repeat(unit_of, size)
        del unit_of
        lens = size[several]
        # Where each such word's terms start (32 bits: a corpus has fewer than 2**31 tokens).
        starts = np.cumsum(size, dtype=np.int32)[several].astype(np.int64) - lens
        expanded = [self.expansions[w] for w in tokens[several].tolist()]
        flat = np.fromiter((t for e in expanded for t in e), np.int32, int(lens.sum()))
        offsets = np.cumsum(lens, dtype=np.int64) - lens
        terms[np.repeat(starts - offsets, lens) + np.arange(len(flat), dtype=np.int64)] = flat
        return TermIds(self.vocabulary, terms, units)


class BM25Field:
    """One field's inverted index with precomputed BM25Okapi weights."""

    def __init__(self, corpus: Sequence[Sequence[str]], params: BM25Params | None = None) -> None:
        numbered = TermIds.of(corpus)
        n_terms = len(numbered.vocabulary)
        entries = unit_entries(numbered.terms, numbered.units, n_terms, len(corpus))
        self._index(numbered.vocabulary, entries, len(corpus), params)

    @classmethod
    def from_ids(
        cls,
        vocabulary: dict[str, int],
        terms: AnyIds,
        units: AnyIds,
        size: int,
        params: BM25Params | None = None,
        *,
        forward: bool = True,
    ) -> BM25Field:
        """A field over ``size`` units whose tokens are already numbered: token i is term
        ``terms[i]`` in unit ``units[i]``. ``forward=False`` skips the forward index (the
        documents' n-grams are read from their passages')."""
        entries = unit_entries(terms, units, len(vocabulary), size)
        return cls.from_entries(vocabulary, entries, size, params, forward=forward)

    @classmethod
    def from_entries(
        cls,
        vocabulary: dict[str, int],
        entries: UnitEntries,
        size: int,
        params: BM25Params | None = None,
        *,
        forward: bool = True,
    ) -> BM25Field:
        """A field over ``size`` units from their terms and frequencies: lets the document field
        add up its passages' entries instead of reading every token again."""
        field = cls.__new__(cls)
        field._index(vocabulary, entries, size, params, forward)
        return field

    def _index(
        self,
        vocabulary: dict[str, int],
        entries: UnitEntries,
        size: int,
        params: BM25Params | None,
        forward: bool = True,
    ) -> None:
        self.params = params or BM25Params()
        self.corpus_size = size
        self.vocabulary = vocabulary
        # Token counts as floats (exact below 2**53), as rank_bm25's document lengths.
        self.doc_len = cast(
            FloatArray, np.bincount(entries.units, weights=entries.tf, minlength=size)
        )
        total = float(self.doc_len.sum())
        self.avgdl = total / size if size else 0.0
        n_terms = len(vocabulary)
        df = np.bincount(entries.terms, minlength=n_terms)
        self.indptr: IntArray = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(df, out=self.indptr[1:])
        self.idf = self._idf(df.astype(np.float64))
        self.doc_ids, self.weights = self._postings(entries)
        self.forward: ForwardIndex | None = None
        if forward:
            forward_indptr = np.zeros(size + 1, dtype=np.int64)
            np.cumsum(np.bincount(entries.units, minlength=size), out=forward_indptr[1:])
            self.forward = ForwardIndex(forward_indptr, entries.terms, entries.tf)

    @classmethod
    def from_arrays(
        cls,
        *,
        vocabulary: Sequence[str] | dict[str, int],
        doc_len: FloatArray,
        doc_ids: Id32Array,
        indptr: IntArray,
        idf: FloatArray,
        weights: FloatArray,
        avgdl: float,
        forward: ForwardIndex | None,
        params: BM25Params | None = None,
    ) -> BM25Field:
        """A field from the arrays of a built one (``vocabulary`` in term-id order, or the
        term -> id table of another field with the same vocabulary, shared rather than copied).

        Checks that the arrays fit each other (ValueError if not), so a foreign or damaged set
        can never index out of bounds or double-count a passage."""
        n_terms = len(vocabulary)
        size = len(doc_len)
        checks = [
            (doc_len.dtype == np.float64 and idf.dtype == np.float64, "float dtypes"),
            (weights.dtype == np.float64, "weights dtype"),
            (doc_ids.dtype == np.int32 and indptr.dtype == np.int64, "int dtypes"),
            (doc_len.ndim == doc_ids.ndim == indptr.ndim == idf.ndim == weights.ndim == 1, "ndim"),
            (len(indptr) == n_terms + 1 and len(idf) == n_terms, "term counts"),
            (len(doc_ids) == len(weights), "postings lengths"),
            (int(indptr[0]) == 0 and int(indptr[-1]) == len(doc_ids), "indptr bounds"),
        ]
        for ok, what in checks:
            if not ok:
                raise ValueError(f"inconsistent BM25 arrays: {what}")
        if np.any(np.diff(indptr) < 0):
            raise ValueError("inconsistent BM25 arrays: indptr decreases")
        if len(doc_ids) and (int(doc_ids.min()) < 0 or int(doc_ids.max()) >= size):
            raise ValueError("inconsistent BM25 arrays: passage id out of range")
        if len(doc_ids) > 1:
            # Within a term's postings the passage ids strictly increase.
            rising = np.diff(doc_ids) > 0
            starts = indptr[1:-1]
            starts = starts[(starts > 0) & (starts < len(doc_ids))]
            rising[starts - 1] = True
            if not rising.all():
                raise ValueError("inconsistent BM25 arrays: postings not sorted")
        total = float(doc_len.sum())
        if (total / size if size else 0.0) != avgdl:
            raise ValueError("inconsistent BM25 arrays: avgdl")
        field = cls.__new__(cls)
        field.params = params or BM25Params()
        field.corpus_size = size
        if isinstance(vocabulary, dict):
            field.vocabulary = vocabulary
        else:
            field.vocabulary = {term: tid for tid, term in enumerate(vocabulary)}
        if len(field.vocabulary) != n_terms:
            raise ValueError("inconsistent BM25 arrays: repeated term")
        field.doc_len = doc_len
        field.avgdl = avgdl
        field.doc_ids = doc_ids
        field.indptr = indptr
        field.idf = idf
        field.weights = weights
        if forward is not None:
            forward.check(size, n_terms)
        field.forward = forward
        return field

    def forward_index(self) -> ForwardIndex:
        """The forward index; ValueError for a field built without one (the documents')."""
        if self.forward is None:
            raise ValueError("the field has no forward index")
        return self.forward

    def _idf(self, df: FloatArray) -> FloatArray:
        """rank_bm25's idf: log((N - df + 0.5) / (df + 0.5)); negative ones become eps * mean."""
        n = self.corpus_size
        # rank_bm25 computes log(N - df + 0.5) - log(df + 0.5) term by term with math.log;
        # do the same so the floats agree bit for bit.
        idf = np.array([math.log(n - d + 0.5) - math.log(d + 0.5) for d in df.tolist()])
        if len(idf) == 0:
            return idf.astype(np.float64)
        average = sum(idf.tolist()) / len(idf)  # sequential, as rank_bm25 adds them
        idf[idf < 0] = self.params.epsilon * average
        return idf.astype(np.float64)

    def _postings(self, entries: UnitEntries) -> tuple[Id32Array, FloatArray]:
        """Each term's units (ascending) and BM25 weights, the entries put in their place a
        slice at a time (a counting sort: no corpus-sized order array, no big temporaries)."""
        k1, b = self.params.k1, self.params.b
        total = len(entries.terms)
        doc_ids = np.empty(total, dtype=np.int32)
        weights = np.empty(total, dtype=np.float64)
        fill = self.indptr[:-1].copy()  # the next free place of each term
        for lo in range(0, total, _ENTRY_CHUNK):
            part = slice(lo, lo + _ENTRY_CHUNK)
            order = np.argsort(entries.terms[part], kind="stable")  # units stay ascending
            terms = entries.terms[part][order]
            units = entries.units[part][order]
            freq = entries.tf[part][order].astype(np.float64)
            first = np.flatnonzero(np.concatenate(([True], terms[1:] != terms[:-1])))
            sizes = np.diff(np.append(first, len(terms)))
            place = fill[terms] + np.arange(len(terms)) - np.repeat(first, sizes)
            fill[terms[first]] += sizes
            doc_ids[place] = units
            dl = self.doc_len[units]
            # Same expression, same order of operations as rank_bm25.BM25Okapi.get_scores.
            saturation = freq * (k1 + 1) / (freq + k1 * (1 - b + b * dl / self.avgdl))
            weights[place] = self.idf[terms] * saturation
        return doc_ids, weights

    def __len__(self) -> int:
        return self.corpus_size

    def postings(self, term: str) -> tuple[Id32Array, FloatArray]:
        tid = self.vocabulary.get(term)
        if tid is None:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64)
        lo, hi = self.indptr[tid], self.indptr[tid + 1]
        return self.doc_ids[lo:hi], self.weights[lo:hi]

    def document_frequency(self, term: str) -> int:
        tid = self.vocabulary.get(term)
        return 0 if tid is None else int(self.indptr[tid + 1] - self.indptr[tid])

    def scores(self, query: Iterable[str]) -> SparseScores:
        """BM25 scores of the passages containing any query term (repeated terms count again)."""
        accumulator = Accumulator.for_thread(self.corpus_size)
        self.accumulate(query, accumulator)
        return accumulator.take()

    def accumulate(
        self, query: Iterable[str], accumulator: Accumulator, scale: float = 1.0
    ) -> None:
        """Add ``scale`` times this field's scores for ``query`` to ``accumulator``."""
        for term in query:
            ids, weights = self.postings(term)
            if len(ids):
                accumulator.add(ids, weights if scale == 1.0 else weights * scale)

    def gather(
        self, query: Sequence[tuple[str, float]]
    ) -> tuple[list[Id32Array], list[FloatArray], bool]:
        """The postings of each (term, scale) of ``query`` that the field has, in query order,
        weights times scale (as :meth:`accumulate` adds them), and whether every weight is
        positive (so a passage's summed score is positive exactly when it has a posting)."""
        ids: list[Id32Array] = []
        weights: list[FloatArray] = []
        positive = True
        for term, scale in query:
            tid = self.vocabulary.get(term)
            if tid is None:
                continue
            lo, hi = self.indptr[tid], self.indptr[tid + 1]
            if lo == hi:
                continue
            w = self.weights[lo:hi]
            ids.append(self.doc_ids[lo:hi])
            weights.append(w if scale == 1.0 else w * scale)
            positive = positive and scale > 0 and self.idf[tid] > 0
        return ids, weights, positive

    def dense(
        self, query: Sequence[tuple[str, float]]
    ) -> tuple[FloatArray, npt.NDArray[np.bool_] | None] | None:
        """Scores of every unit for the (term, scale) pairs of ``query`` as one dense array, and
        which units have a posting of them: None when every weight is positive, for then those
        are exactly the units scoring above zero. None at all if no unit has a posting. The
        scores equal adding the scaled postings term after term in query order, as
        :meth:`accumulate` does (``np.bincount`` adds its weights in input order, from zero)."""
        ids, weights, positive = self.gather(query)
        if not ids:
            return None
        flat_ids = ids[0] if len(ids) == 1 else np.concatenate(ids)
        flat_weights = weights[0] if len(weights) == 1 else np.concatenate(weights)
        # With weights, bincount sums float64 (its stubs only know the counting form).
        dense = cast(
            FloatArray, np.bincount(flat_ids, weights=flat_weights, minlength=self.corpus_size)
        )
        if positive:
            return dense, None
        touched = np.zeros(self.corpus_size, dtype=bool)
        touched[flat_ids] = True
        return dense, touched

    def add_into(self, query: Sequence[tuple[str, float]], out: FloatArray) -> bool | None:
        """Add the scaled postings of the (term, scale) pairs of ``query`` into the dense
        ``out``, term after term in query order (``np.add.at`` adds in index order, so the sums
        are :meth:`accumulate`'s); whether every weight was positive, None if nothing was
        added."""
        ids, weights, positive = self.gather(query)
        for unit_ids, unit_weights in zip(ids, weights, strict=True):
            np.add.at(out, unit_ids, unit_weights)
        return positive if ids else None

    def postings_count(self, query: Iterable[str]) -> int:
        """How many postings the terms of ``query`` have (repeats count again)."""
        total = 0
        for term in query:
            tid = self.vocabulary.get(term)
            if tid is not None:
                total += int(self.indptr[tid + 1] - self.indptr[tid])
        return total

    def lookup(self, query: Iterable[str], ids: IntArray) -> FloatArray:
        """This field's scores of the passages ``ids`` (ascending) only, terms added in query
        order as rank_bm25 adds them: a binary search per term instead of its postings."""
        out = np.zeros(len(ids), dtype=np.float64)
        # The postings' own dtype: searching int64 keys would copy a whole int32 postings list.
        keys = ids.astype(np.int32)
        for term in query:
            post_ids, weights = self.postings(term)
            if len(post_ids) and len(ids):
                where = np.minimum(np.searchsorted(post_ids, keys), len(post_ids) - 1)
                found = post_ids[where] == keys
                out[found] += weights[where[found]]
        return out

    def get_scores(self, query: Iterable[str]) -> FloatArray:
        """Dense scores for every passage, as rank_bm25's ``get_scores`` returns them."""
        dense = np.zeros(self.corpus_size, dtype=np.float64)
        sparse = self.scores(query)
        dense[sparse.ids] = sparse.scores
        return dense


class Accumulator:
    """A dense score buffer that is sparse in and sparse out.

    Adding a term's postings is one vectorised ``values[ids] += weights`` (ids are unique within
    a term); the scores of a passage are added in question-term order, as rank_bm25 adds them.
    ``take`` returns the touched passages and clears only those, so a question costs the
    postings of its terms, not the corpus size. One buffer per thread and size.
    """

    _local = threading.local()

    def __init__(self, size: int) -> None:
        self.values = np.zeros(size, dtype=np.float64)
        self.touched = np.zeros(size, dtype=bool)
        self._parts: list[IntArray | Id32Array] = []
        self._count = 0

    @classmethod
    def for_thread(cls, size: int) -> Accumulator:
        buffers: dict[int, Accumulator] | None = getattr(cls._local, "buffers", None)
        if buffers is None:
            buffers = cls._local.buffers = {}
        accumulator = buffers.get(size)
        if accumulator is None:
            if len(buffers) > 8:  # sizes of old indexes after reloads
                buffers.clear()
            accumulator = buffers[size] = cls(size)
        return accumulator

    def add(self, ids: IntArray | Id32Array, weights: FloatArray) -> None:
        self.values[ids] += weights
        self.touched[ids] = True
        self._parts.append(ids)
        self._count += len(ids)

    def peek_ids(self) -> IntArray:
        """The touched passages, ascending, without clearing them."""
        if self._count * 16 > len(self.values):
            return np.flatnonzero(self.touched)
        if len(self._parts) == 1:
            return self._parts[0].astype(np.int64, copy=False)
        return np.unique(np.concatenate(self._parts)).astype(np.int64, copy=False)

    def take(self) -> SparseScores:
        """The scores added so far, ids ascending; the buffer is clean again afterwards."""
        if not self._parts:
            return SparseScores.empty()
        ids = self.peek_ids()
        scores = self.values[ids]
        self.values[ids] = 0.0
        self.touched[ids] = False
        self._parts = []
        self._count = 0
        return SparseScores(ids, scores)


def top_k(scores: SparseScores, k: int) -> list[tuple[int, float]]:
    """The ``k`` best (passage id, score), best first; ties go to the earlier passage."""
    if k <= 0 or not len(scores.ids):
        return []
    ids, values = scores.ids, scores.scores
    if len(ids) > k:
        # Keep everything tied with the k-th best so the tie-break below sees all of them.
        kth = np.partition(values, len(values) - k)[len(values) - k]
        keep = values >= kth
        ids, values = ids[keep], values[keep]
    order = np.lexsort((ids, -values))[:k]
    return list(zip(ids[order].tolist(), values[order].tolist(), strict=True))


def top_k_dense(
    scores: FloatArray, k: int, touched: npt.NDArray[np.bool_] | None = None
) -> list[tuple[int, float]]:
    """:func:`top_k` of the ``touched`` units of a dense score array, or without ``touched`` of
    the units scoring above zero (the others must score exactly zero). Those are found without
    sorting them all: the k-th best of the blocks' maxima is a lower bound of the k-th best
    score, so only the units scoring at least that can be among the best k (ties included)."""
    if k <= 0:
        return []
    if touched is not None:
        ids = np.flatnonzero(touched)
        return top_k(SparseScores(ids, scores[ids]), k)
    block = max(16, len(scores) // 1024)
    blocks = len(scores) // block
    bound = 0.0
    if blocks >= 2 * k:
        maxima = scores[: blocks * block].reshape(blocks, block).max(axis=1)
        bound = float(np.partition(maxima, blocks - k)[blocks - k])
    found = np.flatnonzero(scores >= bound) if bound > 0 else np.flatnonzero(scores > 0)
    return top_k(SparseScores(found, scores[found]), k)


def top_k_grouped(
    scores: FloatArray,
    context: FloatArray,
    group: IntArray,
    k: int,
    block: int = 1024,
) -> list[tuple[int, float]]:
    """:func:`top_k` of ``scores[u] + context[group[u]]`` over the units u scoring above zero
    in ``scores`` (the others must score exactly zero, ``context`` must not be negative, and
    ``group`` must ascend: a document's passages are numbered together).

    Works a block of units at a time: a block's best score plus the best context of the
    groups it overlaps bounds what any of its units can reach (float addition is monotone).
    The blocks with the best bounds give a k-th best score, and only blocks whose bound
    reaches it are added up unit by unit."""
    n = len(scores)
    if k <= 0 or not n:
        return []
    starts = np.arange(0, n, block, dtype=np.int64)
    # Block i is the units bounds[i] to bounds[i + 1] (the last one may be shorter).
    bounds = np.append(starts, n)
    if len(starts) <= 2 * k:  # a small corpus: add up every unit with a score
        ids = np.flatnonzero(scores > 0)
        return top_k(SparseScores(ids, scores[ids] + context[group[ids]]), k)
    ends = np.minimum(starts + block, n)
    best_score = np.maximum.reduceat(scores, starts)
    # Groups from the block's first to its last unit (reduceat stops before the next block's
    # first group, which may be this block's last one); groups without units add nothing.
    first, last = group[starts], group[ends - 1]
    best_context = np.maximum(np.maximum.reduceat(context, first), context[last])
    bound = np.where(best_score > 0, best_score + best_context, -np.inf)
    threshold = -np.inf
    if len(bound) > k:
        trial = np.argpartition(-bound, k)[:k]
        ids, _ = gather_rows(bounds, np.sort(trial))
        values = scores[ids]
        found = values > 0
        if int(found.sum()) >= k:
            totals = values[found] + context[group[ids[found]]]
            threshold = float(np.partition(totals, len(totals) - k)[len(totals) - k])
    needed = np.flatnonzero(bound >= threshold if threshold > -np.inf else bound > -np.inf)
    ids, _ = gather_rows(bounds, needed)
    values = scores[ids]
    ids = ids[values > 0]
    totals = scores[ids] + context[group[ids]]
    keep = totals >= threshold
    return top_k(SparseScores(ids[keep], totals[keep]), k)


@dataclass(frozen=True, slots=True)
class UnitEntries:
    """Each unit's distinct terms with their frequencies, ordered by unit, then term."""

    units: Id32Array
    terms: Id32Array
    tf: Id32Array


def unit_entries(
    terms: AnyIds, units: AnyIds, n_terms: int, size: int, tf: AnyIds | None = None
) -> UnitEntries:
    """The entries of tokens (token i is term ``terms[i]`` in unit ``units[i]``, counting
    ``tf[i]`` times, once without ``tf``).

    Counted a slice of units at a time, so the 64-bit keys and their sort never span the
    whole corpus (at a million passages that sort alone held about 0.8 GB)."""
    if len(units) > 1 and np.any(units[1:] < units[:-1]):
        order = np.argsort(units, kind="stable")  # a rebuild appends reused passages' tokens
        terms, units = terms[order], units[order]
        if tf is not None:
            tf = tf[order]
        del order
    step = max(1, size * _ENTRY_CHUNK // max(len(units), 1))
    bounds = np.searchsorted(units, np.arange(0, size + step, step)).tolist()
    parts: tuple[list[Id32Array], list[Id32Array], list[Id32Array]] = ([], [], [])
    span = max(n_terms, 1)
    for lo, hi in itertools.pairwise(bounds):
        if lo == hi:
            continue
        first = int(units[lo])
        keys = (units[lo:hi].astype(np.int64) - first) * span + terms[lo:hi]
        if tf is None:
            keys, counts = unique_counts(keys)
        else:
            order = np.argsort(keys)
            keys = keys[order]
            starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
            counts = np.add.reduceat(tf[lo:hi][order], starts, dtype=np.int64)
            keys = keys[starts]
        parts[0].append((keys // span + first).astype(np.int32))
        parts[1].append((keys % span).astype(np.int32))
        parts[2].append(counts.astype(np.int32))
    if not parts[0]:
        empty = np.zeros(0, dtype=np.int32)
        return UnitEntries(empty, empty.copy(), empty.copy())
    joined: list[Id32Array] = []
    for pieces in parts:  # one column at a time, its pieces freed as soon as it is whole
        joined.append(np.concatenate(pieces))
        pieces.clear()
    return UnitEntries(joined[0], joined[1], joined[2])


def gather_rows(indptr: IntArray, rows: IntArray | Id32Array) -> tuple[IntArray, IntArray]:
    """Positions of the CSR ``rows``' entries (row r is ``indptr[r]`` to ``indptr[r + 1]``), row
    after row in the order of ``rows``, and for each entry its row's place in ``rows``: the one
    way every CSR table here (postings, forward index, term n-grams, groups, blocks) is read."""
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    total = int(lengths.sum())
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    if not total:
        return np.zeros(0, dtype=np.int64), owner
    offsets = np.cumsum(lengths) - lengths
    positions = np.arange(total, dtype=np.int64) - np.repeat(offsets - starts, lengths)
    return positions, owner
