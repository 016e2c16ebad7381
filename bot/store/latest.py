"""The pointer to the last committed index of a corpus directory, so a restart can serve it
before looking at a single corpus file.

A snapshot holds no documents (its key is a hash of them), and finding the key the usual way
means a ``stat`` of every corpus file and a document each. The pointer ``<cache
dir>/latest-<corpus tag>.json`` says instead which snapshot was committed last and which
documents it indexes: those of a corpus file cache store (:mod:`bot.store.filecache`) with an
*overlay*, the files whose documents differ from what that store holds (the channel posts and
uploads indexed since it was written, and the files a start read without rewriting it; a store
is rewritten once more than :data:`~bot.store.filecache.REWRITE_SHARE` of the files changed, so
the overlay stays about that small).

It is written (to a temporary file, fsynced, renamed) whenever a snapshot is committed, and
checked when read: a checksum over its body, the corpus directory, the reading and index
settings, and then the store's and the snapshot's own checks. Anything wrong means no pointer:
the caller loads the usual way. Nothing in it is ever executed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.corpus import CorpusLoad, Document
from bot.engine import SearchConfig
from bot.engine.analysis import ANALYZER_VERSION
from bot.engine.config import index_settings
from bot.errors import CacheError, Skipped
from bot.store.arrayfiles import fsync_dir
from bot.store.filecache import FileContent
from bot.store.keys import corpus_tag
from bot.store.snapshot import SNAPSHOT_FORMAT

__all__ = [
    "LATEST_FORMAT",
    "Latest",
    "commit_update",
    "contents_of",
    "latest_path",
    "read_latest",
    "remove_latest",
    "write_latest",
]

logger = logging.getLogger(__name__)

#: Bump on any change to the pointer's fields.
LATEST_FORMAT = 1
_FIELDS = ("id", "title", "url", "lang", "date", "text", "path", "post_url")


@dataclass(frozen=True, slots=True)
class Latest:
    """The last committed index: snapshot ``key`` over the documents of file cache ``store``
    (a directory name in the cache directory) with ``overlay`` applied."""

    key: str
    store: str
    overlay: Mapping[str, FileContent]


def latest_path(cache_dir: str | Path, corpus_dir: str | Path) -> Path:
    return Path(cache_dir) / f"latest-{corpus_tag(corpus_dir)}.json"


def _settings(corpus_dir: str | Path, config: SearchConfig, max_file_bytes: int) -> Any:
    """What must match for the pointer to apply; JSON's own spelling, to compare read with made."""
    made = {
        "format": LATEST_FORMAT,
        "corpus": os.path.abspath(corpus_dir),
        "max_file_bytes": max_file_bytes,
        "default_lang": config.default_lang,
        "index": index_settings(config),
        "analyzer": ANALYZER_VERSION,
        "snapshot_format": SNAPSHOT_FORMAT,
    }
    return json.loads(json.dumps(made, sort_keys=True))


def _checksum(body: Any) -> str:
    data = json.dumps(body, sort_keys=True, ensure_ascii=True).encode("ascii")
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def _content_to_json(content: FileContent) -> Any:
    if content is None:
        return None
    documents, skipped = content
    return {
        "documents": [[getattr(doc, name) for name in _FIELDS] for doc in documents],
        "skipped": [[skip.path, skip.reason] for skip in skipped],
    }


def _content_from_json(value: Any) -> FileContent:
    if value is None:
        return None
    rows = value["documents"]
    documents = tuple(Document(**dict(zip(_FIELDS, row, strict=True))) for row in rows)
    for doc in documents:
        for name in _FIELDS:
            field = getattr(doc, name)
            if not (isinstance(field, str) or (field is None and name in ("date", "post_url"))):
                raise CacheError(f"overlay: {name} of {doc.id!r} is not text")
    skipped = tuple(Skipped(str(path), str(reason)) for path, reason in value["skipped"])
    return documents, skipped


def write_latest(
    cache_dir: str | Path,
    corpus_dir: str | Path,
    config: SearchConfig,
    max_file_bytes: int,
    latest: Latest,
) -> bool:
    """Commit ``latest`` as the pointer of ``corpus_dir``; False (and a WARNING) if the cache
    directory is unusable (the next start then loads the usual way)."""
    body = {
        "settings": _settings(corpus_dir, config, max_file_bytes),
        "key": latest.key,
        "store": latest.store,
        "overlay": {rel: _content_to_json(c) for rel, c in sorted(latest.overlay.items())},
    }
    final = latest_path(cache_dir, corpus_dir)
    tmp: str | None = None
    try:
        data = json.dumps({**body, "checksum": _checksum(body)}, ensure_ascii=True)
        fd, tmp = tempfile.mkstemp(prefix=".latest-", suffix=".part", dir=final.parent)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        tmp = None
        fsync_dir(final.parent)
        return True
    except (OSError, ValueError) as exc:
        logger.warning("index pointer not written to %s: %s", final, exc)
        return False
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def remove_latest(cache_dir: str | Path, corpus_dir: str | Path) -> None:
    """No pointer: what was committed last cannot be told from what this process knows."""
    with contextlib.suppress(OSError):
        latest_path(cache_dir, corpus_dir).unlink()


def read_latest(
    cache_dir: str | Path, corpus_dir: str | Path, config: SearchConfig, max_file_bytes: int
) -> Latest | None:
    """The pointer of ``corpus_dir`` if there is a sound one for these settings (never raises)."""
    path = latest_path(cache_dir, corpus_dir)
    try:
        raw = json.loads(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("index pointer %s is unusable: %s", path, exc)
        return None
    try:
        checksum = raw.pop("checksum")
        if checksum != _checksum(raw):
            raise CacheError("checksum mismatch")
        if raw["settings"] != _settings(corpus_dir, config, max_file_bytes):
            logger.info("index pointer %s is for other settings, not used", path)
            return None
        store = str(raw["store"])
        if Path(store).name != store or not store:
            raise CacheError(f"store {store!r} is not a name")
        overlay = {str(rel): _content_from_json(c) for rel, c in raw["overlay"].items()}
        return Latest(str(raw["key"]), store, overlay)
    except Exception as exc:  # any failure means: do not trust it
        logger.warning("index pointer %s is unusable: %s", path, exc)
        return None


def _owner(path: str) -> str:
    """The file a document or skipped entry came from (".jsonl" entries add ":line")."""
    head, sep, tail = path.rpartition(":")
    return head if sep and tail.isdigit() else path


def contents_of(
    corpus: CorpusLoad, rels: Iterable[str], exists: Callable[[str], bool]
) -> dict[str, FileContent]:
    """What ``corpus`` holds of each file in ``rels`` (None where ``exists(rel)`` says it is
    gone)."""
    wanted = set(rels)
    found: dict[str, tuple[list[Document], list[Skipped]]] = {rel: ([], []) for rel in wanted}
    if wanted:
        for doc in corpus.documents:
            entry = found.get(_owner(doc.path))
            if entry is not None:
                entry[0].append(doc)
        for skip in corpus.skipped:
            entry = found.get(_owner(skip.path))
            if entry is not None:
                entry[1].append(skip)
    return {
        rel: (tuple(docs), tuple(skips)) if exists(rel) else None
        for rel, (docs, skips) in found.items()
    }


def commit_update(
    cache_dir: str | Path,
    corpus_dir: str | Path,
    config: SearchConfig,
    max_file_bytes: int,
    old_key: str,
    new_key: str,
    changes: Mapping[str, FileContent],
) -> bool:
    """After a snapshot ``new_key`` was committed for the index ``old_key`` with the files in
    ``changes`` read again: the pointer moves along if it pointed at ``old_key`` (and its store
    is still there); else it is removed, and the next start loads the usual way."""
    previous = read_latest(cache_dir, corpus_dir, config, max_file_bytes)
    if (
        previous is None
        or not old_key
        or previous.key != old_key
        or not (Path(cache_dir) / previous.store).is_dir()
    ):
        remove_latest(cache_dir, corpus_dir)
        return False
    overlay = {**previous.overlay, **changes}
    latest = Latest(new_key, previous.store, overlay)
    return write_latest(cache_dir, corpus_dir, config, max_file_bytes, latest)
