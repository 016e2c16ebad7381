"""The bot's state in Redis (``STATE_URL=redis://…``), for bots that run as several processes:
the same :class:`~bot.store.state.StateStore` as the SQLite file, shared by every replica.

Every check-and-change is one Lua script, so two replicas never both take an update as new or
both let a user past the flood limit. Times are the caller's clock (as in the SQLite store), and
every key also carries a Redis expiry, so nothing outlives its use even if nobody reads it.

When Redis goes away the bot keeps answering: the calls fall back to what harms least (a
question counts as new and allowed, a button says it expired, /stats counts nothing) and log
one warning a minute until Redis is back.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection
from typing import Any, TypeVar, cast

import redis

from bot.store.state import (
    MAX_ATTEMPTS,
    PAGE_SECONDS,
    CorpusChange,
    HeldUpdate,
    UsageWindow,
    normal_question,
)

__all__ = ["RedisState"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_UPDATE_SECONDS = 48 * 3600
_QUESTION_SECONDS = 30 * 86400
_FLOOD_SECONDS = 60.0
_MAX_QUESTIONS = 2_000_000
_MISSING_SHOWN = 10
_WARN_EVERY = 60.0
_CHANGES_KEPT = 1000  # corpus changes in the stream (a replica that is behind reloads anyway)

# KEYS[1] the update's key, KEYS[2] the held payloads (hash), KEYS[3] their times (sorted set);
# ARGV now, the window, the expiry, the update id, its payload. 1 when the update is new.
_HOLD = """
local seen = redis.call('GET', KEYS[1])
if seen and tonumber(seen) > tonumber(ARGV[1]) - tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1
"""
# KEYS[1] payloads, KEYS[2] times, KEYS[3] attempts (hash); ARGV now, cut, limit, max attempts,
# then the ids to skip. Returns id, payload, id, payload… of the updates handed out.
_CLAIM = """
local skip = {}
for i = 5, #ARGV do skip[ARGV[i]] = true end
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0,
                       tonumber(ARGV[3]) + #ARGV - 4)
local out = {}
for _, id in ipairs(ids) do
  if not skip[id] and #out < 2 * tonumber(ARGV[3]) then
    local payload = redis.call('HGET', KEYS[1], id)
    local tries = redis.call('HINCRBY', KEYS[3], id, 1)
    if not payload or tries > tonumber(ARGV[4]) then
      redis.call('HDEL', KEYS[1], id)
      redis.call('ZREM', KEYS[2], id)
      redis.call('HDEL', KEYS[3], id)
    else
      redis.call('ZADD', KEYS[2], ARGV[1], id)
      table.insert(out, id)
      table.insert(out, payload)
    end
  end
end
redis.call('EXPIRE', KEYS[3], 172800)
return out
"""
# KEYS[1] the user's sorted set of question times; ARGV now, window, limit, member. 1: allowed.
_ALLOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""
# KEYS[1] all questions, KEYS[2] the unanswered; ARGV now, member, answered, cut, max kept.
_RECORD = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '0' then redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2]) end
for i = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[4])
  redis.call('ZREMRANGEBYRANK', KEYS[i], 0, -tonumber(ARGV[5]) - 1)
end
return 1
"""


class RedisState:
    """:class:`~bot.store.state.StateStore` on a Redis server; ``prefix`` keeps bots apart.
    Corpus changes go through a Redis stream: a replica that was briefly cut off reads what it
    missed from where it stopped."""

    shared = True

    def __init__(
        self, url: str, *, prefix: str = "citebot:", clock: Callable[[], float] = time.time
    ) -> None:
        self.url = url
        self._prefix = prefix
        self._clock = clock
        # Short timeouts: a call runs on the bot's event loop, a dead server must not stall it.
        self._redis = redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5, decode_responses=True
        )
        self._hold = self._redis.register_script(_HOLD)
        self._claim = self._redis.register_script(_CLAIM)
        self._allow = self._redis.register_script(_ALLOW)
        self._record = self._redis.register_script(_RECORD)
        # Reading changes blocks for seconds: its own connection, with a longer timeout.
        self._url = url
        self._follower: redis.Redis | None = None
        self._warned = float("-inf")
        self._stopped = threading.Event()

    def ping(self) -> None:
        """ConnectionError now if the server cannot be reached (checked once at start)."""
        self._redis.ping()

    # -- buttons ---------------------------------------------------------------------------

    def put_page(self, chat_id: int, question: str) -> str:
        key = secrets.token_urlsafe(16)
        value = f"{chat_id}\n{self._clock()!r}\n{question}"
        self._safely(lambda: self._redis.set(self._key("page", key), value, ex=PAGE_SECONDS), None)
        return key

    def page(self, key: str, chat_id: int) -> str | None:
        value = self._safely(lambda: self._redis.get(self._key("page", key)), None)
        if not isinstance(value, str):
            return None
        chat, created, question = value.split("\n", 2)
        if int(chat) != chat_id or float(created) <= self._clock() - PAGE_SECONDS:
            return None
        return question

    # -- usage -----------------------------------------------------------------------------

    def record_question(self, question: str, answered: bool) -> None:
        now = self._clock()
        member = f"{secrets.token_hex(6)}\t{'' if answered else normal_question(question)}"
        keys = [self._key("questions"), self._key("unanswered")]
        args: list[str | int | float] = [
            repr(now),
            member,
            int(answered),
            repr(now - _QUESTION_SECONDS),
            _MAX_QUESTIONS,
        ]
        self._safely(lambda: self._record(keys=keys, args=args), None)

    def usage(self, days: int) -> UsageWindow:
        since = f"({self._clock() - days * 86400.0!r}"

        def read() -> tuple[int, list[str]]:
            with self._redis.pipeline(transaction=True) as pipe:
                pipe.zcount(self._key("questions"), since, "+inf")
                pipe.zrangebyscore(self._key("unanswered"), since, "+inf")
                total, unanswered = pipe.execute()
            return int(total), list(unanswered)

        nothing: tuple[int, list[str]] = (0, [])
        total, unanswered = self._safely(read, nothing)
        # In time order, so the first time a question was asked decides ties.
        counts = Counter(member.split("\t", 1)[1] for member in unanswered)
        order = {text: i for i, text in enumerate(counts)}
        missing = sorted(counts.items(), key=lambda item: (-item[1], order[item[0]]))
        return UsageWindow(days, total, len(unanswered), tuple(missing[:_MISSING_SHOWN]))

    # -- updates and flood -----------------------------------------------------------------

    def hold(self, update_id: int, payload: str) -> bool:
        now = self._clock()
        args: list[str | int | float] = [
            repr(now),
            _UPDATE_SECONDS,
            _UPDATE_SECONDS,
            update_id,
            payload,
        ]
        keys = [self._key("update", str(update_id)), self._key("held"), self._key("held-at")]
        return bool(self._safely(lambda: self._hold(keys=keys, args=args), 1))

    def release(self, update_id: int) -> None:
        def drop() -> None:
            with self._redis.pipeline(transaction=True) as pipe:
                pipe.hdel(self._key("held"), str(update_id))
                pipe.zrem(self._key("held-at"), str(update_id))
                pipe.hdel(self._key("held-tries"), str(update_id))
                pipe.execute()

        self._safely(drop, None)

    def renew_held(self, update_ids: Collection[int]) -> None:
        if not update_ids:
            return
        now = self._clock()
        mapping: dict[Any, Any] = {str(update_id): now for update_id in update_ids}
        self._safely(lambda: self._redis.zadd(self._key("held-at"), mapping, xx=True), None)

    def claim_held(
        self, older_than: float, limit: int, exclude: Collection[int] = ()
    ) -> tuple[HeldUpdate, ...]:
        now = self._clock()
        keys = [self._key("held"), self._key("held-at"), self._key("held-tries")]
        args: list[str | int | float] = [
            repr(now),
            repr(now - older_than),
            limit,
            MAX_ATTEMPTS,
            *(str(update_id) for update_id in exclude),
        ]
        nothing: list[str] = []
        found = self._safely(lambda: [str(v) for v in self._claim(keys=keys, args=args)], nothing)
        return tuple(
            HeldUpdate(int(found[i]), str(found[i + 1])) for i in range(0, len(found) - 1, 2)
        )

    def allow(self, user_id: int, per_minute: int) -> bool:
        now = self._clock()
        args: list[str | int | float] = [
            repr(now),
            _FLOOD_SECONDS,
            per_minute,
            f"{now!r}:{secrets.token_hex(4)}",
        ]
        key = self._key("flood", str(user_id))
        return bool(self._safely(lambda: self._allow(keys=[key], args=args), 1))

    # -- corpus changes between replicas -------------------------------------------------

    def announce(self, change: CorpusChange) -> None:
        fields: dict[Any, Any] = {"origin": change.origin, "paths": json.dumps(list(change.paths))}
        self._safely(
            lambda: self._redis.xadd(
                self._key("corpus"), fields, maxlen=_CHANGES_KEPT, approximate=True
            ),
            None,
        )

    def latest_change(self) -> str:
        def newest() -> str:
            found = self._redis.xrevrange(self._key("corpus"), count=1)
            return str(found[0][0]) if found else "0-0"

        return self._safely(newest, "0-0")

    def changes(self, cursor: str, timeout: float) -> tuple[str, tuple[CorpusChange, ...]]:
        def read() -> tuple[str, tuple[CorpusChange, ...]]:
            if self._follower is None:
                self._follower = redis.Redis.from_url(
                    self._url, socket_timeout=timeout + 5, decode_responses=True
                )
            found = cast(
                "list[tuple[str, list[tuple[str, dict[str, str]]]]] | None",
                self._follower.xread(
                    {self._key("corpus"): cursor}, block=max(1, int(timeout * 1000)), count=100
                ),
            )
            out: list[CorpusChange] = []
            last = cursor
            for _, entries in found or ():
                for entry_id, fields in entries:
                    last = str(entry_id)
                    paths = tuple(str(p) for p in json.loads(fields.get("paths", "[]")))
                    out.append(CorpusChange(str(fields.get("origin", "")), paths))
            return last, tuple(out)

        try:
            return read()
        except redis.RedisError as exc:
            self._warn(exc)
            self._stopped.wait(timeout)  # not a busy loop while the server is away
            return cursor, ()

    def close(self) -> None:
        self._stopped.set()
        self._redis.close()
        if self._follower is not None:
            self._follower.close()

    # -- helpers ---------------------------------------------------------------------------

    def _key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    def _safely(self, call: Callable[[], _T], fallback: _T) -> _T:
        try:
            return call()
        except redis.RedisError as exc:
            self._warn(exc)
            return fallback

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned >= _WARN_EVERY:
            self._warned = now
            logger.warning(
                "state server %s unreachable (%s): answering without it", self.safe_url(), exc
            )

    def safe_url(self) -> str:
        """The URL without its password (it may hold one: redis://:secret@host)."""
        head, at, tail = self.url.rpartition("@")
        return f"{head.split('://', 1)[0]}://…@{tail}" if at else self.url
