"""What the bot remembers survives a restart, a "more" button only ever opens its own question
in its own chat, and replicas sharing Redis share the corpus changes: the real Application,
restarted between question and button press, against the Bot API stand-in."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import pytest

from bot.loader import load_corpus_for, update_corpus_for
from bot.serving import CorpusHolder, ReplicaFollower
from bot.settings import Settings
from bot.store.states import open_state
from tests.support.bot_helpers import (
    LogLines,
    copy_corpus,
    data_of,
    labels,
    make_settings,
    running_bot,
    shown_words,
)
from tests.support.botapi import BotApiStub
from tests.support.redis_server import redis_server

pytestmark = pytest.mark.usefixtures("no_handler_errors")

EXPIRED_DE = "Diese Frage ist nicht mehr gespeichert – bitte stelle sie neu."


def _more(message: dict[str, Any]) -> str:
    """The ▶ button's data: ``pg:<offset>:<order>:<key>``."""
    return data_of(message, "▶")


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings for each state store: the SQLite file (STATE_DIR), or a real Redis server."""
    if request.param == "sqlite":
        return {}
    return {"state_url": request.getfixturevalue("redis_url")}


def _first_quote(settings: Settings, question: str, offset: int) -> str:
    """The start of the first passage the engine itself gives for that page."""
    return shown_words(settings, question, offset)


async def test_an_old_button_after_a_restart_shows_its_own_question(
    botapi: BotApiStub, tmp_path: Path, store: dict[str, str]
) -> None:
    """The reproduction: one user asks before a restart, another after it, and the first one's
    button must still show page 2 of the first one's question (it showed the other's)."""
    settings = make_settings(botapi, copy_corpus(tmp_path), **store)
    anna = botapi.user(4001, "Anna")
    ben = botapi.user(4002, "Ben")
    async with running_bot(botapi, settings):
        botapi.send_private(anna, "Zugeständnisse")
        annas = await botapi.next_message(anna)
    async with running_bot(botapi, settings):
        botapi.send_private(ben, "Peskov")
        bens = await botapi.next_message(ben)
        assert _more(annas).split(":")[4] != _more(bens).split(":")[4]
        await botapi.callback_answer(botapi.press_button(anna, annas, _more(annas)))
        page = await botapi.next_edit(anna)
        assert page["message_id"] == annas["message_id"] and labels(page)[0] == ["◀", "2/2"]
        assert _first_quote(settings, "Zugeständnisse", 3) in page["text"]
        assert _first_quote(settings, "Peskov", 3) not in page["text"]


async def test_a_button_opens_nothing_in_another_chat(
    botapi: BotApiStub, tmp_path: Path, store: dict[str, str]
) -> None:
    """Callback data is the client's to send: Ben replaying Anna's key on his own message (or
    guessing keys) finds nothing, and Anna's button still works for her."""
    settings = make_settings(botapi, copy_corpus(tmp_path), **store)
    anna = botapi.user(4003, "Anna")
    ben = botapi.user(4004, "Ben")
    async with running_bot(botapi, settings):
        botapi.send_private(anna, "Zugeständnisse")
        annas = await botapi.next_message(anna)
        botapi.send_private(ben, "Peskov")
        bens = await botapi.next_message(ben)
        stolen = botapi.press_button(ben, bens, _more(annas), check=False)
        assert (await botapi.callback_answer(stolen))["text"] == EXPIRED_DE
        for guess in ("pg:3:b:de:1", "more:3:2", "pg:3:n:en:a", "pg:3:b:de:" + "A" * 22):
            guessed = botapi.press_button(ben, bens, guess, check=False)
            assert (await botapi.callback_answer(guessed))["text"] == EXPIRED_DE
        await botapi.callback_answer(botapi.press_button(anna, annas, _more(annas)))
        assert labels(await botapi.next_edit(anna))[0] == ["◀", "2/2"]


async def test_a_repeated_update_is_not_answered_again_after_a_restart(
    botapi: BotApiStub, tmp_path: Path, bot_log: LogLines, store: dict[str, str]
) -> None:
    """After a kill between answering and confirming, Telegram delivers the update again: the
    restarted bot knows it answered it."""
    settings = make_settings(botapi, copy_corpus(tmp_path), **store)
    anna = botapi.user(4005, "Anna")
    async with running_bot(botapi, settings):
        update = botapi.send_private(anna, "Lavrov")
        await botapi.next_message(anna)
    async with running_bot(botapi, settings):
        botapi.push_update(update)  # the same update_id
        await bot_log.wait_count("delivered again", 1)
        botapi.send_private(anna, "Peskov")
        following = await botapi.next_message(anna)
        assert following["text"].startswith("5 passende Stellen gefunden")
        assert len(botapi.messages_to(anna)) == 2


async def test_the_flood_limit_holds_across_a_restart(botapi: BotApiStub, tmp_path: Path) -> None:
    settings = make_settings(botapi, copy_corpus(tmp_path), questions_per_minute=2)
    anna = botapi.user(4006, "Anna", language_code="en")
    async with running_bot(botapi, settings):
        for _ in range(2):
            botapi.send_private(anna, "Lavrov")
            await botapi.next_message(anna)
    async with running_bot(botapi, settings):
        botapi.send_private(anna, "Lavrov")
        refused = await botapi.next_message(anna)
        assert (
            refused["text"] == "Easy, please: at most 2 questions a minute. Try again in a moment."
        )


async def test_without_a_state_dir_the_bot_still_works(
    botapi: BotApiStub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(botapi, copy_corpus(tmp_path), state_dir="")
    assert settings.state_dir is None
    anna = botapi.user(4007, "Anna")
    async with running_bot(botapi, settings):
        botapi.send_private(anna, "Zugeständnisse")
        annas = await botapi.next_message(anna)
        await botapi.callback_answer(botapi.press_button(anna, annas, _more(annas)))
        assert labels(await botapi.next_edit(anna))[0] == ["◀", "2/2"]
    assert any("STATE_DIR is empty" in r.getMessage() for r in caplog.records)


async def test_when_redis_goes_away_the_bot_keeps_answering(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    """Redis stops between a question and its button: questions are still answered, the
    button says the question is no longer stored, and nothing reaches the error handler."""
    anna = botapi.user(4008, "Anna")
    with contextlib.ExitStack() as server:
        url = server.enter_context(redis_server(tmp_path))
        settings = make_settings(botapi, copy_corpus(tmp_path), state_url=url)
        async with running_bot(botapi, settings):
            botapi.send_private(anna, "Zugeständnisse")
            annas = await botapi.next_message(anna)
            server.close()  # Redis is gone
            pressed = botapi.press_button(anna, annas, _more(annas))
            assert (await botapi.callback_answer(pressed))["text"] == EXPIRED_DE
            botapi.send_private(anna, "Peskov")
            answer = await botapi.next_message(anna)
            assert answer["text"].startswith("5 passende Stellen gefunden")


async def _searchable(holder: CorpusHolder, question: str, seconds: float) -> float:
    """How long until ``holder`` answers ``question`` (it swaps its engine when it applies a
    change); fails after ``seconds``."""
    started = time.perf_counter()
    async with asyncio.timeout(seconds):
        while not (await holder.search(question, k=1)).hits:
            await holder.wait_generation(holder.generation + 1)
    return time.perf_counter() - started


async def test_a_replica_applies_the_corpus_changes_of_another(
    botapi: BotApiStub, tmp_path: Path, redis_url: str
) -> None:
    """Two replicas share the corpus directory and Redis: a channel post ingested by one, and
    an admin's /reload on it, reach the other's index within 2 s."""
    corpus = copy_corpus(tmp_path)
    settings = make_settings(
        botapi, corpus, state_url=redis_url, source_channels="@frontnews", admin_ids="1"
    )
    other_holder = CorpusHolder(
        load_corpus_for(settings),
        lambda previous: load_corpus_for(settings, previous),
        lambda current, paths: update_corpus_for(settings, current, paths),
    )
    assert settings.telegram_bot_token is not None
    bot_id = settings.telegram_bot_token.get_secret_value().split(":", 1)[0]
    other = ReplicaFollower(other_holder, open_state(None, redis_url, bot=bot_id))
    other.start()
    try:
        async with running_bot(botapi, settings):
            assert not (await other_holder.search("Pontonbrücke Cherson", k=1)).hits
            botapi.channel_post(-1001, _POST, username="frontnews", title="Front News")
            assert await _searchable(other_holder, "Pontonbrücke Cherson", 2.0) < 2.0

            (corpus / "kartoffeln.md").write_text(_KARTOFFELN, encoding="utf-8")
            admin = botapi.user(1, "Admin", language_code="en")
            botapi.send_private(admin, "/reload")
            assert (await botapi.next_message(admin, timeout=20))["text"].startswith("Reloaded:")
            assert await _searchable(other_holder, "Kartoffelernte Brandenburg", 2.0) < 2.0
    finally:
        await other.stop()


_POST = (
    "Brücke bei Cherson zerstört\n"
    "Ukrainische Einheiten haben die Pontonbrücke bei Cherson zerstört.\n"
    "https://www.understandingwar.org/backgrounder/kherson-bridge"
)
_KARTOFFELN = """---
title: Kartoffeln
url: https://example.org/kartoffeln
---
Die Kartoffelernte in Brandenburg fiel in diesem Jahr außergewöhnlich gut aus.
"""
