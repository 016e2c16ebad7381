"""Changed files reach the serving index without the whole corpus being read again."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

import bot.engine.build
from bot.corpus import OUTSIDE_LINK
from bot.engine import SearchConfig
from bot.errors import CorpusError, Skipped
from bot.ingest import ChannelPost, write_post
from bot.loader import LoadedCorpus, apply_files, load_engine
from bot.serving import CorpusHolder
from tests.support.paths import REPO_CORPUS

SEED = REPO_CORPUS
CONFIG = SearchConfig()
MB = 1024 * 1024


def _post(message_id: int, text: str) -> ChannelPost:
    return ChannelPost(
        chat_id=-1001234567890,
        username="frontnews",
        message_id=message_id,
        text=text,
        date="2024-03-01T08:00:00+00:00",
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    shutil.copytree(SEED, root)
    (root / "notes.jsonl").write_text(
        '{"text": "Die Brücke bei Cherson wurde gesprengt.", "url": "https://example.org/b"}\n'
        "{broken\n",
        encoding="utf-8",
    )
    return root


def _apply(loaded: LoadedCorpus, root: Path, *paths: Path) -> LoadedCorpus:
    return apply_files(loaded, root, paths, CONFIG, max_file_bytes=MB)


def test_a_new_post_is_found_and_the_rest_is_not_analysed_again(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load_engine(corpus, CONFIG)
    assert not loaded.engine.search("Pontonbrücke Dnipro").hits
    _, path = write_post(
        corpus,
        _post(
            7, "Pontonbrücke über den Dnipro\nDie Pontonbrücke hält.\nhttps://example.org/bruecke"
        ),
    )
    analysed: list[str] = []
    real = bot.engine.build._analyse
    monkeypatch.setattr(
        bot.engine.build, "_analyse", lambda doc, *a: analysed.append(doc.id) or real(doc, *a)
    )
    updated = _apply(loaded, corpus, path)
    assert analysed == ["telegram/frontnews/7.md"]
    hit = updated.engine.search("Pontonbrücke Dnipro").hits[0]
    assert (hit.document, hit.url, hit.post_url) == (
        "telegram/frontnews/7.md",
        "https://example.org/bruecke",
        "https://t.me/frontnews/7",
    )
    assert updated.corpus.files == loaded.corpus.files + 1
    assert updated.corpus.skipped == loaded.corpus.skipped  # the bad .jsonl line stays reported
    # The documents that were there are still answered from.
    assert updated.engine.search("Was fordert Scholz von Putin?").hits


def test_an_edited_post_replaces_its_document_and_a_deleted_one_goes(corpus: Path) -> None:
    _, path = write_post(corpus, _post(8, "Lage bei Awdijiwka\nDie Stadt wird gehalten."))
    loaded = _apply(load_engine(corpus, CONFIG), corpus, path)
    assert loaded.engine.search("Awdijiwka gehalten").hits
    write_post(corpus, _post(8, "Lage bei Awdijiwka\nDie Stadt wurde aufgegeben."))
    edited = _apply(loaded, corpus, path)
    assert edited.engine.search("aufgegeben").hits[0].document == "telegram/frontnews/8.md"
    assert not edited.engine.search("gehalten").hits
    assert edited.engine.stats.documents == loaded.engine.stats.documents
    path.unlink()
    gone = _apply(edited, corpus, path)
    assert not gone.engine.search("Awdijiwka").hits
    assert gone.engine.stats.documents == loaded.engine.stats.documents - 1
    assert gone.corpus.files == loaded.corpus.files - 1


def test_a_fixed_jsonl_file_clears_its_skipped_lines(corpus: Path) -> None:
    loaded = load_engine(corpus, CONFIG)
    assert [s.path for s in loaded.corpus.skipped] == ["notes.jsonl:2"]
    jsonl = corpus / "notes.jsonl"
    jsonl.write_text(
        '{"text": "Die Brücke bei Cherson wurde gesprengt.", "url": "https://example.org/b"}\n',
        encoding="utf-8",
    )
    fixed = _apply(loaded, corpus, jsonl)
    assert fixed.corpus.skipped == ()
    assert fixed.engine.stats.documents == loaded.engine.stats.documents


def test_files_outside_the_corpus_and_an_emptied_corpus_are_refused(
    corpus: Path, tmp_path: Path
) -> None:
    loaded = load_engine(corpus, CONFIG)
    with pytest.raises(CorpusError, match="not inside the corpus directory"):
        _apply(loaded, corpus, tmp_path / "elsewhere.md")
    paths = [corpus / d.path for d in loaded.corpus.documents]
    for path in set(paths):
        path.unlink()
    with pytest.raises(CorpusError, match="no usable document"):
        _apply(loaded, corpus, *paths)


def test_the_update_writes_a_snapshot_a_restart_loads(corpus: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    loaded = load_engine(corpus, CONFIG, cache_dir=cache)
    _, path = write_post(corpus, _post(9, "Neue Lage\nCharkiw meldet Luftalarm."))
    updated = apply_files(loaded, corpus, [path], CONFIG, max_file_bytes=MB, cache_dir=cache)
    assert updated.snapshot == "written"
    restarted = load_engine(corpus, CONFIG, cache_dir=cache)
    assert restarted.snapshot == "loaded"
    # The n-gram frequencies come back too, so the next post need not count them in full.
    for name in ("grams", "doc_grams"):
        got, want = getattr(restarted.engine.parts, name).df, getattr(updated.engine.parts, name).df
        assert got is not None and want is not None and got.tolist() == want.tolist()
    assert restarted.engine.search("Luftalarm Charkiw").hits[0].document == (
        "telegram/frontnews/9.md"
    )


async def test_updates_that_arrive_during_one_are_applied_together(corpus: Path) -> None:
    calls: list[list[str]] = []
    release = asyncio.Event()
    started = asyncio.Event()
    loop = asyncio.get_running_loop()

    def updater(loaded: LoadedCorpus, paths: Sequence[Path]) -> LoadedCorpus:
        calls.append([p.name for p in paths])
        loop.call_soon_threadsafe(started.set)
        if len(calls) == 1:
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=10)
        return _apply(loaded, corpus, *paths)

    holder = CorpusHolder(load_engine(corpus, CONFIG), lambda previous: None, updater)  # type: ignore[arg-type,return-value]
    paths = [
        write_post(corpus, _post(i, f"Meldung {i}\nOrt{i} unter Beschuss."))[1] for i in (1, 2, 3)
    ]
    first = asyncio.create_task(holder.update([paths[0]]))
    async with asyncio.timeout(10):
        await started.wait()
    later = [asyncio.create_task(holder.update([p])) for p in paths[1:]]
    await asyncio.sleep(0)  # let both queue their files behind the running update
    release.set()
    async with asyncio.timeout(20):
        results = await asyncio.gather(first, *later)
    assert all(r.ok for r in results)
    assert calls == [["1.md"], ["2.md", "3.md"]]
    for i in (1, 2, 3):
        assert holder.engine.search(f"Ort{i} Beschuss").hits


def test_a_changed_file_behind_a_symlink_out_of_the_corpus_is_not_read(
    corpus: Path, tmp_path: Path
) -> None:
    loaded = load_engine(corpus, CONFIG)
    secret = tmp_path / "secret.txt"
    secret.write_text("Schwertfisch\nDas Passwort ist Schwertfisch.\nhttps://e.org/s\n", "utf-8")
    (corpus / "telegram").mkdir(exist_ok=True)
    link = corpus / "telegram" / "leak.txt"
    link.symlink_to(secret)
    updated = _apply(loaded, corpus, link)
    assert not updated.engine.search("Passwort Schwertfisch").hits
    assert Skipped("telegram/leak.txt", OUTSIDE_LINK) in updated.corpus.skipped
