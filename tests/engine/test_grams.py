"""The n-gram field scored from a forward index: sampled frequencies, neighbours, carried-over
term n-grams (its equality with rank_bm25 is tests/reference/)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bot.engine.analysis import Analyzer, analyzer_for
from bot.engine.grams import GramField, TermGrams
from tests.support.corpora import WORDS, forward_of


def test_sampled_document_frequencies_stay_close() -> None:
    rng = random.Random(5)
    syllables = "ka ro mi tel sa ber un ge ver lan stra dor fin hei mut wal".split()
    words = ["".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(400)]
    docs = [rng.choices(words, k=rng.randint(5, 15)) for _ in range(4_000)]
    forward, vocabulary = forward_of(docs)
    grams = TermGrams(vocabulary)
    exact = GramField(forward, grams)
    sampled = GramField(forward, grams, sample=2_000)
    informative = exact.idf > 1.0  # not replaced by epsilon * mean
    assert informative.sum() > 50
    assert np.abs(sampled.idf[informative] - exact.idf[informative]).max() < 0.35
    assert sampled.length.tolist() == exact.length.tolist()  # lengths are never sampled


def test_neighbours_find_variants_and_compound_parts() -> None:
    de = analyzer_for("de")
    vocabulary = [de.terms(w)[0] for w in WORDS]
    grams = TermGrams(vocabulary)
    found = dict(grams.neighbours(de.terms("Angriffe")[0], limit=10, min_dice=0.4))
    assert de.terms("Angriff")[0] in found or de.terms("Angriffe")[0] in vocabulary
    near = [t for t, _ in grams.neighbours(de.terms("Energie")[0], limit=5, min_dice=0.3)]
    assert de.terms("Energieversorgung")[0] in near
    assert grams.neighbours("zzzzzz", limit=5, min_dice=0.4) == []


def test_empty_units_and_unknown_grams() -> None:
    forward, vocabulary = forward_of([[], ["kreml"], []])
    field = GramField(forward, TermGrams(vocabulary))
    assert field.scores(["^zz"], np.array([0, 1, 2])).tolist() == [0.0, 0.0, 0.0]
    assert field.scores([], np.array([1])).tolist() == [0.0]


def test_term_grams_round_trip_and_refuse_other_types() -> None:
    vocabulary = ["krieg", "kriegs", "frieden", "lawrow"]
    grams = TermGrams(vocabulary)
    exported = grams.export()
    assert exported["grams"].dtype == np.int32 and exported["indptr"].dtype == np.int64
    again = TermGrams.from_arrays(vocabulary, list(grams.gram_ids), exported)
    assert again.neighbours("krieg", 3, 0.3) == grams.neighbours("krieg", 3, 0.3)
    assert list(again.distinct) == [len(set(Analyzer.grams_of([t]))) for t in vocabulary]
    widened = {**exported, "grams": exported["grams"].astype(np.int64)}
    with pytest.raises(ValueError):
        TermGrams.from_arrays(vocabulary, list(grams.gram_ids), widened)
    missing = {k: v for k, v in exported.items() if k != "distinct"}
    with pytest.raises(ValueError):
        TermGrams.from_arrays(vocabulary, list(grams.gram_ids), missing)


def test_term_grams_carried_over_equal_fresh_ones() -> None:
    """A rebuild copies surviving terms' gram ids from the engine it replaces: every term must
    still have exactly its grams, and neighbours and compound parts come out the same."""
    before = ["krieg", "kriegs", "frieden", "lawrow", "kiew", "waffenstillstand"]
    after = ["krieg", "frieden", "lawrov", "kiew", "kyjiw", "waffenruh", "waffenstillstand"]
    old = TermGrams(before)
    carried = TermGrams(after, old, {t: i for i, t in enumerate(before)})
    fresh = TermGrams(after)

    def grams_of(table: TermGrams, row: int) -> list[str]:
        names = list(table.gram_ids)
        lo, hi = int(table.indptr[row]), int(table.indptr[row + 1])
        return sorted(names[g] for g in table.grams[lo:hi].tolist())

    for row in range(len(after)):
        assert grams_of(carried, row) == grams_of(fresh, row)
    assert list(carried.distinct) == list(fresh.distinct)
    for term in ("krieg", "lawrow", "kiev", "waffen"):
        assert carried.neighbours(term, 5, 0.3) == fresh.neighbours(term, 5, 0.3)
        assert sorted(carried.containing(term)) == sorted(fresh.containing(term))
    # Grams of terms that are gone stay numbered, with no terms: the field counts them zero.
    gone = set(old.gram_ids) - set(fresh.gram_ids)
    assert gone and gone <= set(carried.gram_ids)
    for gram in gone:
        gid = carried.gram_ids[gram]
        assert carried.gram_indptr[gid + 1] == carried.gram_indptr[gid]
