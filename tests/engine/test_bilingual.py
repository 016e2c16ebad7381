"""Cross-language questions on a small Ding-format dictionary the tests write themselves (and on
the real one, where Debian's trans-de-en is installed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.corpus import Document
from bot.engine import Engine, SearchConfig
from bot.engine.analysis import analyzer_for
from bot.engine.bilingual import DEFAULT_DICTIONARY, Lexicon

DING = """\
# Version :: test
Waffenstillstand {m} [pol.] [mil.] | Waffenstillstände {pl} :: ceasefire; truce | ceasefires
Gespräch {n} | Gespräche {pl} :: talk; conversation | talks
wollen {vt} | er/sie will :: to want | he/she wants
Interesse {n} (an) :: interest (in)
Angriff {m} [mil.] | Angriffe {pl} :: attack; assault | attacks
Rakete {f} | Raketen {pl} :: missile; rocket | missiles
Stadt {f} | Städte {pl} :: town; city | towns; cities
Brot {n} :: bread
Hafen {m} :: harbour [Br.]; harbor [Am.]; port
Land {n}; Staat {m} :: country; state
einen Waffenstillstand unterzeichnen :: to sign an armistice
"""


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.parse(DING.splitlines(), "test")


def _de(word: str) -> str:
    return analyzer_for("de").word_terms(word)[0]


def _en(word: str) -> str:
    return analyzer_for("en").word_terms(word)[0]


def test_words_translate_both_ways_into_the_other_analyzers_terms(lexicon: Lexicon) -> None:
    assert set(lexicon.translate("Waffenstillstand", _de("Waffenstillstand"), "de").terms) == {
        _en("ceasefire"),
        _en("truce"),
        _en("Waffenstillstand"),  # the word itself, as a name would be kept
    }
    # An inflected form meets its entry through the stem; annotations are not words.
    assert lexicon.translate("Häfen", _de("Häfen"), "de").terms[0] in {
        _en("harbour"),
        _en("harbor"),
        _en("port"),
    }
    back = lexicon.translate("ceasefires", _en("ceasefires"), "en")
    assert back.found and _de("Waffenstillstand") in back.terms
    assert _de("Angriff") in lexicon.translate("assaults", _en("assaults"), "en").terms
    # A phrase is no entry: "sign" is not a translation of "Waffenstillstand".
    truce = lexicon.translate("Waffenstillstand", _de("Waffenstillstand"), "de")
    assert _en("sign") not in truce.terms


def test_compounds_go_by_their_parts_and_names_stay(lexicon: Lexicon) -> None:
    word = "Waffenstillstandsgespräche"
    compound = lexicon.translate(word, _de(word), "de")
    assert compound.found
    assert {_en("ceasefire"), _en("talk")} <= set(compound.terms)
    raketen = lexicon.translate("Raketenangriffe", _de("Raketenangriffe"), "de")
    assert {_en("missile"), _en("attack")} <= set(raketen.terms)
    name = lexicon.translate("Selenskyj", _de("Selenskyj"), "de")
    assert not name.found and name.terms == (_en("Zelensky"),)
    assert lexicon.translate("2022", _de("2022"), "de").terms == tuple(
        analyzer_for("en").word_terms("2022")
    )


def test_the_tables_give_the_same_lexicon_back(lexicon: Lexicon) -> None:
    again = Lexicon.from_tables("test", lexicon.tables(), lexicon.heads)
    assert again.entries == lexicon.entries and again.heads == lexicon.heads
    terms, flat, ends = lexicon.tables()["de"]
    with pytest.raises(ValueError):
        Lexicon.from_tables("test", {**lexicon.tables(), "de": (terms, flat, ends[:-1])}, ())


def _doc(i: int, text: str, lang: str) -> Document:
    return Document(f"d{i}.txt", f"Dokument {i}", f"https://example.org/{i}", lang, None, text, "")


GERMAN = [
    "Putin hat wenig Interesse an einem Waffenstillstand, solange seine Truppen vorrücken.",
    "In der Stadt fehlt seit Wochen Brot, die Bäckereien sind geschlossen.",
    "Der Hafen von Odessa wurde in der Nacht von Raketen getroffen.",
    "Die Regierung plant neue Steuern auf Tabak und Alkohol im kommenden Jahr.",
    "Das Orchester spielte am Abend Werke von Beethoven und Mozart.",
    "Die Bauern klagen über die Trockenheit und die niedrigen Preise für Getreide.",
]
ENGLISH = [
    "The museum opened a new wing for modern sculpture in the spring.",
    "Heavy rain flooded the streets of the old quarter overnight.",
]


def _engine(texts: list[tuple[str, str]], lexicon: Lexicon | None, **knobs: float) -> Engine:
    docs = [_doc(i, text, lang) for i, (text, lang) in enumerate(texts)]
    return Engine.build(docs, SearchConfig(**knobs), lexicon=lexicon)  # type: ignore[arg-type]


def test_an_english_question_quotes_the_german_passage(lexicon: Lexicon) -> None:
    corpus = [(t, "de") for t in GERMAN] + [(t, "en") for t in ENGLISH]
    engine = _engine(corpus, lexicon)
    answer = engine.search("Does Putin want a ceasefire?")
    assert answer.lang == "en" and answer.quote_lang == "de"
    assert answer.hits[0].text == GERMAN[0]
    # What matched is bold: the name and the translated word, in the German text.
    bold = {answer.hits[0].text[a:b] for a, b in answer.hits[0].highlights}
    assert {"Putin", "Waffenstillstand"} <= bold
    assert engine.search("Were missiles fired at the harbour?").hits[0].text == GERMAN[2]
    assert engine.search("Is there bread in the city?").hits[0].text == GERMAN[1]


def test_without_the_lexicon_the_english_question_finds_only_the_name(lexicon: Lexicon) -> None:
    corpus = [(t, "de") for t in GERMAN] + [(t, "en") for t in ENGLISH]
    plain = _engine(corpus, None).search("Is there bread in the city?")
    assert not plain.hits and plain.quote_lang is None
    assert _engine(corpus, lexicon).search("Is there bread in the city?").hits


def test_a_translated_word_counts_once_for_the_cut_off(lexicon: Lexicon) -> None:
    """ "harbour" has three translations; the passage with one of them and the other question
    word passes, though two of the three translations are missing from it."""
    corpus = [(t, "de") for t in GERMAN] + [(t, "en") for t in ENGLISH]
    engine = _engine(corpus, lexicon)
    answer = engine.search("Did the missiles hit the harbour?")
    assert [h.text for h in answer.hits] == [GERMAN[2]]


def test_off_corpus_questions_in_the_other_language_get_nothing(lexicon: Lexicon) -> None:
    corpus = [(t, "de") for t in GERMAN] + [(t, "en") for t in ENGLISH]
    engine = _engine(corpus, lexicon)
    for question in ("What is the price of gold in London?", "Who won the football match?"):
        assert not engine.search(question).hits


def test_the_corpus_language_ranks_as_without_the_lexicon_and_does_no_work(
    lexicon: Lexicon, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = [(t, "de") for t in GERMAN]
    plain = _engine(corpus, None, min_coverage=0.0, min_relative_score=0.0)
    crossing = _engine(corpus, lexicon, min_coverage=0.0, min_relative_score=0.0)

    def refuse(*_: object) -> None:
        raise AssertionError("a one-language corpus translated a question")

    monkeypatch.setattr(Lexicon, "translate", refuse)
    for question in ("Will Putin einen Waffenstillstand?", "Raketen auf den Hafen", "Brot"):
        assert crossing.search(question, k=10) == plain.search(question, k=10)
    # Keywords alone do not say which language they are in (the default, German, is assumed):
    # on English sources they are not translated either.
    english = [(t, "en") for t in ENGLISH]
    for question in ("museum sculpture", "Waffenstillstand"):
        assert _engine(english, lexicon).search(question) == _engine(english, None).search(question)
    # An English question to a German-only corpus is translated.
    monkeypatch.undo()
    assert crossing.search("Does Putin want a ceasefire?").hits[0].text == GERMAN[0]
    assert not crossing.cross_language or crossing.lexicon is lexicon


def test_a_rebuild_keeps_the_lexicon(lexicon: Lexicon) -> None:
    first = _engine([(t, "de") for t in GERMAN], lexicon)
    docs = [_doc(i, t, "de") for i, t in enumerate(GERMAN[:-1])]
    assert Engine.build(docs, previous=first).lexicon is lexicon
    assert first.with_lexicon(None).lexicon is None


@pytest.mark.skipif(not DEFAULT_DICTIONARY.is_file(), reason="trans-de-en is not installed")
def test_the_real_dictionary_translates_the_seed_question() -> None:
    from bot.store.lexiconfile import load_lexicon

    real = load_lexicon(DEFAULT_DICTIONARY)
    assert real is not None and len(real) > 100_000
    corpus = [(t, "de") for t in GERMAN] + [(t, "en") for t in ENGLISH]
    engine = _engine(corpus, real)
    answer = engine.search("Were missiles fired at the harbour?")
    assert answer.hits and answer.hits[0].text == GERMAN[2] and answer.quote_lang == "de"
    assert engine.search("Does Putin want a truce?").hits[0].text == GERMAN[0]
    assert engine.search("Is there bread in the city?").hits[0].text == GERMAN[1]


def test_a_missing_dictionary_is_no_lexicon(tmp_path: Path) -> None:
    from bot.store.lexiconfile import load_lexicon

    assert load_lexicon(tmp_path / "absent", tmp_path) is None
    assert load_lexicon(tmp_path, tmp_path) is None
