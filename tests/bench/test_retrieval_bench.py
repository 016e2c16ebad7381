"""bench/retrieval.py's user view counts what a user gets, question by question, on a tiny
XQuAD-shaped file whose every outcome is known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.retrieval import file_language, load_squad, main, run

# One paragraph per article, one passage each. Article 2's question is answered from article 0
# (a wrong quote), article 3's too (wrong; and answered off-corpus once only the even articles
# are indexed), article 4's question matches nothing anywhere (refused, though answerable).
ARTICLES = [
    (
        "Getreide",
        "Der Getreidekorridor über das Schwarze Meer wurde im Juli beendet.",
        "Wann wurde der Getreidekorridor beendet?",
        "Juli",
    ),
    (
        "Hafen",
        "Die Stadt Odessa hat einen großen Hafen an der Küste.",
        "Welche Stadt hat einen großen Hafen?",
        "Odessa",
    ),
    (
        "Rhein",
        "Der Rhein fließt durch Basel, Köln und Düsseldorf.",
        "Wann wurde der Getreidekorridor beendet?",
        "Basel",
    ),
    (
        "Bibliothek",
        "Die Bibliothek besitzt alte Handschriften aus dem Mittelalter.",
        "Wann wurde der Getreidekorridor beendet?",
        "Mittelalter",
    ),
    (
        "Orgel",
        "Die Orgel der Kirche stammt aus dem Barock.",
        "Wie backe ich Brot?",
        "Barock",
    ),
]


def _write(path: Path, articles: list[tuple[str, str, str, str]]) -> Path:
    data = [
        {
            "title": title,
            "paragraphs": [
                {
                    "context": context,
                    "qas": [
                        {
                            "id": f"q{i}",
                            "question": question,
                            "answers": [{"text": answer, "answer_start": context.find(answer)}],
                        }
                    ],
                }
            ],
        }
        for i, (title, context, question, answer) in enumerate(articles)
    ]
    path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return path


def test_user_view_counts_each_outcome(tmp_path: Path) -> None:
    result = run(_write(tmp_path / "tiny.json", ARTICLES))
    assert result["lang"] == "de" and result["questions"] == 5
    assert result["user"] == {
        "right_in_quotes": 0.4,
        "answered_wrong": 0.4,
        "refused_answerable": 0.2,
        # Pooled: of 5 questions asked about the other half, only article 3's is answered.
        "answered_off_corpus": 0.2,
    }
    assert result["user_off_corpus_halves"] == {"even_indexed": 0.5, "odd_indexed": 0.0}


def test_documents_language_from_flag_field_or_name(tmp_path: Path) -> None:
    english = [
        (
            "Grain",
            "The grain corridor across the Black Sea ended in July.",
            "When did the grain corridor end?",
            "July",
        ),
        (
            "Port",
            "The city of Odessa has a large port on the coast.",
            "Which city has a large port?",
            "Odessa",
        ),
    ]
    named = _write(tmp_path / "tiny.en.dev.json", english)
    assert file_language(named) == "en"
    documents, _, _ = load_squad(named)
    assert {d.lang for d in documents} == {"en"}
    result = run(named)
    assert result["lang"] == "en"
    assert result["user"]["right_in_quotes"] == 1.0  # type: ignore[index]
    stated = tmp_path / "plain.json"
    raw = json.loads(named.read_text(encoding="utf-8"))
    stated.write_text(json.dumps({**raw, "language": "en"}), encoding="utf-8")
    assert file_language(stated) == "en"
    assert file_language(_write(tmp_path / "tiny.json", ARTICLES)) == "de"
    assert {d.lang for d in load_squad(named, "de")[0]} == {"de"}


def test_settings_replace_the_shipped_knobs(tmp_path: Path) -> None:
    path = _write(tmp_path / "tiny.json", ARTICLES)
    never = {"min_coverage": 2.0, "answer_bias": -1e9}
    assert run(path, settings=never)["user"] == {
        "right_in_quotes": 0.0,
        "answered_wrong": 0.0,
        "refused_answerable": 1.0,
        "answered_off_corpus": 0.0,
    }
    with pytest.raises(SystemExit):
        main(["--xquad", str(path), "--set", "passage_chars=10"])  # an index knob
