"""General word frequencies: phrasing is common, topics are rare, unknown words are rarest."""

from __future__ import annotations

from bot.engine.frequency import ZIPF_FLOOR, prepare, zipf


def test_phrasing_is_more_common_than_topics() -> None:
    prepare(("de", "en"))
    for common in ("Rolle", "spielt", "Lage", "gut", "darf", "wäre"):
        for topic in ("humanitäre", "Inflationsrate", "Waffenstillstand", "Getreidekorridor"):
            assert zipf(common, "de") > zipf(topic, "de") + 1, (common, topic)
    assert zipf("role", "en") > zipf("ceasefire", "en")


def test_unknown_words_count_as_rarest() -> None:
    assert zipf("Raketenangriffskampagne", "de") == ZIPF_FLOOR
    assert zipf("xqzvbtw", "en") == ZIPF_FLOOR
    assert zipf("und", "de") > 6


def test_lookups_are_cached_and_bounded() -> None:
    zipf.cache_clear()
    zipf("Lage", "de")
    zipf("Lage", "de")
    info = zipf.cache_info()
    assert info.hits == 1 and info.misses == 1
    assert info.maxsize is not None and info.maxsize <= 1_000_000
