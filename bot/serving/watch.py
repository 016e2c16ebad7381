"""The corpus directory, checked and watched while the bot serves: files added, changed or
removed are indexed through the holder's live updates (:meth:`CorpusHolder.update`), never a
whole reload.

- The check: every file is compared (through the corpus file cache: a ``stat`` each, reads of
  the changed ones) with what the served index holds, file by file; the files that differ are
  updated. It runs once after a restart that served the last committed index before looking
  at the files (:func:`bot.loader.open_last_for`), and every RESCAN_SECONDS as the fallback
  for changes the watch misses (network file systems, a full inotify queue, no watchfiles).
- The watch: inotify (or the platform's equivalent) through ``watchfiles``; a burst of writes
  is gathered until it settles, then the named files are compared like the check's and those
  that differ updated together. Hidden files and ``.part`` files (half-written ones, ours
  included) are ignored; a file the bot wrote and indexed itself (a channel post, an upload)
  compares equal by then, so it costs no second update.

Until a check has finished, questions see the last committed index: what the bot served when
it stopped, plus nothing newer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.corpus import SUPPORTED_SUFFIXES, CorpusLoad, Document, load_corpus, load_file
from bot.errors import CitebotError, Skipped
from bot.loader import LoadedCorpus, search_config
from bot.serving.holder import CorpusHolder
from bot.serving.threads import in_daemon_thread
from bot.settings import Settings
from bot.store import filecache, latest

__all__ = [
    "DEBOUNCE_MS",
    "STEP_MS",
    "CheckResult",
    "CorpusWatch",
    "changed_files",
    "check_corpus",
    "watched",
]

logger = logging.getLogger(__name__)

#: How a burst of writes is gathered (watchfiles' step and debounce, in milliseconds): changes
#: are handed on once none came for STEP_MS, or after DEBOUNCE_MS at most.
STEP_MS = 300
DEBOUNCE_MS = 3000

_Content = tuple[tuple[Document, ...], tuple[Skipped, ...]]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A finished check or watched change: when, what it found and what the update did."""

    #: "start", "rescan" or "watch".
    trigger: str
    #: Wall-clock time (``time.time()``) it finished.
    finished: float
    seconds: float
    #: Corpus files (relative paths) whose index entries were updated.
    changed: tuple[str, ...] = ()
    #: Why it failed ("" if it did not); the index served stays as it was.
    error: str = ""


def _owner(path: str) -> str:
    head, sep, tail = path.rpartition(":")
    return head if sep and tail.isdigit() else path


def _by_file(corpus: CorpusLoad, only: Set[str] | None = None) -> dict[str, _Content]:
    """Each file's documents and skipped entries (of the files in ``only``, if given)."""
    docs: dict[str, list[Document]] = {}
    skips: dict[str, list[Skipped]] = {}
    for doc in corpus.documents:
        rel = _owner(doc.path)
        if only is None or rel in only:
            docs.setdefault(rel, []).append(doc)
    for skip in corpus.skipped:
        rel = _owner(skip.path)
        if only is None or rel in only:
            skips.setdefault(rel, []).append(skip)
    return {
        rel: (tuple(docs.get(rel, ())), tuple(skips.get(rel, ())))
        for rel in docs.keys() | skips.keys()
    }


def _differing(fresh: CorpusLoad, served: CorpusLoad) -> list[str]:
    """The files whose documents or skipped entries differ between the two loads. Documents are
    compared as sets (ids are unique and both loads are sorted by them): grouping a million
    documents by file first took seconds."""
    if fresh.documents == served.documents and fresh.skipped == served.skipped:
        return []
    docs = set(fresh.documents).symmetric_difference(served.documents)
    skips = set(fresh.skipped).symmetric_difference(served.skipped)
    return sorted({_owner(doc.path) for doc in docs} | {_owner(skip.path) for skip in skips})


def check_corpus(settings: Settings, loaded: LoadedCorpus) -> list[Path]:
    """The files of CORPUS_DIR whose documents differ from ``loaded``'s (CorpusError if no
    usable document is there). With a cache directory, the pointer to the last committed index
    is moved onto the file cache store this check leaves (:mod:`bot.store.latest`)."""
    config = search_config(settings)
    max_bytes = settings.max_file_mb * 1024 * 1024
    root = Path(os.path.abspath(settings.corpus_dir))
    cache_dir = settings.cache_dir
    cached: filecache.CachedCorpus | None = None
    if cache_dir is None or str(cache_dir) == "":
        fresh = load_corpus(root, default_lang=config.default_lang, max_file_bytes=max_bytes)
    else:
        cached = filecache.load_corpus_cached(
            root, cache_dir, default_lang=config.default_lang, max_file_bytes=max_bytes
        )
        fresh = cached.corpus
    changed = _differing(fresh, loaded.corpus)
    if cache_dir is not None and str(cache_dir) != "" and cached is not None:
        if cached.store is not None and loaded.key:
            served = _by_file(loaded.corpus, cached.stale | set(changed))
            # The served index as the store left now plus an overlay: what it holds of the
            # files that differ from the store (gone: None).
            overlay = {rel: served.get(rel) for rel in cached.stale | set(changed)}
            pointer = latest.Latest(loaded.key, cached.store.name, overlay)
            latest.write_latest(cache_dir, root, config, max_bytes, pointer)
        else:
            latest.remove_latest(cache_dir, root)
    return [root / rel for rel in changed]


def changed_files(settings: Settings, loaded: LoadedCorpus, paths: Iterable[Path]) -> list[Path]:
    """Of ``paths`` (files of CORPUS_DIR that were written or removed), those whose documents
    differ from ``loaded``'s: a file the bot indexed itself compares equal."""
    config = search_config(settings)
    max_bytes = settings.max_file_mb * 1024 * 1024
    root = Path(os.path.abspath(settings.corpus_dir))
    rels: dict[str, Path] = {}
    folders: list[str] = []
    for path in paths:
        full = Path(os.path.abspath(path))
        with contextlib.suppress(ValueError):
            rel = full.relative_to(root).as_posix()
            if full.suffix.lower() in SUPPORTED_SUFFIXES and not full.is_dir():
                rels[rel] = full
                continue
            # A directory made, moved in or away: its files may have no event of their own
            # (written before the watch on the new directory was set up).
            folders.append(rel + "/")
            for below in _files_below(root, full):
                rels[below.relative_to(root).as_posix()] = below
    if folders:
        prefixes = tuple(folders)
        entries = [d.path for d in loaded.corpus.documents]
        entries += [s.path for s in loaded.corpus.skipped]
        for owner in {_owner(path) for path in entries if path.startswith(prefixes)}:
            rels.setdefault(owner, root / owner)
    served = _by_file(loaded.corpus, set(rels))
    changed = []
    for rel, full in sorted(rels.items()):
        now: _Content | None = None
        if full.is_file():
            docs, skips = load_file(
                full, root, default_lang=config.default_lang, max_file_bytes=max_bytes
            )
            now = (tuple(docs), tuple(skips))
        if now != served.get(rel):
            changed.append(full)
    return changed


def _files_below(root: Path, folder: Path) -> list[Path]:
    """The supported, not hidden files below ``folder`` (none if it is not a directory)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found += [
            Path(dirpath) / name
            for name in filenames
            if watched(root, os.path.join(dirpath, name)) and not name.startswith(".")
        ]
    return found


def watched(root: Path, path: str) -> bool:
    """Whether a change at ``path`` concerns the corpus: not hidden (no part of its path below
    ``root`` starts with "."), and a supported file (never a ``.part`` one) or a directory, or
    gone (it may have been a directory)."""
    try:
        parts = Path(path).relative_to(root).parts
    except ValueError:
        return False
    if not parts or any(part.startswith(".") for part in parts):
        return False
    suffix = Path(path).suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return True
    return suffix != ".part" and (os.path.isdir(path) or not os.path.lexists(path))


_T = TypeVar("_T")


async def _in_thread(work: Callable[[], _T]) -> _T:
    """``work()`` in a daemon thread: a check at a million passages takes seconds and must not
    hold up the process's exit."""
    return await in_daemon_thread(work, "citebot-check")


class CorpusWatch:
    """Checks (at start, every ``rescan_seconds``) and watches (``watch``) the corpus directory
    of ``holder``'s corpus; :attr:`last` and :attr:`checking_since` are for /stats."""

    def __init__(
        self, holder: CorpusHolder, settings: Settings, *, check_first: bool = False
    ) -> None:
        """``check_first``: the served index was opened without a look at the files."""
        self._holder = holder
        self._check_first = check_first
        self._settings = settings
        self._root = Path(os.path.abspath(settings.corpus_dir))
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        #: The last check or watched change that finished, and when the check running began.
        self.last: CheckResult | None = None
        self.checking_since: float | None = None
        #: Finished checks and watched changes, for tests and tools that wait for one.
        self.count = 0
        self._counted = asyncio.Condition()
        #: Set once inotify (watchfiles) watches the directory; never without watchfiles.
        self.watching = asyncio.Event()

    def start(self) -> None:
        if self._check_first:
            self._spawn(self.check("start"))
        if self._settings.watch_corpus:
            self._spawn(self._watch())
        if self._settings.rescan_seconds > 0:
            self._spawn(self._rescan())

    def _spawn(self, work: Any) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(work))

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def wait_count(self, count: int) -> None:
        """Return once ``count`` checks or watched changes finished (callers bound the wait)."""
        async with self._counted:
            await self._counted.wait_for(lambda: self.count >= count)

    async def check(self, trigger: str) -> CheckResult:
        """Compare every file with the served index and update those that differ."""
        return await self._run(trigger, lambda loaded: check_corpus(self._settings, loaded))

    async def changed(self, paths: Sequence[Path]) -> CheckResult:
        """Files at ``paths`` were written or removed: update those that differ."""
        files = tuple(paths)
        return await self._run(
            "watch", lambda loaded: changed_files(self._settings, loaded, files), quiet=True
        )

    async def _run(
        self,
        trigger: str,
        differing: Callable[[LoadedCorpus], list[Path]],
        quiet: bool = False,
    ) -> CheckResult:
        async with self._lock:
            started = time.perf_counter()
            self.checking_since = time.time()
            try:
                # A reload or update under way (a post the bot is indexing) finishes first, so
                # its files compare equal.
                await self._holder.idle()
                paths = await _in_thread(lambda: differing(self._holder.loaded))
                error = ""
                if paths:
                    update = await self._holder.update(paths)
                    # Abandoned at shutdown: the files are indexed at the next start.
                    error = "" if update.ok or update.stopped else update.error
            except CitebotError as exc:
                paths, error = [], str(exc)
            finally:
                self.checking_since = None
            rels = tuple(p.relative_to(self._root).as_posix() for p in paths)
            result = CheckResult(trigger, time.time(), time.perf_counter() - started, rels, error)
            if not (quiet and not rels and not error):
                self.last = result
            if error:
                logger.error("corpus %s (%s) failed: %s", self._root, trigger, error)
            elif rels or not quiet:
                logger.info(
                    "corpus %s checked (%s) in %.2f s: %d file(s) changed%s",
                    self._root,
                    trigger,
                    result.seconds,
                    len(rels),
                    ": " + ", ".join(rels[:10]) + (" ..." if len(rels) > 10 else "")
                    if rels
                    else "",
                )
            async with self._counted:
                self.count += 1
                self._counted.notify_all()
            return result

    async def _rescan(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._settings.rescan_seconds)
            if not self._stop.is_set():
                await self.check("rescan")

    async def _watch(self) -> None:
        try:
            import watchfiles
        except ImportError:
            logger.warning("watchfiles is not installed: corpus changes are found by the rescan")
            return
        root = self._root

        def wanted(_change: object, path: str) -> bool:
            return watched(root, path)

        try:
            # An empty set each second without changes: the first one says the watch is set up.
            async for changes in watchfiles.awatch(
                root,
                watch_filter=wanted,
                stop_event=self._stop,
                step=STEP_MS,
                debounce=DEBOUNCE_MS,
                rust_timeout=1000,
                yield_on_timeout=True,
                recursive=True,
            ):
                self.watching.set()
                if changes:
                    await self.changed(sorted({Path(path) for _, path in changes}))
        except Exception as exc:  # e.g. too many inotify watches: the rescan is the fallback
            logger.warning("corpus %s not watched (%s): the rescan finds changes", root, exc)
        finally:
            self.watching.clear()
