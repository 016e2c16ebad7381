"""Per-term look-ups of one engine, remembered: questions repeat their words, and finding a
term's spelling neighbours or compound parts scans n-gram tables. Bounded, for an engine that
serves for days: a full cache starts over."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["TERMS_CACHE_SIZE", "TermCache"]

#: Terms one cache holds before it is cleared.
TERMS_CACHE_SIZE = 50_000

_V = TypeVar("_V")


class TermCache(Generic[_V]):
    """Term -> what ``make`` finds for it (thread-safe: a lost race computes a value twice)."""

    def __init__(self, limit: int = TERMS_CACHE_SIZE) -> None:
        self._values: dict[str, _V] = {}
        self._limit = limit

    def get(self, term: str, make: Callable[[str], _V]) -> _V:
        found = self._values.get(term)
        if found is None:
            found = make(term)
            if len(self._values) >= self._limit:
                self._values.clear()
            self._values[term] = found
        return found
