"""Post files left half-written by a killed process (issue 17 #13)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bot.corpus import load_corpus
from bot.ingest import ChannelPost, remove_partial_writes, write_post
from bot.ingest.posts import PART_MAX_AGE_SECONDS

POST = ChannelPost(
    chat_id=-1001234567890,
    username="frontnews",
    message_id=7,
    text="Lage bei Kupjansk\nDie Stellungen halten.\nhttps://example.org/kupjansk",
)

# A child that writes post 8 and is stopped for good inside the write (before the rename).
_CHILD = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from bot.ingest import ChannelPost, write_post

    def stuck(fd):
        print("writing", flush=True)
        time.sleep(60)

    os.fsync = stuck
    post = ChannelPost(-1001234567890, "frontnews", 8, "Titel\\nText.\\nhttps://example.org/8")
    write_post(Path(sys.argv[1]), post)
    """
)


def test_a_post_write_killed_midway_leaves_a_part_file_that_the_next_start_removes(
    tmp_path: Path,
) -> None:
    root = tmp_path / "corpus"
    _, finished = write_post(root, POST)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(root)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "writing\n"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        child.kill()
    (left,) = [p for p in finished.parent.iterdir() if p.name.endswith(".part")]
    assert left.name.startswith(".")  # hidden: never read as a document
    assert [d.id for d in load_corpus(root).documents] == ["telegram/frontnews/7.md"]

    # Another replica's write may be in progress: a young one stays.
    assert remove_partial_writes(root) == []
    later = time.time() + PART_MAX_AGE_SECONDS + 1
    assert remove_partial_writes(root, now=later) == [left]
    assert sorted(p.name for p in finished.parent.iterdir()) == ["7.md"]


def test_only_the_temporary_files_of_post_writes_are_removed(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    _, finished = write_post(root, POST)
    channel = finished.parent
    keep = [channel / ".notes", channel / "8.part", channel / ".x.part.md"]
    for path in keep:
        path.write_text("x", encoding="utf-8")
    old = time.time() - 2 * PART_MAX_AGE_SECONDS
    gone = channel / ".9.md.abc.part"
    gone.write_text("x", encoding="utf-8")
    for path in [*keep, gone]:
        os.utime(path, (old, old))
    (root / ".other.part").write_text("x", encoding="utf-8")  # not a post's: not ours
    assert remove_partial_writes(root) == [gone]
    assert all(path.exists() for path in keep) and finished.exists()
    assert remove_partial_writes(tmp_path / "nowhere") == []


def test_staged_uploads_a_kill_left_are_removed_and_young_ones_kept(tmp_path: Path) -> None:
    """Issue 17 #13: a kill -9 during an admin's upload left its download in ``.incoming/``,
    never read and never deleted; a start now removes those older than an hour."""
    from bot.ingest import remove_stale_uploads
    from bot.ingest.uploads import STAGED_MAX_AGE_SECONDS, staging_path

    root = tmp_path / "corpus"
    old, young = staging_path(root, "alt.md"), staging_path(root, "neu.md")
    for path in (old, young):
        path.write_text("x", encoding="utf-8")
    past = time.time() - STAGED_MAX_AGE_SECONDS - 1
    os.utime(old, (past, past))
    (root / "keep.md").write_text("x", encoding="utf-8")
    os.utime(root / "keep.md", (past, past))
    assert remove_stale_uploads(root) == [old]
    assert young.exists() and (root / "keep.md").exists()
    assert remove_stale_uploads(tmp_path / "nowhere") == []
