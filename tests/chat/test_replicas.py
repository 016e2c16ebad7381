"""Two replicas of the bot in webhook mode behind a round-robin proxy, sharing the corpus
directory and a real Redis server, as behind a load balancer: every update is answered once,
buttons work on the other replica, a redelivered update is dropped by whichever replica gets
it, corpus changes reach both indexes within 2 s, and /stats counts every question."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from bot.chat import ChatApplication
from bot.serving import CorpusHolder
from tests.support.bot_helpers import (
    ADMIN_ID,
    LogLines,
    copy_corpus,
    make_settings,
    running_replicas,
)
from tests.support.botapi import BotApiStub

pytestmark = pytest.mark.usefixtures("no_handler_errors")

QUESTIONS = ("Zugeständnisse", "Peskov", "Lavrov", "Russland", "Kreml", "Putin")
POST = (
    "Brücke bei Cherson zerstört\n"
    "Ukrainische Einheiten haben die Pontonbrücke bei Cherson zerstört.\n"
    "https://www.understandingwar.org/backgrounder/kherson-bridge"
)
KARTOFFELN = """---
title: Kartoffeln
url: https://example.org/kartoffeln
---
Die Kartoffelernte in Brandenburg fiel in diesem Jahr außergewöhnlich gut aus.
"""


def _holder(app: ChatApplication) -> CorpusHolder:
    return app.bot_data.services.holder


async def _searchable(holder: CorpusHolder, question: str) -> float:
    """Seconds until ``holder`` answers ``question``; fails after 2 s."""
    started = time.perf_counter()
    async with asyncio.timeout(2.0):
        while not (await holder.search(question, k=1)).hits:
            await holder.wait_generation(holder.generation + 1)
    return time.perf_counter() - started


def _more(message: dict[str, Any]) -> str:
    keyboard = message["reply_markup"]["inline_keyboard"]
    (data,) = [button["callback_data"] for row in keyboard for button in row]
    assert isinstance(data, str)
    return data


async def test_two_replicas_behind_a_proxy_act_as_one_bot(
    botapi: BotApiStub, tmp_path: Path, redis_url: str, bot_log: LogLines
) -> None:
    corpus = copy_corpus(tmp_path)
    settings = make_settings(
        botapi, corpus, state_url=redis_url, source_channels="@frontnews", questions_per_minute=50
    )
    users = [botapi.user(6000 + i, f"Leser {i}") for i in range(6)]
    async with running_replicas(botapi, settings) as (apps, proxy):
        asked = 0
        first: dict[int, dict[str, Any]] = {}
        for round_ in range(2):
            for i, user in enumerate(users):
                botapi.send_private(user, QUESTIONS[(i + round_) % len(QUESTIONS)])
                asked += 1
            for user in users:
                answer = await botapi.next_message(user, timeout=10)
                first.setdefault(user.id, answer)
        assert all(proxy.served), proxy.served  # both replicas answered some
        assert [len(botapi.messages_to(u)) for u in users] == [2] * len(users)

        # A button answered by one replica, pressed until both have served its pages.
        anna = users[0]
        page = first[anna.id]
        assert page["text"].startswith("5 passende Stelle(n) gefunden")
        await botapi.callback_answer(botapi.press_button(anna, page, _more(page)))
        following = await botapi.next_message(anna, timeout=10)
        assert "hier 4–5:" in following["text"]

        # Telegram delivers an update again: the proxy hands it to the other replica.
        ben = users[1]
        update = botapi.send_private(ben, "Lavrov")
        asked += 1
        await botapi.next_message(ben, timeout=10)
        botapi.push_update(update)
        await bot_log.wait_count("delivered again", 1)

        # A channel post, taken in by one replica, is searchable on both within 2 s.
        botapi.channel_post(-1001, POST, username="frontnews", title="Front News")
        for app in apps:
            assert await _searchable(_holder(app), "Pontonbrücke Cherson") < 2.0

        # An admin's /reload on one replica reloads the other too.
        (corpus / "kartoffeln.md").write_text(KARTOFFELN, encoding="utf-8")
        admin = botapi.user(ADMIN_ID, "Admin", language_code="en")
        botapi.send_private(admin, "/reload")
        assert (await botapi.next_message(admin, timeout=20))["text"].startswith("Reloaded:")
        for app in apps:
            assert await _searchable(_holder(app), "Kartoffelernte Brandenburg") < 2.0

        # /stats, answered by either replica, counts every question asked on both.
        for _ in range(2):
            botapi.send_private(admin, "/stats")
            stats = (await botapi.next_message(admin, timeout=10))["text"]
            assert f"Last 7 days: {asked} question(s)" in stats
        assert [len(botapi.messages_to(u)) for u in users] == [3, 3, 2, 2, 2, 2]
