"""bench/sentences.py scores splitters on pySBD's German suite and times them."""

from __future__ import annotations

import re

from bench.sentences import chars_per_second, suite_score
from bot.engine.passages import split_sentences


def _ours(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def _naive(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


def test_the_suite_tells_splitters_apart() -> None:
    ours, failed = suite_score(_ours)
    naive, _ = suite_score(_naive)
    assert ours >= 33 and failed == [32, 34]
    assert naive < ours


def test_speed_is_measured_in_characters_per_second() -> None:
    assert chars_per_second(_ours, ["Ein Satz. Noch einer."] * 100, budget=0.5) > 0
