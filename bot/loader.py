"""The loader: a corpus directory in, a serving engine out, composed of the corpus file cache,
the index snapshot and the build. The CLI, the bot and the benchmarks load through here.

Live changes: a channel post or an uploaded file changes one or a few files. Re-reading hundreds of
thousands of files for that would take minutes; instead only the named files are read, their
documents replace (or remove) the ones loaded from the same paths, and the engine is built with
the serving engine lending the analysis of every other document (:meth:`Engine.build`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.corpus import (
    DEFAULT_MAX_FILE_BYTES,
    OUTSIDE_LINK,
    CorpusLoad,
    Document,
    leads_outside,
    load_corpus,
    load_file,
)
from bot.engine import Engine, SearchConfig
from bot.engine.bilingual import Lexicon
from bot.errors import CorpusError, Skipped
from bot.settings import Settings
from bot.store import filecache, latest, snapshot
from bot.store.lexiconfile import load_lexicon

logger = logging.getLogger(__name__)

__all__ = [
    "LoadedCorpus",
    "apply_files",
    "empty_corpus",
    "lexicon_for",
    "load_corpus_for",
    "load_engine",
    "open_last_for",
    "search_config",
    "update_corpus_for",
]


def search_config(settings: Settings) -> SearchConfig:
    """The engine's settings from the user's: the one place they are mapped."""
    return SearchConfig(
        passage_chars=settings.passage_chars,
        default_lang=settings.default_language,
        build_workers=settings.build_workers,
    )


def load_corpus_for(
    settings: Settings, previous: Engine | None = None, corpus_dir: Path | None = None
) -> LoadedCorpus:
    """Load CORPUS_DIR (or ``corpus_dir``) as the settings say (raises CorpusError); on a
    reload, ``previous`` spares the analysis of the documents that did not change (and lends
    its lexicon)."""
    loaded = load_engine(
        corpus_dir or settings.corpus_dir,
        search_config(settings),
        max_file_bytes=settings.max_file_mb * 1024 * 1024,
        cache_dir=settings.cache_dir,
        previous=previous,
    )
    lexicon = previous.lexicon if previous is not None else lexicon_for(settings)
    if loaded.engine.lexicon is lexicon:
        return loaded
    return replace(loaded, engine=loaded.engine.with_lexicon(lexicon))


def lexicon_for(settings: Settings) -> Lexicon | None:
    """The German–English lexicon of DICTIONARY_PATH (parsed once, then from CACHE_DIR), or
    None: cross-language answers off (no dictionary there, or DICTIONARY_PATH empty)."""
    path, cache_dir = settings.dictionary_path, settings.cache_dir
    if path is None or not path.is_file():
        return None
    # Read at the first question that needs it: questions in the sources' language never do.
    return Lexicon.deferred(str(path), lambda: load_lexicon(path, cache_dir))


def empty_corpus(error: CorpusError) -> LoadedCorpus:
    """No document yet, for a bot that can receive some (source channels' posts, uploads): an
    empty engine, and the files the failed load left out (``error``), to report them."""
    return LoadedCorpus(Engine.build([]), CorpusLoad((), error.skipped, len(error.skipped)), 0.0)


def update_corpus_for(
    settings: Settings, loaded: LoadedCorpus, paths: Sequence[Path]
) -> LoadedCorpus:
    """Index changed files of CORPUS_DIR (a channel post, an upload) without a full reload."""
    return apply_files(
        loaded,
        settings.corpus_dir,
        paths,
        search_config(settings),
        max_file_bytes=settings.max_file_mb * 1024 * 1024,
        cache_dir=settings.cache_dir,
    )


@dataclass(frozen=True, slots=True)
class LoadedCorpus:
    """An engine together with what loading its corpus found (for reports and /reload).

    ``snapshot``: "loaded" (the engine came from the index snapshot), "written" (built and
    saved), "unsaved" (built; the cache directory was not usable) or "off" (no cache dir)."""

    engine: Engine
    corpus: CorpusLoad
    load_seconds: float
    snapshot: str = "off"
    #: Corpus files whose documents came from the corpus file cache (not opened).
    cached_files: int = 0
    #: The index snapshot's key ("": not known); the pointer to the last committed index
    #: follows an update only from this key (:mod:`bot.store.latest`).
    key: str = ""


def load_engine(
    corpus_dir: str | Path,
    config: SearchConfig | None = None,
    *,
    max_file_bytes: int | None = None,
    cache_dir: str | Path | None = None,
    previous: Engine | None = None,
) -> LoadedCorpus:
    """Read ``corpus_dir`` and build an engine over it; CorpusError if nothing usable is there.

    With ``cache_dir``, the engine comes from an index snapshot of exactly this corpus and
    config if there is a sound one, and is saved there after a build otherwise
    (:mod:`bot.store.snapshot`). With ``previous`` (the engine a reload replaces), unchanged
    documents are not analysed again."""
    config = config or SearchConfig()
    started = time.perf_counter()
    max_bytes = DEFAULT_MAX_FILE_BYTES if max_file_bytes is None else max_file_bytes
    if cache_dir is None or str(cache_dir) == "":
        corpus = load_corpus(corpus_dir, default_lang=config.default_lang, max_file_bytes=max_bytes)
        load_seconds = time.perf_counter() - started
        return LoadedCorpus(Engine.build(corpus.documents, config, previous), corpus, load_seconds)
    # Unchanged files come from the file cache: a restart opens only what changed.
    cached = filecache.load_corpus_cached(
        corpus_dir, cache_dir, default_lang=config.default_lang, max_file_bytes=max_bytes
    )
    corpus = cached.corpus
    load_seconds = time.perf_counter() - started
    key = snapshot.snapshot_key(corpus.documents, config, cached.digest)
    engine = snapshot.load_snapshot(corpus.documents, config, cache_dir, corpus_dir, key)
    state = "loaded"
    if engine is None:
        engine = Engine.build(corpus.documents, config, previous)
        saved = snapshot.save_snapshot(engine, cache_dir, corpus_dir, key)
        state = "written" if saved else "unsaved"
    if state != "unsaved":
        _point_at(cache_dir, corpus_dir, config, max_bytes, key, cached)
    return LoadedCorpus(engine, corpus, load_seconds, state, cached.reused, key)


def _point_at(
    cache_dir: str | Path,
    corpus_dir: str | Path,
    config: SearchConfig,
    max_bytes: int,
    key: str,
    cached: filecache.CachedCorpus,
) -> None:
    """Commit the pointer a restart serves from (:mod:`bot.store.latest`)."""
    if cached.store is None:
        latest.remove_latest(cache_dir, corpus_dir)
        return
    root = Path(os.path.abspath(corpus_dir))
    overlay = latest.contents_of(cached.corpus, cached.stale, lambda rel: (root / rel).is_file())
    pointer = latest.Latest(key, cached.store.name, overlay)
    latest.write_latest(cache_dir, corpus_dir, config, max_bytes, pointer)


def open_last_for(settings: Settings) -> LoadedCorpus | None:
    """The last committed index of CORPUS_DIR, opened without looking at a corpus file (None if
    there is no sound one): what a restart serves while the files are checked."""
    cache_dir = settings.cache_dir
    if cache_dir is None or str(cache_dir) == "":
        return None
    started = time.perf_counter()
    config, max_bytes = search_config(settings), settings.max_file_mb * 1024 * 1024
    corpus_dir = settings.corpus_dir
    pointer = latest.read_latest(cache_dir, corpus_dir, config, max_bytes)
    if pointer is None:
        return None
    try:
        corpus = filecache.corpus_from_store(
            corpus_dir,
            Path(cache_dir) / pointer.store,
            pointer.overlay,
            default_lang=config.default_lang,
            max_file_bytes=max_bytes,
        )
    except Exception as exc:  # any failure means: load the usual way
        logger.warning("the last committed corpus is unusable, loading the files: %s", exc)
        return None
    load_seconds = time.perf_counter() - started
    engine = snapshot.load_snapshot(corpus.documents, config, cache_dir, corpus_dir, pointer.key)
    if engine is None:
        return None
    lexicon = lexicon_for(settings)
    if lexicon is not None:
        engine = engine.with_lexicon(lexicon)
    return LoadedCorpus(engine, corpus, load_seconds, "loaded", corpus.files, pointer.key)


def _owner(path: str) -> str:
    """The file a document or skipped entry came from (".jsonl" entries add ":line")."""
    head, sep, tail = path.rpartition(":")
    return head if sep and tail.isdigit() else path


def apply_files(
    loaded: LoadedCorpus,
    corpus_dir: str | Path,
    paths: Iterable[Path],
    config: SearchConfig,
    *,
    max_file_bytes: int,
    cache_dir: str | Path | None = None,
) -> LoadedCorpus:
    """``loaded`` with the files at ``paths`` read again: new files add documents, changed ones
    replace theirs, deleted ones remove theirs. CorpusError if no document would be left."""
    started = time.perf_counter()
    root = Path(os.path.abspath(corpus_dir))
    changed: dict[str, Path] = {}
    for path in paths:
        full = Path(os.path.abspath(path if path.is_absolute() else root / path))
        try:
            rel = full.relative_to(root).as_posix()
        except ValueError:
            raise CorpusError(f"{full} is not inside the corpus directory {root}") from None
        changed[rel] = full

    before = {_owner(d.path) for d in loaded.corpus.documents}
    before.update(_owner(s.path) for s in loaded.corpus.skipped)
    documents: list[Document] = [
        d for d in loaded.corpus.documents if _owner(d.path) not in changed
    ]
    skipped: list[Skipped] = [s for s in loaded.corpus.skipped if _owner(s.path) not in changed]
    files = loaded.corpus.files
    for rel, full in changed.items():
        exists = full.is_file()
        files += int(exists) - int(rel in before)
        if not exists:
            continue
        if leads_outside(full, root):
            skipped.append(Skipped(rel, OUTSIDE_LINK))
            continue
        docs, skips = load_file(
            full, root, default_lang=config.default_lang, max_file_bytes=max_file_bytes
        )
        documents.extend(docs)
        skipped.extend(skips)
    if not documents:
        raise CorpusError(f"no usable document in {root} after this change")
    documents.sort(key=lambda d: d.id)
    skipped.sort(key=lambda s: s.path)
    corpus = CorpusLoad(documents=tuple(documents), skipped=tuple(skipped), files=files)
    load_seconds = time.perf_counter() - started
    engine = Engine.build(corpus.documents, config, previous=loaded.engine)
    if cache_dir is None or str(cache_dir) == "":
        return LoadedCorpus(engine, corpus, load_seconds)
    # Saved now so that a restart after a day of channel posts still starts from a snapshot.
    key = snapshot.snapshot_key(corpus.documents, config)
    saved = snapshot.save_snapshot(engine, cache_dir, corpus_dir, key)
    if saved:
        changes = latest.contents_of(corpus, changed, lambda rel: changed[rel].is_file())
        latest.commit_update(
            cache_dir, corpus_dir, config, max_file_bytes, loaded.key, key, changes
        )
    else:
        latest.remove_latest(cache_dir, corpus_dir)
    return LoadedCorpus(engine, corpus, load_seconds, "written" if saved else "unsaved", key=key)
