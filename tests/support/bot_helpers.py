"""Helpers for the end-to-end bot tests: settings, a tmp corpus, a running Application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import shutil
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from bot.chat import ChatApplication, build_application, stop_application
from bot.chat.run import start_webhook
from bot.chat.webhook import WebhookServer
from bot.engine import Answer
from bot.loader import LoadedCorpus, load_corpus_for
from bot.settings import Settings, load_settings
from tests.support.botapi import BotApiStub
from tests.support.paths import REPO_CORPUS
from tests.support.proxy import RoundRobinProxy

BOT = "citebot_test_bot"
ADMIN_ID = 4242
# A document the shipped corpus does not have, for adding and reloading.
POTATO_MD = """---
title: Bericht über Kartoffeln
url: https://example.org/kartoffeln
lang: de
---
Die Kartoffelernte in Brandenburg fiel in diesem Jahr außergewöhnlich gut aus. Die Bauern
melden Rekordmengen bei frühen Sorten.
"""


def copy_corpus(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(REPO_CORPUS, target)
    return target


def make_settings(stub: BotApiStub, corpus_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "corpus_dir": corpus_dir,
        "telegram_bot_token": stub.token,
        "telegram_api_url": stub.base_url,
        "admin_ids": frozenset({ADMIN_ID}),
    }
    values.update(overrides)
    return load_settings(**values)


def expected(settings: Settings, question: str, k: int = 3, offset: int = 0) -> Answer:
    """What the engine itself answers, so the tests follow ranking changes."""
    return load_corpus_for(settings).engine.search(question, k=k, offset=offset)


def shown_words(settings: Settings, question: str, offset: int = 0, k: int = 3) -> str:
    """Words every reply quoting the first hit of that page shows however the quote is cut:
    from its first highlight on (a quote is cut around it)."""
    hit = expected(settings, question, k=k, offset=offset).hits[0]
    start = hit.highlights[0][0] if hit.highlights else 0
    return hit.text[start : start + 40]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def running_bot(
    stub: BotApiStub,
    settings: Settings,
    *,
    webhook_port: int | None = None,
    webhook_url: str | None = None,
    loaded: LoadedCorpus | None = None,
) -> AsyncIterator[ChatApplication]:
    """The real Application from build_application, polling (or on a webhook) the stand-in;
    ``webhook_url`` is what Telegram is told to post to (a proxy in front), if not the port.
    ``loaded``: the index to serve as a restart opened it (:func:`bot.loader.open_last_for`),
    its files checked once the bot runs; else CORPUS_DIR loaded the usual way."""
    if loaded is None:
        app = build_application(settings, load_corpus_for(settings))
    else:
        app = build_application(settings, loaded, check_first=True)
    updater = app.updater
    assert updater is not None and app.post_init is not None
    webhook: WebhookServer | None = None
    await app.initialize()
    try:
        await app.post_init(app)
        await app.start()
        if webhook_port is None:
            await updater.start_polling(poll_interval=0, timeout=1)
        else:
            webhook = await start_webhook(
                app,
                listen="127.0.0.1",
                port=webhook_port,
                path="hook",
                url=webhook_url or f"http://127.0.0.1:{webhook_port}/hook",
                secret="s3cret",
            )
        yield app
    finally:
        async with asyncio.timeout(15):
            await stop_application(app, webhook)
    # Reached when the test's body passed: every call the bot made was one the Bot API has.
    assert stub.violations() == [], "\n".join(stub.violations())


@contextlib.asynccontextmanager
async def running_replicas(
    stub: BotApiStub, settings: Settings, count: int = 2
) -> AsyncIterator[tuple[list[ChatApplication], RoundRobinProxy]]:
    """``count`` replicas of the bot in webhook mode behind a round-robin proxy, as behind a
    load balancer: Telegram (the stand-in) posts every update to the proxy."""
    ports = [free_port() for _ in range(count)]
    proxy = RoundRobinProxy([f"http://127.0.0.1:{port}/hook" for port in ports])
    await proxy.start()
    try:
        async with contextlib.AsyncExitStack() as stack:
            apps = [
                await stack.enter_async_context(
                    running_bot(stub, settings, webhook_port=port, webhook_url=proxy.url)
                )
                for port in ports
            ]
            yield apps, proxy
    finally:
        await proxy.stop()


def clean_env(**values: str) -> dict[str, str]:
    """The test process's environment without any Telegram or webhook setting, plus ``values``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "WEBHOOK_", "HEALTH_"))
    }
    env.update(values)
    return env


class Lines:
    """Collects a stream's lines; lets a test await one that contains a text."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self.task = asyncio.create_task(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            async with self._changed:
                self.lines.append(line.decode("utf-8", "replace"))
                self._changed.notify_all()

    async def wait_for(self, needle: str, timeout: float = 20) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: any(needle in line for line in self.lines))

    @property
    def text(self) -> str:
        return "".join(self.lines)


async def start_run(
    botapi: BotApiStub, cwd: Path, *, max_open_files: int | None = None, **env: str
) -> asyncio.subprocess.Process:
    """`citebot run` as a subprocess against the stand-in (token and API URL set), with ``env``
    added to a clean environment; stdout and stderr piped; at most ``max_open_files`` open
    files, if given (soft and hard limit)."""

    def limit_files() -> None:
        if max_open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max_open_files, max_open_files))

    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(TELEGRAM_BOT_TOKEN=botapi.token, TELEGRAM_API_URL=botapi.base_url, **env),
        preexec_fn=limit_files if max_open_files is not None else None,
    )


async def stop_run(proc: asyncio.subprocess.Process, out: Lines, err: Lines, sig: int) -> int:
    """Send ``sig`` and wait (bounded) for the exit code and the end of both outputs."""
    proc.send_signal(sig)
    async with asyncio.timeout(30):
        code = await proc.wait()
        await asyncio.gather(out.task, err.task)
    return code


async def kill_if_running(proc: asyncio.subprocess.Process) -> None:
    """After a failed test: never leave a `citebot run` behind."""
    if proc.returncode is None:
        proc.kill()
        await proc.wait()


class LogLines(logging.Handler):
    """Log lines of the bot, awaitable (the bot logs where it takes a decision); lines may come
    from worker threads."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[int, str]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.levelno, record.getMessage()))
        loop, event = self._loop, self._event
        if loop is not None and event is not None:
            loop.call_soon_threadsafe(event.set)

    def count(self, needle: str) -> int:
        return sum(1 for _, line in self.lines if needle in line)

    async def wait_count(self, needle: str, count: int, timeout: float = 10) -> None:
        self._loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while True:
                self._event = asyncio.Event()  # installed before the check: no wake-up lost
                if self.count(needle) >= count:
                    return
                await self._event.wait()

    def errors(self) -> list[str]:
        return [line for level, line in self.lines if level >= logging.ERROR]


def labels(message: Mapping[str, Any]) -> list[list[str]]:
    """The texts of a message's inline buttons, row by row ([] without buttons)."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [[button["text"] for button in row] for row in rows]


def data_of(message: Mapping[str, Any], label: str) -> str:
    """The callback_data of the one button labelled ``label`` (within the Bot API's 64 bytes)."""
    rows = message["reply_markup"]["inline_keyboard"]
    (data,) = [b["callback_data"] for row in rows for b in row if b["text"] == label]
    assert isinstance(data, str) and len(data.encode()) <= 64
    return data
