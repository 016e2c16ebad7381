"""Apply a few changed corpus files to the serving index without reading the whole corpus again.

A channel post or an uploaded file changes one or a few files. Re-reading hundreds of thousands
of files for that would take minutes; instead only the named files are read, their documents
replace (or remove) the ones loaded from the same paths, and the engine is built with the
serving engine lending the analysis of every other document (:meth:`Engine.build`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

from bot.corpus import CorpusLoad, Document, Skipped, load_file
from bot.errors import CorpusError
from bot.search import Engine, LoadedCorpus, SearchConfig

__all__ = ["apply_files"]


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
    from bot import snapshot

    # Saved now so that a restart after a day of channel posts still starts from a snapshot.
    key = snapshot.snapshot_key(corpus.documents, config)
    saved = snapshot.save_snapshot(engine, cache_dir, corpus_dir, key)
    return LoadedCorpus(engine, corpus, load_seconds, "written" if saved else "unsaved")
