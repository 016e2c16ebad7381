"""Sentence and passage splitting, German rules first."""

from __future__ import annotations

import pytest

from bot.engine.passages import split_passages, split_sentences, title_end
from tests.support.paths import SEED_POST

SEED = SEED_POST


def sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Putin führte am 2. Dezember ein Gespräch. Scholz antwortete.",
            ["Putin führte am 2. Dezember ein Gespräch.", "Scholz antwortete."],
        ),
        ("Das kam vor der Invasion am 24. Februar 2022. Danach nicht.", None),
        ("Der 3. Weltkrieg droht nicht. Das ist gut.", None),
        ("Das ist z. B. gut, d. h. sehr gut. Dann kam mehr.", None),
        ("Dr. Müller kam. Prof. Schmidt ging.", None),
        ("Die Hilfe kam bzw. ging usw. und mehr. Nr. 5 folgte.", None),
        ("US-Präsident Joe R. Biden sprach. Dann ging er.", None),
        ("Es kostet 3.5 Mio. Euro pro Jahr. Das ist viel.", None),
        ("Siehe https://example.org/a.b.c?x=1. Danach mehr.", None),
        ("Er sagte: „Wir kommen. Sicher.“ Dann ging er.", None),
        ("Biden sagte, “Putin wird verlieren. Sicher.” Dann ging er.", None),
        ("Was? Wirklich… Ja!", ["Was?", "Wirklich…", "Ja!"]),
        ("Ende mit Punkt...", ["Ende mit Punkt..."]),
    ],
)
def test_german_sentence_rules(text: str, expected: list[str] | None) -> None:
    got = sentences(text)
    if expected is None:  # two sentences, split at the last ". " before "Da..."/"Pr..."/"Nr..."
        assert len(got) == 2, got
        assert "".join(got).replace(" ", "") == text.replace(" ", "")
    else:
        assert got == expected


def test_abbreviation_then_new_sentence_keeps_both_rules() -> None:
    assert sentences("Er kam am 2. Dezember. Am 3. Dezember ging er.") == [
        "Er kam am 2. Dezember.",
        "Am 3. Dezember ging er.",
    ]


def test_lines_broken_mid_sentence_are_joined() -> None:
    text = (
        "Der Kreml beabsichtigt, Zugeständnisse anzubieten\n"
        "in der Hoffnung, Russland zu bewegen.\n"
        "Putin hat wenig Interesse gezeigt, und der\n"
        "Kreml stellt weiterhin Forderungen,\n"
        "die einer Kapitulation gleichkommen.\n"
    )
    assert len(sentences(text)) == 2


def test_a_line_that_stands_alone_is_its_own_sentence() -> None:
    text = "Peskov: Die Operation wird fortgesetzt\nPeskov fügte hinzu, dass es schwer sei."
    assert sentences(text) == [
        "Peskov: Die Operation wird fortgesetzt",
        "Peskov fügte hinzu, dass es schwer sei.",
    ]


def test_passages_hold_one_to_three_sentences_with_valid_spans() -> None:
    text = " ".join(f"Satz Nummer {i} ist kurz." for i in range(10))
    passages = split_passages(text, target_chars=10_000, max_sentences=3)
    assert [p.text.count("Satz") for p in passages] == [3, 3, 3, 1]
    for p in passages:
        assert text[p.start : p.end] == p.text


def test_target_length_limits_passages_but_never_cuts_a_sentence() -> None:
    text = "Ein sehr langer Satz " + "mit vielen Wörtern " * 30 + "endet hier. Kurz danach."
    passages = split_passages(text, target_chars=100)
    assert passages[0].text.endswith("endet hier.")
    assert passages[1].text == "Kurz danach."


def test_seed_post() -> None:
    text = SEED.read_text(encoding="utf-8").rsplit("\n", 2)[0]
    passages = split_passages(text, title_lines=1, target_chars=500)
    # The headline opens the first passage (its words count for the text it heads) ...
    assert passages[0].text.startswith("@ISW: Russland versucht")
    assert "auszunutzen Um eine Dynamik zu schaffen" in passages[0].text
    # ... and so does a heading line in the middle of the post.
    assert any(p.text.startswith("Peskov: Die “spezielle") for p in passages)
    assert not any(p.text.endswith("wird fortgesetzt") for p in passages)
    for p in passages:
        # Line breaks are joined into spaces; spans still index the document.
        assert "\n" not in p.text
        assert text[p.start : p.end].replace("\n", " ") == p.text
        assert 1 <= len(split_sentences(p.text)) <= 3
    joined = [p for p in passages if "anbieten in der Hoffnung" in p.text]
    assert joined, "a line broken mid-sentence must be joined"
    assert any(p.text.startswith("Putin führte am 2. Dezember") for p in passages) or any(
        "Putin führte am 2. Dezember ein einstündiges" in p.text for p in passages
    )
    assert not any(p.text.startswith("Dezember") for p in passages)


def test_empty_and_whitespace() -> None:
    assert split_passages("") == []
    assert split_passages("  \n\n ") == []
    assert sentences("ohne Punkt") == ["ohne Punkt"]


def test_a_heading_opens_the_passage_after_it() -> None:
    text = "Erster Satz. Zweiter Satz.\nZwischentitel ohne Punkt\nDritter Satz. Vierter Satz."
    assert [p.text for p in split_passages(text, target_chars=10_000)] == [
        "Erster Satz. Zweiter Satz.",
        "Zwischentitel ohne Punkt Dritter Satz. Vierter Satz.",
    ]
    # Across a blank line too, and a title line the same way.
    text = "Bahnstreik ab Montag\n\nDie GDL ruft zum Streik auf. Er dauert zwei Tage."
    for title_lines in (0, 1):
        passages = split_passages(text, target_chars=10_000, title_lines=title_lines)
        assert [p.text for p in passages] == [
            "Bahnstreik ab Montag  Die GDL ruft zum Streik auf. Er dauert zwei Tage."
        ]


def test_a_title_line_is_its_own_sentence() -> None:
    # Even when the body's first line continues in lower case; it is not quoted (the hit shows
    # it as the title), so it counts for no limit of the passage it opens.
    text = "Bahnstreik ab Montag\nund Dienstag fahren keine Züge. Sagt die GDL."
    passages = split_passages(text, target_chars=10_000, max_sentences=1, title_lines=1)
    assert [p.text for p in passages] == [
        "Bahnstreik ab Montag und Dienstag fahren keine Züge.",
        "Sagt die GDL.",
    ]


def test_title_end() -> None:
    assert title_end("Titel\nText.", "Titel") == 5
    assert title_end("Titel", "Titel") == 5
    assert title_end("Anderes\nText.", "Titel") == 0
    assert title_end("Titel\nText.", "") == 0


def test_passages_never_span_paragraphs() -> None:
    text = "Erster Absatz, erster Satz. Zweiter Satz.\n\nZweiter Absatz beginnt hier. Und endet."
    passages = split_passages(text, target_chars=10_000)
    assert [p.text for p in passages] == [
        "Erster Absatz, erster Satz. Zweiter Satz.",
        "Zweiter Absatz beginnt hier. Und endet.",
    ]


def test_a_line_ending_in_a_closing_quote_is_no_heading() -> None:
    text = "Erster Satz. Er sagte »Ja.«\nDann ging er."
    assert [p.text for p in split_passages(text, target_chars=10_000)] == [
        "Erster Satz. Er sagte »Ja.« Dann ging er."
    ]
