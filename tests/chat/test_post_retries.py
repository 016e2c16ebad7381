"""A channel post that cannot be saved (a full disk, issue 17 #6) is tried again and the admins
are told, through the real Application and the stand-in."""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path
from typing import Any

import pytest

import bot.chat.channels
from bot.ingest import write_post
from bot.serving import CorpusHolder
from bot.texts import text
from tests.support.bot_helpers import ADMIN_ID, LogLines, copy_corpus, make_settings, running_bot
from tests.support.botapi import BotApiStub

SOURCE = -1001700000020
POST = (
    "Lage bei Kupjansk\nDie Verteidiger halten die Stellungen bei Kupjansk.\n"
    "https://www.understandingwar.org/backgrounder/kupiansk"
)


def _disk_full_for(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[int]:
    """``write_post`` raises ENOSPC ``failures`` times, then writes; the tries, counted."""
    tries: list[int] = []

    def write(root: Path, post: Any) -> Any:
        tries.append(len(tries) + 1)
        if len(tries) <= failures:
            raise OSError(errno.ENOSPC, "No space left on device")
        return write_post(root, post)

    monkeypatch.setattr(bot.chat.channels, "write_post", write)
    monkeypatch.setattr(bot.chat.channels, "SAVE_RETRY_PAUSES", (0.05, 0.1, 0.2))
    return tries


@pytest.mark.usefixtures("no_handler_errors")
async def test_a_post_that_fails_to_save_is_retried_and_the_admin_told(
    botapi: BotApiStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = copy_corpus(tmp_path)
    admin = botapi.user(ADMIN_ID, "Olga")
    tries = _disk_full_for(monkeypatch, failures=2)
    settings = make_settings(botapi, corpus, source_channels="@frontnews")
    async with running_bot(botapi, settings) as app:
        holder = app.bot_data.services.holder
        assert isinstance(holder, CorpusHolder)
        generation = holder.generation
        post = botapi.channel_post(SOURCE, POST, username="frontnews")
        link = f"https://t.me/frontnews/{post['channel_post']['message_id']}"
        told = await botapi.next_message(admin)
        assert told["text"] == text(
            "bot_post_retrying", "de", link=link, error="No space left on device"
        )
        assert (await botapi.next_message(admin))["text"] == text(
            "bot_post_saved_late", "de", link=link
        )
        async with asyncio.timeout(20):
            await holder.wait_generation(generation + 1)
        assert tries == [1, 2, 3]
        assert holder.engine.search("Verteidiger Kupjansk").hits
        assert botapi.messages_to(SOURCE) == []


async def test_a_post_that_never_saves_is_reported_lost(
    botapi: BotApiStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bot_log: LogLines
) -> None:
    corpus = copy_corpus(tmp_path)
    admin = botapi.user(ADMIN_ID, "Olga")
    tries = _disk_full_for(monkeypatch, failures=100)
    settings = make_settings(botapi, corpus, source_channels="@frontnews")
    async with running_bot(botapi, settings):
        post = botapi.channel_post(SOURCE, POST, username="frontnews")
        link = f"https://t.me/frontnews/{post['channel_post']['message_id']}"
        assert (await botapi.next_message(admin))["text"].startswith(f"Der Beitrag {link} konnte")
        given_up = await botapi.next_message(admin)
        assert given_up["text"] == text(
            "bot_post_not_saved", "de", link=link, error="No space left on device"
        )
        await bot_log.wait_count("not saved, given up", 1)
        assert tries == [1, 2, 3, 4]  # the first try and one after each pause
        assert not (corpus / "telegram").exists()
