"""Index snapshots: a loaded engine answers exactly like a built one; a bad snapshot is rebuilt."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from bot.engine import Answer, Engine, SearchConfig
from bot.loader import LoadedCorpus, load_engine
from bot.store import snapshot
from tests.support.corpora import make_corpus, make_questions
from tests.support.paths import ROOT

SEED_CORPUS = ROOT / "corpus"
SEED_QUESTIONS = [
    "Was fordert Scholz von Putin?",
    "Will Putin einen Waffenstillstand?",
    "Raketenangriffe auf die Infrastruktur",
    "Zugestaendnisse",
    "Lavrov",
    "What did Biden say about Putin?",
    "Kampagne",
    "völlig unbekannte Wörter",
    "",
]


def _write_generated(corpus: Path, passages: int = 300) -> list[str]:
    documents, texts = make_corpus(passages)
    corpus.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"id": d.id, "title": d.title, "url": d.url, "text": d.text, "lang": "de"})
        for d in documents
    ]
    english = "Ceasefire talks stalled. The minister said the offensive would continue."
    lines.append(json.dumps({"id": "en1", "title": "English", "url": "https://e.org/1",
                             "text": english, "lang": "en"}))  # fmt: skip
    (corpus / "reports.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [*make_questions(texts, 15), "Will the ceasefire hold?", "Lagebericht"]


def _answers(engine: Engine, questions: list[str]) -> list[Answer]:
    return [engine.search(q, k=5, offset=o) for q in questions for o in (0, 2)]


def _forbid_build(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> Engine:
        raise AssertionError("Engine.build called although a snapshot exists")

    monkeypatch.setattr(Engine, "build", fail)


def _snapshots(cache: Path) -> list[Path]:
    return sorted(p for p in cache.iterdir() if (p / snapshot.MANIFEST).exists())


@pytest.fixture
def generated(tmp_path: Path) -> tuple[Path, list[str]]:
    corpus = tmp_path / "corpus"
    return corpus, _write_generated(corpus)


@pytest.mark.parametrize("which", ["seed", "generated"])
def test_round_trip_answers_exactly_like_a_build(
    which: str,
    tmp_path: Path,
    generated: tuple[Path, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    corpus, questions = (SEED_CORPUS, SEED_QUESTIONS) if which == "seed" else generated
    cache = tmp_path / "cache"
    first = load_engine(corpus, cache_dir=cache)
    assert first.snapshot == "written"
    assert len(_snapshots(cache)) == 1
    built = _answers(first.engine, questions)
    assert any(a.hits for a in built)
    _forbid_build(monkeypatch)
    second = load_engine(corpus, cache_dir=cache)
    assert second.snapshot == "loaded"
    assert _answers(second.engine, questions) == built
    assert second.engine.stats.passages == first.engine.stats.passages
    assert second.engine.stats.languages == first.engine.stats.languages
    assert second.engine.documents == first.engine.documents


def test_snapshot_is_keyed_by_config(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert load_engine(SEED_CORPUS, cache_dir=cache).snapshot == "written"
    other = SearchConfig(passage_chars=200)
    assert load_engine(SEED_CORPUS, other, cache_dir=cache).snapshot == "written"
    # Question-time knobs do not change the index, so they reuse it.
    tuned = SearchConfig(min_passage_coverage=0.5)
    assert load_engine(SEED_CORPUS, tuned, cache_dir=cache).snapshot == "written"
    loaded = load_engine(SEED_CORPUS, SearchConfig(min_passage_coverage=0.5), cache_dir=cache)
    assert loaded.snapshot == "loaded" and loaded.engine.config.min_passage_coverage == 0.5
    assert len(_snapshots(cache)) == 1  # older snapshots of the same corpus dir are removed


def _change(corpus: Path, how: str) -> None:
    path = corpus / "reports.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    if how == "edit":
        record = json.loads(lines[3])
        record["text"] = record["text"].replace("e", "é", 1)
        lines[3] = json.dumps(record)
    elif how == "title":
        record = json.loads(lines[3])
        record["title"] += "!"
        lines[3] = json.dumps(record)
    elif how == "add":
        new = {"id": "new", "title": "Neu", "url": "https://e.org/new", "text": "Zugfahrt."}
        (corpus / "new.jsonl").write_text(json.dumps(new) + "\n", encoding="utf-8")
    elif how == "remove":
        del lines[5]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("how", ["edit", "title", "add", "remove"])
def test_a_changed_corpus_invalidates_the_snapshot(
    how: str, tmp_path: Path, generated: tuple[Path, list[str]]
) -> None:
    corpus, questions = generated
    cache = tmp_path / "cache"
    assert load_engine(corpus, cache_dir=cache).snapshot == "written"
    _change(corpus, how)
    changed = load_engine(corpus, cache_dir=cache)
    assert changed.snapshot == "written"
    fresh = Engine.build(changed.corpus.documents, SearchConfig())
    assert _answers(changed.engine, questions) == _answers(fresh, questions)
    assert load_engine(corpus, cache_dir=cache).snapshot == "loaded"


def _array_file(path: Path, name: str) -> Path:
    manifest = json.loads((path / snapshot.MANIFEST).read_text(encoding="utf-8"))
    return path / manifest["arrays"][name]["file"]


def _truncate(path: Path) -> None:
    target = _array_file(path, "stems.weights")
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])


def _flip(path: Path) -> None:
    target = _array_file(path, "stems.weights")
    data = bytearray(target.read_bytes())
    data[-3] ^= 0x40
    target.write_bytes(bytes(data))


def _garbage_manifest(path: Path) -> None:
    (path / snapshot.MANIFEST).write_text("{not json", encoding="utf-8")


def _manifest_list(path: Path) -> None:
    (path / snapshot.MANIFEST).write_text("[1, 2]", encoding="utf-8")


def _other_format(path: Path) -> None:
    manifest = json.loads((path / snapshot.MANIFEST).read_text(encoding="utf-8"))
    manifest["format"] = snapshot.SNAPSHOT_FORMAT + 1
    (path / snapshot.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def _missing_file(path: Path) -> None:
    _array_file(path, "grams.idf").unlink()


def _missing_manifest(path: Path) -> None:
    (path / snapshot.MANIFEST).unlink()


def _rewrite(path: Path, name: str, array: np.ndarray, *, pickle: bool = False) -> None:
    """Replace an array and fix up the manifest so that only deeper checks can catch it."""
    target = _array_file(path, name)
    with open(target, "wb") as out:
        np.save(out, array, allow_pickle=pickle)
    manifest = json.loads((path / snapshot.MANIFEST).read_text(encoding="utf-8"))
    entry = manifest["arrays"][name]

    entry["crc32"] = zlib.crc32(target.read_bytes())
    entry["shape"] = list(array.shape)
    (path / snapshot.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def _object_array(path: Path) -> None:
    _rewrite(path, "passage_doc", np.array([{"x": 1}, "y"], dtype=object), pickle=True)


def _wrong_dtype(path: Path) -> None:
    _rewrite(path, "stems.weights", np.zeros(3, dtype=np.float32))


def _inconsistent(path: Path) -> None:
    # Right dtype, checksum and shape in the manifest, but a passage id beyond the corpus.
    manifest = json.loads((path / snapshot.MANIFEST).read_text(encoding="utf-8"))
    n = manifest["arrays"]["stems.doc_ids"]["shape"][0]
    _rewrite(path, "stems.doc_ids", np.full(n, 10**9, dtype=np.int64))


def _short_vocabulary(path: Path) -> None:
    _rewrite(path, "stems.vocab_offsets", np.array([0, 1], dtype=np.int64))


CORRUPTIONS = [
    _truncate,
    _flip,
    _garbage_manifest,
    _manifest_list,
    _other_format,
    _missing_file,
    _missing_manifest,
    _object_array,
    _wrong_dtype,
    _inconsistent,
    _short_vocabulary,
]


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda f: f.__name__.strip("_"))
def test_a_bad_snapshot_is_rebuilt_never_trusted(
    corrupt: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = tmp_path / "cache"
    first = load_engine(SEED_CORPUS, cache_dir=cache)
    expected = _answers(first.engine, SEED_QUESTIONS)
    (path,) = _snapshots(cache)
    assert callable(corrupt)
    corrupt(path)
    real_load = np.load
    seen: list[object] = []

    def checked_load(*args: object, **kwargs: object) -> object:
        seen.append(kwargs.get("allow_pickle"))
        return real_load(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(np, "load", checked_load)
    with caplog.at_level(logging.WARNING, logger="bot.store.snapshot"):
        again = load_engine(SEED_CORPUS, cache_dir=cache)
    assert all(flag is False for flag in seen)
    assert _answers(again.engine, SEED_QUESTIONS) == expected
    if corrupt is _missing_manifest:
        # Without a manifest it is no snapshot at all; the leftover is replaced by a new one.
        assert again.snapshot in ("written", "loaded")
    else:
        assert again.snapshot == "written"
        assert any(r.levelno == logging.WARNING for r in caplog.records)
    final = load_engine(SEED_CORPUS, cache_dir=cache)
    assert final.snapshot == "loaded"
    assert _answers(final.engine, SEED_QUESTIONS) == expected


def test_loading_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    cache = tmp_path / "cache"
    load_engine(SEED_CORPUS, cache_dir=cache)

    def no_pickle(*args: object, **kwargs: object) -> object:
        raise AssertionError("unpickled")

    monkeypatch.setattr(pickle, "load", no_pickle)
    monkeypatch.setattr(pickle, "loads", no_pickle)
    (path,) = _snapshots(cache)
    _object_array(path)
    assert load_engine(SEED_CORPUS, cache_dir=cache).snapshot == "written"
    assert load_engine(SEED_CORPUS, cache_dir=cache).snapshot == "loaded"


def test_an_unusable_cache_dir_still_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.store.snapshot"):
        loaded = load_engine(SEED_CORPUS, cache_dir=blocker / "cache")
    assert loaded.snapshot == "unsaved"
    assert loaded.engine.search("Was fordert Scholz von Putin?").hits
    assert any("not written" in r.getMessage() for r in caplog.records)


def test_no_cache_dir_means_no_snapshot(tmp_path: Path) -> None:
    loaded = load_engine(SEED_CORPUS)
    assert isinstance(loaded, LoadedCorpus) and loaded.snapshot == "off"
    assert load_engine(SEED_CORPUS, cache_dir="").snapshot == "off"


def test_no_temporary_directories_are_left_behind(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_engine(SEED_CORPUS, cache_dir=cache)
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []


def _cli(*args: str, cache: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CORPUS_", "ADMIN_"))}
    env["CACHE_DIR"] = cache
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_cli_ask_twice_uses_the_snapshot(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    question = "Was fordert Scholz von Putin?"
    first = _cli("ask", question, "--json", cache=str(cache))
    assert first.returncode == 0, first.stderr
    (path,) = _snapshots(cache)
    written = (path / snapshot.MANIFEST).stat().st_mtime_ns
    second = _cli("ask", question, "--json", cache=str(cache))
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == json.loads(first.stdout)
    assert _snapshots(cache) == [path]
    assert (path / snapshot.MANIFEST).stat().st_mtime_ns == written  # read, not rewritten
    index = _cli("index", cache=str(cache))
    assert index.returncode == 0, index.stderr
    assert "index loaded from the snapshot" in index.stdout
    # The shipped corpus file is older than the racy window: not opened again.
    assert "0 files read, 1 unchanged from the cache" in index.stdout


def test_cli_index_reports_a_written_snapshot_and_off(tmp_path: Path) -> None:
    result = _cli("index", cache=str(tmp_path / "cache"))
    assert "snapshot written" in result.stdout, result.stdout
    result = _cli("index", cache="")
    assert "snapshots off" in result.stdout, result.stdout
    shutil.rmtree(tmp_path / "cache")
