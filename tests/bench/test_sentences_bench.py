"""bench/sentences.py scores splitters on pySBD's German suite and times them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench.sentences import chars_per_second, quote_stats, suite_score
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


def test_quote_stats_count_widened_quotes(tmp_path: Path) -> None:
    squad = {
        "data": [
            {
                "title": "Tesla",
                "paragraphs": [
                    {
                        "context": "Tesla zog 1884 nach New York. In New York arbeitete Tesla "
                        "für Edison. Er erfand den Wechselstrommotor. Später gründete er eine "
                        "Firma.",
                        "qas": [
                            {
                                "question": "Was erfand Tesla?",
                                "answers": [{"text": "Wechselstrommotor"}],
                            }
                        ],
                    },
                    {"context": "Ein anderer Text über etwas anderes.", "qas": []},
                ],
            }
        ]
    }
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(squad), encoding="utf-8")
    stats = quote_stats(path)
    assert stats["quotes"] >= 1
    assert stats["first_quote_has_answer"] == 1.0
    assert stats["max_sentences"] <= 3
    assert stats["mean_chars"] >= stats["mean_passage_chars"]
