"""End to end under real conditions: failing updates, flaky network, concurrent reloads, odd input.

Every test plays users against the real Application (build_application) over HTTP and checks
exactly what they see.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import bot.chat.app
from bot.chat.html import utf16_len
from bot.engine import Engine
from bot.loader import LoadedCorpus
from bot.settings import Settings
from tests.support.bot_helpers import (
    ADMIN_ID,
    BOT,
    copy_corpus,
    data_of,
    expected,
    labels,
    make_settings,
    running_bot,
)
from tests.support.botapi import BotApiStub

SORRY_DE = "Entschuldigung, da ist etwas schiefgegangen. Bitte versuche es noch einmal."
KARTOFFELN = """---
title: Bericht über Kartoffeln
url: https://example.org/kartoffeln
lang: de
---
Die Kartoffelernte in Brandenburg fiel in diesem Jahr außergewöhnlich gut aus.
"""
QUESTION_LINE = re.compile(r"^question chat=(\w+) hits=(\d+) total=\d+ ms=\d+$")


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("bot") and r.levelno >= logging.ERROR
    ]


def _message(user_id: int, chat_id: int, message_id: int, **content: Any) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "from": {"id": user_id, "is_bot": False, "first_name": "Anna", "language_code": "de"},
        "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup", "title": "G"},
        "date": int(time.time()),
        **content,
    }


PHOTO = [{"file_id": "p1", "file_unique_id": "p1u", "width": 90, "height": 90}]


async def test_a_failing_update_never_stops_the_bot(
    botapi: BotApiStub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    anna = botapi.user(3001, "Anna", language_code="de")
    async with running_bot(botapi, make_settings(botapi, copy_corpus(tmp_path))) as app:
        # 1. Telegram refuses the answer (not retried): the error handler says one sentence.
        botapi.fail_next("sendMessage", status=400, description="Bad Request: something odd")
        botapi.send_private(anna, "Lavrov")
        sorry = await botapi.next_message(anna)
        assert sorry["text"] == SORRY_DE
        assert "parse_mode" not in sorry or sorry["parse_mode"] is None

        # 2. The engine itself blows up in a handler.
        services = app.bot_data.services
        original = services.holder.search
        calls = 0

        async def broken_once(query: str, k: int, offset: int = 0) -> Any:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("index exploded")
            return await original(query, k, offset)

        services.holder.search = broken_once  # type: ignore[method-assign]
        botapi.send_private(anna, "Putin")
        assert (await botapi.next_message(anna))["text"] == SORRY_DE

        # ... and the bot goes on answering.
        botapi.send_private(anna, "Lavrov")
        reply = await botapi.next_message(anna)
        assert "<b>Lavrov</b>" in reply["raw_text"]
        assert len(botapi.messages_to(anna)) == 3
    errors = _errors(caplog)
    assert errors == ["error while handling an update"] * 2
    assert any("index exploded" in r.exc_text for r in caplog.records if r.exc_text)


async def test_network_errors_are_retried(botapi: BotApiStub, tmp_path: Path) -> None:
    anna = botapi.user(3002, "Anna")
    async with running_bot(botapi, make_settings(botapi, copy_corpus(tmp_path))):
        # A 502 was not carried out: retried. (A dropped connection is not: the message may
        # have been sent; tests/chat/test_telegram_faults.py covers both.)
        botapi.fail_next("sendMessage", status=502)
        start = botapi.mark()
        botapi.send_private(anna, "Lavrov")
        reply = await botapi.next_message(anna, timeout=10)
        assert "<b>Lavrov</b>" in reply["raw_text"]
        statuses = [c.status for c in botapi.calls[start:] if c.method == "sendMessage"]
        assert statuses == [502, 200]
        assert len(botapi.messages_to(anna)) == 1


async def test_429_on_buttons_and_inline_is_waited_out(botapi: BotApiStub, tmp_path: Path) -> None:
    anna = botapi.user(3003, "Anna")
    async with running_bot(botapi, make_settings(botapi, copy_corpus(tmp_path))):
        botapi.fail_next("answerInlineQuery", status=429, retry_after=1)
        first = botapi.mark()
        answer = await botapi.inline_answer(botapi.inline_query(anna, "Lavrov"), timeout=10)
        content = answer["results"][0]["input_message_content"]["message_text"]
        assert re.search(r"<b>La[vw]ro[vw]</b>", content)
        inline_calls = [c for c in botapi.calls[first:] if c.method == "answerInlineQuery"]
        assert [c.status for c in inline_calls] == [429, 200]
        assert inline_calls[1].time - inline_calls[0].time >= 0.9

        botapi.send_private(anna, "Putin")
        page = await botapi.next_message(anna)
        botapi.fail_next("editMessageText", status=429, retry_after=1)
        pressed = botapi.press_button(anna, page, data_of(page, "▶"))
        await botapi.callback_answer(pressed)
        following = await botapi.next_edit(anna, timeout=10)
        assert labels(following)[0][:2] == ["◀", labels(following)[0][1]]
        edits = [c.status for c in botapi.calls if c.method == "editMessageText"]
        assert edits == [429, 200]


async def test_two_reloads_at_once(
    botapi: BotApiStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = copy_corpus(tmp_path)
    other_admin = ADMIN_ID + 1
    settings = make_settings(botapi, corpus, admin_ids=frozenset({ADMIN_ID, other_admin}))
    running = 0
    overlapped = False
    guard = threading.Lock()
    real_load = bot.chat.app.load_corpus_for

    def slow_load(settings: Settings, previous: Engine | None = None) -> LoadedCorpus:
        nonlocal running, overlapped
        with guard:
            running += 1
            overlapped = overlapped or running > 1
        try:
            time.sleep(0.8)  # a big corpus
            return real_load(settings, previous)
        finally:
            with guard:
                running -= 1

    monkeypatch.setattr(bot.chat.app, "load_corpus_for", slow_load)
    admin = botapi.user(ADMIN_ID, "Admin", language_code="de")
    admin2 = botapi.user(other_admin, "Admin2", language_code="en")
    anna = botapi.user(3004, "Anna")
    async with running_bot(botapi, settings):
        (corpus / "kartoffeln.md").write_text(KARTOFFELN, encoding="utf-8")
        botapi.send_private(admin, "/reload")
        botapi.send_private(admin2, "/reload")
        botapi.send_private(anna, "Lavrov")  # answered while the reloads run
        answered = await botapi.next_message(anna)
        assert "<b>Lavrov</b>" in answered["raw_text"]
        first = await botapi.next_message(admin, timeout=10)
        second = await botapi.next_message(admin2, timeout=10)
        assert answered["date"] <= first["date"]
        assert first["text"].startswith("Neu geladen: 2 Dokumente,")
        assert second["text"].startswith("Reloaded: 2 documents,")
        assert not overlapped  # one at a time: the second waited for the first

        botapi.send_private(anna, "Wie war die Kartoffelernte?")
        assert "https://example.org/kartoffeln" in (await botapi.next_message(anna))["raw_text"]

        # One good and one failing reload at once: the good corpus keeps serving.
        (corpus / "kartoffeln.md").write_text("", encoding="utf-8")
        for path in corpus.iterdir():
            if path.name != "kartoffeln.md":
                path.unlink()
        botapi.send_private(admin, "/reload")
        botapi.send_private(admin2, "/reload")
        failed = await botapi.next_message(admin, timeout=10)
        failed2 = await botapi.next_message(admin2, timeout=10)
        assert failed["text"].startswith("Neu laden fehlgeschlagen, die bisherigen Quellen")
        assert failed2["text"].startswith("Reload failed, the previous sources stay active")
        botapi.send_private(anna, "Wie war die Kartoffelernte?")
        assert "https://example.org/kartoffeln" in (await botapi.next_message(anna))["raw_text"]
        botapi.send_private(anna, "Lavrov")
        assert "<b>Lavrov</b>" in (await botapi.next_message(anna))["raw_text"]


async def test_reload_lists_every_skipped_file(botapi: BotApiStub, tmp_path: Path) -> None:
    corpus = copy_corpus(tmp_path)
    admin = botapi.user(ADMIN_ID, "Admin", language_code="en")
    async with running_bot(botapi, make_settings(botapi, corpus)):
        names = [f"{'kaputt-' * 8}{n:03d} <&>.txt" for n in range(60)]
        for name in names:
            (corpus / name).write_bytes(b"\xff\xfe not utf-8")
        botapi.send_private(admin, "/reload")
        shown = ""
        while not all(name in shown for name in names):
            message = await botapi.next_message(admin)
            assert utf16_len(message["text"]) <= 4096
            shown += message["text"] + "\n"
        assert shown.startswith("Reloaded: 1 document,")
        assert "60 files skipped:" in shown
        assert shown.count(": not valid UTF-8") == 60
        assert len(botapi.messages_to(admin)) > 1

        # Hundreds: at most five messages, the rest counted (and every one in the log).
        for n in range(400):
            (corpus / f"{'defekt-' * 10}{n:03d}.txt").write_bytes(b"\xff")
        botapi.send_private(admin, "/reload")
        first = botapi.mark()
        messages = [await botapi.next_message(admin)]
        while "more; the log lists every one." not in messages[-1]["text"]:
            messages.append(await botapi.next_message(admin))
        assert len(messages) == 5
        text = "\n".join(m["text"] for m in messages)
        listed = text.count(": not valid UTF-8")
        (rest,) = re.findall(r"… and (\d+) more; the log lists every one\.", text)
        assert listed + int(rest) == 460
        assert not [c for c in botapi.calls[first:] if c.method == "sendMessage" and not c.ok]


async def test_html_and_markdown_in_questions_are_escaped(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    admin = botapi.user(ADMIN_ID, "Admin", language_code="en")
    settings = make_settings(botapi, copy_corpus(tmp_path))
    odd = "<i>1 < 2</i> &amp; *Wetter* _morgen_ `code` [a](b) <kein Tag"
    assert expected(settings, odd).hits == ()
    async with running_bot(botapi, settings):
        botapi.send_private(admin, "<b>Lavrov</b> & *Putin*")
        reply = await botapi.next_message(admin)  # the stand-in refuses bad HTML
        assert reply["text"].startswith("Found ")
        assert "<b>Lavrov</b>" in reply["raw_text"] and "<script>" not in reply["raw_text"]

        botapi.send_private(admin, odd)
        none = await botapi.next_message(admin)
        assert none["text"].startswith("Nothing in the sources answers this question.")

        group = -100777
        botapi.send_group(admin, group, "/ask <b>Lavrov</b> &")
        assert "<b>Lavrov</b>" in (await botapi.next_message(group))["raw_text"]

        answer = await botapi.inline_answer(botapi.inline_query(admin, "<b>Lavrov</b> &"))
        assert answer["results"][0]["title"].startswith("@ISW")

        botapi.send_private(admin, "/stats")
        stats = await botapi.next_message(admin)
        # what was asked (typed tags dropped), shown as text
        assert "• 1 < 2 & *wetter* _morgen_ `code` [a](b) <kein tag (1)" in stats["text"]
        assert "1 &lt; 2 &amp; *wetter*" in stats["raw_text"]


async def test_odd_messages_get_a_sensible_reply_or_none(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    anna = botapi.user(3005, "Anna", language_code="de")
    settings = make_settings(botapi, copy_corpus(tmp_path))
    group = -100778
    async with running_bot(botapi, settings):
        botapi.push_update({"message": _message(anna.id, anna.id, 900, photo=PHOTO)})
        text_only = await botapi.next_message(anna)
        assert text_only["text"] == "Ich beantworte nur Fragen als Text. /help erklärt, wie."

        botapi.push_update(
            {"message": _message(anna.id, anna.id, 901, photo=PHOTO, caption="Lavrov")}
        )
        assert "<b>Lavrov</b>" in (await botapi.next_message(anna))["raw_text"]

        botapi.send_private(anna, " \n\t ")
        blank = await botapi.next_message(anna)
        assert (
            blank["text"]
            == "Bitte stelle deine Frage in Worten, z.\u00a0B. „Was fordert Scholz von Putin?“."
        )

        # Edits (private, group, channel) are never answered again.
        asked = botapi.send_private(anna, "Putin")
        await botapi.next_message(anna)
        botapi.edit_message(anna.id, asked["message"]["message_id"], "Lavrov")
        mention = botapi.send_group(anna, group, f"@{BOT} Lavrov")
        await botapi.next_message(group)
        botapi.edit_message(group, mention["message"]["message_id"], f"@{BOT} Putin")
        post = botapi.channel_post(-100779, "/ask Lavrov")
        await botapi.next_message(-100779)
        botapi.edited_channel_post(-100779, post["channel_post"]["message_id"], "/ask Putin")
        # Photos and stickers in groups are chatter.
        botapi.push_update({"message": _message(anna.id, group, 902, photo=PHOTO)})

        # Very long messages: one giant word, and a question drowned in text.
        botapi.send_private(anna, "x" * 4096)
        assert (await botapi.next_message(anna))["text"].startswith("Nichts in den Quellen")
        botapi.send_private(anna, "Was sagte Lavrov? " + "?! 😀 " * 700)
        long_reply = await botapi.next_message(anna)
        assert "<b>Lavrov</b>" in long_reply["raw_text"]

        botapi.send_private(anna, "Lavrov")  # the marker: nothing else came in between
        assert "<b>Lavrov</b>" in (await botapi.next_message(anna))["raw_text"]
        assert len(botapi.messages_to(anna)) == 7
        assert len(botapi.messages_to(group)) == 1
        assert len(botapi.messages_to(-100779)) == 1


async def test_one_log_line_per_question(
    botapi: BotApiStub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    anna = botapi.user(3006, "Anna")
    settings = make_settings(botapi, copy_corpus(tmp_path))
    async with running_bot(botapi, settings):
        botapi.send_private(anna, "Lavrov")
        await botapi.next_message(anna)
        botapi.send_private(anna, "Wie wird das Wetter morgen?")
        await botapi.next_message(anna)
        botapi.send_group(anna, -100780, "/ask Lavrov")
        await botapi.next_message(-100780)
        botapi.channel_post(-100781, "/ask Lavrov")
        await botapi.next_message(-100781)
        await botapi.inline_answer(botapi.inline_query(anna, "Putin"))
        botapi.send_private(anna, "/help")  # no question
        await botapi.next_message(anna)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("question ")]
    parsed = [QUESTION_LINE.match(line) for line in lines]
    assert all(parsed), lines
    lavrov = len(expected(settings, "Lavrov").hits)
    assert [(m[1], int(m[2])) for m in parsed if m] == [
        ("private", lavrov),
        ("private", 0),
        ("supergroup", lavrov),
        ("channel", lavrov),
        ("inline", len(expected(settings, "Putin", k=5).hits)),
    ]
    assert not any(
        botapi.token in r.getMessage() for r in caplog.records if r.name.startswith("bot")
    )
