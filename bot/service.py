"""The bot's state, free of Telegram: the current engine, reloads, counters, flood limits."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.corpus import Skipped
from bot.errors import CorpusError
from bot.search import Answer, Engine, LoadedCorpus

__all__ = [
    "CorpusHolder",
    "FloodLimiter",
    "QueryStore",
    "ReloadResult",
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


class CorpusHolder:
    """Holds the engine being served; a reload swaps it whole, never two reloads at once."""

    def __init__(self, loaded: LoadedCorpus, loader: Callable[[Engine], LoadedCorpus]) -> None:
        self._loaded = loaded
        self._loader = loader
        self._lock = asyncio.Lock()

    @property
    def loaded(self) -> LoadedCorpus:
        return self._loaded

    @property
    def engine(self) -> Engine:
        return self._loaded.engine

    async def search(self, query: str, k: int, offset: int = 0) -> Answer:
        """Search in a worker thread so a big corpus never blocks the other chats."""
        return await asyncio.to_thread(self._loaded.engine.search, query, k, offset)

    async def reload(self) -> ReloadResult:
        """Load the corpus again in a worker thread; on CorpusError keep serving the old one."""
        async with self._lock:
            started = time.perf_counter()
            try:
                # The serving engine lends its analysis of the documents that did not change.
                loaded = await asyncio.to_thread(self._loader, self._loaded.engine)
            except CorpusError as exc:
                return ReloadResult(ok=False, error=str(exc), skipped=exc.skipped)
            self._loaded = loaded  # one assignment: questions see the old or the new engine
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
