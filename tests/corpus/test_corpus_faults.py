"""Corpus faults: whatever happens to the files, the bot keeps answering from the last good
index, and the admin's /reload reply names each problem file with its reason.

Faults: unreadable files and directories (faked: the suite runs as root, where chmod 000 does not
block reading), binary files, broken UTF-8, truncated JSON lines, a 200 MB file, symlink loops,
files rewritten while a reload reads them, and a corpus that becomes entirely unusable.
"""

from __future__ import annotations

import asyncio
import errno
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bot.corpus import load as corpus_load
from bot.corpus import load_corpus
from bot.engine import Engine
from bot.errors import Skipped
from bot.loader import LoadedCorpus, load_engine
from bot.serving import CorpusHolder
from tests.support.bot_helpers import ADMIN_ID, POTATO_MD, copy_corpus, make_settings, running_bot
from tests.support.botapi import BotApiStub

QUESTION = "Wie war die Kartoffelernte?"
TRUNCATED_LINE = '{"text": "Rüben wachsen gut.", "url": "https://e.'
ODD_NAME = 'böse <b>&amp; "x" \u202e🇩🇪.txt'
REAL = ("000_e199e51aae9cb937.txt", "binaer.txt", "kaputt.md")
ELOOP = os.strerror(errno.ELOOP)
EACCES = os.strerror(errno.EACCES)


pytestmark = pytest.mark.usefixtures("no_handler_errors")


def deny(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Opening these files or listing these directories fails with EACCES, as for a file of
    another user: root ignores chmod, so the error is raised where the loader would get it."""
    real_open, real_scandir = Path.open, os.scandir

    def open_(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name in names:
            raise PermissionError(errno.EACCES, EACCES, str(self))
        return real_open(self, *args, **kwargs)

    def scandir(path: Any = ".") -> Any:
        if not isinstance(path, int) and Path(os.fsdecode(path)).name in names:
            raise PermissionError(errno.EACCES, EACCES, os.fsdecode(path))
        return real_scandir(path)

    monkeypatch.setattr(Path, "open", open_)
    monkeypatch.setattr(os, "scandir", scandir)


def forbid_open(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """A too-large file must be refused from its size alone, never opened."""
    real_open = Path.open

    def open_(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == name:
            raise AssertionError(f"{name} was opened")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)


def sparse(path: Path, size: int) -> None:
    with path.open("wb") as fh:  # no disk space used, and nothing to read
        fh.truncate(size)


def add_faults(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Every kind of bad file next to the good ones; returns path → the reason the admin sees."""
    (root / "binaer.txt").write_bytes(b"Titel\n\x00\x01\x02\x03 Daten\nhttps://e.org/\n")
    (root / ODD_NAME).write_bytes(b"\x00")  # the reply must escape the name, not break on it
    (root / "kaputt.md").write_bytes(b"---\nurl: https://e.org/\n---\nStra\xdfe\n")
    (root / "zeilen.jsonl").write_text(
        '{"text": "Kohl wächst gut.", "url": "https://e.org/kohl"}\n'
        + TRUNCATED_LINE
        + "\n"
        + '{"text": "Ende.", "url": "https://e.org/ende"}\n'
        + TRUNCATED_LINE,  # the last line cut off mid-write, no newline
        encoding="utf-8",
    )
    sparse(root / "riesig.txt", 200 * 1024 * 1024)
    (root / "gesperrt.txt").write_text("Titel\nText.\nhttps://e.org/g\n", encoding="utf-8")
    (root / "versteckt").mkdir()
    (root / "versteckt" / "innen.txt").write_text("T\nhttps://e.org/i\n", encoding="utf-8")
    deny(monkeypatch, "gesperrt.txt", "versteckt")
    (root / "unter").mkdir()
    (root / "unter" / "schleife").symlink_to(root, target_is_directory=True)  # dir → parent
    (root / "ring1.txt").symlink_to(root / "ring2.txt")  # file cycle
    (root / "ring2.txt").symlink_to(root / "ring1.txt")
    (root / "selbst.md").symlink_to(root / "selbst.md")
    column = len(TRUNCATED_LINE) - len('"https://e.') + 1
    truncated = f"invalid JSON: Unterminated string starting at (column {column})"
    return {
        "binaer.txt": "binary file",
        ODD_NAME: "binary file",
        "gesperrt.txt": f"unreadable: {EACCES}",
        "kaputt.md": "not valid UTF-8 (byte 0xdf at offset 32)",
        "riesig.txt": "too large (200 MB > 50 MB limit)",
        "ring1.txt": f"unreadable: {ELOOP}",
        "ring2.txt": f"unreadable: {ELOOP}",
        "selbst.md": f"unreadable: {ELOOP}",
        "versteckt": f"unreadable directory: {EACCES}",
        "zeilen.jsonl:2": truncated,
        "zeilen.jsonl:4": truncated,
    }


# --------------------------------------------------------------------------- corpus level


def test_every_fault_is_a_named_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_corpus(tmp_path)
    (root / "kartoffeln.md").write_text(POTATO_MD, encoding="utf-8")
    expected = add_faults(root, monkeypatch)
    forbid_open(monkeypatch, "riesig.txt")  # on top of deny(): chained patches
    started = time.perf_counter()
    loaded = load_corpus(root)
    elapsed = time.perf_counter() - started
    assert {s.path: s.reason for s in loaded.skipped} == expected
    ids = [d.id for d in loaded.documents]
    assert "kartoffeln.md" in ids and "zeilen.jsonl#L1" in ids and "zeilen.jsonl#L3" in ids
    assert not any(i.startswith("unter/") for i in ids)  # the loop was not followed
    assert elapsed < 5  # the 200 MB file costs a stat(), not a read


def test_files_changing_during_a_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Just before the loader reads a file, another one vanishes, one is truncated mid-line,
    one becomes binary and one grows past the size limit: each is a reason, the rest loads."""
    root = tmp_path / "c"
    root.mkdir()
    good = "Titel\nDie Kartoffelernte war gut.\nhttps://e.org/{}\n"
    for name in ("a.txt", "b.txt", "d.txt", "e.txt", "z.txt"):
        (root / name).write_text(good.format(name), encoding="utf-8")
    (root / "c.jsonl").write_text(
        '{"text": "Kohl.", "url": "https://e.org/k"}\n{"text": "Rüben.", "url": "https://e.org/r"}\n',
        encoding="utf-8",
    )
    real_load, real_check = corpus_load.load_file, corpus_load.check_file

    def load_file(path: Path, root_: Path, **kwargs: Any) -> Any:
        if path.name == "a.txt":
            (root / "b.txt").unlink()  # listed, gone before it is read
            with (root / "c.jsonl").open("r+b") as fh:
                fh.truncate(60)  # the second line cut mid-string, as by a crashed writer
            (root / "d.txt").write_bytes(b"\x00\x00binary now")
        return real_load(path, root_, **kwargs)

    def check_file(path: Path, limit: int) -> int:
        size = real_check(path, limit)
        if path.name == "e.txt":  # grows between stat() and read()
            with path.open("ab") as fh:
                fh.write(b"x" * limit)
        return size

    # Both names as load_corpus and load_file look them up.
    monkeypatch.setattr(corpus_load, "load_file", load_file)
    monkeypatch.setattr(corpus_load, "check_file", check_file)
    loaded = load_corpus(root, max_file_bytes=1000)
    assert [d.id for d in loaded.documents] == ["a.txt", "c.jsonl#L1", "z.txt"]
    assert loaded.skipped == (
        Skipped("b.txt", "unreadable: No such file or directory"),
        Skipped("c.jsonl:2", "invalid JSON: Unterminated string starting at (column 10)"),
        Skipped("d.txt", "binary file"),
        # Read with a limit: it reports what it read (limit + 1), never reads the rest.
        Skipped("e.txt", "too large (1001 bytes > 1000 bytes limit)"),
    )


async def test_holder_keeps_the_last_good_engine(tmp_path: Path) -> None:
    """Service level: after a reload that finds nothing usable, or no directory at all, the
    holder still answers from the engine it had, and says why."""
    root = tmp_path / "c"
    root.mkdir()
    (root / "kartoffeln.md").write_text(POTATO_MD, encoding="utf-8")

    def loader(previous: Engine) -> LoadedCorpus:
        return load_engine(root, previous=previous)

    holder = CorpusHolder(load_engine(root), loader)
    good = holder.engine
    (root / "kartoffeln.md").write_bytes(b"\x00" * 10)
    result = await holder.reload()
    assert not result.ok
    assert (
        result.error
        == f"no usable document in {root} (1 files skipped: kartoffeln.md: binary file)"
    )
    (root / "kartoffeln.md").unlink()
    root.rmdir()
    result = await holder.reload()
    assert result.error == f"corpus directory not found: {root} (does not exist)"
    assert holder.engine is good
    answer = await holder.search(QUESTION, 3)
    assert answer.hits and answer.hits[0].url == "https://example.org/kartoffeln"


# --------------------------------------------------------------------------- the bot


async def reload(botapi: BotApiStub, admin: Any) -> str:
    botapi.send_private(admin, "/reload")
    return str((await botapi.next_message(admin, timeout=30))["text"])


async def ask(botapi: BotApiStub, user: Any, question: str = QUESTION) -> dict[str, Any]:
    botapi.send_private(user, question)
    reply: dict[str, Any] = await botapi.next_message(user, timeout=30)
    return reply


async def test_admin_reload_names_each_fault_and_old_index_serves(
    botapi: BotApiStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = botapi.user(ADMIN_ID, "Admin", language_code="de")
    anna = botapi.user(2001, "Anna", language_code="de")
    root = copy_corpus(tmp_path)
    async with running_bot(botapi, make_settings(botapi, root)):
        (root / "kartoffeln.md").write_text(POTATO_MD, encoding="utf-8")
        expected = add_faults(root, monkeypatch)
        forbid_open(monkeypatch, "riesig.txt")
        text = await reload(botapi, admin)
        lines = text.split("\n")
        assert lines[0].startswith("Neu geladen: 4 Dokumente,")
        assert lines[1] == f"{len(expected)} Dateien übersprungen:"
        assert lines[2:] == [f"• {path}: {reason}" for path, reason in sorted(expected.items())]
        found = await ask(botapi, anna)
        assert "https://example.org/kartoffeln" in found["raw_text"]

        # Everything becomes unusable: the reload fails, says why, and the old index serves.
        for path in list(root.iterdir()):
            if path.suffix in (".txt", ".md") and path.name in ("kartoffeln.md", *REAL):
                path.write_bytes(b"\xff\xfe\x00 kaputt")
        (root / "zeilen.jsonl").write_text(TRUNCATED_LINE, encoding="utf-8")
        failed = (await reload(botapi, admin)).split("\n")
        assert failed[0].startswith(
            f"Neu laden fehlgeschlagen, die bisherigen Quellen bleiben aktiv: "
            f"no usable document in {root} ("
        )
        # The error names the first three; the list under it names every one (bug 5).
        assert failed[0].endswith(
            " files skipped: 000_e199e51aae9cb937.txt: binary file; binaer.txt: binary file; "
            f"{ODD_NAME}: binary file; and 9 more)"
        )
        now_bad = {name: "binary file" for name in ("kartoffeln.md", *REAL)}
        expected |= now_bad | {"zeilen.jsonl:1": expected.pop("zeilen.jsonl:2")}
        del expected["zeilen.jsonl:4"]
        assert failed[1] == "12 Dateien übersprungen:"
        assert failed[2:] == [f"• {path}: {reason}" for path, reason in sorted(expected.items())]
        still = await ask(botapi, anna)
        assert "https://example.org/kartoffeln" in still["raw_text"]

        # The directory itself disappears: same, with that reason.
        moved = tmp_path / "weg"
        root.rename(moved)
        gone = await reload(botapi, admin)
        assert gone == (
            "Neu laden fehlgeschlagen, die bisherigen Quellen bleiben aktiv: "
            f"corpus directory not found: {root} (does not exist)"
        )
        assert "https://example.org/kartoffeln" in (await ask(botapi, anna))["raw_text"]


async def test_reloads_while_files_are_rewritten(botapi: BotApiStub, tmp_path: Path) -> None:
    """A writer rewrites files in a loop (atomic replace, in-place truncate-and-write, delete
    and re-create) while the admin reloads and a user asks: every reload succeeds or names
    what it found half-written, and every question is answered from a whole index."""
    admin = botapi.user(ADMIN_ID, "Admin", language_code="de")
    anna = botapi.user(2002, "Anna", language_code="de")
    root = copy_corpus(tmp_path)
    (root / "kartoffeln.md").write_text(POTATO_MD, encoding="utf-8")
    stop = threading.Event()
    rounds = 0

    def writer() -> None:
        nonlocal rounds
        n = 0
        while not stop.is_set():
            n += 1
            body = f"Titel {n}\nRüben und Kohl, Runde {n}. " * 200 + "\nhttps://e.org/r\n"
            tmp = root / ".neu.tmp"
            tmp.write_text(body, encoding="utf-8")
            os.replace(tmp, root / "atomar.txt")  # readers see the old or the new file
            with (root / "direkt.txt").open("w", encoding="utf-8") as fh:  # non-atomic
                fh.write(body[: len(body) // 2])
                fh.flush()
                fh.write(body[len(body) // 2 :])
            lines = "".join(
                f'{{"text": "Zeile {i} von {n}", "url": "https://e.org/{i}"}}\n' for i in range(50)
            )
            (root / "zeilen.jsonl").write_text(lines, encoding="utf-8")
            (root / "flüchtig.md").unlink(missing_ok=True)
            (root / "flüchtig.md").write_text(POTATO_MD.replace("Kartoffel", "Rüben"), "utf-8")
            rounds = n

    thread = threading.Thread(target=writer, daemon=True)
    async with running_bot(botapi, make_settings(botapi, root)):
        thread.start()
        try:
            replies = []
            for _ in range(8):
                replies.append(await reload(botapi, admin))
                found = await ask(botapi, anna)
                assert "https://example.org/kartoffeln" in found["raw_text"]
        finally:
            stop.set()
            await asyncio.to_thread(thread.join, 10)
        assert not thread.is_alive()
    assert rounds >= 8  # the files really changed under the reloads
    allowed = (
        "empty file",  # read between truncate and write
        "unreadable: No such file or directory",  # between unlink and create
        "no source URL",  # the first half of a .txt
        "bad front matter",  # the first half of a .md
        "not valid UTF-8",  # cut inside a multi-byte character
        "invalid JSON",  # a half-written line
    )
    for text in replies:
        assert text.startswith("Neu geladen: "), text
        for line in text.split("\n")[2:]:
            assert line.startswith("• ") and any(reason in line for reason in allowed), line
