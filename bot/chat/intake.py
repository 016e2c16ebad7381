"""How updates come in, so that none that Telegram was told we have is lost, none is answered
twice, and no one sender's flood holds up the others.

- **Held before confirmed.** The queue PTB's updater and webhook put updates into
  (:class:`HeldQueue`) writes each one to the state store first (``StateStore.hold``). Only then
  does the updater ask Telegram for the next batch, which confirms this one; a webhook answers
  200 only after it too. An update already held or handled (Telegram delivering it again) is
  dropped at the door. It is released once handled. At start, and every :data:`LEASE_SECONDS`
  for the updates of a replica that died, held updates nobody released are handled again.
- **Bounded.** At most ``MAX_WAITING`` updates wait: the updater then stops fetching (Telegram
  keeps the rest), a webhook answers later. One sender may have ``PER_SENDER`` updates handled at
  once and ``PER_SENDER_WAITING`` waiting; beyond that, the sender's new updates are dropped
  (and released, so they are not replayed).
- **Fair.** Free slots go round-robin to the senders that wait (:class:`FairUpdates`), so one
  user's hundred stickers take at most ``PER_SENDER`` of the slots and everyone else is served
  between them.
- **Stopping.** :meth:`FairUpdates.stop` sends the waiting updates away unhandled: they stay
  held, so the next start answers them, and a SIGTERM with a backlog exits at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor

from bot.store.state import StateStore

__all__ = [
    "LEASE_SECONDS",
    "MAX_CONCURRENT",
    "MAX_WAITING",
    "PER_SENDER",
    "PER_SENDER_WAITING",
    "FairUpdates",
    "HeldQueue",
    "keep_lease",
    "replay_held",
    "sender_of",
]

logger = logging.getLogger(__name__)

#: Handled at once, in all (PTB's concurrency).
MAX_CONCURRENT = 64
#: Received and not yet handled, in all: beyond this, no more are taken from Telegram.
MAX_WAITING = 2000
#: Handled at once for one sender.
PER_SENDER = 4
#: Waiting for one sender: beyond this, the sender's new updates are dropped.
PER_SENDER_WAITING = 50
#: An update held this long and not released belongs to a process that died (live processes
#: renew theirs every third of it).
LEASE_SECONDS = 60.0
_REPLAY_BATCH = 500
_UNLIMITED = 1_000_000
_WARN_EVERY = 60.0


def sender_of(update: object) -> int:
    """Whose update it is, for fairness: the user, else the chat (a channel post), else 0."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return 0


class _Room:
    """The updates received and not yet handled (this process holds them), and a wait for room
    below a limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.ids: set[int] = set()
        self._changed = asyncio.Condition()

    async def wait(self, timeout: float) -> None:
        """Until at most ``limit`` wait (or ``timeout`` s: a stuck handler never stops intake
        for good)."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(lambda: len(self.ids) <= self.limit)

    async def remove(self, update_id: int) -> None:
        self.ids.discard(update_id)
        async with self._changed:
            self._changed.notify_all()


class HeldQueue(asyncio.Queue[object]):
    """PTB's update queue, holding each update in the state store before it is queued."""

    def __init__(self, state: StateStore, room: _Room, *, room_timeout: float = 60.0) -> None:
        super().__init__()
        self._state = state
        self._room = room
        self._room_timeout = room_timeout

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            payload = json.dumps(item.to_dict(), ensure_ascii=False, separators=(",", ":"))
            if not self._state.hold(item.update_id, payload):
                logger.info("update %d delivered again: ignored", item.update_id)
                return
            self._room.ids.add(item.update_id)
            await self._room.wait(self._room_timeout)
        await super().put(item)

    def replay(self, update: Update) -> None:
        """Queue an update held before (by this process's predecessor, or a dead replica): it
        is held already, so it skips the door."""
        self._room.ids.add(update.update_id)
        self.put_nowait(update)


class FairUpdates(BaseUpdateProcessor):
    """PTB's update processor: fair slots per sender, release after handling, and a stop that
    leaves what waits for the next start."""

    def __init__(
        self,
        state: StateStore,
        *,
        max_concurrent: int = MAX_CONCURRENT,
        per_sender: int = PER_SENDER,
        per_sender_waiting: int = PER_SENDER_WAITING,
        max_waiting: int = MAX_WAITING,
        room_timeout: float = 60.0,
    ) -> None:
        # PTB's own semaphore (its process_update is final) never blocks: the fair slots below
        # decide who runs, so they must see every update as it arrives.
        super().__init__(max_waiting + _UNLIMITED)
        self._state = state
        self._total = max_concurrent
        self._per_sender = per_sender
        self._per_sender_waiting = per_sender_waiting
        self._running: dict[int, int] = {}
        self._busy = 0
        # Insertion-ordered: the sender served longest ago comes first.
        self._waiting: dict[int, deque[asyncio.Future[bool]]] = {}
        self._stopped = False
        self._dropped = 0
        self._warned = float("-inf")
        self.room = _Room(max_waiting)
        self.queue = HeldQueue(state, self.room, room_timeout=room_timeout)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        sender = sender_of(update)
        ran = done = False  # done: handled or dropped, released, never handled again
        try:
            if await self._acquire(sender):
                ran = done = True  # a handler that fails is not retried: the error handler saw it
                try:
                    await coroutine
                finally:
                    self._release(sender)
            else:
                done = not self._stopped
        finally:
            if not ran:
                _close(coroutine)
            if isinstance(update, Update):
                if done:
                    self._state.release(update.update_id)
                await self.room.remove(update.update_id)

    async def initialize(self) -> None:
        """Nothing to set up: the slots live in this object."""

    async def shutdown(self) -> None:
        """Nothing to tear down: :meth:`stop` has sent the waiting away."""

    def stop(self) -> None:
        """Send every waiting update away unhandled (still held: the next start answers it);
        the running ones finish. New ones are not taken either."""
        self._stopped = True
        for waiters in self._waiting.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(False)
        self._waiting.clear()

    @property
    def held(self) -> frozenset[int]:
        """The updates this process holds (received, not yet handled): renewed by the lease."""
        return frozenset(self.room.ids)

    async def _acquire(self, sender: int) -> bool:
        """True when a slot is this update's; False when it is dropped (the sender has too
        many waiting) or the bot is stopping."""
        if self._stopped:
            return False
        if not self._waiting and self._free_for(sender):
            self._take(sender)
            return True
        waiters = self._waiting.setdefault(sender, deque())
        if len(waiters) >= self._per_sender_waiting:
            self._drop(sender)
            return False
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        waiters.append(waiter)
        self._grant()  # a slot may be free for this sender although others wait
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and waiter.result():
                self._release(sender)  # granted just as it was cancelled
            else:
                with contextlib.suppress(ValueError):
                    waiters.remove(waiter)
            raise

    def _free_for(self, sender: int) -> bool:
        return self._busy < self._total and self._running.get(sender, 0) < self._per_sender

    def _take(self, sender: int) -> None:
        self._busy += 1
        self._running[sender] = self._running.get(sender, 0) + 1

    def _release(self, sender: int) -> None:
        self._busy -= 1
        left = self._running[sender] - 1
        if left:
            self._running[sender] = left
        else:
            del self._running[sender]
        self._grant()

    def _grant(self) -> None:
        """Free slots to waiting senders, one each in turn, the longest unserved first."""
        progress = True
        while progress and self._busy < self._total and self._waiting:
            progress = False
            for sender in list(self._waiting):
                if self._busy >= self._total:
                    break
                if not self._free_for(sender):
                    continue
                waiters = self._waiting.pop(sender)
                waiter = waiters.popleft()
                if waiters:
                    self._waiting[sender] = waiters  # to the back of the line
                if waiter.done():  # cancelled while waiting
                    progress = True
                    continue
                self._take(sender)
                waiter.set_result(True)
                progress = True

    def _drop(self, sender: int) -> None:
        self._dropped += 1
        now = time.monotonic()
        if now - self._warned >= _WARN_EVERY:
            self._warned = now
            logger.warning(
                "sender %d has %d updates waiting: new ones dropped (%d so far)",
                sender,
                self._per_sender_waiting,
                self._dropped,
            )


def _close(coroutine: Awaitable[Any]) -> None:
    """A coroutine that will never run is closed, so Python does not warn it was never awaited."""
    close: Callable[[], object] | None = getattr(coroutine, "close", None)
    if close is not None:
        close()


async def replay_held(
    state: StateStore, processor: FairUpdates, bot: Bot, older_than: float
) -> int:
    """Queue the held updates nobody released for ``older_than`` s (0: all, at the start of the
    one process that owns a state file); returns how many."""
    replayed = 0
    for _ in range(1000):  # bounded: at most 500k a round
        batch = state.claim_held(older_than, _REPLAY_BATCH, exclude=processor.held)
        for held in batch:
            try:
                update = Update.de_json(json.loads(held.payload), bot)
            except (ValueError, TypeError, KeyError) as exc:
                logger.warning("held update %d unreadable (%s): dropped", held.update_id, exc)
                state.release(held.update_id)
                continue
            if update is None:
                state.release(held.update_id)
                continue
            processor.queue.replay(update)
            replayed += 1
        if len(batch) < _REPLAY_BATCH:
            break
    if replayed:
        logger.info("%d updates received before a stop or crash: answering them now", replayed)
    return replayed


async def keep_lease(
    state: StateStore, processor: FairUpdates, bot: Bot, stopped: asyncio.Event
) -> None:
    """While the bot runs: renew this process's held updates, and take over those of a replica
    that died (held and not renewed for :data:`LEASE_SECONDS`)."""
    while not stopped.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LEASE_SECONDS / 3):
                await stopped.wait()
        if stopped.is_set():
            return
        state.renew_held(processor.held)
        await replay_held(state, processor, bot, LEASE_SECONDS)
