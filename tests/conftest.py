"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator

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
