"""The bot's state, free of Telegram: the current engine, reloads, counters, flood limits."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.engine.search import Answer, Engine
from bot.errors import CorpusError, Skipped
from bot.loader import LoadedCorpus

__all__ = [
    "CorpusHolder",
    "FloodLimiter",
    "QueryStore",
    "ReloadResult",
    "SeenUpdates",
    "Usage",
]


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


T = TypeVar("T")


async def _in_daemon_thread(closing: asyncio.Event, work: Callable[[], T]) -> T:
    """``work()`` in a daemon thread. Index builds can take minutes and cannot be interrupted;
    a daemon thread does not hold up the process's exit, and :meth:`CorpusHolder.close` stops
    the waiting (raising :class:`_Closing`) so a shutdown is not held up either."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(value: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)  # type: ignore[arg-type]

    def run() -> None:
        try:
            value, error = work(), None
        except BaseException as exc:
            value, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(deliver, value, error)

    thread = threading.Thread(target=run, name="citebot-index", daemon=True)
    _BUILD_THREADS.add(thread)
    thread.start()
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


_BUILD_THREADS: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def builds_running() -> bool:
    """Whether an index build (abandoned at shutdown, perhaps) is still running in its thread."""
    return any(thread.is_alive() for thread in list(_BUILD_THREADS))


class _Closing(Exception):
    """The holder was closed while a build ran."""


Updater = Callable[[LoadedCorpus, Sequence[Path]], LoadedCorpus]


class CorpusHolder:
    """Holds the engine being served; a reload or an update swaps it whole, one at a time.

    ``loader`` reads the whole corpus (``/reload``); ``updater`` re-reads a few changed files
    (a channel post, an upload: :func:`bot.loader.apply_files`)."""

    def __init__(
        self,
        loaded: LoadedCorpus,
        loader: Callable[[Engine], LoadedCorpus],
        updater: Updater | None = None,
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

    def close(self) -> None:
        """Shutting down: reloads and updates stop waiting for their builds and change nothing
        (the files they read stay in CORPUS_DIR and are indexed at the next start)."""
        self._closing.set()

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

    async def search(self, query: str, k: int, offset: int = 0) -> Answer:
        """Search in the holder's search thread, so a big corpus never blocks the other chats.

        One thread, not asyncio's pool: searches hold the GIL most of the time, so several
        threads would only take turns on one core, each question slowed by all the others.
        Answered in the order asked, 200 users asking at once got 18 % more answers a second
        and a quarter less p95 latency (bench/load.py at 100k passages, three runs each)."""
        loop = asyncio.get_running_loop()
        engine = self._loaded.engine
        return await loop.run_in_executor(self._searcher, engine.search, query, k, offset)

    async def reload(self) -> ReloadResult:
        """Load the corpus again in a worker thread; on CorpusError keep serving the old one."""
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
            return _result(loaded, started)

    async def update(self, paths: Sequence[Path]) -> ReloadResult:
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


class Usage:
    """Counters for /stats: questions, how many found nothing, and which ones."""

    _MAX_TRACKED = 1000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started = clock()
        self.questions = 0
        self.unanswered = 0
        self.missing: Counter[str] = Counter()

    def record(self, question: str, hits: int) -> None:
        self.questions += 1
        if hits:
            return
        self.unanswered += 1
        key = " ".join(question.lower().split())[:100]
        if key in self.missing or len(self.missing) < self._MAX_TRACKED:
            self.missing[key] += 1

    @property
    def uptime(self) -> float:
        return self._clock() - self.started

    @property
    def unanswered_share(self) -> float:
        return self.unanswered / self.questions if self.questions else 0.0


class FloodLimiter:
    """At most ``per_minute`` questions per user in any 60 seconds."""

    _MAX_USERS = 10_000

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._seen: OrderedDict[int, deque[float]] = OrderedDict()

    def allow(self, user_id: int) -> bool:
        now = self._clock()
        times = self._seen.pop(user_id, None) or deque()
        while times and now - times[0] >= 60.0:
            times.popleft()
        allowed = len(times) < self.per_minute
        if allowed:
            times.append(now)
        self._seen[user_id] = times
        while len(self._seen) > self._MAX_USERS:
            self._seen.popitem(last=False)
        return allowed


class QueryStore:
    """A bounded LRU of question texts keyed by short ids (for small callback data)."""

    def __init__(self, size: int = 2000) -> None:
        self._size = size
        self._next = 0
        self._items: OrderedDict[str, str] = OrderedDict()

    def put(self, query: str) -> str:
        self._next += 1
        key = format(self._next, "x")
        self._items[key] = query
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> str | None:
        query = self._items.get(key)
        if query is not None:
            self._items.move_to_end(key)
        return query


class SeenUpdates:
    """The ids of the last ``size`` updates handled. Telegram delivers an update again when it
    missed the bot's confirmation (a webhook answer lost on the way back, getUpdates after an
    offset that never arrived); the copy must not be answered a second time. Telegram numbers
    updates in order, so a window of recent ids is enough; memory stays bounded."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._order: deque[int] = deque()
        self._ids: set[int] = set()

    def first_time(self, update_id: int) -> bool:
        """True (and remembered) the first time ``update_id`` is seen, False for a repeat."""
        if update_id in self._ids:
            return False
        self._ids.add(update_id)
        self._order.append(update_id)
        while len(self._order) > self._size:
            self._ids.discard(self._order.popleft())
        return True
