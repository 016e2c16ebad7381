"""Two replicas of the bot in webhook mode behind a round-robin proxy, sharing the corpus
directory and a real Redis server, as behind a load balancer: every update is answered once,
buttons work on the other replica, a redelivered update is dropped by whichever replica gets
it, corpus changes reach both indexes within 2 s, and /stats counts every question."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from bot.chat import ChatApplication
from bot.serving import CorpusHolder
from tests.support.bot_helpers import (
    ADMIN_ID,
    Lines,
    LogLines,
    copy_corpus,
    data_of,
    free_port,
    kill_if_running,
    labels,
    make_settings,
    running_replicas,
    start_run,
    stop_run,
)
from tests.support.botapi import BotApiStub
from tests.support.proxy import RoundRobinProxy

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
    """The ▶ button's data."""
    return data_of(message, "▶")


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
        assert page["text"].startswith("5 passende Stellen gefunden")
        await botapi.callback_answer(botapi.press_button(anna, page, _more(page)))
        following = await botapi.next_edit(anna, timeout=10)
        assert labels(following)[0] == ["◀", "2/2"]

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
            assert f"Questions in the last 7 days: {asked}," in stats
        # (Anna paged in place: no message more; Ben was asked once more)
        assert [len(botapi.messages_to(u)) for u in users] == [2, 3, 2, 2, 2, 2]


async def _other_applied(outputs: list[tuple[Lines, Lines]], needle: str) -> None:
    """Whichever process made a change, the other one logs that it applied it, within 2 s."""
    waits = [asyncio.ensure_future(err.wait_for(needle, timeout=2.0)) for _, err in outputs]
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED, timeout=2.0)
    for wait in pending:
        wait.cancel()
    assert any(w.exception() is None for w in done), f"no process logged {needle!r} within 2 s"


async def test_two_citebot_run_processes_behind_a_proxy(
    botapi: BotApiStub, tmp_path: Path, redis_url: str
) -> None:
    """The same as a deployment runs it: two `citebot run` processes in webhook mode behind
    the proxy, one corpus directory, one Redis. Questions, a button, a channel post and an
    admin's /reload during the run: nothing lost or doubled, the change reaches the other
    process within 2 s, /stats counts both, and both stop cleanly on SIGTERM."""
    corpus = copy_corpus(tmp_path)
    ports = [free_port(), free_port()]
    proxy = RoundRobinProxy([f"http://127.0.0.1:{port}/hook" for port in ports])
    await proxy.start()
    procs: list[asyncio.subprocess.Process] = []
    outputs: list[tuple[Lines, Lines]] = []
    try:
        for i, port in enumerate(ports):
            proc = await start_run(
                botapi,
                tmp_path,
                CORPUS_DIR=str(corpus),
                CACHE_DIR=str(tmp_path / f"cache-{i}"),
                STATE_URL=redis_url,
                WEBHOOK_URL=proxy.url,
                WEBHOOK_LISTEN="127.0.0.1",
                WEBHOOK_PORT=str(port),
                WEBHOOK_SECRET="s3cret-value",
                SOURCE_CHANNELS="@frontnews",
                ADMIN_IDS=str(ADMIN_ID),
                QUESTIONS_PER_MINUTE="100",
                LOG_LEVEL="INFO",
            )
            assert proc.stdout is not None and proc.stderr is not None
            procs.append(proc)
            outputs.append((Lines(proc.stdout), Lines(proc.stderr)))
        for _, err in outputs:
            await err.wait_for("ready as @", timeout=60)

        users = [botapi.user(6100 + i, f"Leser {i}") for i in range(4)]
        asked = 0
        for round_ in range(3):
            for i, user in enumerate(users):
                botapi.send_private(user, QUESTIONS[(i + round_) % len(QUESTIONS)])
                asked += 1
            for user in users:
                await botapi.next_message(user, timeout=15)
        assert all(proxy.served), proxy.served
        page = botapi.messages_to(users[0])[0]
        await botapi.callback_answer(botapi.press_button(users[0], page, _more(page)))
        following = await botapi.next_edit(users[0], timeout=15)
        assert labels(following)[0] == ["◀", "2/2"]

        botapi.channel_post(-1001, POST, username="frontnews", title="Front News")
        await _other_applied(outputs, "applied (1 file(s))")
        for _ in range(2):  # one question on each process
            botapi.send_private(users[1], "Pontonbrücke Cherson")
            asked += 1
            answer = await botapi.next_message(users[1], timeout=15)
            assert "Pontonbrücke" in answer["text"]

        admin = botapi.user(ADMIN_ID, "Admin", language_code="en")
        (corpus / "kartoffeln.md").write_text(KARTOFFELN, encoding="utf-8")
        botapi.send_private(admin, "/reload")
        assert (await botapi.next_message(admin, timeout=30))["text"].startswith("Reloaded:")
        await _other_applied(outputs, "applied (reload)")
        for _ in range(2):
            botapi.send_private(users[2], "Kartoffelernte Brandenburg")
            asked += 1
            answer = await botapi.next_message(users[2], timeout=15)
            assert "Kartoffelernte" in answer["text"]
        for _ in range(2):
            botapi.send_private(admin, "/stats")
            stats = (await botapi.next_message(admin, timeout=15))["text"]
            assert f"Questions in the last 7 days: {asked}," in stats
        assert [len(botapi.messages_to(u)) for u in users] == [3, 5, 5, 3]  # paged in place

        codes = [
            await stop_run(proc, out, err, signal.SIGTERM)
            for proc, (out, err) in zip(procs, outputs, strict=True)
        ]
        assert codes == [0, 0]
        assert not any(botapi.token in out.text + err.text for out, err in outputs)
    finally:
        for proc in procs:
            await kill_if_running(proc)
        await proxy.stop()
