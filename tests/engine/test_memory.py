"""Memory bounded in bytes whatever users send (issue 17 #1): every per-word and per-term cache
has a byte budget, and a new index empties the analysis caches the old one filled. The soak at
100,000 passages is ``python bench/hostile.py --memory 20000`` (docs/RELIABILITY.md)."""

from __future__ import annotations

import gc
import random
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from bot.corpus import load_corpus
from bot.engine import Engine
from bot.engine.analysis import analyzer_for
from bot.engine.termcache import TermCache, size_of, total_cache_bytes
from tests.support.paths import REPO_CORPUS

MB = 1024 * 1024


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _questions(count: int, seed: int) -> Iterator[str]:
    """Distinct 500-character questions: made-up words (none repeats) and two real ones."""
    rng = random.Random(seed)
    syllables = [a + b for a in "bdfgklmnprstvwz" for b in ("a", "e", "i", "o", "u", "ei")]
    for n in range(count):
        words = ["Putin", "Waffenstillstand"]
        while sum(len(w) + 1 for w in words) < 500:
            words.append("".join(rng.choices(syllables, k=4)) + f"{n}x{len(words)}")
        yield " ".join(words)[:500]


def test_a_cache_stays_within_its_budget_and_forgets_the_oldest_first() -> None:
    cache: TermCache[str] = TermCache(100_000)
    for n in range(10_000):
        cache.put(f"word{n}", "x" * 20)
        assert cache.bytes <= 100_000
    assert 0 < len(cache) < 10_000
    assert cache.peek("word9999") == "x" * 20 and cache.peek("word0") is None
    cache.put("huge", "y" * 30_000)  # over a quarter of the budget: never kept
    assert cache.peek("huge") is None
    assert cache.get("made", lambda key: key.upper()) == "MADE" and cache.peek("made") == "MADE"
    cache.clear()
    assert (len(cache), cache.bytes) == (0, 0)


def test_sizes_follow_what_the_caches_hold() -> None:
    terms = tuple(f"term{n}" for n in range(100))
    assert size_of(terms) > 100 * len("term00")
    assert size_of((1, np.zeros(1000, np.int32))) > 4000
    assert size_of(frozenset(terms)) > size_of(terms) - 1000


def test_two_threads_writing_keep_the_count_right() -> None:
    cache: TermCache[int] = TermCache(200_000)

    def write(prefix: str) -> None:
        for n in range(20_000):
            cache.put(f"{prefix}{n}", n)

    threads = [threading.Thread(target=write, args=(p,)) for p in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert cache.bytes <= 200_000
    assert cache.bytes == sum(
        100 + size_of(key) + size_of(cache.peek(key)) for key in list(cache._values)
    )


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.build(load_corpus(REPO_CORPUS).documents)


def test_distinct_long_questions_do_not_grow_memory(engine: Engine) -> None:
    """400 distinct 500-character questions (half of them as inline pages): RSS grows less
    than 40 MB (the caches' budgets are 41 MB in all). With caches bounded by entries it grew
    about 180 kB a question here, 71 MB for these; the 100,000-passage soak shows the plateau."""
    gc.collect()
    before, cached = _rss_mb(), total_cache_bytes()  # other tests' engines may hold some
    for n, question in enumerate(_questions(400, 1)):
        engine.search(question, k=5, offset=5 * (n % 2))
    gc.collect()
    assert _rss_mb() - before < 40
    assert total_cache_bytes() - cached < 48 * MB


def test_a_new_index_empties_the_analysis_caches(engine: Engine) -> None:
    for question in _questions(300, 3):
        engine.search(question)
    german = analyzer_for("de")
    assert german.word_terms("Sepemiloba299x3") == german.word_terms("Sepemiloba299x3")
    filled = total_cache_bytes()
    rebuilt = Engine.build(engine.documents)
    gc.collect()
    assert total_cache_bytes() < filled / 2
    assert rebuilt.search("Was fordert Scholz von Putin?").hits
