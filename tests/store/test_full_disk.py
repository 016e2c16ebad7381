"""A full disk (issue 17 #6): a store that cannot be written leaves nothing behind, at once, and
one the volume cannot hold is not begun. The volume is emulated: ``open`` in
:mod:`bot.store.arrayfiles` hands out files that raise ``ENOSPC`` once a byte budget is spent,
as a small tmpfs would."""

from __future__ import annotations

import errno
import logging
from collections import namedtuple
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.loader import load_engine
from bot.store import arrayfiles
from bot.store.filecache import load_corpus_cached
from tests.support.paths import ROOT

SEED_CORPUS = ROOT / "corpus"


class _Volume:
    """Bytes written through :mod:`bot.store.arrayfiles`, and ENOSPC past ``budget``."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.written = 0

    def open(self, file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = open(file, mode, *args, **kwargs)  # noqa: SIM115 (wrapped, closed by the caller)
        if "w" not in mode:
            return handle
        volume, real_write = self, handle.write

        def write(data: Any) -> int:
            if volume.written + len(data) > volume.budget:
                raise OSError(errno.ENOSPC, "No space left on device")
            volume.written += len(data)
            return int(real_write(data))

        handle.write = write
        return handle


def _full_after(monkeypatch: pytest.MonkeyPatch, budget: int) -> _Volume:
    volume = _Volume(budget)
    monkeypatch.setattr(arrayfiles, "open", volume.open, raising=False)
    return volume


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


ARRAYS = {"a": np.arange(100_000, dtype=np.int64), "b": np.arange(50_000, dtype=np.int32)}


@pytest.mark.parametrize("budget", [0, 1000, 800_000, 1_000_100])
def test_a_store_that_runs_out_of_space_is_removed_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget: int
) -> None:
    """Out of space in the first array, in the second, and writing the manifest."""
    volume = _full_after(monkeypatch, budget)
    with pytest.raises(OSError) as raised:
        arrayfiles.write_store(tmp_path, ARRAYS, {"x": 1}, "manifest.json")
    assert raised.value.errno == errno.ENOSPC
    assert volume.written <= budget
    assert _leftovers(tmp_path) == []


def test_a_store_the_volume_cannot_hold_is_not_begun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needed = sum(a.nbytes for a in ARRAYS.values())
    usage = namedtuple("usage", "total used free")
    free = needed + arrayfiles.FREE_SPACE_RESERVE - 1
    monkeypatch.setattr(arrayfiles.shutil, "disk_usage", lambda path: usage(10**12, 0, free))
    volume = _full_after(monkeypatch, 10**12)
    with pytest.raises(OSError, match=r"no room for 1\.0 MB with 64 MB to spare"):
        arrayfiles.write_store(tmp_path, ARRAYS, {}, "manifest.json")
    assert volume.written == 0 and list(tmp_path.iterdir()) == []


def test_a_snapshot_on_a_full_disk_leaves_no_partial_store_and_the_bot_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    volume = _full_after(monkeypatch, 20_000)
    with caplog.at_level(logging.WARNING):
        loaded = load_engine(SEED_CORPUS, cache_dir=cache)
    assert loaded.snapshot == "unsaved"
    assert volume.written <= 20_000
    assert "No space left on device" in caplog.text
    assert _leftovers(cache) == []
    assert loaded.engine.search("Lavrov").hits
    monkeypatch.undo()  # space again: the next start writes it
    assert load_engine(SEED_CORPUS, cache_dir=cache).snapshot == "written"


def test_a_file_cache_on_a_full_disk_leaves_no_partial_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    _full_after(monkeypatch, 5_000)
    loaded = load_corpus_cached(SEED_CORPUS, cache)
    assert loaded.written is False
    assert loaded.corpus.documents
    assert _leftovers(cache) == []
