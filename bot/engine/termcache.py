"""Per-word and per-term look-ups, remembered within a byte budget: questions repeat their
words, and analysing a word, finding a term's spelling neighbours or its compound parts costs
far more than a dict look-up. Bounded in bytes, not entries: what users send decides how large
an entry is, and 20,000 distinct 500-character questions grew caches bounded by entry counts
by 2 GB. A full cache forgets its oldest entries.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from sys import getsizeof
from typing import Any, Generic, TypeVar

import numpy as np

__all__ = ["TERMS_CACHE_BYTES", "TermCache", "size_of", "total_cache_bytes"]

#: The default budget of one cache.
TERMS_CACHE_BYTES = 4 * 1024 * 1024
# A dict entry's own cost (hash, key and value pointers, the table's spare room), measured.
_ENTRY_BYTES = 100

_V = TypeVar("_V")

_LIVE: weakref.WeakSet[TermCache[Any]] = weakref.WeakSet()


def size_of(value: object) -> int:
    """Bytes ``value`` holds, following tuples, frozensets and lists (of strings, numbers,
    tuples, arrays: what the caches keep) one level down and numpy arrays to their data."""
    size = getsizeof(value)
    if isinstance(value, tuple | frozenset | list):
        if all(type(item) is str for item in value):  # n-grams, terms: the common case
            return size + sum(map(getsizeof, value))
        for item in value:
            size += getsizeof(item)
            if isinstance(item, tuple):
                size += sum(map(getsizeof, item))
            elif isinstance(item, np.ndarray):
                size += item.nbytes
    elif isinstance(value, np.ndarray):
        size += value.nbytes
    return size


class TermCache(Generic[_V]):
    """Word or term -> what ``make`` finds for it, within ``budget`` bytes (as ``weigh``, or
    :func:`size_of` of key and value, estimates them). Over budget, the oldest entries go until
    a quarter is free. Reads take no lock (a dict look-up is atomic); writes do, as the search
    thread and a build's may write at once."""

    def __init__(
        self,
        budget: int = TERMS_CACHE_BYTES,
        weigh: Callable[[str, _V], int] | None = None,
    ) -> None:
        self._values: dict[str, tuple[_V, int]] = {}
        self._budget = budget
        self._weigh = weigh
        self._bytes = 0
        self._lock = threading.Lock()
        _LIVE.add(self)

    @property
    def budget(self) -> int:
        return self._budget

    @property
    def bytes(self) -> int:
        """What the entries are estimated to hold."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._values)

    def peek(self, key: str) -> _V | None:
        found = self._values.get(key)
        return None if found is None else found[0]

    def get(self, key: str, make: Callable[[str], _V]) -> _V:
        found = self._values.get(key)
        if found is not None:
            return found[0]
        value = make(key)
        self.put(key, value)
        return value

    def put(self, key: str, value: _V) -> None:
        size = _ENTRY_BYTES + (
            self._weigh(key, value) if self._weigh else size_of(key) + size_of(value)
        )
        if size > self._budget // 4:
            return  # one entry must never empty the cache
        with self._lock:
            old = self._values.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._values[key] = (value, size)
            self._bytes += size
            if self._bytes > self._budget:
                target = self._budget * 3 // 4
                values = self._values
                while self._bytes > target:
                    oldest = next(iter(values))
                    self._bytes -= values.pop(oldest)[1]

    def room(self) -> int:
        """Bytes left before the budget is reached."""
        return self._budget - self._bytes

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._bytes = 0


def total_cache_bytes() -> int:
    """The bytes of every cache alive in the process (for soak tests and operators)."""
    return sum(cache.bytes for cache in list(_LIVE))
