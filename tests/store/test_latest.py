"""The pointer to the last committed index: what a restart opens from it is exactly what was
served, after builds, kept file caches and live updates."""

from __future__ import annotations

from pathlib import Path

from bot.engine import SearchConfig
from bot.loader import load_corpus_for, open_last_for, search_config, update_corpus_for
from bot.settings import Settings, load_settings
from bot.store import latest

QUESTION = "Feld Ernte"


def _write(root: Path, name: str, words: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = f"---\ntitle: {name}\nurl: https://example.org/{name}\n---\n"
    path.write_text(text + f"Die Ernte auf dem Feld {words} fiel gut aus.\n", "utf-8")
    return path


def _settings(tmp_path: Path, files: int) -> Settings:
    corpus = tmp_path / "corpus"
    for number in range(files):
        _write(corpus, f"d{number:03d}.md", f"Nummer{number}")
    (corpus / "notes.xyz").write_text("not a corpus file", "utf-8")
    line = '{"title": "Zeile", "url": "https://example.org/z", "text": "Ernte Feld Zeile"}'
    (corpus / "bad.jsonl").write_text(line + "\nnot json\n", "utf-8")
    return load_settings(corpus_dir=corpus, cache_dir=tmp_path / "cache", build_workers=1)


def _same(settings: Settings, served: object) -> None:
    last = open_last_for(settings)
    assert last is not None
    assert last.corpus == served
    fresh = load_corpus_for(settings)
    assert last.engine.search(QUESTION, k=5) == fresh.engine.search(QUESTION, k=5)


def test_live_updates_move_the_pointer_along(tmp_path: Path) -> None:
    settings = _settings(tmp_path, 30)
    loaded = load_corpus_for(settings)
    corpus = settings.corpus_dir
    added = _write(corpus, "telegram/chan/1.md", "Neu")
    changed = _write(corpus, "d001.md", "Anders")
    removed = corpus / "d002.md"
    removed.unlink()
    loaded = update_corpus_for(settings, loaded, [added, changed, removed])
    loaded = update_corpus_for(settings, loaded, [_write(corpus, "telegram/chan/2.md", "Zwei")])
    pointer = latest.read_latest(settings.cache_dir or tmp_path, corpus, *_config(settings))
    assert pointer is not None and pointer.key == loaded.key
    assert set(pointer.overlay) == {
        "telegram/chan/1.md",
        "d001.md",
        "d002.md",
        "telegram/chan/2.md",
    }
    assert pointer.overlay["d002.md"] is None
    _same(settings, loaded.corpus)


def test_files_read_at_a_start_that_kept_the_file_cache_are_in_the_overlay(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path, 150)  # one changed file of 152 does not rewrite the cache
    load_corpus_for(settings)
    _write(settings.corpus_dir, "d005.md", "Geändert")
    restarted = load_corpus_for(settings)
    pointer = latest.read_latest(
        settings.cache_dir or tmp_path, settings.corpus_dir, *_config(settings)
    )
    assert pointer is not None and set(pointer.overlay) == {"d005.md"}
    _same(settings, restarted.corpus)


def test_an_update_from_another_index_than_the_pointers_removes_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path, 5)
    loaded = load_corpus_for(settings)
    # Another process (`citebot ask` with other settings) commits its index and pointer.
    other = load_corpus_for(settings.model_copy(update={"passage_chars": 200}))
    assert other.key != loaded.key
    path = latest.latest_path(settings.cache_dir or tmp_path, settings.corpus_dir)
    assert path.is_file()
    # A live update of the index the pointer no longer names.
    update_corpus_for(settings, loaded, [_write(settings.corpus_dir, "x.md", "X")])
    assert not path.is_file()
    assert open_last_for(settings) is None


def _config(settings: Settings) -> tuple[SearchConfig, int]:
    return search_config(settings), settings.max_file_mb * 1024 * 1024


def test_a_pointer_whose_store_or_snapshot_is_gone_or_damaged_is_not_used(
    tmp_path: Path,
) -> None:
    import shutil

    settings = _settings(tmp_path, 5)
    loaded = load_corpus_for(settings)
    cache = settings.cache_dir or tmp_path
    pointer = latest.read_latest(cache, settings.corpus_dir, *_config(settings))
    assert pointer is not None and open_last_for(settings) is not None
    snapshot_dir = next(p for p in cache.iterdir() if p.name.endswith(loaded.key))
    array = next(snapshot_dir.glob("*.npy"))
    data = bytearray(array.read_bytes())
    data[-1] ^= 0xFF  # one flipped byte: the CRC-32 no longer matches
    array.write_bytes(bytes(data))
    assert open_last_for(settings) is None
    load_corpus_for(settings)  # builds and commits again
    assert open_last_for(settings) is not None
    pointer = latest.read_latest(cache, settings.corpus_dir, *_config(settings))
    assert pointer is not None
    shutil.rmtree(cache / pointer.store)
    assert open_last_for(settings) is None
