"""Long work (index builds, corpus checks) in daemon threads: it cannot be interrupted, must not
hold up the process's exit, and its result comes back to the event loop that waits for it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["in_daemon_thread", "work_running"]

_T = TypeVar("_T")
_THREADS: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def in_daemon_thread(work: Callable[[], _T], name: str) -> asyncio.Future[_T]:
    """``work()`` started in a daemon thread; the future (of the running loop) gets its result
    or its exception. A future nobody waits for any more, or a loop that is gone, is left."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()

    def deliver(value: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def run() -> None:
        try:
            value, error = work(), None
        except BaseException as exc:
            value, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(deliver, value, error)

    thread = threading.Thread(target=run, name=name, daemon=True)
    _THREADS.add(thread)
    thread.start()
    return future


def work_running() -> bool:
    """Whether such work (abandoned at shutdown, perhaps) still runs: the process must then end
    without finalizing the interpreter under it (numpy's C++ code cannot unwind a thread's
    forced exit)."""
    return any(thread.is_alive() for thread in list(_THREADS))
