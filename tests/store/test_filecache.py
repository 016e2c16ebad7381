"""The corpus file cache: a restart opens only changed files, and never serves a stale document."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import pytest

from bot.corpus import load_corpus
from bot.engine import Engine
from bot.errors import CorpusError
from bot.loader import load_engine
from bot.store import filecache
from bot.store.filecache import CachedCorpus, load_corpus_cached
from bot.store.keys import MAX_CORPORA, corpus_hash, corpus_tag
from tests.support.bot_helpers import ADMIN_ID, POTATO_MD, copy_corpus, make_settings, running_bot
from tests.support.botapi import BotApiStub

SOURCE = "https://example.org/"


def _write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def _corpus(root: Path) -> Path:
    """Every kind of file the reader knows, good and bad, in two directories."""
    _write(root / "a.txt", f"Kartoffeln\nDie Ernte am 2. Dezember war gut.\n{SOURCE}a\n")
    _write(root / "sub" / "b.md", f"# Weizen\n\nWeizen wächst im Sommer.\n\nQuelle: {SOURCE}b\n")
    posts = [
        {"id": "p1", "title": "Post 1", "url": f"{SOURCE}p1", "text": "Erster Beitrag über Hafer."},
        {
            "id": "p2",
            "title": "Post 2",
            "url": f"{SOURCE}p2",
            "text": "Second post about barley.",
            "lang": "en",
            "date": "2024-12-02",
            "post_url": "https://t.me/chan/2",
        },
    ]
    _write(root / "posts.jsonl", "\n".join(json.dumps(p) for p in posts) + "\nnot json\n")
    head = f'<head><link rel="canonical" href="{SOURCE}c"><title>Roggen</title></head>'
    _write(root / "c.html", f"<html>{head}<body><p>Roggen ist ein Getreide.</p></body></html>")
    _write(root / "empty.txt", "")
    _write(root / "binary.txt", b"\x00\x01\x02 binary")
    _write(root / "latin1.txt", "Gerste\nÜber Gerste.\n".encode("latin-1"))
    _write(root / "notes.csv", "ignored")
    return root


def _trust_new_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by a test are seconds old at most: racy, hence never trusted. Tests of
    what the cache spares trust them (the racy rule has its own tests)."""
    monkeypatch.setattr(filecache, "RACY_NS", -(10**18))


def _load(root: Path, cache: Path, **kwargs: object) -> CachedCorpus:
    return load_corpus_cached(root, cache, **kwargs)  # type: ignore[arg-type]


def _stores(cache: Path) -> list[Path]:
    return sorted(p for p in cache.iterdir() if (p / filecache.MANIFEST).is_file())


def _all_text(loaded: CachedCorpus) -> str:
    return "\n".join(d.text for d in loaded.corpus.documents)


def test_a_cached_load_is_exactly_a_plain_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trust_new_files(monkeypatch)
    root, cache = _corpus(tmp_path / "corpus"), tmp_path / "cache"
    plain = load_corpus(root)
    assert plain.skipped and any(d.post_url for d in plain.documents)

    first = _load(root, cache)
    assert first.corpus == plain
    assert (first.read, first.reused, first.written) == (plain.files, 0, True)
    assert first.digest == corpus_hash(plain.documents)

    second = _load(root, cache)
    assert second.corpus == plain
    assert (second.read, second.reused, second.written) == (0, plain.files, False)
    assert second.digest == first.digest
    assert len(_stores(cache)) == 1


def test_unchanged_files_are_not_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _trust_new_files(monkeypatch)
    root, cache = _corpus(tmp_path / "corpus"), tmp_path / "cache"
    _load(root, cache)
    opened: list[Path] = []
    from bot.corpus import load_file as real

    def spy(path: Path, *args: object, **kwargs: object) -> object:
        opened.append(path)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(filecache, "load_file", spy)
    (root / "a.txt").unlink()
    _write(root / "new.txt", f"Hirse\nHirse ist alt.\n{SOURCE}new\n")
    loaded = _load(root, cache)
    assert opened == [root / "new.txt"]
    assert loaded.corpus == load_corpus(root)
    assert "Hirse ist alt." in _all_text(loaded)
    assert "a.txt" not in {d.path for d in loaded.corpus.documents}
    assert loaded.written  # 2 of 8 files changed: more than REWRITE_SHARE


def _wait_for_a_new_clock_tick(path: Path) -> None:
    """File times come from a coarse clock: touch a probe until its ctime passes ``path``'s,
    so a rewrite of ``path`` is sure to get a new ctime (bounded: 5 s)."""
    before = os.stat(path).st_ctime_ns
    probe = path.parent / ".probe"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        probe.write_bytes(b"x")
        if os.stat(probe).st_ctime_ns > before:
            probe.unlink()
            return
    pytest.fail("the file system clock did not move in 5 s")


@pytest.mark.parametrize("how", ["in place, mtime set back", "replaced by rename"])
def test_a_rewrite_that_keeps_size_and_mtime_is_seen(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trust_new_files(monkeypatch)
    root, cache = _corpus(tmp_path / "corpus"), tmp_path / "cache"
    target = root / "a.txt"
    _load(root, cache)
    old = os.stat(target)
    text = target.read_text(encoding="utf-8").replace("gut", "mau")
    _wait_for_a_new_clock_tick(target)
    if how == "replaced by rename":
        _write(root / "a.tmp", text)
        os.replace(root / "a.tmp", target)
    else:
        target.write_text(text, encoding="utf-8")
    os.utime(target, ns=(old.st_atime_ns, old.st_mtime_ns))  # as cp -p, rsync -t, tar do
    assert (os.stat(target).st_size, os.stat(target).st_mtime_ns) == (old.st_size, old.st_mtime_ns)

    loaded = _load(root, cache)
    assert loaded.read == 1
    assert "Die Ernte am 2. Dezember war mau." in _all_text(loaded)
    assert loaded.digest == corpus_hash(loaded.corpus.documents)


def test_files_written_just_now_are_read_again(tmp_path: Path) -> None:
    """The racy rule: a file as young as the scan may change again within the same clock tick,
    unseen by its stamp; it is read again until it is old enough to be trusted."""
    root, cache = _corpus(tmp_path / "corpus"), tmp_path / "cache"
    target = root / "a.txt"
    first = _load(root, cache)
    old = os.stat(target)
    # The same size and, set back, the same mtime: the stamp may well be identical.
    target.write_text(target.read_text(encoding="utf-8").replace("gut", "mau"), encoding="utf-8")
    os.utime(target, ns=(old.st_atime_ns, old.st_mtime_ns))

    loaded = _load(root, cache)
    assert (loaded.read, loaded.reused) == (first.corpus.files, 0)
    assert "Die Ernte am 2. Dezember war mau." in _all_text(loaded)
    assert loaded.corpus == load_corpus(root)


def test_rereading_an_unchanged_file_keeps_the_cache_and_its_digest(tmp_path: Path) -> None:
    root, cache = _corpus(tmp_path / "corpus"), tmp_path / "cache"
    _load(root, cache)
    stores = _stores(cache)
    again = _load(root, cache)  # every file is racy here: all read, nothing changed
    assert again.read == again.corpus.files and not again.written
    assert _stores(cache) == stores
    assert again.digest == corpus_hash(again.corpus.documents)


def test_a_few_changed_files_do_not_rewrite_a_big_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trust_new_files(monkeypatch)
    monkeypatch.setattr(filecache, "REWRITE_SHARE", 0.5)
    root, cache = _corpus(tmp_path / "corpus"), tmp_path / "cache"
    _load(root, cache)
    stores = _stores(cache)
    _write(root / "new.txt", f"Hirse\nHirse ist alt.\n{SOURCE}new\n")
    for _ in range(2):  # read again at every start until a rewrite, always correctly
        loaded = _load(root, cache)
        assert (loaded.read, loaded.written) == (1, False)
        assert loaded.corpus == load_corpus(root)
        assert loaded.digest == corpus_hash(loaded.corpus.documents)
        assert _stores(cache) == stores


def _array(store: Path, name: str) -> Path:
    manifest = json.loads((store / filecache.MANIFEST).read_text(encoding="utf-8"))
    return store / str(manifest["arrays"][name]["file"])


def _flip_text(store: Path) -> None:
    path = _array(store, "doc.text")
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x20
    path.write_bytes(bytes(data))


def _truncate(store: Path) -> None:
    path = _array(store, "doc.text")
    path.write_bytes(path.read_bytes()[:-5])


def _garbage_manifest(store: Path) -> None:
    (store / filecache.MANIFEST).write_text("{not json", encoding="utf-8")


def _foreign_root(store: Path) -> None:
    manifest = json.loads((store / filecache.MANIFEST).read_text(encoding="utf-8"))
    manifest["root"] = "/somewhere/else"
    (store / filecache.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def _other_reader(store: Path) -> None:
    manifest = json.loads((store / filecache.MANIFEST).read_text(encoding="utf-8"))
    manifest["reader"] = -1
    (store / filecache.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def _missing_array(store: Path) -> None:
    _array(store, "file.mtime").unlink()


def _offsets_past_the_end(store: Path) -> None:
    """Consistent checksums, inconsistent content: offsets that point past the documents."""
    manifest = json.loads((store / filecache.MANIFEST).read_text(encoding="utf-8"))
    entry = manifest["arrays"]["file.documents"]
    path = store / entry["file"]
    offsets = np.load(path, allow_pickle=False)
    offsets[-1] += 1
    np.save(path, offsets, allow_pickle=False)
    import zlib

    entry["crc32"] = zlib.crc32(path.read_bytes())
    (store / filecache.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize(
    "damage",
    [
        _flip_text,
        _truncate,
        _garbage_manifest,
        _foreign_root,
        _other_reader,
        _missing_array,
        _offsets_past_the_end,
    ],
)
def test_a_bad_cache_is_never_trusted(
    damage: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _trust_new_files(monkeypatch)
    root, cache = _corpus(tmp_path / "corpus"), tmp_path / "cache"
    _load(root, cache)
    (store,) = _stores(cache)
    damage(store)  # type: ignore[operator]
    with caplog.at_level(logging.WARNING, logger="bot.store.filecache"):
        loaded = _load(root, cache)
    assert loaded.corpus == load_corpus(root)
    assert (loaded.reused, loaded.written) == (0, True)
    assert "unusable" in caplog.text
    assert len(_stores(cache)) == 1 and not store.exists()
    assert _load(root, cache).reused == loaded.corpus.files  # the new one is sound


def test_other_reading_settings_do_not_use_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trust_new_files(monkeypatch)
    root, cache = _corpus(tmp_path / "corpus"), tmp_path / "cache"
    _load(root, cache)
    english = _load(root, cache, default_lang="en")
    assert english.reused == 0
    assert english.corpus == load_corpus(root, default_lang="en")
    small = _load(root, cache, max_file_bytes=100)
    assert small.reused == 0
    assert small.corpus == load_corpus(root, max_file_bytes=100)
    assert any("too large" in s.reason for s in small.corpus.skipped)


def test_an_unusable_cache_dir_still_loads(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "corpus")
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be", encoding="utf-8")
    loaded = _load(root, blocker)
    assert loaded.corpus == load_corpus(root) and not loaded.written


def test_no_usable_document_still_raises(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    _write(root / "empty.txt", "")
    with pytest.raises(CorpusError, match="no usable document"):
        _load(root, tmp_path / "cache")


def test_a_restart_reads_no_file_and_builds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole restart: documents from the file cache, the index from its snapshot, the
    snapshot found by the stored digest (no file opened, nothing analysed or hashed)."""
    _trust_new_files(monkeypatch)
    root, cache = _corpus(tmp_path / "corpus"), tmp_path / "cache"
    first = load_engine(root, cache_dir=cache)
    assert first.snapshot == "written"

    def fail(*args: object, **kwargs: object) -> object:
        raise AssertionError("not expected in a restart of an unchanged corpus")

    monkeypatch.setattr(filecache, "load_file", fail)
    monkeypatch.setattr(filecache, "corpus_hash", fail)
    monkeypatch.setattr(Engine, "build", fail)
    again = load_engine(root, cache_dir=cache)
    assert again.snapshot == "loaded"
    assert again.corpus == first.corpus
    for question in ("Ernte Dezember", "Weizen", "barley", "Roggen Getreide"):
        assert again.engine.search(question, k=3) == first.engine.search(question, k=3)


@pytest.mark.usefixtures("no_handler_errors")
async def test_admin_reload_with_the_file_cache_sees_every_change(
    botapi: BotApiStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the real bot: with every stamp trusted, /reload opens only what changed, and a
    rewrite that keeps size and mtime still reaches the answers."""
    _trust_new_files(monkeypatch)
    admin = botapi.user(ADMIN_ID, "Admin", language_code="de")
    corpus = copy_corpus(tmp_path)
    potato = corpus / "kartoffeln.md"
    potato.write_text(POTATO_MD, encoding="utf-8")
    settings = make_settings(botapi, corpus, cache_dir=tmp_path / "cache")
    opened: list[Path] = []
    from bot.corpus import load_file as real

    def spy(path: Path, *args: object, **kwargs: object) -> object:
        opened.append(path)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    async with running_bot(botapi, settings):
        monkeypatch.setattr(filecache, "load_file", spy)
        old = os.stat(potato)
        _wait_for_a_new_clock_tick(potato)
        changed = POTATO_MD.replace("Kartoffel", "Pastinake")
        assert len(changed.encode()) == old.st_size
        potato.write_text(changed, encoding="utf-8")
        os.utime(potato, ns=(old.st_atime_ns, old.st_mtime_ns))
        botapi.send_private(admin, "/reload")
        reloaded = await botapi.next_message(admin)
        assert reloaded["text"].startswith("Neu geladen: 2 Dokumente,")
        assert opened == [potato]

        botapi.send_private(admin, "Pastinakeernte")
        found = await botapi.next_message(admin)
        assert "https://example.org/kartoffeln" in found["raw_text"]
        assert "Die Pastinakeernte in Brandenburg" in found["text"]


def test_caches_of_many_corpus_directories_are_bounded(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    roots = []
    for number in range(MAX_CORPORA + 2):
        root = tmp_path / f"corpus{number}"
        _write(root / "a.txt", f"Titel {number}\nText {number}.\n{SOURCE}{number}\n")
        roots.append(root)
        assert _load(root, cache).written
    kept = {store.name.split("-")[1] for store in _stores(cache)}
    assert kept == {corpus_tag(root) for root in roots[-MAX_CORPORA:]}


def test_half_written_stores_of_dead_processes_are_removed(tmp_path: Path) -> None:
    """A process killed while writing a cache leaves a temporary directory: the next write
    removes it once it is clearly abandoned, and leaves a young one (another writer's) alone."""
    root, cache = _corpus(tmp_path / "corpus"), tmp_path / "cache"
    old, young = cache / ".tmp-dead", cache / ".tmp-busy"
    for folder in (old, young):
        folder.mkdir(parents=True)
        (folder / "00.npy").write_bytes(b"partial")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    assert _load(root, cache).written
    assert not old.exists() and young.exists()
    load_engine(root, cache_dir=cache)  # the index snapshot's write cleans up the same way
    assert young.exists()


def test_stamps_round_trip_at_the_limits_of_their_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inode numbers use all 64 bits on overlayfs (Docker's storage); times can precede 1970."""
    _trust_new_files(monkeypatch)
    root, cache = _corpus(tmp_path / "corpus"), tmp_path / "cache"
    real = filecache._stamp

    def extreme(path: str) -> filecache.Stamp | None:
        stamp = real(path)
        return None if stamp is None else (stamp[0], -(10**18), -(10**18), 2**64 - 1 - len(path))

    monkeypatch.setattr(filecache, "_stamp", extreme)
    assert _load(root, cache).written
    again = _load(root, cache)
    assert (again.read, again.reused) == (0, again.corpus.files)
    assert again.corpus == load_corpus(root)
