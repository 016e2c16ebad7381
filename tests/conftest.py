"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.botapi import BotApiStub


@pytest_asyncio.fixture
async def botapi() -> AsyncIterator[BotApiStub]:
    """A Telegram Bot API stand-in on 127.0.0.1 (free port), stopped after the test."""
    stub = BotApiStub()
    await stub.start()
    try:
        yield stub
    finally:
        await stub.stop()


@pytest.fixture(autouse=True)
def _cache_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Index snapshots go to a temporary directory, never to the user's ~/.cache."""
    monkeypatch.setenv("CACHE_DIR", str(tmp_path_factory.getbasetemp() / "citebot-cache"))
    yield
