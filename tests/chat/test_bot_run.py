"""`citebot run` as a real process against the Bot API stand-in, and its settings."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from bot.chat.app import file_url_for
from bot.errors import SettingsError
from bot.settings import load_settings, require_token
from tests.support.bot_helpers import (
    Lines,
    clean_env,
    copy_corpus,
    free_port,
    kill_if_running,
    start_run,
    stop_run,
)
from tests.support.botapi import BotApiStub

NEW_DOC = """---
title: Bericht über Kartoffeln
url: https://example.org/kartoffeln
---
Die Kartoffelernte in Brandenburg fiel in diesem Jahr außergewöhnlich gut aus.
"""


async def test_run_polls_reloads_on_sighup_and_stops_on_sigterm(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    corpus = copy_corpus(tmp_path)
    # Left by post writes killed before their rename: the old one is cleaned at start.
    posts = corpus / "telegram" / "frontnews"
    posts.mkdir(parents=True)
    (stale := posts / ".7.md.k1ll.part").write_text("---\nurl: https://e.org/", "utf-8")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    (young := posts / ".8.md.n0w0.part").write_text("---\n", "utf-8")
    health_port = free_port()
    proc = await start_run(
        botapi,
        tmp_path,
        CORPUS_DIR=str(corpus),
        HEALTH_PORT=str(health_port),
        LOG_LEVEL="DEBUG",
    )
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        await botapi.wait_polling(timeout=30)
        await err.wait_for("ready as @citebot_test_bot")
        assert not stale.exists() and young.exists()
        assert f"removed {stale}, left by a post write that never finished" in err.text
        anna = botapi.user(2001, "Anna")
        botapi.send_private(anna, "Lavrov")
        reply = await botapi.next_message(anna, timeout=10)
        assert "<b>Lavrov</b>" in reply["raw_text"]
        await err.wait_for("question chat=private hits=")

        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{health_port}/healthz") as response,
        ):
            assert response.status == 200 and await response.text() == "ok"

        (corpus / "kartoffeln.md").write_text(NEW_DOC, encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        await err.wait_for("SIGHUP reload: 2 documents")
        botapi.send_private(anna, "Wie war die Kartoffelernte?")
        assert "example.org/kartoffeln" in (await botapi.next_message(anna))["raw_text"]

        code = await stop_run(proc, out, err, signal.SIGTERM)
    finally:
        await kill_if_running(proc)
    output = out.text + err.text
    assert code == 0, output
    assert botapi.token not in output
    assert botapi.token.split(":", 1)[1] not in output
    assert "Traceback" not in output
    assert "ready as @citebot_test_bot: 1 documents" in output


async def test_run_webhook_mode_stops_on_sigint(botapi: BotApiStub, tmp_path: Path) -> None:
    port = free_port()
    proc = await start_run(
        botapi,
        tmp_path,
        CORPUS_DIR=str(copy_corpus(tmp_path)),
        WEBHOOK_URL=f"http://127.0.0.1:{port}/tg/hook",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        WEBHOOK_SECRET="s3cret-value",
        LOG_LEVEL="INFO",
    )
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        hook = await botapi.wait_for("setWebhook", timeout=30)
        assert hook.params["url"] == f"http://127.0.0.1:{port}/tg/hook"
        assert hook.params["secret_token"] == "s3cret-value"
        await err.wait_for(f"webhook on port {port}")
        anna = botapi.user(2002, "Anna", language_code="en")
        update = botapi.send_private(anna, "/start")
        assert (await botapi.next_message(anna, timeout=10))["text"].startswith("I answer")
        assert (await botapi.wait_delivery(update)).status == 200
        forged = dict(update, update_id=update["update_id"] + 1000)
        assert (await botapi.deliver_webhook(forged, secret_token=None)).status == 403
        code = await stop_run(proc, out, err, signal.SIGINT)
    finally:
        await kill_if_running(proc)
    output = out.text + err.text
    assert code == 0, output
    assert botapi.token not in output and "s3cret-value" not in output
    assert "Traceback" not in output


@pytest.mark.parametrize(("token", "problem"), [("", "missing"), ("not-a-token", "malformed")])
async def test_run_without_a_valid_token(tmp_path: Path, token: str, problem: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(TELEGRAM_BOT_TOKEN=token, CORPUS_DIR=str(copy_corpus(tmp_path))),
    )
    async with asyncio.timeout(30):
        stdout, stderr = await proc.communicate()
    assert proc.returncode == 2
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0] and problem in lines[0]
    assert stdout == b""


def test_webhook_settings() -> None:
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET: required"):
        load_settings(webhook_url="https://bot.example.org/hook")
    with pytest.raises(SettingsError, match="WEBHOOK_URL"):
        load_settings(webhook_url="ftp://bot.example.org/hook", webhook_secret="x")
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET"):
        load_settings(webhook_url="https://bot.example.org/hook", webhook_secret="a b")
    with pytest.raises(SettingsError, match="QUESTIONS_PER_MINUTE"):
        load_settings(questions_per_minute=0)
    settings = load_settings(
        webhook_url="https://bot.example.org/hook",
        webhook_secret="s3cret",
        example_questions="Eins? | Zwei?",
    )
    assert settings.webhook_port == 8080 and settings.webhook_listen == "0.0.0.0"
    assert settings.example_questions == ("Eins?", "Zwei?")
    assert settings.health_port is None and settings.questions_per_minute == 20


def test_require_token_never_shows_it() -> None:
    secret = "123:" + "x" * 10
    with pytest.raises(SettingsError) as info:
        require_token(load_settings(telegram_bot_token=secret))
    assert secret not in str(info.value) and "TELEGRAM_BOT_TOKEN" in str(info.value)


def test_file_url_for() -> None:
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_for("http://127.0.0.1:1/bot/") == "http://127.0.0.1:1/file/bot"


async def test_run_starts_empty_when_it_can_receive_documents(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    """An empty CORPUS_DIR with a source channel: `citebot run` starts, says so in its log,
    tells a reader there is nothing yet, and answers from the channel's first post."""
    corpus = tmp_path / "leer"
    corpus.mkdir()
    proc = await start_run(
        botapi, tmp_path, CORPUS_DIR=str(corpus), SOURCE_CHANNELS="@frontnews", STATE_DIR=""
    )
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        await err.wait_for("ready as @citebot_test_bot", timeout=30)
        assert "starting without documents" in err.text
        anna = botapi.user(2101, "Anna", language_code="de")
        botapi.send_private(anna, "Pontonbrücke Cherson")
        assert (await botapi.next_message(anna, timeout=10))["text"] == (
            "Noch ist nichts in den Quellen: ich warte auf die ersten Beiträge meiner Kanäle"
            " oder Dateien meiner Betreiber. Frag bald noch einmal."
        )
        botapi.send_private(anna, "/sources")
        assert (await botapi.next_message(anna, timeout=10))["text"].startswith("Noch ist nichts")
        botapi.channel_post(
            -1001,
            "Pontonbrücke bei Cherson zerstört\nDie Brücke über den Dnipro bei Cherson"
            " wurde am Morgen zerstört, melden ukrainische Stellen.",
            username="frontnews",
        )
        await err.wait_for(": 1 documents, ", timeout=20)  # the post indexed
        botapi.send_private(anna, "Pontonbrücke Cherson")
        answer = await botapi.next_message(anna, timeout=10)
        assert answer["text"].startswith("1 passende Stelle gefunden:")
        code = await stop_run(proc, out, err, signal.SIGTERM)
    finally:
        await kill_if_running(proc)
    assert code == 0, out.text + err.text
    assert "Traceback" not in out.text + err.text


async def test_run_with_nothing_to_receive_stops_with_one_line(tmp_path: Path) -> None:
    """An empty CORPUS_DIR and no way to get documents: one line on why, exit code 2 (the
    container's restart loop then shows the reason each time)."""
    corpus = tmp_path / "leer"
    corpus.mkdir()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(TELEGRAM_BOT_TOKEN="123456:" + "x" * 35, CORPUS_DIR=str(corpus)),
    )
    async with asyncio.timeout(30):
        stdout, stderr = await proc.communicate()
    assert proc.returncode == 2
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert "no usable document" in lines[0] and "no SOURCE_CHANNELS, no ADMIN_IDS" in lines[0]
    assert stdout == b""
