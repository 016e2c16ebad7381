"""Filters (period, channel) and newest first, on a tiny hand-made corpus of channel posts."""

from __future__ import annotations

import dataclasses
import datetime
import random

import numpy as np
import pytest

from bot.corpus import Document
from bot.engine import Engine, Query, SearchConfig, parse_query, period_end, period_start
from bot.engine.analysis import analyzer_for
from bot.texts import text

D = datetime.date


def _doc(
    name: str,
    text: str,
    date: str | None,
    path: str | None = None,
    post_url: str | None = None,
    url: str | None = None,
) -> Document:
    return Document(
        id=name,
        title=name,
        url=url or f"https://example.org/{name}",
        lang="de",
        date=date,
        text=text,
        path=path or f"{name}.md",
        post_url=post_url,
    )


# Four posts on inflation in two channels and three months, one undated text on it, and posts on
# other things, so that every word's idf is positive.
INFLATION = [
    _doc(
        "lage-jan",
        "Die Inflation stieg im Januar auf drei Prozent, meldete das Statistikamt.",
        "2024-01-15",
        path="telegram/lageticker/10.md",
    ),
    _doc(
        "lage-mar",
        "Die Inflation sank im März deutlich, die Preise für Energie fielen.",
        "2024-03-31T23:30:00+02:00",
        path="telegram/lageticker/12.md",
    ),
    _doc(
        "news-feb",
        "Die Inflation bleibt im Februar hoch, sagen die Ökonomen der Bank.",
        "2024-02-10",
        post_url="https://t.me/c/1234567890/7",
    ),
    _doc(
        "news-apr",
        "Inflation im April: die Preise für Lebensmittel steigen wieder.",
        "2024-04-01",
        url="https://t.me/NewsKanal/44",
    ),
    _doc("essay", "Ein Essay über Inflation, Geld und die Preise des Alltags.", None),
]
OTHER = [
    _doc("wetter", "Das Wetter bleibt im Januar kalt und trocken.", "2024-01-20"),
    _doc("fussball", "Der Verein gewann das Spiel im Stadion mit zwei Toren.", "2024-02-02"),
    _doc("garten", "Im Garten blühen die Tulpen schon früh im Jahr.", "2024-03-03"),
    _doc("bahn", "Die Bahn streikt, Züge fallen in vielen Regionen aus.", "2024-03-12"),
    _doc("kino", "Im Kino läuft ein neuer Film über eine Reise zum Mond.", None),
]


def _fillers(count: int) -> list[Document]:
    """Documents that share no word with the questions: with many of them the questions'
    postings are under 1 % of the passages and the search takes its sparse path."""
    return [
        _doc(f"filler-{i}", f"Notiz {i} zu Kochrezept Nummer {i} mit Kartoffeln.", "2023-06-01")
        for i in range(count)
    ]


@pytest.fixture(
    scope="module",
    params=[(0, 1.0), (600, 1.0), (0, 0.0)],
    ids=["dense", "sparse", "dense-without-context"],
)
def engine(request: pytest.FixtureRequest) -> Engine:
    """The three ways stage 1 finds candidates: whole-corpus arrays (with the document context,
    or without it, through the passages with postings) and the sparse buffers."""
    fillers, document_weight = request.param
    config = SearchConfig(document_weight=document_weight)
    return Engine.build(INFLATION + OTHER + _fillers(fillers), config)


def _docs(engine: Engine, query: str | Query, k: int = 10) -> list[str]:
    return [hit.document for hit in engine.search(query, k=k).hits]


# -- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Inflation", Query("Inflation")),
        ("Inflation seit:2024-01-01", Query("Inflation", since=D(2024, 1, 1))),
        ("since:2024-02 Inflation", Query("Inflation", since=D(2024, 2, 1))),
        ("Inflation bis:2024-03-31", Query("Inflation", until=D(2024, 3, 31))),
        ("Inflation until:2024-02", Query("Inflation", until=D(2024, 2, 29))),
        ("Inflation 2024-03", Query("Inflation", since=D(2024, 3, 1), until=D(2024, 3, 31))),
        ("Inflation seit: 2024", Query("Inflation", since=D(2024, 1, 1))),
        ("Inflation bis:31.3.2024", Query("Inflation", until=D(2024, 3, 31))),
        (
            "Was sagt @LageTicker zur Inflation?",
            Query("Was sagt zur Inflation?", channel="lageticker"),
        ),
        ("Inflation @lageticker?", Query("Inflation", channel="lageticker")),
        ("Inflation kanal:NewsKanal", Query("Inflation", channel="newskanal")),
        ("Inflation channel:https://t.me/NewsKanal", Query("Inflation", channel="newskanal")),
        ("Inflation kanal:-1001234567890", Query("Inflation", channel="c1234567890")),
        ("Inflation kanal:c1234567890", Query("Inflation", channel="c1234567890")),
        # Several periods narrow each other; the last channel named wins.
        (
            "Inflation seit:2024-01 2024-03 bis:2024-12",
            Query("Inflation", since=D(2024, 3, 1), until=D(2024, 3, 31)),
        ),
        ("@eins Inflation @zweiter", Query("Inflation", channel="zweiter")),
    ],
)
def test_filter_tokens_leave_the_question_words(raw: str, expected: Query) -> None:
    assert parse_query(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "Inflation seit:gestern",
        "Inflation bis:2024-02-30",
        "Inflation 2024-13",
        "Inflation 2024",  # a bare year is a word of the question (a vote in 2024)
        "Wer gewann die Meisterschaft 2001-02?",  # a season (2001/02), not February 2001
        "Saison 2011-12",
        "Inflation kanal:x y",
        "Mail an @ab",
        "seit:",
        "  Inflation\n im  Januar ",  # no filter: the text is the question exactly as typed
    ],
)
def test_tokens_that_do_not_parse_stay_words(raw: str) -> None:
    assert parse_query(raw) == Query(raw)


def test_a_season_is_a_filter_only_with_its_prefix() -> None:
    assert parse_query("seit:2001-02 Meister") == Query("Meister", since=D(2001, 2, 1))
    assert parse_query("Meister 2024-03").since == D(2024, 3, 1)


def test_period_values() -> None:
    assert period_start("2024-02") == D(2024, 2, 1)
    assert period_end("2024-02") == D(2024, 2, 29)
    assert period_end("2023") == D(2023, 12, 31)
    assert period_start("5.3.2024") == period_end("5.3.2024") == D(2024, 3, 5)
    assert period_start("März") is None
    assert period_end("2024-02-30") is None


# -- filters inside the ranking ---------------------------------------------------------------


def test_unfiltered_answers_are_unchanged_by_a_filter_that_admits_everything(
    engine: Engine,
) -> None:
    """The scope's masks, all true, give exactly the unfiltered ranking: same hits, scores and
    cut-off (the undated documents are left out by a period, so a channel-free corpus of dated
    documents is compared through a period that spans all of them)."""
    dated = Engine.build([d for d in engine.documents if d.date], engine.config)
    for question in ("Inflation", "Preise für Energie", "Wetter im Januar", "Inflation Preise"):
        plain = dated.search(question, k=20)
        wide = dated.search(Query(question, since=D(1, 1, 1), until=D(9999, 12, 31)), k=20)
        assert plain.hits == wide.hits
        assert plain.total == wide.total
        assert (plain.filtered, wide.filtered) == (False, True)


def test_an_unfiltered_string_and_its_query_answer_alike(engine: Engine) -> None:
    for question in ("Inflation", "Was ist mit den Preisen?", "Wetter"):
        assert engine.search(question, k=5) == dataclasses.replace(
            engine.search(Query(question), k=5), query=question
        )


def test_a_period_keeps_the_documents_of_its_days(engine: Engine) -> None:
    assert set(_docs(engine, "Inflation seit:2024-02-10")) == {"news-feb", "lage-mar", "news-apr"}
    assert set(_docs(engine, "Inflation bis:2024-02-10")) == {"lage-jan", "news-feb"}
    # The month filter spans its first to its last day; the day is the one the date shows.
    assert set(_docs(engine, "Inflation 2024-03")) == {"lage-mar"}
    assert set(_docs(engine, "Inflation 2024-02")) == {"news-feb"}


def test_until_is_inclusive(engine: Engine) -> None:
    assert set(_docs(engine, "Inflation bis:2024-01-15")) == {"lage-jan"}
    assert set(_docs(engine, "Inflation bis:2024-03-31 seit:2024-03-31")) == {"lage-mar"}
    assert _docs(engine, "Inflation bis:2024-01-14") == []


def test_undated_documents_never_pass_a_period(engine: Engine) -> None:
    assert "essay" in _docs(engine, "Inflation Geld")
    assert "essay" not in _docs(engine, "Inflation Geld seit:1900")
    assert "essay" not in _docs(engine, "Inflation Geld bis:2100")


def test_channels_from_the_folder_the_post_link_or_a_t_me_url(engine: Engine) -> None:
    assert set(_docs(engine, "Inflation @lageticker")) == {"lage-jan", "lage-mar"}
    assert set(_docs(engine, "Inflation kanal:-1001234567890")) == {"news-feb"}
    assert set(_docs(engine, "Inflation channel:NewsKanal")) == {"news-apr"}
    assert set(_docs(engine, "Inflation @lageticker seit:2024-02")) == {"lage-mar"}


@pytest.mark.parametrize(
    "question",
    [
        "Inflation @unbekannt",
        "Inflation seit:2025-01-01",
        "Inflation bis:2023-12-31",
        "Inflation seit:2024-03 bis:2024-02",
        "Tulpen @lageticker",  # in the corpus, but not in that channel
    ],
)
def test_a_filter_that_leaves_nothing_says_so(engine: Engine, question: str) -> None:
    answer = engine.search(question, k=3)
    assert answer.hits == ()
    assert answer.total == 0
    assert answer.filtered
    assert answer.query == question


def test_a_filter_reaches_past_the_unfiltered_candidates() -> None:
    """With room for two candidates, the unfiltered search never sees the oldest post; the
    filtered one ranks the period's posts only, so it finds it."""
    posts = [
        _doc(f"p{i}", "Inflation Inflation Inflation, die Inflation steigt.", f"2024-05-0{i}")
        for i in range(1, 6)
    ]
    old = _doc("old", "Früher war die Inflation ein Thema unter vielen.", "2020-01-01")
    tight = Engine.build([old, *posts, *OTHER], SearchConfig(candidates=2, rerank=2))
    assert "old" not in _docs(tight, "Inflation")
    assert _docs(tight, "Inflation bis:2020") == ["old"]


WORDS = (
    "Regierung Armee Front Offensive Stadt Dorf Brücke Drohne Minister Parlament Sanktionen"
    " Energie Gas Export Hafen Getreide Schiff Grenze Kreml Moskau Kiew Verhandlungen Abkommen"
).split()


def test_both_ways_of_picking_candidates_agree_within_a_scope() -> None:
    rng = random.Random(5)
    docs = [
        _doc(
            f"d{i}",
            " ".join(rng.choices(WORDS, k=12)),
            None if i % 7 == 0 else f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
            path=f"telegram/{'eins' if i % 3 else 'zwei'}/{i}.md",
        )
        for i in range(400)
    ]
    engine = Engine.build(docs)
    de = analyzer_for("de")
    facets = engine._facets.get(engine.documents, engine.parts.passages.document)
    queries = [
        Query("", since=D(2024, 3, 1), until=D(2024, 6, 30)),
        Query("", channel="zwei"),
        Query("", since=D(2024, 11, 1), channel="eins"),
    ]
    for question in ("Armee Front", "Getreide Hafen Schiff", "Kreml", "Verhandlung Abkomen"):
        terms = de.terms(question)
        near = engine._near(terms)
        for query in queries:
            scope = facets.scope(query)
            assert scope is not None
            doc_of = engine.parts.passages.document
            assert np.array_equal(scope.outside, ~scope.documents[doc_of])
            units = [(t, 1.0) for t in terms]
            dense = engine._candidates_dense(units, units + near, scope)
            sparse = engine._candidates_sparse(units, near, scope)
            assert dense is not None and sparse is not None
            assert dense[0].tolist() == sparse[0].tolist()
            assert scope.documents[engine.parts.passages.document[dense[0]]].all()
            docs_of = np.unique(engine.parts.passages.document[dense[0]])
            assert np.array_equal(dense[1](docs_of), sparse[1](docs_of))


# -- newest first ------------------------------------------------------------------------------


def test_newest_first_orders_the_same_answers_by_date_undated_last(engine: Engine) -> None:
    question = "Inflation"
    best = engine.search(question, k=10)
    newest = engine.search(Query(question, newest=True), k=10)
    assert newest.newest and not best.newest and not newest.filtered
    assert newest.total == best.total
    assert sorted(h.passage for h in newest.hits) == sorted(h.passage for h in best.hits)
    assert [h.document for h in newest.hits] == [
        "news-apr",
        "lage-mar",
        "news-feb",
        "lage-jan",
        "essay",
    ]
    assert [h.rank for h in newest.hits] == [1, 2, 3, 4, 5]
    assert newest.hits[-1].date is None


def test_newest_first_pages_through_the_same_order(engine: Engine) -> None:
    query = Query("Inflation", newest=True)
    whole = [h.document for h in engine.search(query, k=10).hits]
    pages = [engine.search(query, k=2, offset=offset) for offset in (0, 2, 4)]
    assert [h.document for page in pages for h in page.hits] == whole
    assert [page.has_more for page in pages] == [True, True, False]


def test_newest_first_ties_on_a_day_go_by_time_then_score() -> None:
    docs = [
        _doc("morning", "Inflation am Morgen.", "2024-05-01T08:00:00+00:00"),
        _doc("evening", "Inflation am Abend.", "2024-05-01T20:00:00+00:00"),
        _doc("berlin", "Inflation in Berlin, 21 Uhr Ortszeit.", "2024-05-01T21:00:00+02:00"),
        _doc("day", "Inflation, Inflation, Inflation: der ganze Tag.", "2024-05-01"),
        _doc("later", "Inflation, Inflation, Inflation: der ganze Tag danach.", "2024-05-02"),
        *OTHER,
    ]
    engine = Engine.build(docs)
    # 21:00 in Berlin is 19:00 UTC, before the evening; a date without time is its midnight.
    assert _docs(engine, Query("Inflation", newest=True)) == [
        "later",
        "evening",
        "berlin",
        "morning",
        "day",
    ]


@pytest.mark.parametrize(("lang", "marks"), [("de", "„“"), ("en", "“”")])
def test_the_help_texts_example_filters_as_it_says(lang: str, marks: str) -> None:
    usage = text("bot_usage", lang, bot="citebot")
    example = usage[usage.rindex(marks[0]) + 1 : usage.rindex(marks[1])]
    assert parse_query(example) == Query(
        example.split()[0], since=D(2024, 1, 1), channel=example.split(":")[-1].lower()
    )
    for token in ("2024-01-01", "2024-03-31", "2024-03", "@"):
        assert token in usage


def test_a_channel_read_once_per_folder_still_follows_each_documents_rule() -> None:
    docs = [
        _doc("a", "Inflation eins.", "2024-01-01", path="telegram/eins/1.md"),
        _doc("b", "Inflation zwei.", "2024-01-02", path="telegram/eins/2.md"),
        # Directly under telegram/ no folder names a channel: each post's own link does.
        _doc("c", "Inflation drei.", "2024-01-03", path="telegram/3.md"),
        _doc(
            "d",
            "Inflation vier.",
            "2024-01-04",
            path="telegram/4.md",
            post_url="https://t.me/x_kanal/4",
        ),
        _doc(
            "e",
            "Inflation fünf.",
            "2024-01-05",
            path="telegram/5.md",
            post_url="https://t.me/c/77/5",
        ),
        *OTHER,
    ]
    engine = Engine.build(docs)
    assert set(_docs(engine, "Inflation @eins")) == {"a", "b"}
    assert _docs(engine, "Inflation @x_kanal") == ["d"]
    assert _docs(engine, "Inflation kanal:c77") == ["e"]
