"""The engine holder: a reload lends the serving engine to the next build and swaps atomically."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.engine import Engine, Query
from bot.errors import CorpusError
from bot.ingest import ChannelPost, write_post
from bot.loader import LoadedCorpus, load_engine
from bot.serving import CorpusHolder
from tests.support.paths import REPO_CORPUS

CORPUS = REPO_CORPUS


async def test_reload_passes_the_serving_engine_and_keeps_it_on_failure() -> None:
    first = load_engine(CORPUS)
    seen: list[Engine] = []
    fail = False

    def loader(previous: Engine) -> LoadedCorpus:
        seen.append(previous)
        if fail:
            raise CorpusError("no usable document in /nowhere")
        return load_engine(CORPUS, previous=previous)

    holder = CorpusHolder(first, loader)
    result = await holder.reload()
    assert result.ok and seen == [first.engine]
    second = holder.engine
    assert second is not first.engine
    fail = True
    result = await holder.reload()
    assert not result.ok and "no usable document" in result.error
    assert holder.engine is second  # the old index keeps serving
    assert seen[-1] is second


@pytest.mark.parametrize("question", ["Lavrov", "Raketenangriffe auf die Infrastruktur"])
async def test_reloaded_engine_answers_like_a_fresh_one(question: str) -> None:
    first = load_engine(CORPUS)
    holder = CorpusHolder(first, lambda previous: load_engine(CORPUS, previous=previous))
    await holder.reload()
    fresh = load_engine(CORPUS).engine
    reloaded = await holder.search(question, k=5)
    assert reloaded.hits == fresh.search(question, k=5).hits


async def test_an_abandoned_build_is_known_to_be_running() -> None:
    """`citebot run` ends the process without finalizing the interpreter under a build that
    still runs (numpy's C++ code can abort then): it must be able to tell."""
    import threading

    from bot.serving.holder import _Closing, _in_daemon_thread, builds_running
    from bot.serving.threads import _THREADS

    release = threading.Event()
    closing = asyncio.Event()
    waiting = asyncio.ensure_future(_in_daemon_thread(closing, lambda: release.wait(30)))
    await asyncio.sleep(0)
    assert builds_running()
    closing.set()
    with pytest.raises(_Closing):
        await waiting
    assert builds_running()  # abandoned, not finished
    release.set()
    for thread in list(_THREADS):  # it ends as soon as its work returns
        await asyncio.to_thread(thread.join, 10)
    assert not builds_running()


async def test_searches_run_one_at_a_time_off_the_event_loop_in_arrival_order() -> None:
    """Questions asked at once are searched in one thread, in the order they came, while the
    event loop stays free (a search holds the GIL: parallel threads would only take turns)."""
    import threading
    import time

    loaded = load_engine(CORPUS)
    real = loaded.engine.search
    order: list[str] = []
    threads: set[str] = set()
    running = 0
    most = 0
    lock = threading.Lock()

    def search(query: str, k: int = 3, offset: int = 0) -> object:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        threads.add(threading.current_thread().name)
        order.append(query)
        time.sleep(0.005)  # a slow search: overlapping ones would be seen
        try:
            return real(query, k, offset)
        finally:
            with lock:
                running -= 1

    searching = LoadedCorpus(_Searching(loaded.engine, search), loaded.corpus, 0.0)  # type: ignore[arg-type]
    holder = CorpusHolder(searching, lambda previous: searching)
    questions = [f"Lavrov {n}" for n in range(12)]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    beat = asyncio.ensure_future(ticker())
    try:
        async with asyncio.timeout(30):
            answers = await asyncio.gather(*(holder.search(q, k=2) for q in questions))
    finally:
        beat.cancel()
    assert [a.query for a in answers] == questions
    assert order == questions and most == 1
    assert len(threads) == 1 and threads.pop().startswith("citebot-search")
    assert ticks > len(questions)  # the loop ran while the searches did


class _Searching:
    """An engine whose ``search`` is replaced (Engine is a slotted class)."""

    def __init__(self, engine: Engine, search: object) -> None:
        self._engine = engine
        self.search = search

    def __getattr__(self, name: str) -> object:
        return getattr(self._engine, name)


async def test_filters_and_newest_first_follow_a_reload(tmp_path: Path) -> None:
    """Dates and channels are read per engine: a post that arrives with a reload is at once
    in its channel's answers and first among the newest, through a string or a Query."""
    write_post(tmp_path, ChannelPost(-1001, "kanal", 1, "Die Inflation steigt.", "2024-01-05"))
    write_post(tmp_path, ChannelPost(-1002, "andere", 1, "Die Inflation sinkt.", "2024-03-01"))
    (tmp_path / "wetter.txt").write_text("Das Wetter bleibt kalt und trocken.\n", "utf-8")
    holder = CorpusHolder(load_engine(tmp_path), lambda previous: load_engine(tmp_path))
    first = await holder.search("Inflation @kanal", k=5)
    assert [h.document for h in first.hits] == ["telegram/kanal/1.md"] and first.filtered
    write_post(tmp_path, ChannelPost(-1001, "kanal", 2, "Die Inflation fällt.", "2024-02-01"))
    assert (await holder.reload()).ok
    newest = await holder.search(Query("Inflation", channel="kanal", newest=True), k=5)
    assert [h.document for h in newest.hits] == ["telegram/kanal/2.md", "telegram/kanal/1.md"]
    assert newest.newest and newest.query == "Inflation"
    nothing = await holder.search("Inflation @kanal seit:2024-02-02", k=5)
    assert nothing.hits == () and nothing.filtered
