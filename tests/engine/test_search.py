"""The answer engine end to end on the seed post and on hand-made corpora."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

import bot.engine.cutoff
from bot.corpus import Document, load_corpus
from bot.engine import Engine, SearchConfig, quote_link
from bot.engine.analysis import MAX_WORD_CHARS, analyzer_for
from tests.support.paths import REPO_CORPUS

CORPUS = REPO_CORPUS


@pytest.fixture(scope="module")
def seed() -> Engine:
    return Engine.build(load_corpus(CORPUS).documents)


@pytest.mark.parametrize(
    ("question", "answer_contains"),
    [
        ("Was hat Scholz zu Putin gesagt?", "Scholz erklärte"),
        ("Was fordert Scholz von Putin?", "Abzug der russischen Streitkräfte"),
        ("Will Putin einen Waffenstillstand?", "wenig Interesse an einem solchen Waffenstillstand"),
        ("Raketenangriffe auf die Infrastruktur", "Raketenangriffskampagne gegen die ukrainische"),
        ("Zugestaendnisse", "präventive Zugeständnisse"),
        ("Lavrov", "Lawrow"),
        ("Peskow", "Peskov"),
        ("Kampagne", "Raketenangriffskampagne"),
        ("Was sagte Biden über Putin?", "unbegreiflich"),
        ("Waffenstillstand oder Friedensabkommen?", "Friedensabkommen"),
    ],
)
def test_seed_questions_find_their_passage_in_the_top_3(
    seed: Engine, question: str, answer_contains: str
) -> None:
    answer = seed.search(question, k=3)
    assert any(answer_contains in hit.text for hit in answer.hits), [h.text for h in answer.hits]


@pytest.mark.parametrize(
    "question",
    [
        "Wie wird das Wetter morgen?",
        "Wie ist das Wetter in der Ukraine?",
        "Rezept für Apfelkuchen",
        "Wer hat die Fußball-WM 2014 gewonnen?",
        "Was?",
        "der die das",
        "",
        "🙂",
        "What is the capital of Australia?",
        "Selenskyj",
    ],
)
def test_off_topic_questions_get_no_hits(seed: Engine, question: str) -> None:
    answer = seed.search(question, k=3)
    assert answer.hits == ()
    assert answer.total == 0


def test_question_phrasing_weighs_little(seed: Engine) -> None:
    """ "Rolle", "spielt", "Lage": common words the post lacks are phrasing, not a topic."""
    hits = seed.search("Welche Rolle spielt die humanitäre Lage?", k=3).hits
    assert hits and "humanitäre Situation" in hits[0].text
    assert seed.search("Wie backe ich Brot?").hits == ()


INFLATION_POSTS = [
    "Die Inflation in Deutschland ist im März auf 2,2 Prozent gesunken, meldet das Statistische "
    "Bundesamt. Im Februar hatte die Teuerung noch bei 2,5 Prozent gelegen.",
    "Lebensmittel bleiben teuer: Die Preise für Butter und Olivenöl stiegen binnen eines Jahres "
    "um mehr als 20 Prozent.",
    "Die Europäische Zentralbank senkt den Leitzins um 0,25 Punkte. Die Inflation im Euroraum "
    "nähere sich dem Ziel von zwei Prozent, sagte EZB-Präsidentin Lagarde.",
    "Energie wurde billiger: Heizöl und Kraftstoffe kosteten 3,1 Prozent weniger als vor einem "
    "Jahr und drückten die Inflation.",
    "Ökonomen erwarten, dass die Inflation im Sommer wieder anzieht, weil Dienstleistungen teurer "
    "werden und die Löhne kräftig steigen.",
    "In der Türkei liegt die Inflation weiter bei über 60 Prozent; die Zentralbank hält den "
    "Leitzins bei 50 Prozent.",
    "Mieten steigen schneller als die Inflation: In Großstädten kosten neue Mietverträge "
    "durchschnittlich 6 Prozent mehr als im Vorjahr.",
    "Die Gewerkschaft fordert einen Ausgleich für die Inflation der letzten Jahre und verlangt "
    "acht Prozent mehr Lohn.",
    "Die Kerninflation ohne Energie und Lebensmittel sank auf 2,6 Prozent.",
    "Verbraucher spüren die Teuerung vor allem im Supermarkt: Kaffee und Schokolade sind so teuer "
    "wie nie.",
    "Die Bundesbank rechnet für das kommende Jahr mit einer Inflation von 2,0 Prozent und einem "
    "schwachen Wachstum.",
    "Sparer verlieren trotz höherer Zinsen Geld, solange die Inflation über dem Zins auf dem "
    "Tagesgeldkonto liegt.",
]


@pytest.fixture(scope="module")
def inflation() -> Engine:
    return Engine.build([_doc(i, text) for i, text in enumerate(INFLATION_POSTS)])


@pytest.mark.parametrize(
    "question", ["Wie hoch ist die Inflationsrate?", "Inflation aktuell", "Inflation"]
)
def test_inflation_questions_are_answered_on_posts_about_inflation(
    inflation: Engine, question: str
) -> None:
    # "Inflationsrate" is not in the posts: its modifier "Inflation" is.
    assert not any("Inflationsrate" in post for post in INFLATION_POSTS)
    hits = inflation.search(question, k=3).hits
    assert len(hits) == 3 and all("nflation" in hit.text for hit in hits), question


@pytest.mark.parametrize(
    "question", ["Wie backe ich Brot?", "Wer gewann die Fußball-WM?", "Wie wird das Wetter?"]
)
def test_off_topic_questions_on_posts_about_inflation_get_nothing(
    inflation: Engine, question: str
) -> None:
    assert inflation.search(question).hits == ()


def test_a_short_word_finds_the_compounds_it_heads() -> None:
    docs = [
        _doc(0, "Der Fundamentalsatz der Algebra sagt, dass jedes Polynom eine Nullstelle hat."),
        _doc(1, "Die Brücke über den Fluss wurde im Juli für den Verkehr gesperrt."),
        _doc(2, "Die Armee zog ihre Truppen aus der Stadt zurück."),
    ]
    engine = Engine.build(docs)
    hits = engine.search("Satz").hits
    assert [hit.document for hit in hits] == ["d0.txt"]
    assert [hits[0].text[s:e] for s, e in hits[0].highlights] == ["Fundamentalsatz"]
    assert engine.search("Welcher Satz gilt für Polynome?").hits[0].document == "d0.txt"


def test_hit_carries_everything_a_citation_needs(seed: Engine) -> None:
    hit = seed.search("Raketenangriffe auf die Infrastruktur", k=1).hits[0]
    assert hit.rank == 1
    assert hit.score > 0
    assert hit.title.startswith("@ISW: Russland versucht")
    assert hit.url == (
        "https://www.understandingwar.org/backgrounder/russian-offensive-campaign-assessment-december-2"
    )
    assert hit.link.startswith(hit.url + "#:~:text=Dennoch%20k%C3%B6nnte%20%23Russland")
    assert hit.document == "000_e199e51aae9cb937.txt"
    assert hit.passage.startswith("000_e199e51aae9cb937.txt:p")
    marked = [hit.text[s:e] for s, e in hit.highlights]
    assert marked == ["Raketenangriffskampagne", "Infrastruktur"]


def test_highlights_follow_variants_and_typed_umlauts(seed: Engine) -> None:
    hits = seed.search("Lavrov", k=5).hits
    marked = {hit.text[s:e] for hit in hits for s, e in hit.highlights}
    assert {"Lawrow", "Lavrov", "Lawrows"} <= marked
    hit = seed.search("Zugestaendnisse", k=1).hits[0]
    assert "Zugeständnisse" in [hit.text[s:e] for s, e in hit.highlights]


def test_pages_continue_where_the_last_one_ended(seed: Engine) -> None:
    first = seed.search("Putin Verhandlungen", k=2)
    second = seed.search("Putin Verhandlungen", k=2, offset=2)
    assert first.total == second.total >= 3
    assert second.hits[0].rank == 3
    assert not {h.passage for h in first.hits} & {h.passage for h in second.hits}
    assert first.has_more
    last = seed.search("Putin Verhandlungen", k=2, offset=first.total)
    assert last.hits == () and not last.has_more


def test_english_questions_use_english_analysis(seed: Engine) -> None:
    answer = seed.search("What did Scholz say to Putin?", k=3)
    assert answer.lang == "en"
    assert any("Scholz" in h.text for h in answer.hits)


def test_quote_link() -> None:
    assert quote_link("https://x.org/a", "Eins zwei") == "https://x.org/a#:~:text=Eins%20zwei"
    long = "eins zwei drei vier fünf sechs sieben acht neun-zehn, elf"
    link = quote_link("https://x.org/a#top", long)
    assert link == (
        "https://x.org/a#top:~:text=eins%20zwei%20drei%20vier,sieben%20acht%20neun%2Dzehn%2C%20elf"
    )
    assert quote_link("", "text") == ""


def _doc(i: int, text: str) -> Document:
    return Document(f"d{i}.txt", f"Dokument {i}", f"https://example.org/{i}", "de", None, text, "")


GERMAN_WORDS = """
Regierung Armee Front Offensive Stadt Dorf Brücke Panzer Drohne Soldaten Verteidigung
Minister Parlament Sanktionen Energie Gas Export Hafen Getreide Schiff Grenze Region Angriff
Truppen Artillerie Munition Lieferung Hilfe Bericht Analyse Lage Woche Monat Jahr Ukraine
Russland Kreml Moskau Kiew Europa Nato Gespräche Verhandlungen Abkommen Stellungen
""".split()


def _sentence(rng: random.Random) -> str:
    words = rng.choices(GERMAN_WORDS, k=rng.randint(6, 14))
    return "Die " + " und ".join([" ".join(words[:3]), " ".join(words[3:])]) + "."


def test_cut_off_on_a_corpus_of_25_passages() -> None:
    rng = random.Random(1)
    docs = [_doc(i, _sentence(rng)) for i in range(24)]
    docs.append(_doc(24, "Der Getreidekorridor über das Schwarze Meer wurde im Juli beendet."))
    engine = Engine.build(docs, SearchConfig())
    assert engine.stats.passages == 25
    assert engine.search("Wie wird das Wetter morgen?").hits == ()
    assert engine.search("Wie ist das Wetter in der Ukraine?").hits == ()
    hits = engine.search("Wann endete der Getreidekorridor?").hits
    assert hits and hits[0].document == "d24.txt"


def test_cut_off_on_a_large_corpus() -> None:
    rng = random.Random(2)
    docs = [_doc(i, " ".join(_sentence(rng) for _ in range(3))) for i in range(6_000)]
    docs.append(_doc(6_000, "Der Getreidekorridor über das Schwarze Meer wurde im Juli beendet."))
    engine = Engine.build(docs, SearchConfig())
    assert engine.stats.passages >= 6_000
    assert engine.search("Wie wird das Wetter morgen?").hits == ()
    assert engine.search("Wie ist das Wetter in der Ukraine?").hits == ()
    assert engine.search("Kochrezept für Kiew-Kotelett").hits == ()
    hits = engine.search("Wann endete der Getreidekorridor?").hits
    assert hits and hits[0].document == "d6000.txt"
    assert engine.search("Sanktionen gegen den Export von Gas").hits


def test_a_corpus_of_one_passage_still_answers() -> None:
    # rank_bm25's idf is negative for every term of a one-passage corpus.
    engine = Engine.build([_doc(0, "Der Getreidekorridor wurde im Juli beendet.")])
    hits = engine.search("Getreidekorridor").hits
    assert len(hits) == 1 and hits[0].score < 0
    assert engine.search("Wetter").hits == ()


def test_empty_engine_answers_nothing() -> None:
    engine = Engine.build([])
    assert engine.stats.passages == 0
    assert engine.search("Putin").hits == ()


def test_a_rebuild_analyses_only_the_documents_that_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.engine.build

    rng = random.Random(3)
    docs = [_doc(i, " ".join(_sentence(rng) for _ in range(4))) for i in range(40)]
    first = Engine.build(docs)
    analysed: list[str] = []
    real = bot.engine.build._analyse

    def counting(doc: Document, analyzer: object, config: SearchConfig) -> object:
        analysed.append(doc.id)
        return real(doc, analyzer, config)  # type: ignore[arg-type]

    monkeypatch.setattr(bot.engine.build, "_analyse", counting)
    changed = list(docs)
    changed[7] = _doc(7, "Der Getreidekorridor über das Schwarze Meer wurde im Juli beendet.")
    changed.append(_doc(99, "Ein neuer Bericht über Drohnenangriffe auf Odessa."))
    del changed[3]
    second = Engine.build(changed, SearchConfig(), previous=first)
    assert sorted(analysed) == ["d7.txt", "d99.txt"]
    fresh = Engine.build(changed, SearchConfig())  # everything analysed again
    for question in ("Getreidekorridor", "Drohnenangriffe Odessa", "Sanktionen Gas Export"):
        reused, rebuilt = second.search(question, k=10), fresh.search(question, k=10)
        assert [(h.passage, h.text, h.highlights) for h in reused.hits] == [
            (h.passage, h.text, h.highlights) for h in rebuilt.hits
        ]
        assert [h.score for h in reused.hits] == pytest.approx([h.score for h in rebuilt.hits])
    analysed.clear()
    Engine.build(changed, SearchConfig(passage_chars=200), previous=first)
    assert len(analysed) == len(changed)  # other passage settings: nothing can be reused


def test_part_matches_found_through_the_vocabulary_equal_the_definition(seed: Engine) -> None:
    from bot.engine.analysis import Analyzer
    from bot.engine.cutoff import parts_of
    from bot.engine.termcache import TermCache

    vocabulary = list(seed.parts.stems.vocabulary)
    de = seed.parts.term_grams
    assert de.vocabulary == vocabulary
    questions = ["Kampagne", "Raketenangriffe", "Angriff", "Friedensabkommen", "Abkommen", "Wetter"]
    questions += ["Satz", "Tag", "Stellung"]  # short keys ("sas") head compounds only
    for question in questions:
        term = analyzer_for("de").terms(question)[0]
        expected = {w for w in vocabulary if w != term and Analyzer.match(term, w) > 0}
        assert parts_of(term, seed.parts, TermCache()) == expected, question


def test_both_ways_of_picking_candidates_agree() -> None:
    rng = random.Random(3)
    docs = [_doc(i, " ".join(_sentence(rng) for _ in range(3))) for i in range(400)]
    engine = Engine.build(docs, SearchConfig())
    de = analyzer_for("de")
    for question in ("Armee Front", "Getreide Hafen Schiff", "Kreml", "Verhandlung Abkomen"):
        terms = de.terms(question)
        near = engine._near(terms)
        # Scaled as a translated question's groups scale them, and not.
        for scale in (1.0, 0.7):
            units = [(t, scale) for t in terms]
            dense = engine._candidates_dense(units, units + near)
            sparse = engine._candidates_sparse(units, near)
            assert dense is not None and sparse is not None
            assert dense[0].tolist() == sparse[0].tolist()
            docs_of = np.unique(engine.parts.passages.document[dense[0]])
            same = np.array_equal if scale == 1.0 else np.allclose
            assert same(dense[1](docs_of), sparse[1](docs_of))


def test_rebuilds_on_rebuilds_equal_a_fresh_build() -> None:
    """Reused passages come from the previous engine's arrays, not re-read: after a chain of
    changes (edits, removals, additions, a language switch) the index must be the one a fresh
    build makes, term for term, and answer every question alike."""
    rng = random.Random(11)
    docs = [_doc(i, " ".join(_sentence(rng) for _ in range(5))) for i in range(60)]
    engine = Engine.build(docs)
    for step in range(4):
        docs = list(docs)
        for i in rng.sample(range(len(docs)), 5):
            docs[i] = _doc(int(docs[i].id[1:-4]), " ".join(_sentence(rng) for _ in range(3)))
        for i in sorted(rng.sample(range(len(docs)), 3), reverse=True):
            del docs[i]
        # The documents the last step added go, and with them the only use of their word.
        docs = [d for d in docs if f"Neuwort{step - 1}" not in d.text]
        docs += [
            _doc(1000 + step * 10 + j, _sentence(rng) + " Neuwort" + str(step)) for j in range(3)
        ]
        docs.sort(key=lambda d: d.id)
        engine = Engine.build(docs, previous=engine)
        fresh = Engine.build(docs)
        assert set(engine.parts.stems.vocabulary) == set(fresh.parts.stems.vocabulary)
        if step:  # (step 0 would ask "Neuwort-1": "Neuwort" modifies the new "Neuwort0")
            assert not engine.search(f"Neuwort{step - 1}").hits
        assert list(engine.parts.passages.start) == list(fresh.parts.passages.start)
        assert list(engine.parts.stems.doc_len) == list(fresh.parts.stems.doc_len)
        for term, tid in fresh.parts.stems.vocabulary.items():
            other = engine.parts.stems.vocabulary[term]
            # Equal up to the last bit of rank_bm25's mean idf (summed in vocabulary order).
            assert engine.parts.stems.idf[other] == pytest.approx(
                fresh.parts.stems.idf[tid], rel=1e-12
            )
        for name in ("grams", "doc_grams"):  # n-gram statistics carried over, not recounted
            got_field, want_field = getattr(engine.parts, name), getattr(fresh.parts, name)
            assert got_field.df is not None and want_field.df is not None
            got_ids = engine.parts.term_grams.gram_ids
            for gram, gid in fresh.parts.term_grams.gram_ids.items():
                assert got_field.df[got_ids[gram]] == want_field.df[gid]
                assert got_field.idf[got_ids[gram]] == pytest.approx(want_field.idf[gid], rel=1e-12)
        words = [w for d in docs[:20] for w in d.text.split()[:3]]
        for question in [*rng.sample(words, 15), f"Neuwort{step}", "Getreide Schwarzes Meer"]:
            got, want = engine.search(question, k=10), fresh.search(question, k=10)
            assert got.total == want.total
            assert [(h.passage, h.highlights) for h in got.hits] == [
                (h.passage, h.highlights) for h in want.hits
            ]
            assert [h.score for h in got.hits] == pytest.approx([h.score for h in want.hits])


def test_answer_signals_are_what_the_decision_documents() -> None:
    from bot.engine.analysis import analyzer_for as analyzer
    from bot.engine.cutoff import answer_signals, weighted_terms
    from bot.engine.frequency import zipf

    text = "Der Getreidekorridor über das Schwarze Meer wurde beendet. Das war im Juli."
    config = SearchConfig(passage_chars=40, max_sentences=1)
    engine = Engine.build([_doc(0, text), _doc(1, "Die Armee zog aus der Stadt ab.")], config)
    assert engine.stats.passages == 3
    question = "Getreidekorridor Juli"
    tokens = analyzer("de").tokens(question)
    terms = weighted_terms(
        question, tokens, "de", engine.parts, config, engine._term_parts, engine._term_ids
    )
    rarity = {t.term: t.weight for t in terms}
    korridor, juli = (config.common_zipf - zipf(w, "de") for w in ("Getreidekorridor", "Juli"))
    assert list(rarity.values()) == pytest.approx([korridor, juli])
    pids = np.array([0, 1], dtype=np.int64)  # the two passages of the first document
    signals = answer_signals(terms, pids, np.array([4.0, 2.0]), engine.parts, config)
    total = korridor + juli
    expected = [[korridor / total, 1.0, korridor, 1, 1.0], [juli / total, 1.0, juli, 1, 0.5]]
    assert np.allclose(signals, expected), signals.tolist()


def test_a_4000_letter_compound_question_is_answered_with_bounded_part_lookups(
    seed: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17 #8: a question term's compound parts are all its substrings, looked up in the
    vocabulary (a 4000-letter compound: 17.6 s at 100k passages). Every term that reaches the
    look-up is at most MAX_WORD_CHARS long, so it is at most that squared over two."""
    looked_up: list[str] = []
    real = bot.engine.cutoff.parts_of

    def counting(term: str, *args: Any) -> frozenset[str]:
        looked_up.append(term)
        return real(term, *args)

    monkeypatch.setattr(bot.engine.cutoff, "parts_of", counting)
    compound = ("Raketenangriffskampagne" * 175)[:4000]
    seed.search(f"Putin {compound}")
    assert len(looked_up) == 2  # both words reached the cut-off
    assert max(map(len, looked_up)) <= MAX_WORD_CHARS
