"""Shared pytest fixtures."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.support.bot_helpers import LogLines
from tests.support.botapi import BotApiStub
from tests.support.redis_server import redis_server


@pytest_asyncio.fixture
async def botapi(request: pytest.FixtureRequest) -> AsyncIterator[BotApiStub]:
    """A Telegram Bot API stand-in on 127.0.0.1 (free port), stopped after the test; then every
    call made to it must have been one the published Bot API has (a test that sends wrong calls
    on purpose, to test the stand-in, is marked ``bad_bot_api_calls``)."""
    stub = BotApiStub()
    await stub.start()
    try:
        yield stub
    finally:
        await stub.stop()
    if request.node.get_closest_marker("bad_bot_api_calls") is None:
        assert stub.violations() == [], "\n".join(stub.violations())


@pytest.fixture(autouse=True)
def _cache_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Index snapshots go to a temporary directory, never to the user's ~/.cache; each test's
    bot state to its own (a test that restarts its bot keeps it, as a deployment would)."""
    monkeypatch.setenv("CACHE_DIR", str(tmp_path_factory.getbasetemp() / "citebot-cache"))
    monkeypatch.setenv("STATE_DIR", str(tmp_path_factory.mktemp("state")))
    # No test reads the system's dictionary unless it asks for it (tests/engine/test_bilingual.py
    # does): answers to questions in English on the German seed corpus stay as they were.
    monkeypatch.setenv("DICTIONARY_PATH", "")
    yield


@pytest.fixture
def no_handler_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The test also checks that nothing the bot logged was an error (no update reached the
    error handler; every fault became a reason or a reply). Modules opt in with
    ``pytestmark = pytest.mark.usefixtures("no_handler_errors")``."""
    caplog.set_level(logging.INFO, logger="bot")
    yield
    errors = [r for r in caplog.records if r.name.startswith("bot") and r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


@pytest.fixture
def bot_log() -> Iterator[LogLines]:
    """The bot's log lines during the test, awaitable."""
    lines = LogLines()
    logger = logging.getLogger("bot")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(lines)
    try:
        yield lines
    finally:
        logger.removeHandler(lines)
        logger.setLevel(old_level)


@pytest.fixture(scope="session")
def redis_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Redis server for the session (started on first use)."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_url(redis_service: str) -> Iterator[str]:
    """The session's Redis server, emptied for this test."""
    import redis

    client = redis.Redis.from_url(redis_service)
    client.flushdb()
    client.close()
    yield redis_service
