"""The corpus directory checked after a restart and watched while the bot runs: the real
Application against the Bot API stand-in, changes made to the files only (never /reload)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.ingest.posts import atomic_write
from bot.loader import load_corpus_for, open_last_for
from bot.serving import CorpusHolder, CorpusWatch
from bot.store import latest
from tests.support.bot_helpers import (
    ADMIN_ID,
    POTATO_MD,
    copy_corpus,
    make_settings,
    running_bot,
)
from tests.support.botapi import BotApiStub, TgUser

pytestmark = pytest.mark.usefixtures("no_handler_errors")

NOTHING = "Nichts in den Quellen beantwortet diese Frage."
QUESTION = "Kartoffelernte Brandenburg"


def _parts(app: Any) -> tuple[CorpusHolder, CorpusWatch]:
    services = app.bot_data.services
    assert isinstance(services.holder, CorpusHolder) and isinstance(services.watch, CorpusWatch)
    return services.holder, services.watch


async def _ask(botapi: BotApiStub, user: TgUser, question: str) -> str:
    botapi.send_private(user, question)
    reply = await botapi.next_message(user, timeout=10)
    return str(reply["text"])


async def _watching(watch: CorpusWatch) -> None:
    async with asyncio.timeout(15):
        await watch.watching.wait()


async def _swapped(holder: CorpusHolder, generation: int) -> None:
    async with asyncio.timeout(30):
        await holder.wait_generation(generation)


def _potato(number: int) -> str:
    return POTATO_MD.replace("Brandenburg", f"Brandenburg Feld{number}")


async def test_a_written_file_is_answered_and_a_removed_one_no_longer(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    anna = botapi.user(2001, "Anna", language_code="de")
    corpus = copy_corpus(tmp_path)
    settings = make_settings(botapi, corpus, cache_dir=str(tmp_path / "cache"))
    async with running_bot(botapi, settings) as app:
        holder, watch = _parts(app)
        await _watching(watch)
        assert (await _ask(botapi, anna, QUESTION)).startswith(NOTHING)
        generation = holder.generation
        (corpus / "kartoffeln.md").write_text(POTATO_MD, encoding="utf-8")
        await _swapped(holder, generation + 1)
        assert "Kartoffelernte in Brandenburg" in await _ask(botapi, anna, QUESTION)
        assert watch.last is not None and watch.last.changed == ("kartoffeln.md",)

        (corpus / "kartoffeln.md").unlink()
        await _swapped(holder, generation + 2)
        assert (await _ask(botapi, anna, QUESTION)).startswith(NOTHING)


async def test_a_burst_of_files_is_one_update_and_hidden_and_part_files_none(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    corpus = copy_corpus(tmp_path)
    settings = make_settings(botapi, corpus, cache_dir=str(tmp_path / "cache"))
    async with running_bot(botapi, settings) as app:
        holder, watch = _parts(app)
        await _watching(watch)
        generation, documents = holder.generation, holder.engine.stats.documents
        (corpus / "burst").mkdir()
        (corpus / ".hidden.md").write_text(_potato(99), encoding="utf-8")
        (corpus / "burst" / "half.md.part").write_text(_potato(98), encoding="utf-8")
        for number in range(20):
            (corpus / "burst" / f"{number:02d}.md").write_text(_potato(number), encoding="utf-8")
        await _swapped(holder, generation + 1)
        assert holder.engine.stats.documents == documents + 20
        async with asyncio.timeout(15):
            await watch.wait_count(1)
        assert watch.count == 1 and holder.generation == generation + 1
        assert watch.last is not None and len(watch.last.changed) == 20


async def test_the_bots_own_write_costs_no_second_update(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    corpus = copy_corpus(tmp_path)
    settings = make_settings(botapi, corpus, cache_dir=str(tmp_path / "cache"))
    async with running_bot(botapi, settings) as app:
        holder, watch = _parts(app)
        await _watching(watch)
        generation = holder.generation
        # As a channel post is saved and indexed (bot/chat/channels.py).
        path = corpus / "telegram" / "frontnews" / "7.md"
        await asyncio.to_thread(atomic_write, path, POTATO_MD.encode())
        result = await holder.update([path])
        assert result.ok and holder.generation == generation + 1
        async with asyncio.timeout(15):
            await watch.wait_count(1)  # the watch saw the write, found it indexed
        assert holder.generation == generation + 1
        assert watch.last is None  # nothing changed: not a check to report


async def test_without_watchfiles_the_rescan_finds_changes(
    botapi: BotApiStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "watchfiles", None)  # import watchfiles fails
    anna = botapi.user(2002, "Anna", language_code="de")
    corpus = copy_corpus(tmp_path)
    settings = make_settings(botapi, corpus, cache_dir=str(tmp_path / "cache"), rescan_seconds=1)
    async with running_bot(botapi, settings) as app:
        holder, watch = _parts(app)
        generation = holder.generation
        (corpus / "kartoffeln.md").write_text(POTATO_MD, encoding="utf-8")
        await _swapped(holder, generation + 1)
        assert not watch.watching.is_set()
        assert watch.last is not None and watch.last.trigger == "rescan"
        assert watch.last.changed == ("kartoffeln.md",)
        assert "Kartoffelernte in Brandenburg" in await _ask(botapi, anna, QUESTION)


async def test_a_restart_serves_the_last_index_then_applies_what_changed(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    anna = botapi.user(2003, "Anna", language_code="de")
    admin = botapi.user(ADMIN_ID, "Admin", language_code="de")
    corpus = copy_corpus(tmp_path)
    settings = make_settings(botapi, corpus, cache_dir=str(tmp_path / "cache"), watch_corpus=False)
    first = load_corpus_for(settings)  # commits the index and its pointer
    (corpus / "kartoffeln.md").write_text(POTATO_MD, encoding="utf-8")  # while stopped
    last = open_last_for(settings)
    assert last is not None and last.key == first.key
    assert last.corpus == first.corpus  # the files were not looked at
    assert last.engine.search(QUESTION, k=3).total == 0
    async with running_bot(botapi, settings, loaded=last) as app:
        _, watch = _parts(app)
        async with asyncio.timeout(30):
            await watch.wait_count(1)
        assert watch.last is not None and watch.last.trigger == "start"
        assert watch.last.changed == ("kartoffeln.md",)
        assert "Kartoffelernte in Brandenburg" in await _ask(botapi, anna, QUESTION)
        stats = await _ask(botapi, admin, "/stats")
        assert "(nach dem Neustart), 1 Datei geändert" in stats
    # The update moved the pointer along: the next restart serves the potato without a look.
    again = open_last_for(settings)
    assert again is not None and again.engine.search(QUESTION, k=3).total > 0
    assert again.corpus == load_corpus_for(settings).corpus


async def test_a_pointer_that_does_not_check_out_is_not_used(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    corpus = copy_corpus(tmp_path)
    settings = make_settings(botapi, corpus, cache_dir=str(tmp_path / "cache"))
    load_corpus_for(settings)
    assert open_last_for(settings) is not None
    assert open_last_for(settings.model_copy(update={"passage_chars": 300})) is None
    path = latest.latest_path(tmp_path / "cache", corpus)
    path.write_text(path.read_text().replace('"key": "', '"key": "0'), encoding="ascii")
    assert open_last_for(settings) is None


async def test_a_directory_moved_in_and_out_is_indexed_and_dropped(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    anna = botapi.user(2004, "Anna", language_code="de")
    corpus = copy_corpus(tmp_path)
    settings = make_settings(botapi, corpus, cache_dir=str(tmp_path / "cache"))
    outside = tmp_path / "ready"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "kartoffeln.md").write_text(POTATO_MD, encoding="utf-8")
    async with running_bot(botapi, settings) as app:
        holder, watch = _parts(app)
        await _watching(watch)
        generation = holder.generation
        # One event for the directory, none for the file inside it.
        outside.rename(corpus / "ready")
        await _swapped(holder, generation + 1)
        assert "Kartoffelernte in Brandenburg" in await _ask(botapi, anna, QUESTION)
        (corpus / "ready").rename(tmp_path / "gone")
        await _swapped(holder, generation + 2)
        assert (await _ask(botapi, anna, QUESTION)).startswith(NOTHING)


async def test_a_check_that_finds_no_usable_file_keeps_the_index_and_says_so(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    import shutil

    anna = botapi.user(2005, "Anna", language_code="de")
    admin = botapi.user(ADMIN_ID, "Admin", language_code="en")
    corpus = copy_corpus(tmp_path)
    (corpus / "kartoffeln.md").write_text(POTATO_MD, encoding="utf-8")
    settings = make_settings(
        botapi, corpus, cache_dir=str(tmp_path / "cache"), watch_corpus=False, rescan_seconds=1
    )
    async with running_bot(botapi, settings) as app:
        holder, watch = _parts(app)
        generation = holder.generation
        for entry in corpus.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        async with asyncio.timeout(15):
            await watch.wait_count(1)
        assert watch.last is not None and "no usable document" in watch.last.error
        assert holder.generation == generation
        assert "Kartoffelernte in Brandenburg" in await _ask(botapi, anna, QUESTION)
        assert "Source files: check at " in await _ask(botapi, admin, "/stats")
