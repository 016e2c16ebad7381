"""End to end: the real bot (build_application) against the Bot API stand-in, over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.loader import load_corpus_for
from tests.support.bot_helpers import (
    ADMIN_ID,
    BOT,
    POTATO_MD,
    copy_corpus,
    data_of,
    expected,
    free_port,
    labels,
    make_settings,
    running_bot,
    shown_words,
)
from tests.support.botapi import BotApiStub

URL_PREFIX = "https://www.understandingwar.org/backgrounder/"


pytestmark = pytest.mark.usefixtures("no_handler_errors")


async def test_private_question_paged_in_place(botapi: BotApiStub, tmp_path: Path) -> None:
    anna = botapi.user(1001, "Anna", language_code="de")
    settings = make_settings(botapi, copy_corpus(tmp_path))
    question = "Putin Scholz"
    total = expected(settings, question).total
    assert total > 3
    async with running_bot(botapi, settings):
        botapi.send_private(anna, question)
        reply = await botapi.next_message(anna)
        assert reply["text"].startswith(f"{total} passende Stellen gefunden:")
        raw = reply["raw_text"]
        assert raw.count("<blockquote>") == 3
        assert "<b>Scholz</b>" in raw and "<b>Putin</b>" in raw
        assert f'<a href="{URL_PREFIX}' in raw and "#:~:text=" not in raw
        assert raw.count(">understandingwar.org</a>") == 1  # one document: its link once
        assert "@ISW: Russland versucht" in reply["text"]
        assert reply["parse_mode"] == "HTML"

        assert labels(reply) == [["1/2", "▶"]]  # one document: no order to switch

        pressed = botapi.press_button(anna, reply, data_of(reply, "▶"))
        await botapi.callback_answer(pressed)
        page = await botapi.next_edit(anna)
        assert page["message_id"] == reply["message_id"]
        assert page["text"].startswith(f"{total} passende Stellen gefunden:")
        assert shown_words(settings, question, offset=3) in page["text"]
        assert labels(page) == [["◀", "2/2"]]
        assert len(botapi.messages_to(anna)) == 1

        # past the end (e.g. an old button): it says so
        key = data_of(page, "◀").rsplit(":", 1)[1]
        beyond = botapi.press_button(anna, reply, f"pg:{total}:b:de:{key}", check=False)
        answered = await botapi.callback_answer(beyond)
        assert answered["text"] == "Keine weiteren Stellen zu dieser Frage."
        # a button whose question is no longer stored
        stale = botapi.press_button(anna, reply, "pg:3:b:de:zzz", check=False)
        assert "neu" in (await botapi.callback_answer(stale))["text"]


async def test_no_answer_is_helpful(botapi: BotApiStub, tmp_path: Path) -> None:
    bob = botapi.user(1002, "Bob", language_code="en-GB")
    async with running_bot(botapi, make_settings(botapi, copy_corpus(tmp_path))):
        botapi.send_private(bob, "Wie wird das Wetter morgen?")
        reply = await botapi.next_message(bob)
        assert reply["text"].startswith("Nothing in the sources answers this question.")
        assert "1 document, e.g.:" in reply["text"] and "@ISW: Russland" in reply["text"]
        assert "/sources" in reply["text"] and "<blockquote>" not in reply["raw_text"]
        assert labels(reply) == []


async def test_start_help_sources_in_both_languages(botapi: BotApiStub, tmp_path: Path) -> None:
    anna = botapi.user(1003, "Anna", language_code="de")
    bob = botapi.user(1004, "Bob", language_code="en")
    settings = make_settings(botapi, copy_corpus(tmp_path))
    stats = load_corpus_for(settings).engine.stats
    async with running_bot(botapi, settings):
        assert [c["command"] for c in botapi.commands(language_code="de")] == [
            "start",
            "help",
            "ask",
            "sources",
        ]
        assert botapi.commands(language_code="de")[0]["description"] == "Was dieser Bot kann"
        assert botapi.commands(language_code="en")[0]["description"] == "What this bot does"
        assert botapi.commands()  # the default menu

        botapi.send_private(anna, "/start")
        start = await botapi.next_message(anna)
        assert start["text"].startswith("Ich beantworte Fragen mit wörtlichen Zitaten aus 1")
        assert f"{stats.passages} Passagen" in start["text"]
        assert "Was fordert Scholz von Putin?" in start["text"]
        assert "@ISW: Russland versucht" in start["text"]

        botapi.send_private(bob, "/help")
        help_ = await botapi.next_message(bob)
        assert help_["text"].startswith("I answer questions by quoting 1 document (")
        assert "For example:" in help_["text"] and f"@{BOT}" in help_["text"]

        botapi.send_private(anna, "/sources")
        sources = await botapi.next_message(anna)
        assert sources["text"].startswith("1 Dokument in der Sammlung, die neuesten zuerst:")
        assert f'<a href="{URL_PREFIX}' in sources["raw_text"]

        botapi.send_private(bob, "/sources")
        sources_en = (await botapi.next_message(bob))["text"]
        assert sources_en.startswith("1 document in the collection, newest first:")

        botapi.send_private(bob, "/frobnicate")
        assert "/help" in (await botapi.next_message(bob))["text"]


async def test_groups_answer_only_when_addressed(botapi: BotApiStub, tmp_path: Path) -> None:
    anna = botapi.user(1005, "Anna")
    group = -100500
    async with running_bot(botapi, make_settings(botapi, copy_corpus(tmp_path))):
        asked = botapi.send_group(anna, group, "/ask Lavrov")
        reply = await botapi.next_message(group)
        assert reply["reply_to_message"]["message_id"] == asked["message"]["message_id"]
        assert "<b>Lavrov</b>" in reply["raw_text"]

        asked = botapi.send_group(anna, group, f"/ask@{BOT} Was fordert Scholz von Putin?")
        reply = await botapi.next_message(group)
        assert reply["reply_to_message"]["message_id"] == asked["message"]["message_id"]
        assert "<b>Scholz</b>" in reply["raw_text"]

        # chatter, commands for other bots, edits: all ignored
        botapi.send_group(anna, group, "Was fordert Scholz von Putin? Ich frage nur so.")
        botapi.send_group(anna, group, "/ask@otherbot Lavrov")
        botapi.send_group(anna, group, "/start@otherbot")
        botapi.edit_message(group, asked["message"]["message_id"], f"/ask@{BOT} Lavrov")
        asked = botapi.send_group(anna, group, f"@{BOT} Will Putin einen Waffenstillstand?")
        reply = await botapi.next_message(group)
        assert reply["reply_to_message"]["message_id"] == asked["message"]["message_id"]
        assert "<b>Waffenstillstand</b>" in reply["raw_text"]

        asked = botapi.send_group(anna, group, "Und Lavrov?", reply_to=reply["message_id"])
        reply = await botapi.next_message(group)
        assert reply["reply_to_message"]["message_id"] == asked["message"]["message_id"]
        assert "<b>Lavrov</b>" in reply["raw_text"]

        asked = botapi.send_group(anna, group, "/ask")
        usage = await botapi.next_message(group)
        assert usage["text"].startswith("So geht’s: /ask gefolgt von deiner Frage")
        assert usage["reply_to_message"]["message_id"] == asked["message"]["message_id"]
        assert len(botapi.messages_to(group)) == 5


async def test_channel_ask(botapi: BotApiStub, tmp_path: Path) -> None:
    channel = -100900
    async with running_bot(botapi, make_settings(botapi, copy_corpus(tmp_path))):
        botapi.channel_post(channel, "Heute ein Bericht.")
        botapi.channel_post(channel, "/ask@otherbot Lavrov")
        post = botapi.channel_post(channel, "/ask Lavrov")
        reply = await botapi.next_message(channel)
        assert reply["reply_to_message"]["message_id"] == post["channel_post"]["message_id"]
        assert "<b>Lavrov</b>" in reply["raw_text"]
        assert len(botapi.messages_to(channel)) == 1


async def test_inline_mode(botapi: BotApiStub, tmp_path: Path) -> None:
    anna = botapi.user(1006, "Anna")
    settings = make_settings(botapi, copy_corpus(tmp_path))
    total = expected(settings, "Putin").total
    assert total > 5
    async with running_bot(botapi, settings):
        first = await botapi.inline_answer(botapi.inline_query(anna, "Putin"))
        assert len(first["results"]) == 5 and first["next_offset"] == "5"
        assert int(first["cache_time"]) == 10
        article = first["results"][0]
        assert article["type"] == "article" and article["title"].startswith("@ISW")
        content = article["input_message_content"]["message_text"]
        assert "<blockquote>" in content and "<b>Putin</b>" in content
        assert f'<a href="{URL_PREFIX}' in content

        results = list(first["results"])
        offset = "5"
        while offset:
            page = await botapi.inline_answer(botapi.inline_query(anna, "Putin", offset=offset))
            results += page["results"]
            offset = page.get("next_offset") or ""
        assert len(results) == total
        assert len({r["id"] for r in results}) == total

        # Every result is a quote: its title the document's, its description date and words
        for result in results:
            assert result["title"] != result["description"]
            assert not result["description"].startswith(result["title"].removesuffix("…"))

        # Help and "nothing found" are the button above the results, never a sendable result
        empty = await botapi.inline_answer(botapi.inline_query(anna, ""))
        assert empty["results"] == []
        assert empty["button"] == {
            "text": "Tippe eine Frage – so geht’s",
            "start_parameter": "help",
        }
        none = await botapi.inline_answer(botapi.inline_query(anna, "Wie wird das Wetter?"))
        assert none["results"] == []
        assert none["button"] == {
            "text": "Keine passende Stelle – so fragst du besser",
            "start_parameter": "help",
        }
        # The button opens the chat with "/start help": the help
        botapi.send_private(anna, "/start help")
        assert (await botapi.next_message(anna))["text"].startswith("Ich beantworte Fragen")


async def test_reload_by_admin_and_refusal(botapi: BotApiStub, tmp_path: Path) -> None:
    admin = botapi.user(ADMIN_ID, "Admin", username="boss", language_code="de")
    mallory = botapi.user(1007, "Mallory", username="boss", language_code="en")
    corpus = copy_corpus(tmp_path)
    async with running_bot(botapi, make_settings(botapi, corpus)):
        botapi.send_private(mallory, "/reload")
        assert (await botapi.next_message(mallory))["text"] == (
            "Only the operators of this bot may do that."
        )
        botapi.send_private(mallory, "/stats")
        assert (await botapi.next_message(mallory))["text"].startswith("Only the operators")

        (corpus / "kartoffeln.md").write_text(POTATO_MD, encoding="utf-8")
        (corpus / "kaputt.txt").write_bytes(b"\xff\xfe kaputt")
        botapi.send_private(admin, "/reload")
        reloaded = await botapi.next_message(admin)
        assert reloaded["text"].startswith("Neu geladen: 2 Dokumente,")
        assert "1 Datei übersprungen:" in reloaded["text"]
        assert "kaputt.txt: not valid UTF-8" in reloaded["text"]

        botapi.send_private(admin, "Wie war die Kartoffelernte?")
        found = await botapi.next_message(admin)
        assert "https://example.org/kartoffeln" in found["raw_text"]

        for path in corpus.iterdir():
            if path.name != "kaputt.txt":
                path.unlink()
        botapi.send_private(admin, "/reload")
        failed = await botapi.next_message(admin)
        assert failed["text"].startswith("Neu laden fehlgeschlagen, die bisherigen Quellen")
        assert "kaputt.txt" in failed["text"]

        botapi.send_private(mallory, "How was the Kartoffelernte?")
        still = await botapi.next_message(mallory)
        assert "https://example.org/kartoffeln" in still["raw_text"]


async def test_stats(botapi: BotApiStub, tmp_path: Path) -> None:
    """/stats counts across a restart (the state is on disk), by window, in German with German
    typography."""
    admin = botapi.user(ADMIN_ID, "Admin", language_code="en")
    settings = make_settings(botapi, copy_corpus(tmp_path))
    stats_ = load_corpus_for(settings).engine.stats
    async with running_bot(botapi, settings):
        for question in ("Lavrov", "Wie wird das Wetter morgen?"):
            botapi.send_private(admin, question)
            await botapi.next_message(admin)
    async with running_bot(botapi, settings):  # a restart: a new process would be the same
        botapi.send_private(admin, "wie wird das  Wetter morgen?")
        await botapi.next_message(admin)
        botapi.send_private(admin, "/stats")
        stats = (await botapi.next_message(admin))["text"]
        assert stats.startswith("Running for: 00:00:")
        assert stats.splitlines()[1:] == [
            f"Sources: 1 document, {stats_.passages} passages",
            "Questions in the last 7 days: 3, 2 of them without an answer (67%)",
            "Questions in the last 30 days: 3, 2 of them without an answer (67%)",
            "",
            "Most frequent questions without an answer in the last 30 days:",
            "• wie wird das wetter morgen? (2)",
        ]
        german = botapi.user(ADMIN_ID, "Admin", language_code="de")
        botapi.send_private(german, "/stats")
        stats = (await botapi.next_message(german))["text"]
        assert "Fragen der letzten 7 Tage: 3, davon 2 ohne Antwort (67\u00a0%)" in stats
        assert "Häufigste Fragen ohne Antwort der letzten 30 Tage:" in stats


async def test_429_is_waited_out(botapi: BotApiStub, tmp_path: Path) -> None:
    anna = botapi.user(1008, "Anna")
    async with running_bot(botapi, make_settings(botapi, copy_corpus(tmp_path))):
        botapi.fail_next("sendMessage", status=429, retry_after=1)
        start = botapi.mark()
        botapi.send_private(anna, "Lavrov")
        reply = await botapi.next_message(anna, timeout=10)
        assert "<b>Lavrov</b>" in reply["raw_text"]
        sends = botapi.calls[start:]
        statuses = [c.status for c in sends if c.method == "sendMessage"]
        assert statuses == [429, 200]
        ok = next(c for c in sends if c.method == "sendMessage" and c.ok)
        failed = next(c for c in sends if c.method == "sendMessage" and not c.ok)
        assert ok.time - failed.time >= 0.9


def _long_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "long"
    corpus.mkdir()
    words = " ".join(f"Wort{i} Ölpreis & <Tag> “Zitat”" for i in range(400))
    for n in range(6):
        (corpus / f"lang{n}.md").write_text(
            f"---\ntitle: Langer Text {n} <&>\nurl: https://example.org/lang{n}?a=1&b=2\n---\n"
            f"{words} Ölpreis Nummer {n} ohne Satzende\n\n{words}\n",
            encoding="utf-8",
        )
    return corpus


async def test_long_passages_fit_and_are_valid_html(botapi: BotApiStub, tmp_path: Path) -> None:
    anna = botapi.user(1009, "Anna")
    settings = make_settings(
        botapi, _long_corpus(tmp_path), passage_chars=3000, results_per_answer=10
    )
    async with running_bot(botapi, settings):
        botapi.send_private(anna, "Ölpreis")
        reply = await botapi.next_message(anna)  # the stand-in refuses bad HTML or > 4096
        assert len(reply["text"]) <= 4096
        assert "…" in reply["text"] and "&lt;Tag&gt;" in reply["raw_text"]
        assert reply["raw_text"].count("<blockquote>") == 10
        assert "Langer Text" in reply["text"] and "&amp;b=2" in reply["raw_text"]
        pressed = botapi.press_button(anna, reply, data_of(reply, "▶"))
        more = await botapi.next_edit(anna)
        await botapi.callback_answer(pressed)
        assert len(more["text"]) <= 4096 and more["message_id"] == reply["message_id"]
        answer = await botapi.inline_answer(botapi.inline_query(anna, "Ölpreis"))
        assert answer["results"]


async def test_odd_inputs(botapi: BotApiStub, tmp_path: Path) -> None:
    anna = botapi.user(1010, "Anna")
    settings = make_settings(botapi, copy_corpus(tmp_path), questions_per_minute=6)
    async with running_bot(botapi, settings):
        botapi.send_private(anna, "😀🙈")
        assert (await botapi.next_message(anna))["text"].startswith("Bitte stelle deine Frage")

        botapi.send_private(anna, "<b>Lavrov</b> & *Putin* _x_")
        reply = await botapi.next_message(anna)
        assert reply["text"]

        botapi.send_private(anna, "Lavrov " * 1500)
        assert "<b>Lavrov</b>" in (await botapi.next_message(anna))["raw_text"]

        sticker = {
            "message_id": 999,
            "from": {"id": anna.id, "is_bot": False, "first_name": "Anna", "language_code": "de"},
            "chat": {"id": anna.id, "type": "private", "first_name": "Anna"},
            "date": 0,
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "s1u",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        }
        botapi.push_update({"message": sticker})
        assert (await botapi.next_message(anna))["text"].startswith("Ich beantworte nur Fragen")

        asked = botapi.send_private(anna, "Lavrov")
        await botapi.next_message(anna)
        botapi.edit_message(anna.id, asked["message"]["message_id"], "Putin")  # ignored
        botapi.send_private(anna, "Lavrov?")
        await botapi.next_message(anna)  # the 5th question

        # the flood limit (6 a minute here; the sticker was no question)
        botapi.send_private(anna, "Lavrov!")
        await botapi.next_message(anna)
        botapi.send_private(anna, "Lavrov!!")
        flood = await botapi.next_message(anna)
        assert flood["text"].startswith("Langsam, bitte: höchstens 6 Fragen pro Minute")
        assert len(botapi.messages_to(anna)) == 8


async def test_webhook_mode(botapi: BotApiStub, tmp_path: Path) -> None:
    anna = botapi.user(1011, "Anna")
    port = free_port()
    async with running_bot(botapi, make_settings(botapi, copy_corpus(tmp_path)), webhook_port=port):
        update = botapi.send_private(anna, "Lavrov")
        reply = await botapi.next_message(anna)
        assert "<b>Lavrov</b>" in reply["raw_text"]
        assert (await botapi.wait_delivery(update)).status == 200
        forged = dict(update, update_id=update["update_id"] + 1000)
        assert (await botapi.deliver_webhook(forged, secret_token="wrong")).status == 403
