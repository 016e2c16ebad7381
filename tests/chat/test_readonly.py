"""End to end (issue 17 #12): source channels are read-only for the bot, and /stats in a group
shows nothing asked in private."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import bot.chat.channels
from bot.serving import CorpusHolder
from tests.support.bot_helpers import (
    ADMIN_ID,
    BOT,
    LogLines,
    copy_corpus,
    make_settings,
    running_bot,
)
from tests.support.botapi import BotApiStub

SOURCE = -1001700000001
GROUP = -1001700000002
POST = (
    "Lage bei Kupjansk\nDie Verteidiger halten die Stellungen bei Kupjansk.\n"
    "https://www.understandingwar.org/backgrounder/kupiansk"
)


@pytest.mark.usefixtures("no_handler_errors")
async def test_commands_in_a_source_channel_are_neither_answered_nor_saved(
    botapi: BotApiStub, tmp_path: Path, bot_log: LogLines
) -> None:
    corpus = copy_corpus(tmp_path)
    settings = make_settings(botapi, corpus, source_channels="@frontnews")
    async with running_bot(botapi, settings) as app:
        holder = app.bot_data.services.holder
        assert isinstance(holder, CorpusHolder)
        commands = ["/ask Lavrov", f"/ask@{BOT} Lavrov", "/ask", "/stats", f"/stats@{BOT}", "/help"]
        for command in commands:
            botapi.channel_post(SOURCE, command, username="frontnews")
        botapi.channel_post(SOURCE, None, username="frontnews", photo=True, caption="/reload")
        await bot_log.wait_count("command in source channel", len(commands) + 1)
        generation = holder.generation
        post = botapi.channel_post(SOURCE, POST, username="frontnews")
        async with asyncio.timeout(20):
            await holder.wait_generation(generation + 1)
        saved = [p.relative_to(corpus).as_posix() for p in (corpus / "telegram").rglob("*.*")]
        assert saved == [f"telegram/frontnews/{post['channel_post']['message_id']}.md"]
        assert not holder.engine.search("stats help reload").hits
        assert botapi.messages_to(SOURCE) == []


@pytest.mark.usefixtures("no_handler_errors")
async def test_stats_in_a_group_shows_no_private_question(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    admin = botapi.user(ADMIN_ID, "Admin", language_code="en")
    anna = botapi.user(6001, "Anna", language_code="de")
    secret = "Wann kommt meine Scheidung durch?"
    async with running_bot(botapi, make_settings(botapi, copy_corpus(tmp_path))):
        botapi.send_private(anna, secret)
        assert "Nichts in den Quellen" in (await botapi.next_message(anna))["text"]
        botapi.send_group(admin, GROUP, f"/stats@{BOT}")
        in_group = (await botapi.next_message(GROUP))["text"]
        assert in_group.startswith("Running for:")
        assert "Questions in the last 30 days: 1, 1 of them without an answer (100%)" in in_group
        assert "scheidung" not in in_group.lower()
        assert in_group.splitlines()[-1] == (
            "/stats shows the most frequent questions without an answer in a private chat"
            " with me only."
        )
        botapi.send_private(admin, "/stats")
        in_private = (await botapi.next_message(admin))["text"]
        assert in_private.splitlines()[-1] == "• wann kommt meine scheidung durch? (1)"


async def test_an_error_on_a_source_channel_post_is_not_apologised_for_there(
    botapi: BotApiStub, tmp_path: Path, bot_log: LogLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.chat.channels.logger, "info", broken)
    settings = make_settings(botapi, copy_corpus(tmp_path), source_channels="@frontnews")
    async with running_bot(botapi, settings):
        start = botapi.mark()
        botapi.channel_post(SOURCE, "/ask Lavrov", username="frontnews")
        await bot_log.wait_count("error while handling an update", 1)
        with pytest.raises(TimeoutError):  # the apology would follow the log line at once
            await botapi.wait_for("sendMessage", since=start, timeout=1.5)
        assert botapi.messages_to(SOURCE) == []
