"""Replicas of one bot share a corpus directory and a state server; a change one of them makes
to the corpus (an admin's /reload, a channel post, an upload) reaches the others through the
state store, and each applies it to its own index. A replica that starts later reads the shared
directory at start, so it needs nothing it missed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from pathlib import Path

from bot.serving.holder import CorpusHolder
from bot.store.state import CorpusChange, StateStore

__all__ = ["ReplicaFollower"]

logger = logging.getLogger(__name__)

_WAIT_SECONDS = 1.0  # one blocking read of the store: bounds how long a stop takes
_STOP_SECONDS = 10.0


class ReplicaFollower:
    """Announces this replica's corpus changes and applies the others', while started."""

    def __init__(self, holder: CorpusHolder, store: StateStore) -> None:
        self.origin = secrets.token_hex(6)  # this process, among the replicas
        self._holder = holder
        self._store = store
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        holder.announcer = self._announce

    def _announce(self, paths: tuple[str, ...]) -> None:
        self._store.announce(CorpusChange(self.origin, paths))

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._follow())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, _STOP_SECONDS)

    async def _follow(self) -> None:
        cursor = await asyncio.to_thread(self._store.latest_change)
        while not self._stop.is_set():
            cursor, changes = await asyncio.to_thread(self._store.changes, cursor, _WAIT_SECONDS)
            for change in changes:
                if change.origin != self.origin and not self._stop.is_set():
                    await self._apply(change)

    async def _apply(self, change: CorpusChange) -> None:
        if change.paths:
            result = await self._holder.update([Path(p) for p in change.paths], announce=False)
        else:
            result = await self._holder.reload(announce=False)
        if result.ok:
            logger.info(
                "change from replica %s applied (%s): %d documents",
                change.origin,
                f"{len(change.paths)} file(s)" if change.paths else "reload",
                result.documents,
            )
        elif not result.stopped:
            logger.warning("change from replica %s not applied: %s", change.origin, result.error)
