"""The webhook as the open internet meets it: the secret checked before any body is read, bodies
bounded, slow clients timed out, connections capped, refusals logged once a minute; `citebot run`
with a file descriptor limit of 1024 keeps answering and `/healthz` keeps working under a
slowloris of 1,100 connections."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from bot.chat.health import MAX_CONNECTIONS as HEALTH_CONNECTIONS
from bot.chat.webhook import MAX_CONNECTIONS
from tests.support.bot_helpers import (
    Lines,
    copy_corpus,
    free_port,
    kill_if_running,
    start_run,
    stop_run,
)
from tests.support.botapi import BotApiStub

SECRET = "s3cret-value"


async def _start(
    botapi: BotApiStub, tmp_path: Path, port: int, health: int
) -> asyncio.subprocess.Process:
    """`citebot run` in webhook mode, with at most 1024 open files, as the issue's machine had."""
    return await start_run(
        botapi,
        tmp_path,
        max_open_files=1024,
        CORPUS_DIR=str(copy_corpus(tmp_path)),
        CACHE_DIR="",
        STATE_DIR=str(tmp_path / "state"),
        WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        WEBHOOK_SECRET=SECRET,
        HEALTH_PORT=str(health),
    )


async def _raw(port: int, head: bytes, *, timeout: float = 5.0) -> bytes:
    """Send ``head`` (request line and headers, no body) and read what comes back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        await writer.drain()
        async with asyncio.timeout(timeout):
            return await reader.read(4096)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _healthz(port: int) -> bool:
    with contextlib.suppress(OSError, TimeoutError):
        answer = await _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=2)
        return answer.startswith(b"HTTP/1.1 200")
    return False


async def _slow_client(
    port: int, stop: asyncio.Event, closed: list[float], connected: list[float]
) -> None:
    """A slowloris: one header byte a second, never a whole request."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        closed.append(time.monotonic())
        return
    connected.append(time.monotonic())
    try:
        writer.write(b"POST /hook HTTP/1.1\r\n")
        while not stop.is_set():
            writer.write(b"X")
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await stop.wait()
    except OSError:
        closed.append(time.monotonic())
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def test_the_webhook_holds_under_a_slowloris_and_checks_the_secret_first(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    port, health = free_port(), free_port()
    proc = await _start(botapi, tmp_path, port, health)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    users = [botapi.user(8000 + i, f"Nutzer{i}") for i in range(10)]
    try:
        await err.wait_for(f"webhook on port {port}", timeout=60)
        # The secret and the size are checked on the headers: no body is ever sent here.
        big = b"Content-Type: application/json\r\nContent-Length: 52428800\r\n\r\n"
        wrong = await _raw(port, b"POST /hook HTTP/1.1\r\nHost: x\r\n" + big)
        assert wrong.startswith(b"HTTP/1.1 403")
        secret = f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n".encode()
        large = await _raw(port, b"POST /hook HTTP/1.1\r\nHost: x\r\n" + secret + big)
        assert large.startswith(b"HTTP/1.1 413")

        stop = asyncio.Event()
        closed: list[float] = []
        connected: list[float] = []
        attack = [
            asyncio.create_task(_slow_client(p, stop, closed, connected))
            for p in [port] * 1100 + [health] * 200
        ]
        started = time.monotonic()
        try:
            # The whole flood is in, and the connections over the limits were cut (the oldest
            # closed by newer ones), before anyone asks: 900 + 150 of them.
            evicted = 1100 - MAX_CONNECTIONS + 200 - HEALTH_CONNECTIONS
            while len(closed) < evicted and time.monotonic() - started < 30:
                await asyncio.sleep(0.05)
            assert len(closed) >= evicted, (len(connected), len(closed))
            waits = []
            for user in users:
                assert await _healthz(health)
                asked = time.monotonic()
                botapi.send_private(user, "Was fordert Scholz von Putin?")
                await botapi.next_message(user, timeout=10)
                waits.append(time.monotonic() - asked)
            # The rest are cut by the header timeouts (10 s, 5 s), not kept for ever.
            while len(closed) < len(attack) and time.monotonic() - started < 60:
                await asyncio.sleep(0.2)
        finally:
            stop.set()
            await asyncio.gather(*attack)
        assert len(closed) == len(attack), len(closed)
        assert max(waits) < 1.0, waits
        code = await stop_run(proc, out, err, 2)
    finally:
        await kill_if_running(proc)
    assert code == 0, err.text[-3000:]
    assert len((out.text + err.text).encode()) < 1 << 20
    assert "Too many open files" not in err.text and "Traceback" not in err.text
    assert SECRET not in out.text + err.text
    assert sum("webhook: refused" in line for line in err.lines) <= 2
