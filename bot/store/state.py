"""What the bot remembers about its users, kept across restarts: the questions behind "more"
buttons, usage and the questions nothing answered, the updates already handled, flood counters.

One small interface, :class:`StateStore`, so the chat layer does not care where the state lives.
:class:`SqliteState` keeps it in one SQLite file (``STATE_DIR/state-<bot id>.sqlite3``): embedded,
nothing to start. WAL mode with ``synchronous=NORMAL``: every call is one transaction, and a process
killed at any point (kill -9) loses nothing committed and leaves a file SQLite recovers on open;
only a power cut may lose the last commits, never the file. Each table is bounded by age and by
rows, so the file stays small whatever the traffic. A file SQLite cannot read is moved aside
(and logged), and the bot starts with an empty state instead of not starting.

Button keys are 128 random bits (``secrets``), bound to the chat the button was sent to: a key
from another chat, a guessed one or an expired one finds nothing. The Bot API warns that a
client can send any callback data, so a key is never a counter.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "MAX_ATTEMPTS",
    "PAGE_SECONDS",
    "STATE_FILE",
    "CorpusChange",
    "HeldUpdate",
    "SqliteState",
    "StateStore",
    "UsageWindow",
    "normal_question",
]

logger = logging.getLogger(__name__)

STATE_FILE = "state.sqlite3"
#: How long a "more" button keeps working.
PAGE_SECONDS = 48 * 3600
_UPDATE_SECONDS = 48 * 3600  # Telegram keeps an unconfirmed update for 24 h
_QUESTION_SECONDS = 30 * 86400  # /stats shows the last 7 and 30 days
_FLOOD_SECONDS = 60.0
_MAX_PAGES = 200_000
_MAX_UPDATES = 100_000
#: Handed out again this often at most: an update that kills the process each time it is
#: handled is then given up (and logged), not replayed at every start for ever.
MAX_ATTEMPTS = 3
_MAX_QUESTIONS = 2_000_000
_PRUNE_EVERY = 500  # writes between two prunes of a table
_MISSING_SHOWN = 10
_QUESTION_KEY_CHARS = 100

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    key TEXT PRIMARY KEY, chat_id INTEGER NOT NULL, question TEXT NOT NULL, created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS pages_created ON pages (created);
CREATE TABLE IF NOT EXISTS questions (
    asked REAL NOT NULL, answered INTEGER NOT NULL, missing TEXT
);
CREATE INDEX IF NOT EXISTS questions_asked ON questions (asked);
CREATE TABLE IF NOT EXISTS updates (update_id INTEGER PRIMARY KEY, seen REAL NOT NULL);
CREATE INDEX IF NOT EXISTS updates_seen ON updates (seen);
CREATE TABLE IF NOT EXISTS held (
    update_id INTEGER PRIMARY KEY, payload TEXT NOT NULL, held REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS held_held ON held (held);
CREATE TABLE IF NOT EXISTS flood (user_id INTEGER NOT NULL, asked REAL NOT NULL);
CREATE INDEX IF NOT EXISTS flood_user ON flood (user_id, asked);
"""


@dataclass(frozen=True, slots=True)
class UsageWindow:
    """Questions of the last ``days`` days: how many, how many found nothing, and the most
    frequent of those (what the corpus lacks)."""

    days: int
    questions: int
    unanswered: int
    missing: tuple[tuple[str, int], ...]

    @property
    def unanswered_share(self) -> float:
        return self.unanswered / self.questions if self.questions else 0.0


@dataclass(frozen=True, slots=True)
class CorpusChange:
    """A change of the shared corpus one replica made, for the others to apply: the files
    written or removed, or (no paths) a full reload."""

    origin: str
    paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HeldUpdate:
    """An update received and not yet handled, as the Bot API sent it (JSON)."""

    update_id: int
    payload: str


class StateStore(Protocol):
    """The bot's state, wherever it is kept. ``shared`` stores (a server) also carry corpus
    changes between replicas; a file is one machine's, and its announcements go nowhere."""

    shared: bool

    def put_page(self, chat_id: int, question: str) -> str:
        """A new unguessable key for the question behind a "more" button in ``chat_id``."""
        ...

    def page(self, key: str, chat_id: int) -> str | None:
        """The question behind ``key``, if it was made for ``chat_id`` and has not expired."""
        ...

    def record_question(self, question: str, answered: bool) -> None:
        """Count a question for /stats (its text is kept only when nothing answered it)."""
        ...

    def usage(self, days: int) -> UsageWindow:
        """The questions of the last ``days`` days."""
        ...

    def hold(self, update_id: int, payload: str) -> bool:
        """The first time ``update_id`` is seen: keep it (``payload``, the update's JSON) until
        :meth:`release`, remember the id, and return True. False for a repeat."""
        ...

    def release(self, update_id: int) -> None:
        """The update is handled: its payload is dropped (the id stays remembered)."""
        ...

    def renew_held(self, update_ids: Collection[int]) -> None:
        """These held updates are still being worked on by a live process."""
        ...

    def claim_held(
        self, older_than: float, limit: int, exclude: Collection[int] = ()
    ) -> tuple[HeldUpdate, ...]:
        """Held updates not released nor renewed for ``older_than`` s (a process died with
        them), oldest first, at most ``limit``; each is renewed as it is handed out, so one
        process takes it. One handed out :data:`MAX_ATTEMPTS` times is given up instead."""
        ...

    def allow(self, user_id: int, per_minute: int) -> bool:
        """Whether ``user_id`` may ask now (at most ``per_minute`` in any 60 s); counts it."""
        ...

    def announce(self, change: CorpusChange) -> None:
        """Tell the other replicas about a corpus change this one made."""
        ...

    def latest_change(self) -> str:
        """A cursor at the newest change: :meth:`changes` after it returns only newer ones."""
        ...

    def changes(self, cursor: str, timeout: float) -> tuple[str, tuple[CorpusChange, ...]]:
        """The changes after ``cursor`` (waiting up to ``timeout`` s for one) and the new
        cursor."""
        ...

    def close(self) -> None: ...


def normal_question(question: str) -> str:
    """How unanswered questions are counted alike: case and spacing do not matter."""
    return " ".join(question.lower().split())[:_QUESTION_KEY_CHARS]


class SqliteState:
    """:class:`StateStore` in one SQLite file (``None``: in memory, gone with the process).
    Safe to share between the threads of a process and between processes on one machine."""

    shared = False

    def __init__(self, path: Path | None, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._writes: dict[str, int] = {}
        self._db = self._open(path)

    # -- buttons ---------------------------------------------------------------------------

    def put_page(self, chat_id: int, question: str) -> str:
        key = secrets.token_urlsafe(16)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO pages (key, chat_id, question, created) VALUES (?, ?, ?, ?)",
                (key, chat_id, question, self._clock()),
            )
            self._prune(db, "pages", "created", PAGE_SECONDS, _MAX_PAGES)
        return key

    def page(self, key: str, chat_id: int) -> str | None:
        with self._transaction() as db:
            row = db.execute(
                "SELECT question FROM pages WHERE key = ? AND chat_id = ? AND created > ?",
                (key, chat_id, self._clock() - PAGE_SECONDS),
            ).fetchone()
        return None if row is None else str(row[0])

    # -- usage -----------------------------------------------------------------------------

    def record_question(self, question: str, answered: bool) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO questions (asked, answered, missing) VALUES (?, ?, ?)",
                (self._clock(), int(answered), None if answered else normal_question(question)),
            )
            self._prune(db, "questions", "asked", _QUESTION_SECONDS, _MAX_QUESTIONS)

    def usage(self, days: int) -> UsageWindow:
        since = self._clock() - days * 86400.0
        with self._transaction() as db:
            total, answered = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(answered), 0) FROM questions WHERE asked > ?",
                (since,),
            ).fetchone()
            missing = db.execute(
                "SELECT missing, COUNT(*) AS n FROM questions"
                " WHERE asked > ? AND missing IS NOT NULL"
                " GROUP BY missing ORDER BY n DESC, MIN(asked) LIMIT ?",
                (since, _MISSING_SHOWN),
            ).fetchall()
        return UsageWindow(
            days,
            int(total),
            int(total) - int(answered),
            tuple((str(text), int(count)) for text, count in missing),
        )

    # -- updates and flood -----------------------------------------------------------------

    def hold(self, update_id: int, payload: str) -> bool:
        now = self._clock()
        with self._transaction() as db:
            # An id seen longer ago than Telegram redelivers counts as new (after a week without
            # updates, Telegram starts numbering at random).
            changed = db.execute(
                "INSERT INTO updates (update_id, seen) VALUES (?, ?)"
                " ON CONFLICT (update_id) DO UPDATE SET seen = excluded.seen WHERE seen <= ?",
                (update_id, now, now - _UPDATE_SECONDS),
            ).rowcount
            if changed == 1:
                db.execute(
                    "INSERT OR REPLACE INTO held (update_id, payload, held) VALUES (?, ?, ?)",
                    (update_id, payload, now),
                )
            self._prune(db, "updates", "seen", _UPDATE_SECONDS, _MAX_UPDATES)
            self._prune(db, "held", "held", _UPDATE_SECONDS, _MAX_UPDATES)
        return changed == 1

    def release(self, update_id: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM held WHERE update_id = ?", (update_id,))

    def renew_held(self, update_ids: Collection[int]) -> None:
        if not update_ids:
            return
        with self._transaction() as db:
            db.executemany(
                "UPDATE held SET held = ? WHERE update_id = ?",
                [(self._clock(), update_id) for update_id in update_ids],
            )

    def claim_held(
        self, older_than: float, limit: int, exclude: Collection[int] = ()
    ) -> tuple[HeldUpdate, ...]:
        now = self._clock()
        skip = set(exclude)
        with self._transaction() as db:
            rows = db.execute(
                "SELECT update_id, payload, attempts FROM held WHERE held <= ?"
                " ORDER BY update_id LIMIT ?",
                (now - older_than, limit + len(skip)),
            ).fetchall()
            out: list[HeldUpdate] = []
            for update_id, payload, attempts in rows:
                if update_id in skip or len(out) >= limit:
                    continue
                if attempts >= MAX_ATTEMPTS:
                    logger.error("update %d handed out %d times: given up", update_id, attempts)
                    db.execute("DELETE FROM held WHERE update_id = ?", (update_id,))
                    continue
                db.execute(
                    "UPDATE held SET held = ?, attempts = attempts + 1 WHERE update_id = ?",
                    (now, update_id),
                )
                out.append(HeldUpdate(int(update_id), str(payload)))
        return tuple(out)

    def allow(self, user_id: int, per_minute: int) -> bool:
        now = self._clock()
        with self._transaction() as db:
            (recent,) = db.execute(
                "SELECT COUNT(*) FROM flood WHERE user_id = ? AND asked > ?",
                (user_id, now - _FLOOD_SECONDS),
            ).fetchone()
            allowed = int(recent) < per_minute
            if allowed:
                db.execute("INSERT INTO flood (user_id, asked) VALUES (?, ?)", (user_id, now))
                self._prune(db, "flood", "asked", _FLOOD_SECONDS, None)
        return allowed

    def announce(self, change: CorpusChange) -> None:
        """Nothing to tell: the processes of one machine each see the corpus directory."""

    def latest_change(self) -> str:
        return ""

    def changes(self, cursor: str, timeout: float) -> tuple[str, tuple[CorpusChange, ...]]:
        return cursor, ()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- SQLite ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One call, one transaction, taken for writing at once (two processes sharing the file
        never read a count the other is about to change)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.rollback()
                raise
            self._db.commit()

    def _prune(
        self, db: sqlite3.Connection, table: str, column: str, seconds: float, rows: int | None
    ) -> None:
        """Drop what is too old, and the oldest beyond ``rows``; every few hundred writes."""
        count = self._writes.get(table, 0) + 1
        self._writes[table] = count
        if (count - 1) % _PRUNE_EVERY:
            return
        db.execute(f"DELETE FROM {table} WHERE {column} <= ?", (self._clock() - seconds,))
        if rows is not None:
            db.execute(
                f"DELETE FROM {table} WHERE rowid <= "
                f"(SELECT rowid FROM {table} ORDER BY rowid DESC LIMIT 1 OFFSET ?)",
                (rows,),
            )

    @staticmethod
    def _connect(path: Path | None) -> sqlite3.Connection:
        db = sqlite3.connect(
            ":memory:" if path is None else str(path),
            timeout=10.0,
            isolation_level=None,  # transactions are begun explicitly
            check_same_thread=False,  # one lock serialises the threads
        )
        try:
            if path is not None:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            (check,) = db.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise sqlite3.DatabaseError(check)
        except BaseException:
            db.close()
            raise
        return db

    def _open(self, path: Path | None) -> sqlite3.Connection:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._connect(path)
        except sqlite3.DatabaseError as exc:
            if path is None:
                raise
            aside = path.with_name(f"{path.name}.unreadable-{int(self._clock())}")
            logger.warning("state file %s is unreadable (%s): moved to %s", path, exc, aside)
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{path}{suffix}").rename(f"{aside}{suffix}")
            return self._connect(path)
