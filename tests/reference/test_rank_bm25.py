"""Equality with the reference: the index's word and n-gram fields score exactly as
rank_bm25.BM25Okapi over the same tokens (bit for bit for words; to 1e-12 for n-grams, whose
document frequencies are summed in another order). The benchmarks check the whole engine's top 10
against it (bench/speed.py)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from bot.engine.analysis import Analyzer, analyzer_for
from bot.engine.grams import GramField, TermGrams
from bot.engine.index import BM25Field, BM25Params
from tests.support.corpora import forward_of, random_corpus, term_corpus


@pytest.mark.parametrize("seed", range(30))
def test_scores_equal_rank_bm25(seed: int) -> None:
    rng = random.Random(seed)
    corpus = random_corpus(rng, rng.randint(1, 300), rng.randint(2, 200))
    if not any(corpus):
        corpus[0] = ["w0"]
    reference = BM25Okapi(corpus)
    field = BM25Field(corpus)
    vocab = sorted({t for doc in corpus for t in doc})
    for _ in range(20):
        query = [rng.choice([*vocab, "unseen"]) for _ in range(rng.randint(1, 8))]
        expected = reference.get_scores(query)
        got = field.get_scores(query)
        assert np.array_equal(got, expected), query  # bit for bit, not just close


def test_other_parameters_equal_rank_bm25() -> None:
    rng = random.Random(7)
    corpus = random_corpus(rng, 120, 50)
    params = BM25Params(k1=1.2, b=0.5, epsilon=0.1)
    reference = BM25Okapi(corpus, k1=1.2, b=0.5, epsilon=0.1)
    field = BM25Field(corpus, params)
    query = ["w0", "w3", "w3", "w17"]
    assert np.array_equal(field.get_scores(query), reference.get_scores(query))


@pytest.mark.parametrize("seed", range(8))
def test_scores_equal_rank_bm25_on_the_gram_tokens(seed: int) -> None:
    docs = term_corpus(seed, random.Random(seed).randint(3, 120))
    if not any(docs):
        docs[0] = ["kreml"]
    forward, vocabulary = forward_of(docs)
    field = GramField(forward, TermGrams(vocabulary))
    reference = BM25Okapi([Analyzer.grams_of(d) for d in docs])
    units = np.arange(len(docs), dtype=np.int64)
    de = analyzer_for("de")
    for question in ("Kampagne", "Raketenangriffe Infrastruktur", "Lavrov Peskov", "banana xyz"):
        grams = Analyzer.grams_of(de.terms(question))
        expected = reference.get_scores(grams)
        got = field.scores(grams, units)
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-12), question
        some = units[::3]
        assert np.allclose(field.scores(grams, some), expected[some], rtol=1e-12, atol=1e-12)


def test_documents_read_their_grams_from_their_passages() -> None:
    passages = term_corpus(11, 60)
    sizes = [1, 3, 5, 2, 0, 7, 4] * 10
    docs: list[list[str]] = []
    groups = [0]
    start = 0
    for size in sizes:
        if start + size > len(passages):
            break
        docs.append([t for p in passages[start : start + size] for t in p])
        start += size
        groups.append(start)
    forward, vocabulary = forward_of(passages[:start])
    grams = TermGrams(vocabulary)
    grouped = GramField(forward, grams, groups=np.asarray(groups, dtype=np.int64))
    reference = BM25Okapi([Analyzer.grams_of(d) for d in docs])
    units = np.arange(len(docs), dtype=np.int64)
    de = analyzer_for("de")
    for question in ("Kampagne", "Raketenangriffe Infrastruktur", "Lavrov Peskov"):
        query = Analyzer.grams_of(de.terms(question))
        expected = reference.get_scores(query)
        assert np.allclose(grouped.scores(query, units), expected, rtol=1e-12, atol=1e-12)
