"""The analyzer: one term stream for passages and questions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.engine.analysis import MAX_WORD_CHARS, MIN_PART, Analyzer, analyzer_for, variant_key
from bot.languages import guess_language

DE = analyzer_for("de")
EN = analyzer_for("en")


def terms(text: str, analyzer: Analyzer = DE) -> list[str]:
    return analyzer.terms(text)


def test_stop_words_and_question_phrasing_are_dropped() -> None:
    assert terms("Was hat Scholz zu Putin gesagt?") == terms("Scholz Putin")
    assert terms("Wie wird das Wetter morgen?") == terms("Wetter morgen")
    assert terms("der die das und oder") == []


@pytest.mark.parametrize(
    ("typed", "proper"),
    [
        ("Zugestaendnisse", "Zugeständnisse"),
        ("Aeusserungen", "Äußerungen"),
        ("fuer", "für"),
        ("Strasse", "Straße"),
        ("UKRAINE", "ukraine"),
        ("Praesident", "Präsident"),
    ],
)
def test_umlauts_and_typed_variants_agree(typed: str, proper: str) -> None:
    assert terms(typed) == terms(proper)


def test_lone_letters_carry_no_weight() -> None:
    assert terms("b Lavrov x") == terms("Lavrov")
    assert terms("Joe R. Biden") == terms("Joe Biden")


def test_inflections_share_a_stem() -> None:
    assert terms("Verhandlungen")[0] == terms("Verhandlung")[0]
    assert terms("Putins")[0] == terms("Putin")[0]
    assert terms("Zugeständnisse")[0] == terms("Zugeständnis")[0]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Lawrow", "Lavrov"),
        ("Lawrows", "Lavrov"),
        ("Peskow", "Peskov"),
        ("Selenskyj", "Zelensky"),
        ("Kiew", "Kyjiw"),
        ("Kyiv", "Kiew"),
        ("Charkiw", "Kharkiv"),
        ("Schoigu", "Shoigu"),
        ("Donezk", "Donetsk"),
        ("Sergej", "Sergey"),
        ("Teslas", "Tesla"),
        ("Marconis", "Marconi"),
    ],
)
def test_transliteration_variants_agree(one: str, other: str) -> None:
    assert terms(one) == terms(other)


def test_variant_key_is_a_rule_not_a_list() -> None:
    # A name the rules have never seen still folds the same way.
    assert variant_key("tschaikowski") == variant_key("chaikovsky")


def test_hashtags_mentions_and_hyphens() -> None:
    assert terms("#Putin") == terms("Putin")
    assert terms("@ISW") == terms("ISW")
    tokens = DE.tokens("#Kreml und US-Präsident")
    text = "#Kreml und US-Präsident"
    assert [text[t.start : t.end] for t in tokens] == ["Kreml", "US", "Präsident"]
    # CamelCase hashtags count as the whole tag and as their words.
    tag_terms = terms("#UkraineKrieg")
    assert terms("Ukraine")[0] in tag_terms
    assert terms("Krieg")[0] in tag_terms


def test_compound_parts_match_whole_words() -> None:
    compound = DE.tokens("Raketenangriffskampagne")[0]
    # Its modifier and its head are a compound's topic and kind: full credit.
    for part in ("Raketenangriffe", "Kampagne"):
        assert Analyzer.match(DE.terms(part)[0], compound.term) == 1.0, part
    # A part inside it counts the share of the compound it spells.
    angriff = DE.terms("Angriffe")[0]
    assert Analyzer.match(angriff, compound.term) == len(angriff) / len(compound.term) < 0.5
    # A passage word that is only part of the question's compound: the share it spells.
    rate, inflation = DE.terms("Inflationsrate")[0], DE.terms("Inflation")[0]
    assert Analyzer.match(rate, inflation) == len(inflation) / len(rate) > 0.5
    assert Analyzer.match(inflation, rate) == 1.0
    assert Analyzer.match(DE.terms("Wetter")[0], compound.term) == 0.0
    assert Analyzer.match(compound.term, compound.term) == 1.0
    grams = set(Analyzer.grams_of([compound.term]))
    # Every n-gram of "Kampagne" but the one at its start stands in the compound.
    assert set(Analyzer.grams_of(DE.terms("Kampagne"))) - {"^ka", "^kam"} <= grams


def test_a_short_key_matches_as_a_compound_head_only() -> None:
    satz = DE.terms("Satz")[0]
    assert len(satz) < MIN_PART  # "sas": folded below the part minimum
    assert Analyzer.match(satz, DE.terms("Fundamentalsatz")[0]) == 1.0
    assert Analyzer.match(satz, DE.terms("Satzung")[0]) == 0.0  # a beginning, not a head
    assert Analyzer.match(satz, DE.terms("Absatz")[0]) == 0.0  # too short to be a compound


def test_token_spans_point_into_the_text() -> None:
    text = "Kreml-Sprecher Dmitry Peskov reagierte am 2. Dezember."
    for token in DE.tokens(text):
        assert text[token.start : token.end].strip()


def test_english_analysis() -> None:
    assert terms("negotiations", EN) == terms("negotiation", EN)
    assert terms("the and of", EN) == []


def test_guess_language() -> None:
    assert (
        guess_language("Der Kreml hat sich auch vage über das Thema geäußert und ist", "en") == "de"
    )
    assert (
        guess_language("The Kremlin has been vague about the talks and is not ready", "de") == "en"
    )
    assert guess_language("Putin", "de") == "de"


def test_unsupported_language_is_refused() -> None:
    with pytest.raises(ValueError):
        Analyzer("fr")


def test_odd_input_never_raises() -> None:
    for text in ["", "   ", "🙂🙂", "\u200f\u202e", "\x00\x01", "a" * 100_000, "#", "@", "--"]:
        DE.tokens(text)


@given(st.text(alphabet=st.sampled_from(list("aäbcßdeoöuü -#@'’.,KLMNSZ\u200f🙂1")), max_size=80))
def test_fast_terms_equal_the_tokens_terms(text: str) -> None:
    for analyzer in (DE, EN):
        assert analyzer.terms(text) == [t.term for t in analyzer.tokens(text)]


@given(st.text(alphabet=st.sampled_from(list("aäbcßdeoöuü -#@'’.,KLMNSZ\u200f🙂1")), max_size=80))
def test_spans_are_the_matching_tokens(text: str) -> None:
    for analyzer in (Analyzer("de"), Analyzer("en")):
        tokens = analyzer.tokens(text)
        wanted = {t.term for t in tokens[::2]}
        expected = [(t.start, t.end) for t in tokens if t.term in wanted]
        fresh = Analyzer(analyzer.lang)
        fresh.terms(text)  # spans may take a word's term from what indexing found
        assert fresh.spans(text, wanted) == expected
        assert analyzer.spans(text, wanted) == expected


@pytest.mark.parametrize(
    "word",
    ["Raketenangriffskampagne" * 175, "ﷺ" * 100, "ß" * 150, "ﬃ" * 99],
    ids=["4000-letter compound", "NFKC grows", "casefold grows", "ligatures"],
)
def test_a_word_longer_than_the_limit_is_cut_to_it(word: str) -> None:
    """Issue 17 #8: what a term costs grows with its length (its compound parts are all its
    substrings); a word is read as its first MAX_WORD_CHARS letters, and its term is no longer."""
    text = f"Frage {word} Ende"
    (token,) = [t for t in DE.tokens(text) if t.start == len("Frage ")]
    assert (token.start, token.end) == (6, 6 + len(word))  # the span is still the whole word
    assert 0 < len(token.term) <= MAX_WORD_CHARS
    assert token.term == DE.terms(word[:MAX_WORD_CHARS])[0]
    assert DE.terms(text)[1] == token.term


def test_words_differ_up_to_the_limit_only() -> None:
    stem = "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft"
    filler = "klo" * 10  # no spelling rule makes it longer (as "x" -> "ks" would)
    below = stem + filler[: MAX_WORD_CHARS - len(stem) - 2]
    assert terms(below + "ab") != terms(below + "ac")
    beyond = stem + filler[: MAX_WORD_CHARS - len(stem)]
    assert terms(beyond + "ab") == terms(beyond + "ac")
