"""Per-user state a bot keeps between updates, free of Telegram: usage counters for /stats,
the flood limit, the questions behind "more" buttons, the updates already handled."""

from __future__ import annotations

import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable

__all__ = ["FloodLimiter", "QueryStore", "SeenUpdates", "Usage"]


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
