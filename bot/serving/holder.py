"""The engine being served, free of Telegram: searches in one thread, reloads and live updates
built off the event loop and swapped in whole."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.engine import Answer, Engine, Query
from bot.errors import CorpusError, Skipped
from bot.loader import LoadedCorpus
from bot.serving.threads import in_daemon_thread, work_running

__all__ = ["CorpusHolder", "ReloadResult", "builds_running"]


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """What a reload did: the new corpus's size and skipped files, or why it failed."""

    ok: bool
    documents: int = 0
    passages: int = 0
    seconds: float = 0.0
    skipped: tuple[Skipped, ...] = ()
    error: str = ""
    #: The bot is shutting down: the reload was abandoned, nothing changed.
    stopped: bool = False


_T = TypeVar("_T")


async def _in_daemon_thread(closing: asyncio.Event, work: Callable[[], _T]) -> _T:
    """``work()`` in a daemon thread. Index builds can take minutes and cannot be interrupted;
    a daemon thread does not hold up the process's exit, and :meth:`CorpusHolder.close` stops
    the waiting (raising :class:`_Closing`) so a shutdown is not held up either."""
    future = in_daemon_thread(work, "citebot-index")
    closed = asyncio.ensure_future(closing.wait())
    try:
        waiting: set[asyncio.Future[Any]] = {future, closed}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        closed.cancel()
    if future.done():
        return future.result()
    future.cancel()
    raise _Closing


def builds_running() -> bool:
    """Whether an index build or a corpus check (abandoned at shutdown, perhaps) still runs in
    its thread."""
    return work_running()


class _Closing(Exception):
    """The holder was closed while a build ran."""


_Updater = Callable[[LoadedCorpus, Sequence[Path]], LoadedCorpus]


class CorpusHolder:
    """Holds the engine being served; a reload or an update swaps it whole, one at a time.

    ``loader`` reads the whole corpus (``/reload``); ``updater`` re-reads a few changed files
    (a channel post, an upload: :func:`bot.loader.apply_files`)."""

    def __init__(
        self,
        loaded: LoadedCorpus,
        loader: Callable[[Engine], LoadedCorpus],
        updater: _Updater | None = None,
    ) -> None:
        self._loaded = loaded
        self._loader = loader
        self._updater = updater
        self._lock = asyncio.Lock()
        self._pending: set[Path] = set()
        self._generation = 0
        self._swapped = asyncio.Condition()
        self._closing = asyncio.Event()
        # Its thread starts with the first search and ends with the holder (or the process).
        self._searcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citebot-search")
        #: Called with the files of every change made here (``()`` for a full reload): how
        #: replicas hear of it (:mod:`bot.serving.replicas`).
        self.announcer: Callable[[tuple[str, ...]], None] | None = None

    def close(self) -> None:
        """Shutting down: reloads and updates stop waiting for their builds and change nothing
        (the files they read stay in CORPUS_DIR and are indexed at the next start)."""
        self._closing.set()

    async def closed_within(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for :meth:`close`; whether it came. A pause that a shutdown
        must cut short (a retry's wait must never hold up a stop)."""
        try:
            async with asyncio.timeout(seconds):
                await self._closing.wait()
        except TimeoutError:
            return False
        return True

    @property
    def generation(self) -> int:
        """How many times the engine was swapped (reloads and updates)."""
        return self._generation

    async def wait_generation(self, generation: int) -> None:
        """Return once the engine was swapped ``generation`` times (for tests and operators'
        tools that must know a post or upload is searchable; callers bound the wait)."""
        async with self._swapped:
            await self._swapped.wait_for(lambda: self._generation >= generation)

    async def _swap(self, loaded: LoadedCorpus) -> None:
        self._loaded = loaded  # one assignment: questions see the old or the new engine
        async with self._swapped:
            self._generation += 1
            self._swapped.notify_all()

    @property
    def loaded(self) -> LoadedCorpus:
        return self._loaded

    @property
    def engine(self) -> Engine:
        return self._loaded.engine

    async def search(self, query: str | Query, k: int, offset: int = 0) -> Answer:
        """Search in the holder's search thread, so a big corpus never blocks the other chats
        (``query`` as :meth:`Engine.search` takes it: a string's filter tokens apply).

        One thread, not asyncio's pool: searches hold the GIL most of the time, so several
        threads would only take turns on one core, each question slowed by all the others.
        Answered in the order asked, 200 users asking at once got 18 % more answers a second
        and a quarter less p95 latency (bench/load.py at 100k passages, three runs each)."""
        loop = asyncio.get_running_loop()
        engine = self._loaded.engine
        return await loop.run_in_executor(self._searcher, engine.search, query, k, offset)

    async def idle(self) -> None:
        """Return once the reloads and updates asked for before this call have finished."""
        async with self._lock:
            pass

    async def reload(self, *, announce: bool = True) -> ReloadResult:
        """Load the corpus again in a worker thread; on CorpusError keep serving the old one.
        ``announce=False``: the change came from another replica, which told the rest."""
        async with self._lock:
            started = time.perf_counter()
            engine = self._loaded.engine
            try:
                # The serving engine lends its analysis of the documents that did not change.
                loaded = await _in_daemon_thread(self._closing, lambda: self._loader(engine))
            except CorpusError as exc:
                return ReloadResult(ok=False, error=str(exc), skipped=exc.skipped)
            except _Closing:
                return ReloadResult(ok=False, error="shutting down", stopped=True)
            await self._swap(loaded)
            if announce and self.announcer is not None:
                await asyncio.to_thread(self.announcer, ())
            return _result(loaded, started)

    async def update(self, paths: Sequence[Path], *, announce: bool = True) -> ReloadResult:
        """Index the changed files at ``paths`` (written, rewritten or deleted) in a worker
        thread. Changes that arrive while an update runs are applied together in the next one,
        so a burst of channel posts costs a few index builds, not one each."""
        if self._updater is None:
            raise RuntimeError("this holder was made without an updater")
        self._pending.update(paths)
        async with self._lock:
            started = time.perf_counter()
            batch = sorted(self._pending)
            self._pending.clear()
            if batch:  # else an update that waited for the lock already applied ours
                current, updater = self._loaded, self._updater
                try:
                    loaded = await _in_daemon_thread(self._closing, lambda: updater(current, batch))
                except CorpusError as exc:
                    return ReloadResult(ok=False, error=str(exc), skipped=exc.skipped)
                except _Closing:
                    return ReloadResult(ok=False, error="shutting down", stopped=True)
                await self._swap(loaded)
            if announce and self.announcer is not None:
                await asyncio.to_thread(self.announcer, tuple(str(p) for p in paths))
            return _result(self._loaded, started)


def _result(loaded: LoadedCorpus, started: float) -> ReloadResult:
    stats = loaded.engine.stats
    return ReloadResult(
        ok=True,
        documents=stats.documents,
        passages=stats.passages,
        seconds=time.perf_counter() - started,
        skipped=loaded.corpus.skipped,
    )
