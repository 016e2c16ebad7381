"""The n-gram field without an n-gram index.

Character n-grams of the terms find compounds and spelling variants, and they lift XQuAD-de from
0.945 to 0.961 paragraph MRR@10 (docs/BENCHMARKS.md). But an inverted index of them holds ~260
postings per passage, ten times the word index: too much memory and too slow at a million
passages. So citebot scores the n-gram field only where it matters:

* :class:`TermGrams` maps every vocabulary term to its n-grams (a small matrix over the
  vocabulary, not the passages). It also finds a question term's *neighbours*, vocabulary terms
  sharing most of its n-grams, so the word index can find candidate passages by them.
* :class:`GramField` keeps the n-gram field's BM25 statistics (document frequency of each gram,
  n-gram length of each unit) and computes, for a few candidate units, exactly the BM25Okapi
  score an n-gram index would give them, from the units' terms (a forward index).

Document frequencies are counted exactly up to ``SAMPLE_UNITS`` units and estimated from an evenly
spaced sample of that many units above it (their idf changes little; the counting would cost
more than everything else in a build).
"""

from __future__ import annotations

import math
import threading
from array import array
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, cast

import numpy as np
import numpy.typing as npt

from bot.engine.analysis import gram_set, grams_of_vocabulary
from bot.engine.index import (
    AnyIds,
    BM25Params,
    FloatArray,
    ForwardIndex,
    Id32Array,
    IntArray,
    gather_rows,
    unique_counts,
)

__all__ = [
    "SAMPLE_UNITS",
    "GramField",
    "TermGrams",
    "gram_counts",
    "group_counts",
    "scratch",
]

SAMPLE_UNITS = 100_000
# Cells of the table that counts each unit's distinct n-grams (units x grams, a chunk at a time).
_CELLS = 1 << 21
_ROW_CHUNK = 500_000  # forward-index entries per slice when adding up row lengths


class TermGrams:
    """The n-grams of every vocabulary term, both ways round."""

    #: The type of each exported array: 32-bit ids (the vocabulary and its grams stay far
    #: below 2**31), 64-bit offsets.
    ARRAY_TYPES: ClassVar[dict[str, type[np.integer[Any]]]] = {
        "indptr": np.int64,
        "grams": np.int32,
        "terms_by_gram": np.int32,
        "gram_indptr": np.int64,
        "distinct": np.int64,
    }

    def __init__(
        self,
        vocabulary: Sequence[str],
        previous: TermGrams | None = None,
        previous_ids: Mapping[str, int] | None = None,
    ) -> None:
        """``previous`` (with ``previous_ids``, term -> its row there): the term n-grams of the
        engine being replaced. Its terms keep their rows' gram ids, copied as arrays; only new
        terms are cut into grams. Its gram numbering goes on (grams no term has any more stay
        numbered, with no terms)."""
        self.gram_ids: dict[str, int] = {} if previous is None else dict(previous.gram_ids)
        ids = self.gram_ids
        n = len(vocabulary)
        old = np.full(n, -1, dtype=np.int64)
        if previous is not None and previous_ids is not None:
            old = np.fromiter((previous_ids.get(t, -1) for t in vocabulary), np.int64, n)
        fresh = np.flatnonzero(old < 0)
        kept = np.flatnonzero(old >= 0)
        sizes = np.zeros(n, dtype=np.int64)
        # Machine integers as they come: lists would hold a Python int per gram of the
        # vocabulary until the arrays are made.
        flat = array("q")
        for row, grams in zip(
            fresh.tolist(), grams_of_vocabulary(vocabulary[i] for i in fresh.tolist()), strict=True
        ):
            for gram in grams:  # with repeats: a gram's tf counts them
                gid = ids.get(gram)
                if gid is None:
                    gid = ids[gram] = len(ids)
                flat.append(gid)
            sizes[row] = len(grams)
        if previous is not None and len(kept):
            sizes[kept] = previous.lengths[old[kept]]
        self.indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(sizes, out=self.indptr[1:])
        self.grams: Id32Array = np.empty(int(self.indptr[-1]), dtype=np.int32)
        self.grams[gather_rows(self.indptr, fresh)[0]] = np.frombuffer(flat, dtype=np.int64)
        if previous is not None and len(kept):
            source, _ = gather_rows(previous.indptr, old[kept])
            self.grams[gather_rows(self.indptr, kept)[0]] = previous.grams[source]
        del flat, sizes
        self.lengths: IntArray = np.diff(self.indptr)
        # gram -> terms containing it (each term once), for finding neighbours.
        term_of = np.repeat(np.arange(len(vocabulary), dtype=np.int64), self.lengths)
        pairs, _ = unique_counts(self.grams.astype(np.int64) * max(len(vocabulary), 1) + term_of)
        n = max(len(vocabulary), 1)
        by_gram = pairs // n
        self.terms_by_gram: Id32Array = (pairs % n).astype(np.int32)
        self.gram_indptr = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(np.bincount(by_gram, minlength=len(ids)), out=self.gram_indptr[1:])
        # Each (gram, term) pair once: a term's number of pairs is its number of distinct grams.
        self.distinct = np.bincount(self.terms_by_gram, minlength=len(vocabulary)).astype(np.int64)
        self.vocabulary = vocabulary

    def export(self) -> dict[str, AnyIds]:
        """The arrays :meth:`from_arrays` needs (besides the vocabulary and the gram strings)."""
        return {
            "indptr": self.indptr,
            "grams": self.grams,
            "terms_by_gram": self.terms_by_gram,
            "gram_indptr": self.gram_indptr,
            "distinct": self.distinct,
        }

    @classmethod
    def from_arrays(
        cls, vocabulary: Sequence[str], gram_strings: Sequence[str], arrays: dict[str, AnyIds]
    ) -> TermGrams:
        """Rebuilt from :meth:`export`; ValueError if the parts do not fit together."""
        self = cls.__new__(cls)
        self.vocabulary = vocabulary
        self.gram_ids = {g: i for i, g in enumerate(gram_strings)}
        if set(arrays) != set(cls.ARRAY_TYPES) or any(
            a.dtype != np.dtype(cls.ARRAY_TYPES[name]) for name, a in arrays.items()
        ):
            raise ValueError("n-gram arrays of the wrong type")
        self.indptr = cast(IntArray, arrays["indptr"])
        self.grams = cast(Id32Array, arrays["grams"])
        self.terms_by_gram = cast(Id32Array, arrays["terms_by_gram"])
        self.gram_indptr = cast(IntArray, arrays["gram_indptr"])
        self.distinct = cast(IntArray, arrays["distinct"])
        n_terms, n_grams = len(vocabulary), len(gram_strings)
        ok = (
            len(self.gram_ids) == n_grams
            and all(a.ndim == 1 for a in arrays.values())
            and len(self.indptr) == n_terms + 1
            and int(self.indptr[0]) == 0
            and int(self.indptr[-1]) == len(self.grams)
            and not np.any(np.diff(self.indptr) < 0)
            and len(self.gram_indptr) == n_grams + 1
            and int(self.gram_indptr[0]) == 0
            and int(self.gram_indptr[-1]) == len(self.terms_by_gram)
            and not np.any(np.diff(self.gram_indptr) < 0)
            and len(self.distinct) == n_terms
            and (not len(self.grams) or (self.grams.min() >= 0 and self.grams.max() < n_grams))
            and (
                not len(self.terms_by_gram)
                or (self.terms_by_gram.min() >= 0 and self.terms_by_gram.max() < n_terms)
            )
        )
        if not ok:
            raise ValueError("inconsistent n-gram arrays")
        self.lengths = np.diff(self.indptr)
        return self

    def query(self, query_grams: Sequence[str]) -> tuple[IntArray, IntArray] | None:
        """The distinct known grams of ``query_grams`` (ascending ids) and how often each
        occurs there; None if none is known."""
        ids = self.gram_ids
        known = [ids[g] for g in query_grams if g in ids]
        if not known:
            return None
        distinct, multiplicity = np.unique(np.asarray(known, dtype=np.int64), return_counts=True)
        return distinct, multiplicity

    def containing(self, part: str) -> list[str]:
        """Vocabulary terms that contain ``part`` (at least 3 characters), found through the
        rarest of its inner n-grams."""
        sizes = sorted({size for size in (3, 4) if size <= len(part)})
        best: tuple[int, int] | None = None
        for size in sizes:
            for i in range(len(part) - size + 1):
                gid = self.gram_ids.get(part[i : i + size])
                if gid is None:
                    return []  # some piece of it is in no term at all
                count = int(self.gram_indptr[gid + 1] - self.gram_indptr[gid])
                if best is None or count < best[0]:
                    best = (count, gid)
        if best is None:
            return []
        lo, hi = self.gram_indptr[best[1]], self.gram_indptr[best[1] + 1]
        vocabulary = self.vocabulary
        return [vocabulary[t] for t in self.terms_by_gram[lo:hi].tolist() if part in vocabulary[t]]

    def neighbours(self, term: str, limit: int, min_dice: float) -> list[tuple[str, float]]:
        """Vocabulary terms other than ``term`` whose n-gram sets overlap it by at least
        ``min_dice`` (Dice coefficient), most similar first, at most ``limit``."""
        own = [self.gram_ids[g] for g in gram_set(term) if g in self.gram_ids]
        if not own or limit <= 0:
            return []
        positions, _ = gather_rows(self.gram_indptr, np.asarray(own, dtype=np.int64))
        found = self.terms_by_gram[positions]
        if len(found) * 16 > len(self.vocabulary):
            # Common grams reach a good part of the vocabulary: count, do not sort.
            every = np.bincount(found, minlength=len(self.vocabulary))
            terms = np.flatnonzero(every)
            shared = every[terms]
        else:
            terms, shared = np.unique(found, return_counts=True)
        dice = 2 * shared / (len(gram_set(term)) + self.distinct[terms])
        keep = dice >= min_dice
        terms, dice = terms[keep], dice[keep]
        order = np.lexsort((terms, -dice))
        out: list[tuple[str, float]] = []
        for i in order:
            word = self.vocabulary[int(terms[i])]
            if word != term:
                out.append((word, float(dice[i])))
                if len(out) == limit:
                    break
        return out


class GramField:
    """BM25Okapi statistics of the n-gram field over a set of units: passages (the rows of the
    forward index) or, with ``groups``, documents (unit u is the rows ``groups[u]`` to
    ``groups[u + 1]``, its passages, so documents need no forward index of their own)."""

    def __init__(
        self,
        forward: ForwardIndex,
        term_grams: TermGrams,
        params: BM25Params | None = None,
        sample: int = SAMPLE_UNITS,
        groups: IntArray | None = None,
        update: tuple[GramField, IntArray, IntArray] | None = None,
    ) -> None:
        """``update``: (the same field of the engine being replaced, its units that are gone,
        this field's units that are new); the n-gram document frequencies are then that
        field's, less what is gone, plus what is new, instead of counted over every unit."""
        self.params = params or BM25Params()
        self.forward = forward
        self.term_grams = term_grams
        self.groups = groups
        n = len(forward) if groups is None else len(groups) - 1
        self.corpus_size = n
        length = _row_lengths(forward, term_grams.lengths)
        if groups is not None:
            unit_of = np.repeat(np.arange(n, dtype=np.int64), np.diff(groups))
            length = np.bincount(unit_of, weights=length, minlength=n).astype(np.float64)
        self.length = length
        self.avgdl = float(self.length.sum()) / n if n else 0.0
        df = self._updated_frequency(*update, sample) if update is not None else None
        if df is None:
            df = self._document_frequency(sample)
        #: Exact or sampled document frequencies (None when loaded from a snapshot).
        self.df: FloatArray | None = df
        self.idf = self._idf(df)

    @classmethod
    def from_arrays(
        cls,
        forward: ForwardIndex,
        term_grams: TermGrams,
        *,
        length: FloatArray,
        idf: FloatArray,
        df: FloatArray | None = None,
        params: BM25Params | None = None,
        groups: IntArray | None = None,
    ) -> GramField:
        """Rebuilt from a built field's ``length``, ``idf`` and ``df`` (which lets the next
        rebuild carry the frequencies over); ValueError if they do not fit."""
        n = len(forward) if groups is None else len(groups) - 1
        if groups is not None and not (
            groups.dtype == np.int64
            and len(groups) >= 1
            and int(groups[0]) == 0
            and int(groups[-1]) == len(forward)
            and not np.any(np.diff(groups) < 0)
        ):
            raise ValueError("inconsistent n-gram groups")
        if not (
            length.dtype == idf.dtype == np.float64
            and len(length) == n
            and len(idf) == len(term_grams.gram_ids)
        ):
            raise ValueError("inconsistent n-gram field")
        if df is not None and not (
            df.dtype == np.float64
            and df.shape == idf.shape
            and bool(np.all(df >= 0))
            and bool(np.all((df > 0) | (idf == 0)))
        ):
            raise ValueError("inconsistent n-gram frequencies")
        self = cls.__new__(cls)
        self.params = params or BM25Params()
        self.forward = forward
        self.term_grams = term_grams
        self.groups = groups
        self.corpus_size = n
        self.length = length
        self.avgdl = float(length.sum()) / n if n else 0.0
        self.df = df
        self.idf = idf
        return self

    def _entries(self, units: IntArray) -> tuple[IntArray, IntArray]:
        """Forward-index positions of ``units``' (term, tf) entries, and each one's unit."""
        if self.groups is None:
            return gather_rows(self.forward.indptr, units)
        rows, row_owner = gather_rows(self.groups, units)
        positions, owner = gather_rows(self.forward.indptr, rows)
        return positions, row_owner[owner]

    def _document_frequency(self, sample: int) -> FloatArray:
        n = self.corpus_size
        n_grams = len(self.term_grams.gram_ids)
        if n == 0:
            return np.zeros(n_grams, dtype=np.float64)
        units = np.arange(n, dtype=np.int64)
        if n > sample:
            units = np.linspace(0, n - 1, sample).astype(np.int64)
        counts = self._count_units(units)
        if n > sample:
            counts *= n / len(units)
        return counts

    def _updated_frequency(
        self, previous: GramField, gone: IntArray, new: IntArray, sample: int
    ) -> FloatArray | None:
        """Document frequencies from ``previous``'s, when both are exact counts (no sample):
        the units both fields share are the same, so only the gone and the new are counted."""
        if previous.df is None or max(self.corpus_size, previous.corpus_size) > sample:
            return None
        kept = previous.df - previous._count_units(gone)
        if np.any(kept < 0):  # frequencies that do not belong to that field: count anew
            return None
        ids = self.term_grams.gram_ids
        old_grams = previous.term_grams.gram_ids
        to_new = np.fromiter((ids.get(g, -1) for g in old_grams), np.int64, len(old_grams))
        known = to_new >= 0
        if np.any(kept[~known] != 0):  # a gram no term has any more must be gone everywhere
            return None
        df = np.zeros(len(ids), dtype=np.float64)
        df[to_new[known]] = kept[known]
        df += self._count_units(new)
        return df

    def _count_units(self, units: IntArray) -> FloatArray:
        """How many of ``units`` hold each n-gram (each unit counts a gram once)."""
        n_grams = len(self.term_grams.gram_ids)
        counts = np.zeros(n_grams, dtype=np.float64)
        if not len(units):
            return counts
        # A unit counts a gram once however many of its terms bring it. The (unit, gram) cells
        # of a chunk of units are told apart through a table: every occurrence writes its own
        # number into its cell, and the one number each cell keeps picks the occurrence that
        # counts (no sort; numbers only grow, so what earlier chunks left never matches).
        per_chunk = max(1, min(_CELLS // max(n_grams, 1), 2_000))
        cells = np.full(per_chunk * n_grams, -1, dtype=np.int32)
        numbered = 0
        for first in range(0, len(units), per_chunk):
            chunk = units[first : first + per_chunk]
            positions, owner = self._entries(chunk)
            terms = self.forward.terms[positions]
            gram_pos, term_owner = gather_rows(self.term_grams.indptr, terms)
            grams = self.term_grams.grams[gram_pos]
            cell = owner[term_owner] * n_grams + grams
            if numbered + len(cell) >= np.iinfo(np.int32).max:  # 32-bit numbers run out
                cells.fill(-1)
                numbered = 0
            number = np.arange(numbered, numbered + len(cell), dtype=np.int32)
            numbered += len(cell)
            cells[cell] = number
            counts += np.bincount(grams[cells[cell] == number], minlength=n_grams)
        return counts

    def _idf(self, df: FloatArray) -> FloatArray:
        """rank_bm25's idf over the grams that occur; negative ones become eps * mean."""
        n = self.corpus_size
        occurring = df > 0
        idf = np.zeros(len(df), dtype=np.float64)
        values = [math.log(n - d + 0.5) - math.log(d + 0.5) for d in df[occurring].tolist()]
        if values:
            column = np.array(values)
            average = sum(values) / len(values)
            column[column < 0] = self.params.epsilon * average
            idf[occurring] = column
        return idf

    def scores(self, query_grams: Sequence[str], units: IntArray) -> FloatArray:
        """The n-gram field's BM25 score of each of ``units`` for ``query_grams`` (repeats
        count again, as in rank_bm25)."""
        query = self.term_grams.query(query_grams)
        if query is None or not len(units) or self.avgdl == 0:
            return np.zeros(len(units), dtype=np.float64)
        if self.groups is None:
            counts = gram_counts(self.forward, self.term_grams, units, query[0])
        else:
            rows, _ = gather_rows(self.groups, units)
            counts = group_counts(
                gram_counts(self.forward, self.term_grams, rows, query[0]),
                self.groups[units + 1] - self.groups[units],
            )
        return self.scores_of_counts(counts, units, query)

    def scores_of_counts(
        self, counts: FloatArray, units: IntArray, query: tuple[IntArray, IntArray]
    ) -> FloatArray:
        """BM25 scores of ``units`` from their counts of the query's distinct grams (one row
        per unit, one column per gram of ``query``, as :meth:`TermGrams.query` gives it)."""
        distinct, multiplicity = query
        if not len(units) or self.avgdl == 0:
            return np.zeros(len(units), dtype=np.float64)
        k1, b = self.params.k1, self.params.b
        dl = self.length[units][:, None]
        saturation = counts * (k1 + 1) / (counts + k1 * (1 - b + b * dl / self.avgdl))
        weights = self.idf[distinct] * multiplicity
        scores: FloatArray = (saturation * weights).sum(axis=1)
        return scores


_local = threading.local()


def _row_lengths(forward: ForwardIndex, gram_lengths: IntArray) -> FloatArray:
    """Each row's n-gram length: every term occurrence brings all of its n-grams. Added up a
    slice of rows at a time (the same sums: each row's in entry order), without arrays as long
    as the whole forward index."""
    rows = len(forward)
    length = np.zeros(rows, dtype=np.float64)
    step = max(1, rows * _ROW_CHUNK // max(len(forward.terms), 1))
    for first in range(0, rows, step):
        last = min(first + step, rows)
        lo, hi = int(forward.indptr[first]), int(forward.indptr[last])
        per_entry = forward.tf[lo:hi] * gram_lengths[forward.terms[lo:hi]]
        row_of = np.repeat(
            np.arange(last - first, dtype=np.int64), np.diff(forward.indptr[first : last + 1])
        )
        length[first:last] = np.bincount(row_of, weights=per_entry, minlength=last - first)
    return length


def scratch(kind: str, size: int) -> npt.NDArray[np.int32]:
    """This thread's int32 table of ``size`` entries for ``kind`` of use. A "clean" table is
    all -1 and its callers leave it so; others hold whatever their last use left."""
    tables: dict[tuple[str, int], npt.NDArray[np.int32]] | None = getattr(_local, "tables", None)
    if tables is None:
        tables = _local.tables = {}
    table = tables.get((kind, size))
    if table is None:
        if len(tables) > 16:  # sizes of old indexes after reloads
            tables.clear()
        table = tables[kind, size] = np.full(size, -1, dtype=np.int32)
    return table


def gram_counts(
    forward: ForwardIndex, term_grams: TermGrams, rows: IntArray, distinct: IntArray
) -> FloatArray:
    """How often each gram of ``distinct`` (ascending gram ids) occurs in each of the forward
    index's ``rows``: a (rows x grams) array of whole numbers.

    The grams of each distinct term are read once, however many rows hold the term; a row then
    adds, for each of its terms, the term's frequency times that term's hits."""
    n_slots = len(distinct)
    if not len(rows) or not n_slots:
        return np.zeros((len(rows), n_slots), dtype=np.float64)
    positions, owner = gather_rows(forward.indptr, rows)
    terms, inverse = _distinct(forward.terms[positions], len(term_grams.vocabulary))
    gram_pos, term_owner = gather_rows(term_grams.indptr, terms)
    # Each gram's column through a table over all grams (a gather, not a binary search).
    table = scratch("clean", len(term_grams.gram_ids))
    table[distinct] = np.arange(n_slots, dtype=np.int32)
    try:
        slot = table[term_grams.grams[gram_pos]]
    finally:
        table[distinct] = -1
    hit = slot >= 0
    hit_slot = slot[hit].astype(np.int64)
    hit_indptr = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(np.bincount(term_owner[hit], minlength=len(terms)), out=hit_indptr[1:])
    hits, entry = gather_rows(hit_indptr, inverse.reshape(-1))
    cell = owner[entry] * n_slots + hit_slot[hits]
    counts = np.bincount(cell, weights=forward.tf[positions][entry], minlength=len(rows) * n_slots)
    # With weights, bincount sums float64 (its stubs only know the counting form).
    return cast(FloatArray, counts.reshape(len(rows), n_slots))


def _distinct(values: npt.NDArray[np.int32], size: int) -> tuple[npt.NDArray[np.int32], IntArray]:
    """The distinct ``values`` (all below ``size``; in no particular order) and each value's
    place among them, through a table instead of a sort: every value writes its position, and
    the one position each value then reads back picks that value's representative."""
    table = scratch("any", size)
    where = np.arange(len(values), dtype=np.int32)
    table[values] = where
    representative = table[values]
    first = representative == where
    rank = np.cumsum(first) - 1
    return values[first], rank[representative]


def group_counts(row_counts: FloatArray, sizes: IntArray) -> FloatArray:
    """Counts of consecutive groups of rows (``sizes`` rows each, in order): whole numbers, so
    the sums are exact in any order."""
    cumulative = np.zeros((len(row_counts) + 1, row_counts.shape[1]), dtype=np.float64)
    np.cumsum(row_counts, axis=0, out=cumulative[1:])
    ends = np.cumsum(sizes)
    out: FloatArray = cumulative[ends] - cumulative[ends - sizes]
    return out
