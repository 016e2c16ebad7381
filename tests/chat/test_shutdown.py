"""SIGTERM while the bot is busy: `citebot run` ends cleanly, answers in flight are sent once, an
index build in progress is abandoned, and CORPUS_DIR never keeps a partial file."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

from bot.corpus import load_corpus
from tests.support.bot_helpers import (
    ADMIN_ID,
    Lines,
    copy_corpus,
    kill_if_running,
    start_run,
    stop_run,
)
from tests.support.botapi import BotApiStub
from tests.support.corpora import make_corpus

PASSAGES = 20_000  # enough that re-indexing takes seconds, so SIGTERM lands inside it
QUICK_EXIT_S = 10.0


def _big_corpus(tmp_path: Path, tag: str) -> Path:
    corpus = tmp_path / "corpus"
    if not corpus.exists():
        copy_corpus(tmp_path)
    docs, _ = make_corpus(PASSAGES)
    lines = [
        json.dumps({"id": d.id, "text": f"{d.text} {tag}", "url": d.url, "title": d.title})
        for d in docs
    ]
    (corpus / "reports.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return corpus


def _leftovers(corpus: Path) -> list[str]:
    """Files a crash could leave: temporary writes and staged uploads (hidden or .part)."""
    found = []
    for dirpath, _dirs, files in os.walk(corpus):
        for name in files:
            if name.startswith(".") or name.endswith(".part"):
                found.append(os.path.join(dirpath, name))
    return found


def _assert_clean(code: int, out: Lines, err: Lines, botapi: BotApiStub) -> None:
    output = out.text + err.text
    assert code == 0, output
    assert "Traceback" not in output and "ERROR" not in output, output
    assert botapi.token.split(":", 1)[1] not in output


async def test_sigterm_during_a_reload_abandons_it_and_exits_at_once(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    corpus = _big_corpus(tmp_path, "eins")
    env = {"CORPUS_DIR": str(corpus), "CACHE_DIR": "", "ADMIN_IDS": str(ADMIN_ID)}
    proc = await start_run(botapi, tmp_path, **env)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        await err.wait_for("ready as @", timeout=120)
        _big_corpus(tmp_path, "zwei")  # every document changed: the reload re-analyses all
        admin = botapi.user(ADMIN_ID, "Olga")
        botapi.send_private(admin, "/reload")
        await err.wait_for("reload requested by admin", timeout=20)
        started = time.monotonic()
        code = await stop_run(proc, out, err, signal.SIGTERM)
        elapsed = time.monotonic() - started
    finally:
        await kill_if_running(proc)
    _assert_clean(code, out, err, botapi)
    assert elapsed < QUICK_EXIT_S, f"exit took {elapsed:.1f} s"
    replies = [m["text"] for m in botapi.messages_to(admin)]
    assert replies == [
        "Neu laden abgebrochen: der Bot wird gerade beendet. Nach dem Neustart sind die"
        " aktuellen Dateien geladen."
    ]
    assert _leftovers(corpus) == []


async def test_sigterm_with_answers_in_flight_sends_each_once_and_loses_none(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    corpus = copy_corpus(tmp_path)
    proc = await start_run(botapi, tmp_path, CORPUS_DIR=str(corpus), CACHE_DIR="")
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    users = [botapi.user(3000 + i, f"Nutzer{i}") for i in range(40)]
    try:
        await err.wait_for("ready as @", timeout=60)
        await botapi.wait_polling(timeout=30)
        for user in users:
            botapi.send_private(user, "Was fordert Scholz von Putin?")
        await botapi.next_message(users[0], timeout=20)
        code = await stop_run(proc, out, err, signal.SIGTERM)
    finally:
        await kill_if_running(proc)
    _assert_clean(code, out, err, botapi)
    answers = Counter(u.id for u in users for _ in botapi.messages_to(u))
    assert max(answers.values()) == 1  # never twice
    # Every question was either answered or is still waiting at Telegram for the next start.
    pending = {u["message"]["from"]["id"] for u in botapi.pending_updates if "message" in u}
    assert {u.id for u in users} == set(answers) | pending
    assert not set(answers) & pending


async def test_sigterm_while_a_channel_post_is_indexed_keeps_the_post_whole(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    corpus = _big_corpus(tmp_path, "eins")
    env = {"CORPUS_DIR": str(corpus), "CACHE_DIR": "", "SOURCE_CHANNELS": "@frontnews"}
    proc = await start_run(botapi, tmp_path, **env)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        await err.wait_for("ready as @", timeout=120)
        post = botapi.channel_post(
            -1001600000001,
            "Lage bei Kupjansk\nDie Front bei Kupjansk ist ruhig.\nhttps://example.org/kupjansk",
            username="frontnews",
        )
        await err.wait_for("saved as", timeout=20)
        code = await stop_run(proc, out, err, signal.SIGTERM)
    finally:
        await kill_if_running(proc)
    _assert_clean(code, out, err, botapi)
    assert _leftovers(corpus) == []
    path = f"telegram/frontnews/{post['channel_post']['message_id']}.md"
    doc = next(d for d in load_corpus(corpus).documents if d.id == path)  # whole, loadable
    assert doc.url == "https://example.org/kupjansk"
