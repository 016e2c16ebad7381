"""The index's own rules: sparse and dense scores agree, top-k selection is exact (its equality
with rank_bm25 is tests/reference/)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bot.engine.index import (
    Accumulator,
    BM25Field,
    SparseScores,
    top_k,
    top_k_dense,
    top_k_grouped,
)
from tests.support.corpora import random_corpus


def test_sparse_scores_cover_exactly_the_matching_passages() -> None:
    corpus = [["a", "b"], ["c"], ["a"], [], ["b", "b"]]
    sparse = BM25Field(corpus).scores(["a", "b"])
    assert sparse.ids.tolist() == [0, 2, 4]
    assert (sparse.scores > 0).all()


def test_empty_corpus() -> None:
    field = BM25Field([])
    assert len(field) == 0
    assert field.get_scores(["a"]).shape == (0,)
    assert top_k(field.scores(["a"]), 5) == []


def test_corpus_without_terms() -> None:
    field = BM25Field([[], []])
    assert field.get_scores(["a"]).tolist() == [0.0, 0.0]


def test_k_larger_than_corpus() -> None:
    field = BM25Field([["a"], ["a", "b"], ["c"]])
    ranked = top_k(field.scores(["a"]), 10)
    assert sorted(pid for pid, _ in ranked) == [0, 1]
    assert top_k(field.scores(["a"]), 0) == []


def test_ties_go_to_the_earlier_passage() -> None:
    scores = SparseScores(np.array([3, 5, 7, 9]), np.array([1.0, 2.0, 2.0, 2.0]))
    assert top_k(scores, 2) == [(5, 2.0), (7, 2.0)]
    assert top_k(scores, 4) == [(5, 2.0), (7, 2.0), (9, 2.0), (3, 1.0)]


def test_top_k_matches_a_full_sort() -> None:
    rng = np.random.default_rng(3)
    ids = np.sort(rng.choice(100_000, 5_000, replace=False)).astype(np.int64)
    values = rng.integers(0, 50, len(ids)).astype(np.float64)  # many ties
    got = top_k(SparseScores(ids, values), 25)
    expected = sorted(zip(ids.tolist(), values.tolist(), strict=True), key=lambda x: (-x[1], x[0]))
    assert got == expected[:25]


def test_lookup_equals_the_dense_scores() -> None:
    rng = random.Random(9)
    corpus = random_corpus(rng, 200, 60)
    field = BM25Field(corpus)
    ids = np.array(sorted(rng.sample(range(200), 40)), dtype=np.int64)
    query = ["w0", "w5", "w5", "w33", "nope"]
    assert np.array_equal(field.lookup(query, ids), field.get_scores(query)[ids])


@pytest.mark.parametrize("seed", range(10))
def test_dense_scores_equal_the_accumulated_ones(seed: int) -> None:
    rng = random.Random(seed)
    corpus = random_corpus(rng, rng.randint(1, 300), rng.randint(2, 100))
    field = BM25Field(corpus)
    query = [(f"w{rng.randrange(120)}", rng.choice([1.0, 0.5, 0.37])) for _ in range(8)]
    accumulator = Accumulator.for_thread(len(field))
    for term, scale in query:
        field.accumulate((term,), accumulator, scale)
    expected = accumulator.take()
    found = field.dense(query)
    if not len(expected.ids):
        assert found is None
        return
    assert found is not None
    dense, touched = found
    if touched is None:
        touched = dense > 0
    assert np.flatnonzero(touched).tolist() == expected.ids.tolist()
    assert np.array_equal(dense[expected.ids], expected.scores)  # bit for bit
    assert not dense[~touched].any()


def test_dense_marks_passages_whose_weights_cancel_out() -> None:
    # One passage: every idf is negative (eps * mean), so a posting can sum to zero or less.
    field = BM25Field([["a", "b"], ["a"]])
    found = field.dense([("a", 1.0), ("b", 1.0)])
    assert found is not None and found[1] is not None
    assert found[1].tolist() == [True, True]


@pytest.mark.parametrize("seed", range(10))
def test_top_k_dense_equals_top_k(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 200_000))
    scores = rng.integers(0, 30, n).astype(np.float64)  # many ties
    touched = rng.random(n) < rng.choice([0.0001, 0.01, 0.5, 1.0])
    scores[~touched] = 0.0
    scores[touched] += 1.0
    ids = np.flatnonzero(touched)
    for k in (1, 10, 50, 500):
        expected = top_k(SparseScores(ids, scores[ids]), k)
        assert top_k_dense(scores, k) == expected
        assert top_k_dense(scores, k, touched) == expected


@pytest.mark.parametrize("seed", range(12))
def test_top_k_grouped_equals_top_k_of_the_sums(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30_000))
    group = np.sort(rng.integers(0, max(1, n // 4), n)).astype(np.int64)
    context = rng.integers(0, 8, int(group.max()) + 3).astype(np.float64)  # ties, empty groups
    scores = rng.integers(1, 30, n).astype(np.float64)
    scores[rng.random(n) < rng.choice([0.0, 0.5, 0.999])] = 0.0
    ids = np.flatnonzero(scores > 0)
    totals = scores[ids] + context[group[ids]]
    for k in (1, 10, 50):
        for block in (1, 16, 1024):
            got = top_k_grouped(scores, context, group, k, block)
            assert got == top_k(SparseScores(ids, totals), k)
