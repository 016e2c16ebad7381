"""Paging in place, end to end: one message per answer, edited by ◀ 2/3 ▶ and by the switch
between best and newest first; old and foreign buttons answered politely. The real
Application against the Bot API stand-in, on a small corpus of dated reports."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.engine import parse_query
from bot.loader import load_corpus_for
from bot.texts import format_date
from tests.support.bot_helpers import data_of, expected, labels, make_settings, running_bot
from tests.support.botapi import BotApiStub, parse_telegram_html
from tests.support.phone import SCREEN_LINES, phone_lines

pytestmark = pytest.mark.usefixtures("no_handler_errors")

QUESTION = "Inflation Preise"
EXPIRED_DE = "Diese Frage ist nicht mehr gespeichert – bitte stelle sie neu."
REPORTS = [
    ("2022-12-02", "Inflation im Dezember 2022", "bundesbank.de/inflation-2022"),
    ("2024-01-15", "Inflation im Januar 2024", "destatis.de/inflation-2024"),
    ("2023-06-01", "Inflation im Juni 2023", "www.ecb.europa.eu/inflation-2023"),
    ("", "Inflation ohne Datum", "example.org/inflation"),
]


def _corpus(tmp_path: Path) -> Path:
    """Four dated reports (one undated), three paragraphs each on inflation and prices."""
    root = tmp_path / "corpus"
    root.mkdir()
    for number, (day, title, url) in enumerate(REPORTS):
        date = f"date: {day}\n" if day else ""
        body = "\n\n".join(
            f"Die Inflation lag im Bericht {number} bei {number + part} Prozent, die Preise für"
            f" Energie und Lebensmittel stiegen im Abschnitt {part} weiter an."
            for part in range(3)
        )
        (root / f"{number}.md").write_text(
            f"---\ntitle: {title}\nurl: https://{url}\nlang: de\n{date}---\n{body}\n",
            encoding="utf-8",
        )
    return root


async def test_one_message_paged_in_place_and_reordered(botapi: BotApiStub, tmp_path: Path) -> None:
    settings = make_settings(botapi, _corpus(tmp_path))
    anna = botapi.user(6001, "Anna", language_code="de")
    best = [expected(settings, QUESTION, offset=offset) for offset in range(0, 12, 3)]
    newest_query = dataclasses.replace(parse_query(QUESTION), newest=True)
    total = best[0].total
    assert total == 12
    async with running_bot(botapi, settings):
        botapi.send_private(anna, QUESTION)
        first = await botapi.next_message(anna)
        assert first["text"].startswith("12 passende Stellen gefunden:\n\n")
        assert labels(first) == [["1/4", "▶"], ["Neueste zuerst"]]
        assert phone_lines(first["text"], button_rows=2) <= SCREEN_LINES

        page = first
        for number in range(2, 5):  # ▶ to the last page: the same message, edited
            pressed = botapi.press_button(anna, page, data_of(page, "▶"))
            assert "text" not in await botapi.callback_answer(pressed)
            page = await botapi.next_edit(anna)
            assert page["message_id"] == first["message_id"]
            shown = best[number - 1].hits
            assert shown[0].text[:50] in page["text"]
            nav = ["◀", f"{number}/4"] + (["▶"] if number < 4 else [])
            assert labels(page) == [nav, ["Neueste zuerst"]]
        assert len(botapi.messages_to(anna)) == 1

        # ◀ back to the first page: exactly what was sent first
        for _ in range(3):
            botapi.press_button(anna, page, data_of(page, "◀"))
            page = await botapi.next_edit(anna)
        assert (page["text"], labels(page)) == (first["text"], labels(first))

        # the counter does nothing
        counter = botapi.press_button(anna, page, data_of(page, "1/4"))
        assert "text" not in await botapi.callback_answer(counter)

        # newest first: the same results, the newest document first, undated last
        botapi.press_button(anna, page, data_of(page, "Neueste zuerst"))
        newest = await botapi.next_edit(anna)
        lines = newest["text"].split("\n")
        assert lines[:4] == [
            "12 passende Stellen gefunden, die neuesten zuerst:",
            "",
            "Inflation im Januar 2024",
            "15. Januar 2024 · destatis.de",
        ]
        assert labels(newest) == [["1/4", "▶"], ["Beste zuerst"]]
        for _ in range(3):
            botapi.press_button(anna, newest, data_of(newest, "▶"))
            newest = await botapi.next_edit(anna)
        assert newest["text"].split("\n")[2:4] == ["Inflation ohne Datum", "example.org"]
        botapi.press_button(anna, newest, data_of(newest, "Beste zuerst"))
        back = await botapi.next_edit(anna)
        assert (back["text"], labels(back)) == (first["text"], labels(first))
        assert len(botapi.messages_to(anna)) == 1
    engine = load_corpus_for(settings).engine
    ordered = [engine.search(newest_query, k=3, offset=o) for o in range(0, 12, 3)]
    days = [hit.date for answer in ordered for hit in answer.hits]
    assert days[:3] == ["2024-01-15"] * 3 and days[-3:] == [None] * 3
    assert format_date(days[0], "de") == "15. Januar 2024"


async def test_english_buttons_and_a_page_of_one(botapi: BotApiStub, tmp_path: Path) -> None:
    """An English reader; a page with one quote still says how many were found, not "1–1"."""
    settings = make_settings(botapi, _corpus(tmp_path), results_per_answer=5)
    bob = botapi.user(6002, "Bob", language_code="en")
    async with running_bot(botapi, settings):
        botapi.send_private(bob, QUESTION)
        first = await botapi.next_message(bob)
        assert first["text"].startswith("Found 12 matching passages:\n\n")
        assert labels(first) == [["1/3", "▶"], ["Newest first"]]
        for _ in range(2):
            botapi.press_button(bob, first, data_of(first, "▶"))
            first = await botapi.next_edit(bob)
        assert first["text"].startswith("Found 12 matching passages:\n\n")
        assert parse_telegram_html(first["raw_text"]).count("\n") >= 3
        assert labels(first) == [["◀", "3/3"], ["Newest first"]]


async def test_stale_foreign_and_legacy_buttons(botapi: BotApiStub, tmp_path: Path) -> None:
    settings = make_settings(botapi, _corpus(tmp_path))
    anna = botapi.user(6003, "Anna", language_code="de")
    ben = botapi.user(6004, "Ben", language_code="en")
    async with running_bot(botapi, settings):
        botapi.send_private(anna, QUESTION)
        annas = await botapi.next_message(anna)
        botapi.send_private(ben, QUESTION)
        bens = await botapi.next_message(ben)
        key = data_of(annas, "▶").rsplit(":", 1)[1]
        stale = [
            f"pg:3:b:de:{'A' * 22}",  # expired, or never made
            "pg:3:x:de:" + key,  # no such order
            "pg:3:b:fr:" + key,  # no such language
            "pg:²:b:de:" + key,  # not a plain number
            "pg:" + "9" * 30 + ":b:de:" + key,
            "pg:3:b:de",
            "pg:3:b:" + key,
        ]
        for data in stale:
            pressed = botapi.press_button(anna, annas, data, check=False)
            answered = await botapi.callback_answer(pressed)
            assert (
                answered["text"] == "Diese Frage ist nicht mehr gespeichert – bitte stelle sie neu."
            )
            assert answered["show_alert"] is True
        # Anna's key on Ben's message (his chat) opens nothing, in his language
        stolen = botapi.press_button(ben, bens, f"pg:3:b:de:{key}", check=False)
        assert (await botapi.callback_answer(stolen))["text"] == (
            "This question is no longer stored – please ask it again."
        )
        # past the end: said so, the message stays
        beyond = botapi.press_button(anna, annas, f"pg:12:b:de:{key}", check=False)
        assert (await botapi.callback_answer(beyond))["text"] == (
            "Keine weiteren Stellen zu dieser Frage."
        )
        # a "more" button sent before paging in place opens that page in the same message
        legacy = botapi.press_button(anna, annas, f"more:3:{key}", check=False)
        await botapi.callback_answer(legacy)
        edited = await botapi.next_edit(anna)
        assert edited["message_id"] == annas["message_id"]
        assert labels(edited) == [["◀", "2/4", "▶"], ["Neueste zuerst"]]
        assert [len(botapi.messages_to(u)) for u in (anna, ben)] == [1, 1]
        assert not [c for c in botapi.calls if c.method == "editMessageReplyMarkup"]


def _many(tmp_path: Path, count: int) -> Path:
    """``count`` dated documents whose file names sort neither by date nor by number."""
    root = tmp_path / "many"
    root.mkdir()
    for number in range(1, count + 1):
        day = f"2024-{(number * 5) % 12 + 1:02d}-{number:02d}"
        (root / f"{number}.md").write_text(
            f"---\ntitle: Bericht {number}\nurl: https://example.org/{number}\ndate: {day}\n"
            f"lang: de\n---\nDer Bericht Nummer {number} handelt von Getreide und Häfen.\n",
            encoding="utf-8",
        )
    (root / "ohne.md").write_text(
        "---\ntitle: Aaa ohne Datum\nurl: https://example.org/ohne\nlang: de\n---\n"
        "Ein Bericht ohne Datum über Häfen.\n",
        encoding="utf-8",
    )
    return root


async def test_sources_newest_first_paged_in_place(botapi: BotApiStub, tmp_path: Path) -> None:
    settings = make_settings(botapi, _many(tmp_path, 23))
    anna = botapi.user(6005, "Anna", language_code="de")
    documents = load_corpus_for(settings).engine.documents
    dated = sorted((d for d in documents if d.date), key=lambda d: d.date or "", reverse=True)
    want = [f"{d.title} · {format_date(d.date, 'de')}" for d in dated] + ["Aaa ohne Datum"]
    async with running_bot(botapi, settings):
        botapi.send_private(anna, "/sources")
        first = await botapi.next_message(anna)
        lines = first["text"].split("\n")
        assert lines[0] == "24 Dokumente in der Sammlung, die neuesten zuerst (Seite 1 von 3):"
        assert lines[1:] == [f"• {line}" for line in want[:10]]
        assert lines[1] == "• Bericht 19 · 19. Dezember 2024"
        assert labels(first) == [["1/3", "▶"]]
        assert phone_lines(first["text"], button_rows=1) <= SCREEN_LINES
        shown = lines[1:]
        page = first
        for number in (2, 3):
            botapi.press_button(anna, page, data_of(page, "▶"))
            page = await botapi.next_edit(anna)
            assert page["message_id"] == first["message_id"]
            assert page["text"].startswith(
                f"24 Dokumente in der Sammlung, die neuesten zuerst (Seite {number} von 3):"
            )
            shown += page["text"].split("\n")[1:]
        assert shown == [f"• {line}" for line in want]  # each once, undated last
        assert labels(page) == [["◀", "3/3"]]
        botapi.press_button(anna, page, data_of(page, "◀"))
        assert (await botapi.next_edit(anna))["text"].split("\n")[1] == f"• {want[10]}"
        # a page that is gone after a reload shows the last one; a forged page is refused
        botapi.press_button(anna, page, "src:99:de", check=False)
        assert (await botapi.next_edit(anna))["text"].split("\n")[1] == f"• {want[20]}"
        for data in ("src:-1:de", "src:1", "src:1:fr", "src:²:de"):
            forged = botapi.press_button(anna, page, data, check=False)
            assert (await botapi.callback_answer(forged))["text"] == (
                "Diese Liste ist veraltet – /sources zeigt die aktuelle."
            )
        assert len(botapi.messages_to(anna)) == 1

        # /start shows the newest documents, not the first file names
        botapi.send_private(anna, "/start")
        start = (await botapi.next_message(anna))["text"].split("\n")
        header = start.index("Die Quellen:")
        assert start[header + 1 : header + 10] == [f"• {line}" for line in want[:9]]
        assert start[header + 10] == "… und 15 weitere."


async def test_filters_hold_across_pages_and_say_when_they_leave_nothing(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    settings = make_settings(botapi, _corpus(tmp_path))
    anna = botapi.user(6006, "Anna", language_code="de")
    bob = botapi.user(6007, "Bob", language_code="en")
    async with running_bot(botapi, settings):
        botapi.send_private(anna, "Inflation Preise bis:2023-12-31")
        first = await botapi.next_message(anna)
        assert first["text"].startswith("6 passende Stellen gefunden:\n\n")
        assert labels(first) == [["1/2", "▶"], ["Neueste zuerst"]]
        botapi.press_button(anna, first, data_of(first, "▶"))
        second = await botapi.next_edit(anna)
        titles = {line for line in second["text"].split("\n") if line.startswith("Inflation im")}
        assert titles <= {"Inflation im Dezember 2022", "Inflation im Juni 2023"} and titles
        botapi.press_button(anna, second, data_of(second, "Neueste zuerst"))
        newest = await botapi.next_edit(anna)
        assert newest["text"].split("\n")[2:4] == [
            "Inflation im Juni 2023",
            "1. Juni 2023 · ecb.europa.eu",
        ]

        botapi.send_private(anna, "Inflation seit:2025-01-01")
        assert (await botapi.next_message(anna))["text"] == (
            "Mit diesen Filtern (Zeitraum, Kanal) beantwortet nichts in den Quellen diese Frage."
            " Versuche es ohne Filter oder mit einem längeren Zeitraum; /sources zeigt alle"
            " Quellen mit Datum."
        )
        botapi.send_private(bob, "Wie wird das Wetter morgen?")
        nothing = (await botapi.next_message(bob))["text"]
        assert "“Inflation im Dezember 2022”" in nothing and "„" not in nothing


async def test_a_group_answer_pages_in_its_own_language(botapi: BotApiStub, tmp_path: Path) -> None:
    """Anna asks in German; Bob, whose Telegram is English, turns the page: the message stays
    German (it is Anna's answer, read by the group), and Bob is told things in English."""
    settings = make_settings(botapi, _corpus(tmp_path))
    anna = botapi.user(6008, "Anna", language_code="de")
    bob = botapi.user(6009, "Bob", language_code="en")
    group = -100600
    async with running_bot(botapi, settings):
        botapi.send_group(anna, group, f"/ask {QUESTION}")
        first = await botapi.next_message(group)
        botapi.press_button(bob, first, data_of(first, "▶"))
        page = await botapi.next_edit(group)
        assert page["text"].startswith("12 passende Stellen gefunden:")
        assert labels(page) == [["◀", "2/4", "▶"], ["Neueste zuerst"]]
        key = data_of(page, "▶").rsplit(":", 1)[1]
        beyond = botapi.press_button(bob, page, f"pg:12:b:de:{key}", check=False)
        assert (await botapi.callback_answer(beyond))["text"] == (
            "No more passages for this question."
        )


async def test_no_switch_where_the_order_cannot_change(botapi: BotApiStub, tmp_path: Path) -> None:
    """One page of quotes from one document: newest first would show the same; no buttons."""
    settings = make_settings(botapi, _corpus(tmp_path), results_per_answer=5)
    anna = botapi.user(6010, "Anna", language_code="de")
    async with running_bot(botapi, settings):
        botapi.send_private(anna, "Inflation Preise seit:2024-01-01")
        reply = await botapi.next_message(anna)
        assert reply["text"].startswith("3 passende Stellen gefunden:\n\nInflation im Januar 2024")
        assert labels(reply) == []
