"""The state stores on their own: what they keep, for how long, for whom; across reopening (a
restart) and two connections (two processes or replicas), on SQLite and on a real Redis server;
and for the file, a kill -9 mid-write and damage."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.store import state
from bot.store.redis_state import RedisState
from bot.store.state import PAGE_SECONDS, STATE_FILE, SqliteState, StateStore
from bot.store.states import open_state
from tests.support.paths import ROOT


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _store(tmp_path: Path, clock: Clock | None = None) -> SqliteState:
    return SqliteState(tmp_path / STATE_FILE, clock or Clock())


Opener = Callable[[Clock], StateStore]


@pytest.fixture(params=["sqlite", "redis"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens the same store again on each call: a restart, or another replica."""
    if request.param == "sqlite":
        return lambda clock: SqliteState(tmp_path / STATE_FILE, clock)
    url = request.getfixturevalue("redis_url")
    return lambda clock: RedisState(url, clock=clock)


def test_a_page_opens_only_in_its_chat_and_only_until_it_expires(opener: Opener) -> None:
    clock = Clock()
    store = opener(clock)
    key = store.put_page(7, "Zugeständnisse")
    assert store.page(key, 7) == "Zugeständnisse"
    assert store.page(key, 8) is None
    assert store.page(key + "x", 7) is None
    clock.now += PAGE_SECONDS - 1
    assert store.page(key, 7) == "Zugeständnisse"
    clock.now += 2
    assert store.page(key, 7) is None


def test_keys_are_random_and_fit_callback_data(opener: Opener) -> None:
    store = opener(Clock())
    keys = {store.put_page(1, "q") for _ in range(2000)}
    assert len(keys) == 2000
    assert all(len(k) == 22 and len(f"more:999:{k}".encode()) <= 64 for k in keys)
    # Not a counter: 128 random bits in URL-safe base64.
    assert all(
        set(k) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for k in keys
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-5, 5), st.text(min_size=1, max_size=20), st.booleans()),
        min_size=1,
        max_size=25,
    )
)
def test_no_key_shows_another_chats_question_over_restarts(
    tmp_path_factory: pytest.TempPathFactory, asks: list[tuple[int, str, bool]]
) -> None:
    """Chats ask, the store is sometimes reopened (a restart) between questions; then every key
    is tried in every chat: only its own chat gets its own question."""
    path = tmp_path_factory.mktemp("state") / STATE_FILE
    store = SqliteState(path)
    made: list[tuple[str, int, str]] = []
    for chat, question, restart in asks:
        if restart:
            store.close()
            store = SqliteState(path)
        made.append((store.put_page(chat, question), chat, question))
    store.close()
    store = SqliteState(path)
    for key, chat, question in made:
        for other in range(-5, 6):
            assert store.page(key, other) == (question if other == chat else None)
    store.close()


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-5, 5), st.text(min_size=1, max_size=20), st.integers(0, 2)),
        min_size=1,
        max_size=25,
    )
)
def test_no_key_shows_another_chats_question_across_replicas(
    redis_service: str, asks: list[tuple[int, str, int]]
) -> None:
    """The same over Redis: each question is asked on one of two replicas, a third connection
    stands for a restarted one; every key is then tried on every connection in every chat."""
    import redis

    redis.Redis.from_url(redis_service).flushdb()
    replicas = [RedisState(redis_service) for _ in range(3)]
    made = [(replicas[which].put_page(chat, q), chat, q) for chat, q, which in asks]
    for key, chat, question in made:
        for replica in replicas:
            for other in range(-5, 6):
                assert replica.page(key, other) == (question if other == chat else None)
    for replica in replicas:
        replica.close()


def test_usage_by_window_across_a_restart(opener: Opener) -> None:
    clock = Clock()
    store = opener(clock)
    store.record_question("Wie wird das Wetter?", answered=False)
    clock.now += 10 * 86400
    store.record_question("Lavrov", answered=True)
    store.record_question("wie wird  das WETTER?", answered=False)
    clock.now += 1  # equal counts: the one asked first comes first
    store.record_question("Kartoffeln", answered=False)
    store.close()
    store = opener(clock)
    week = store.usage(7)
    assert (week.days, week.questions, week.unanswered) == (7, 3, 2)
    assert week.missing == (("wie wird das wetter?", 1), ("kartoffeln", 1))
    month = store.usage(30)
    assert (month.questions, month.unanswered) == (4, 3)
    assert month.missing == (("wie wird das wetter?", 2), ("kartoffeln", 1))
    assert month.unanswered_share == 0.75
    assert store.usage(7).unanswered_share == pytest.approx(2 / 3)
    clock.now += 31 * 86400
    assert store.usage(30).questions == 0 and store.usage(30).unanswered_share == 0.0


def test_answered_questions_are_counted_not_kept(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.record_question("Was fordert Scholz?", answered=True)
    store.close()
    with sqlite3.connect(tmp_path / STATE_FILE) as db:
        assert db.execute("SELECT missing FROM questions").fetchall() == [(None,)]


def test_updates_are_seen_once_across_a_restart(opener: Opener) -> None:
    clock = Clock()
    store = opener(clock)
    assert store.hold(100, "{}") and not store.hold(100, "{}") and store.hold(101, "{}")
    store.close()
    store = opener(clock)
    assert not store.hold(100, "{}")
    # Telegram renumbers after a week without updates: an id that old is new again.
    clock.now += 3 * 86400
    assert store.hold(100, "{}") and not store.hold(100, "{}")


def test_held_updates_are_handed_out_again_until_released(opener: Opener) -> None:
    """What a process held and did not release (killed, or stopped with it waiting) is handed
    out once to the next process, oldest first, as it was received; a released one never."""
    clock = Clock()
    store = opener(clock)
    for update_id in (7, 5, 6):
        assert store.hold(update_id, f'{{"update_id": {update_id}}}')
    store.release(6)
    store.close()
    store = opener(clock)
    assert not store.hold(5, "{}")  # still a repeat: never taken twice
    claimed = store.claim_held(0.0, 10)
    assert [(h.update_id, h.payload) for h in claimed] == [
        (5, '{"update_id": 5}'),
        (7, '{"update_id": 7}'),
    ]
    # Handed out means renewed: another replica looking for dead ones' updates finds none.
    assert store.claim_held(60.0, 10) == ()
    clock.now += 61
    assert [h.update_id for h in store.claim_held(60.0, 1, exclude={5})] == [7]
    store.release(5)
    store.release(7)
    clock.now += 61
    assert store.claim_held(0.0, 10) == ()


def test_a_live_process_renews_what_it_holds(opener: Opener) -> None:
    clock = Clock()
    live, other = opener(clock), opener(clock)
    assert live.hold(1, "{}") and live.hold(2, "{}")
    clock.now += 40
    live.renew_held({1})
    clock.now += 30
    assert [h.update_id for h in other.claim_held(60.0, 10)] == [2]


def test_an_update_that_kills_every_process_is_given_up(opener: Opener) -> None:
    clock = Clock()
    store = opener(clock)
    assert store.hold(9, "{}")
    for _ in range(state.MAX_ATTEMPTS):
        assert [h.update_id for h in store.claim_held(0.0, 10)] == [9]
    assert store.claim_held(0.0, 10) == ()
    assert store.claim_held(0.0, 10) == ()


def test_the_flood_limit_is_shared_and_kept(opener: Opener) -> None:
    clock = Clock()
    one = opener(clock)
    two = opener(clock)  # another process on the same file, another replica
    assert one.allow(5, 3) and two.allow(5, 3) and one.allow(5, 3)
    assert not two.allow(5, 3) and not one.allow(5, 3)
    assert one.allow(6, 3)  # another user
    one.close()
    again = opener(clock)
    assert not again.allow(5, 3)
    clock.now += 60.5
    assert again.allow(5, 3)


def test_tables_stay_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state, "_PRUNE_EVERY", 1)
    monkeypatch.setattr(state, "_MAX_PAGES", 10)
    monkeypatch.setattr(state, "_MAX_UPDATES", 10)
    clock = Clock()
    store = _store(tmp_path, clock)
    keys = [store.put_page(1, f"q{i}") for i in range(30)]
    for update_id in range(30):
        store.hold(update_id, "{}")
    with sqlite3.connect(tmp_path / STATE_FILE) as db:
        assert db.execute("SELECT COUNT(*) FROM pages").fetchone()[0] <= 11
        assert db.execute("SELECT COUNT(*) FROM updates").fetchone()[0] <= 11
    assert store.page(keys[-1], 1) == "q29" and store.page(keys[0], 1) is None
    clock.now += 61
    store.allow(9, 5)
    with sqlite3.connect(tmp_path / STATE_FILE) as db:
        assert db.execute("SELECT COUNT(*) FROM flood").fetchone()[0] == 1


_WRITER = """
import sys
from pathlib import Path
from bot.store.state import SqliteState
store = SqliteState(Path(sys.argv[1]))
for i in range(1_000_000):
    store.record_question(f"frage {i}", answered=False)
    print(i, flush=True)  # committed: the call returned
"""


def test_kill_9_mid_write_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / STATE_FILE
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert writer.stdout is not None
    committed = -1
    try:
        for line in writer.stdout:
            committed = int(line)
            if committed >= 300:
                break
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    assert committed >= 300
    store = SqliteState(path)  # opens (WAL recovered), passes quick_check
    assert store.usage(30).questions >= committed + 1
    store.record_question("danach", answered=True)
    assert store.usage(30).questions >= committed + 2


def test_an_unreadable_file_is_moved_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / STATE_FILE
    path.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="bot.store.state"):
        store = SqliteState(path)
    assert store.hold(1, "{}")
    assert any("is unreadable" in r.getMessage() for r in caplog.records)
    aside = [p.name for p in tmp_path.iterdir() if ".unreadable-" in p.name]
    assert len(aside) == 1 and (tmp_path / aside[0]).read_bytes().startswith(b"this is not")


def test_open_state_without_a_directory_keeps_it_in_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.store.states"):
        memory = open_state(None)
    assert memory.path is None and memory.hold(1, "{}") and not memory.hold(1, "{}")
    assert any("STATE_DIR is empty" in r.getMessage() for r in caplog.records)
    on_disk = open_state(tmp_path / "nested" / "dir")
    assert isinstance(on_disk, SqliteState)
    assert on_disk.path == tmp_path / "nested" / "dir" / STATE_FILE and on_disk.path.is_file()
    # Two bots in one directory keep apart: update ids and chats are each bot's own.
    one, two = open_state(tmp_path, bot="111"), open_state(tmp_path, bot="222")
    assert one.hold(5, "{}") and two.hold(5, "{}") and not one.hold(5, "{}")
    blocked = tmp_path / "file"
    blocked.write_text("x")
    fallback = open_state(blocked)  # a file where the directory should be
    assert fallback.path is None and fallback.allow(1, 1)


def test_redis_going_away_leaves_the_bot_answering(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A server that stops mid-run: every call falls back at once to what harms least, with
    one warning; the same store works again when a server is back."""
    from tests.support.redis_server import redis_server

    clock = Clock()
    with redis_server(tmp_path) as url:
        store = RedisState(url, clock=clock)
        key = store.put_page(1, "Zugeständnisse")
        assert store.page(key, 1) == "Zugeständnisse"
    with caplog.at_level(logging.WARNING, logger="bot.store.redis_state"):
        assert store.page(key, 1) is None  # the button says it expired
        assert store.hold(7, "{}") and store.hold(7, "{}")  # answered rather than dropped
        assert store.allow(1, 1) and store.allow(1, 1)
        store.record_question("x", answered=False)
        assert store.usage(30).questions == 0
        assert len(store.put_page(1, "y")) == 22
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1 and "127.0.0.1" in warnings[0].getMessage()


def test_two_bots_on_one_redis_keep_apart(redis_url: str) -> None:
    one, two = open_state(None, redis_url, bot="111"), open_state(None, redis_url, bot="222")
    assert one.hold(5, "{}") and two.hold(5, "{}") and not two.hold(5, "{}")
    key = one.put_page(1, "Frage")
    assert one.page(key, 1) == "Frage" and two.page(key, 1) is None


def test_a_password_in_the_url_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    store = RedisState("redis://:s3cret@127.0.0.1:1/0")
    with caplog.at_level(logging.INFO):
        open_state(None, "redis://:s3cret@127.0.0.1:1/0")
        store.hold(1, "{}")
    assert caplog.records and not any("s3cret" in r.getMessage() for r in caplog.records)
