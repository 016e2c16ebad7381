"""Remember what each corpus file was read into, so a restart opens only the files that changed.

Reading a file costs about 0.4 ms (open, decode, parse, guess the language): over a minute for
200,000 posts, at every start and every /reload. The cache keeps, for each file, its stamp
(size, mtime, ctime and inode, from one ``stat``) and the documents or skip reasons it gave. A
file whose stamp did not change is not opened again.

Why a stamp is enough: tools that keep a file's mtime (``cp -p``, ``rsync -t``, ``tar``) cannot
set its ctime back, and replacing a file gives it a new inode. What a stamp cannot show is a
second change within the same clock tick as the ``stat`` taken before the read; so a file whose
times are less than :data:`RACY_NS` older than that ``stat`` is kept but marked untrusted and
read again next time (git's "racily clean" rule). A file changed while it is read keeps the
stamp taken before the read, so it is read again next time too. Not covered: a file system whose
clock runs more than RACY_NS behind this machine's, with coarse times, and a same-size rewrite
in the same tick right after the read.

The cache lives in ``<cache dir>/files-<corpus tag>-<n>/`` as checksummed arrays
(:mod:`bot.store.arrayfiles`; nothing in it is ever executed). It is tied to the corpus directory,
the reader's version and the settings that change what a file is read into; anything wrong with
it is logged, it is ignored and written again.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import logging
import os
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.corpus import (
    DEFAULT_MAX_FILE_BYTES,
    READER_VERSION,
    CorpusLoad,
    Document,
    load_corpus,
    load_file,
)
from bot.errors import CacheError, Skipped
from bot.store.arrayfiles import (
    fsync_dir,
    load_array,
    pack_strings,
    read_manifest,
    unpack_strings,
    write_store,
)
from bot.store.keys import corpus_hash, corpus_tag, prune

__all__ = [
    "FILES_FORMAT",
    "MANIFEST",
    "RACY_NS",
    "REWRITE_SHARE",
    "CachedCorpus",
    "FileContent",
    "Stamp",
    "corpus_from_store",
    "load_corpus_cached",
]

logger = logging.getLogger(__name__)

#: Bump on any change to the arrays of a file cache.
FILES_FORMAT = 1
#: A file whose mtime or ctime is this close to the moment it was stat'ed (or later) is read
#: again next time: 2 s covers the coarsest file times (FAT) and clocks a little apart.
RACY_NS = 2_000_000_000
#: Rewrite a usable cache only when more than this share of the files changed: a few new
#: posts cost a few reads at the next start, a rewrite costs seconds at a million passages.
REWRITE_SHARE = 0.01
MANIFEST = "files.json"
_PREFIX = "files-"

# How each document field is stored: every string made at a restart costs time.
_PLAIN_FIELDS = ("title", "url")
#: Usually the file's own path (all but ``.jsonl`` lines): stored only where not.
_PATH_FIELDS = ("id", "path")
#: Few distinct values, or None: a table of the values and a code per document.
_TABLE_FIELDS = ("lang", "date", "post_url")


@dataclass(frozen=True, slots=True)
class CachedCorpus:
    """A corpus load, and what the cache spared."""

    corpus: CorpusLoad
    #: Files opened and read this time.
    read: int
    #: Files whose documents came from the cache.
    reused: int
    #: :func:`bot.store.keys.corpus_hash` of ``corpus.documents``.
    digest: str
    #: Whether the cache was written (again) by this load.
    written: bool
    #: The cache store that holds this corpus's files (None: none usable), and the files whose
    #: documents differ from what that store holds (read, new or gone since it was written).
    store: Path | None = None
    stale: frozenset[str] = frozenset()


Stamp = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class _Entry:
    stamp: Stamp
    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...]
    #: False when the file's times were within RACY_NS of its stat: read it again next time.
    trusted: bool


@dataclass(frozen=True, slots=True)
class _Cache:
    """A stored cache as flat lists: file ``i`` is ``index[rel]``; its documents are
    ``documents[doc_bounds[i]:doc_bounds[i + 1]]`` (one object per file would cost more than
    the look-up saves)."""

    index: dict[str, int]
    stamps: list[Stamp]
    trusted: list[int]
    documents: list[Document]
    doc_bounds: list[int]
    skipped: list[Skipped]
    skip_bounds: list[int]
    digest: str

    def entry(self, i: int) -> _Entry:
        return _Entry(
            self.stamps[i],
            tuple(self.documents[self.doc_bounds[i] : self.doc_bounds[i + 1]]),
            tuple(self.skipped[self.skip_bounds[i] : self.skip_bounds[i + 1]]),
            bool(self.trusted[i]),
        )


def _stamp(path: str) -> Stamp | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _settings(root: Path, default_lang: str, max_file_bytes: int) -> dict[str, Any]:
    """What must match for a cache to apply: the same directory, reader and reading settings."""
    return {
        "format": FILES_FORMAT,
        "reader": READER_VERSION,
        "root": str(root),
        "default_lang": default_lang,
        "max_file_bytes": max_file_bytes,
    }


def load_corpus_cached(
    root: Path | str,
    cache_dir: Path | str,
    *,
    default_lang: str = "de",
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> CachedCorpus:
    """:func:`bot.corpus.load_corpus`, answering unchanged files from the cache in ``cache_dir``
    (and updating it). The same documents and skipped entries, in the same order; CorpusError
    as there. An unusable cache directory only costs the reads."""
    root_path = Path(os.path.abspath(root))
    cache = Path(cache_dir)
    settings = _settings(root_path, default_lang, max_file_bytes)
    tag = corpus_tag(root_path)
    prefix = f"{_PREFIX}{tag}-"
    stores = _stores(cache, prefix)
    cached: _Cache | None = None
    if stores:
        try:
            cached = _read(stores[-1], settings)
        except Exception as exc:  # any failure means: do not trust it, read the files
            logger.warning(
                "corpus file cache %s is unusable, reading every file: %s", stores[-1], exc
            )
            shutil.rmtree(stores[-1], ignore_errors=True)
    empty = _Cache({}, [], [], [], [0], [], [0], "")
    old = cached or empty
    index, stamps, trusted = old.index, old.stamps, old.trusted
    docs, doc_bounds, skips, skip_bounds = (
        old.documents,
        old.doc_bounds,
        old.skipped,
        old.skip_bounds,
    )
    seen: dict[str, _Entry | int] = {}  # an int: file number in ``old``
    counts = {"read": 0, "reused": 0, "changed": 0}
    stale: set[str] = set()
    unstored: set[str] = set()  # read, but no stamp to store them under

    def loader(path: str, rel: str) -> tuple[list[Document], list[Skipped]]:
        stat_ns = time.time_ns()
        stamp = _stamp(path)
        i = index.get(rel)
        if i is not None and trusted[i] and stamp == stamps[i]:
            counts["reused"] += 1
            seen[rel] = i
            return docs[doc_bounds[i] : doc_bounds[i + 1]], skips[
                skip_bounds[i] : skip_bounds[i + 1]
            ]
        entry = None if i is None else old.entry(i)
        documents, skipped = load_file(
            Path(path), root_path, default_lang=default_lang, max_file_bytes=max_file_bytes
        )
        counts["read"] += 1
        if entry is None or (entry.documents, entry.skipped) != (tuple(documents), tuple(skipped)):
            counts["changed"] += 1
            stale.add(rel)
        if stamp is not None:
            # Any change after the stat gets times from this clock tick on: a stamp older than
            # the tick (with room for coarse clocks) would show it; a younger one might not.
            settled = max(stamp[1], stamp[2]) < stat_ns - RACY_NS
            seen[rel] = _Entry(stamp, tuple(documents), tuple(skipped), settled)
        else:
            unstored.add(rel)
        return documents, skipped

    corpus = load_corpus(
        root_path, default_lang=default_lang, max_file_bytes=max_file_bytes, loader=loader
    )
    changed = counts["changed"] + len(index.keys() - seen.keys())
    digest = cached.digest if cached is not None and changed == 0 else corpus_hash(corpus.documents)
    written = False
    store = stores[-1] if cached is not None else None
    stale.update(index.keys() - seen.keys(), unstored)
    if cached is None or changed > REWRITE_SHARE * max(1, len(seen)):
        entries = {rel: old.entry(e) if isinstance(e, int) else e for rel, e in seen.items()}
        final = _write(cache, prefix, settings, entries, digest)
        written = final is not None
        store, stale = (final, unstored) if written else (None, stale)
        # This corpus's caches listed at the start go (they are stale; one another process
        # wrote since stays), and those of all but a few other corpus directories.
        others = [store for store in _all_stores(cache) if _tag_of(store) != tag]
        prune([*stores, *others], tag, _tag_of, _written_ns, final)
    logger.info(
        "corpus files: %d read, %d unchanged (cache %s)",
        counts["read"],
        counts["reused"],
        "written" if written else "kept" if cached is not None else "not written",
    )
    return CachedCorpus(
        corpus, counts["read"], counts["reused"], digest, written, store, frozenset(stale)
    )


#: A file's documents and skipped entries as read; None: the file is gone.
FileContent = tuple[tuple[Document, ...], tuple[Skipped, ...]] | None


def corpus_from_store(
    root: Path | str,
    store: Path,
    overlay: Mapping[str, FileContent],
    *,
    default_lang: str = "de",
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> CorpusLoad:
    """The corpus the file cache ``store`` holds, with the files in ``overlay`` as given there
    instead, without looking at a single corpus file: what a restart serves while the files are
    checked. CacheError if the store is not usable for this directory and these settings."""
    settings = _settings(Path(os.path.abspath(root)), default_lang, max_file_bytes)
    cached = _read(store, settings)
    documents: list[Document] = []
    skipped: list[Skipped] = []
    files = 0
    for rel, i in cached.index.items():
        if rel in overlay:
            continue
        files += 1
        documents.extend(cached.documents[cached.doc_bounds[i] : cached.doc_bounds[i + 1]])
        skipped.extend(cached.skipped[cached.skip_bounds[i] : cached.skip_bounds[i + 1]])
    for content in overlay.values():
        if content is not None:
            files += 1
            documents.extend(content[0])
            skipped.extend(content[1])
    # The order load_corpus gives (and apply_files keeps): the snapshot's passages follow it.
    documents.sort(key=lambda d: d.id)
    skipped.sort(key=lambda s: s.path)
    if not documents:
        raise CacheError("the stored corpus has no document")
    return CorpusLoad(documents=tuple(documents), skipped=tuple(skipped), files=files)


def _all_stores(cache: Path) -> list[Path]:
    """Every corpus's file caches in ``cache``."""
    try:
        return [
            entry
            for entry in cache.iterdir()
            if entry.name.startswith(_PREFIX) and (entry / MANIFEST).is_file()
        ]
    except OSError:
        return []


def _stores(cache: Path, prefix: str) -> list[Path]:
    """This corpus's caches, oldest first (normally one)."""
    return sorted((s for s in _all_stores(cache) if s.name.startswith(prefix)), key=_written_ns)


def _tag_of(store: Path) -> str:
    return store.name[len(_PREFIX) :].split("-", 1)[0]


def _written_ns(store: Path) -> int:
    """When a cache was written: the time its name ends with (file times may tie)."""
    suffix = store.name.rsplit("-", 1)[-1]
    try:
        return int(suffix, 16)
    except ValueError:
        return -1


# --------------------------------------------------------------------------- write


def _write(
    cache: Path,
    prefix: str,
    settings: dict[str, Any],
    entries: dict[str, _Entry],
    digest: str,
) -> Path | None:
    """Store ``entries``; None (and a WARNING) if the cache directory is unusable."""
    tmp: Path | None = None
    try:
        now = time.time_ns()
        rels = sorted(entries)
        files = [entries[rel] for rel in rels]
        documents = [doc for entry in files for doc in entry.documents]
        skipped = [skip for entry in files for skip in entry.skipped]
        arrays: dict[str, np.ndarray[Any, Any]] = {}
        arrays["file.path"], arrays["file.path_offsets"] = pack_strings(rels)
        for number, name in enumerate(("size", "mtime", "ctime", "ino")):
            # Inode numbers are unsigned 64-bit; overlayfs (Docker) sets their top bits.
            dtype = np.uint64 if name == "ino" else np.int64
            arrays[f"file.{name}"] = np.fromiter(
                (entry.stamp[number] for entry in files), dtype, len(files)
            )
        arrays["file.trusted"] = np.fromiter(
            (entry.trusted for entry in files), np.uint8, len(files)
        )
        arrays["file.documents"] = _offsets([len(entry.documents) for entry in files])
        arrays["file.skipped"] = _offsets([len(entry.skipped) for entry in files])
        for field in _PLAIN_FIELDS:
            blob, offsets = pack_strings([getattr(doc, field) for doc in documents])
            arrays[f"doc.{field}"], arrays[f"doc.{field}_offsets"] = blob, offsets
        file_of = [rel for rel, entry in zip(rels, files, strict=True) for _ in entry.documents]
        for field in _PATH_FIELDS:
            values = [getattr(doc, field) for doc in documents]
            same = [value == rel for value, rel in zip(values, file_of, strict=True)]
            others = [value for value, is_rel in zip(values, same, strict=True) if not is_rel]
            arrays[f"doc.{field}"], arrays[f"doc.{field}_offsets"] = pack_strings(others)
            arrays[f"doc.{field}_is_file"] = np.fromiter(same, np.uint8, len(same))
        for field in _TABLE_FIELDS:
            table: dict[str, int] = {}
            codes = np.fromiter(
                (
                    -1 if value is None else table.setdefault(value, len(table))
                    for value in (getattr(doc, field) for doc in documents)
                ),
                np.int32,
                len(documents),
            )
            arrays[f"doc.{field}"], arrays[f"doc.{field}_offsets"] = pack_strings(list(table))
            arrays[f"doc.{field}_codes"] = codes
        arrays["doc.text"], arrays["doc.text_offsets"] = _pack_texts([d.text for d in documents])
        for field in ("path", "reason"):
            blob, offsets = pack_strings([getattr(skip, field) for skip in skipped])
            arrays[f"skip.{field}"], arrays[f"skip.{field}_offsets"] = blob, offsets
        manifest = {
            **settings,
            "digest": digest,
            "files": len(files),
            "documents": len(documents),
            "created": now / 1e9,
        }
        tmp = write_store(cache, arrays, manifest, MANIFEST)
        final = cache / f"{prefix}{now:x}"
        os.rename(tmp, final)
        tmp = None
        fsync_dir(cache)
        logger.debug("corpus file cache written: %s (%d files)", final, len(files))
        return final
    except (OSError, ValueError, OverflowError) as exc:
        logger.warning("corpus file cache not written to %s: %s", cache, exc)
        return None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _offsets(counts: Sequence[int]) -> npt.NDArray[np.int64]:
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(np.asarray(counts, dtype=np.int64), out=offsets[1:])
    return offsets


def _pack_texts(texts: Sequence[str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """UTF-8 of each text and their byte offsets: read back one text at a time, a corpus's
    text is never held twice over (once as one joined string, once cut into documents)."""
    blob = bytearray()
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    for number, text in enumerate(texts, 1):
        blob += text.encode("utf-8", "surrogatepass")
        offsets[number] = len(blob)
    return np.frombuffer(blob, dtype=np.uint8), offsets


# --------------------------------------------------------------------------- read


def _expected() -> dict[str, type[np.generic]]:
    names: dict[str, type[np.generic]] = {"file.path": np.uint8, "file.path_offsets": np.int64}
    for name in ("size", "mtime", "ctime", "documents", "skipped"):
        names[f"file.{name}"] = np.int64
    names["file.ino"] = np.uint64
    names["file.trusted"] = np.uint8
    for field in (*_PLAIN_FIELDS, *_PATH_FIELDS, *_TABLE_FIELDS, "text"):
        names[f"doc.{field}"], names[f"doc.{field}_offsets"] = np.uint8, np.int64
    for field in _PATH_FIELDS:
        names[f"doc.{field}_is_file"] = np.uint8
    for field in _TABLE_FIELDS:
        names[f"doc.{field}_codes"] = np.int32
    for field in ("path", "reason"):
        names[f"skip.{field}"], names[f"skip.{field}_offsets"] = np.uint8, np.int64
    return names


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Making a million objects none of which can be in a cycle: without this, the cyclic
    collector runs thousands of times over everything alive (a third of a restart's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read(store: Path, settings: dict[str, Any]) -> _Cache:
    with _no_cyclic_gc():
        return _read_store(store, settings)


def _read_store(store: Path, settings: dict[str, Any]) -> _Cache:
    manifest = read_manifest(store / MANIFEST)
    for name, value in settings.items():
        if manifest.get(name) != value:
            raise CacheError(f"made for another {name} ({manifest.get(name)!r})")
    expected = _expected()
    described = manifest["arrays"]
    if set(described) != set(expected):
        raise CacheError("unexpected set of arrays")
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        futures = {
            name: pool.submit(load_array, store, described[name], dtype)
            for name, dtype in expected.items()
        }
        arrays = {name: future.result() for name, future in futures.items()}

    def strings(name: str, count: int) -> list[str]:
        values = unpack_strings(arrays[name], arrays[f"{name}_offsets"])
        if len(values) != count:
            raise CacheError(f"{name}: {len(values)} entries, expected {count}")
        return values

    files, documents = int(manifest["files"]), int(manifest["documents"])
    rels = strings("file.path", files)
    doc_bounds = _bounds(arrays["file.documents"], files, documents, "file.documents")
    columns: dict[str, list[Any]] = {
        field: strings(f"doc.{field}", documents) for field in _PLAIN_FIELDS
    }
    file_of = np.repeat(np.arange(files), np.diff(arrays["file.documents"])).tolist()
    for field in _PATH_FIELDS:
        is_file = arrays[f"doc.{field}_is_file"]
        if len(is_file) != documents:
            raise CacheError(f"doc.{field}_is_file: wrong length")
        others = iter(strings(f"doc.{field}", documents - int(np.count_nonzero(is_file))))
        columns[field] = [
            rels[i] if same else next(others)
            for i, same in zip(file_of, is_file.tolist(), strict=True)
        ]
    for field in _TABLE_FIELDS:
        lookup: list[str | None] = [*unpack_strings(*_blob(arrays, f"doc.{field}")), None]
        codes = arrays[f"doc.{field}_codes"]
        if len(codes) != documents:
            raise CacheError(f"doc.{field}_codes: wrong length")
        if documents and (codes.min() < -1 or codes.max() >= len(lookup) - 1):
            raise CacheError(f"doc.{field}_codes: out of range")
        columns[field] = [lookup[code] for code in codes.tolist()]  # -1: the None at the end
    texts = _unpack_texts(arrays["doc.text"], arrays["doc.text_offsets"], documents)
    docs = [
        Document(
            id=id_,
            title=title,
            url=url,
            lang=lang,
            date=date,
            text=text,
            path=path,
            post_url=post_url,
        )
        for id_, title, url, lang, date, text, path, post_url in zip(
            columns["id"],
            columns["title"],
            columns["url"],
            columns["lang"],
            columns["date"],
            texts,
            columns["path"],
            columns["post_url"],
            strict=True,
        )
    ]
    skip_paths = unpack_strings(arrays["skip.path"], arrays["skip.path_offsets"])
    reasons = unpack_strings(arrays["skip.reason"], arrays["skip.reason_offsets"])
    if len(skip_paths) != len(reasons):
        raise CacheError("skipped entries: paths and reasons differ in number")
    skips = [Skipped(path, reason) for path, reason in zip(skip_paths, reasons, strict=True)]
    skip_bounds = _bounds(arrays["file.skipped"], files, len(skips), "file.skipped")
    stamps: list[Stamp] = list(
        zip(
            *(arrays[f"file.{name}"].tolist() for name in ("size", "mtime", "ctime", "ino")),
            strict=True,
        )
    )
    if len(stamps) != files or len(arrays["file.trusted"]) != files:
        raise CacheError("file stamps: wrong length")
    index = dict(zip(rels, range(files), strict=True))
    if len(index) != files:
        raise CacheError("a file is there twice")
    return _Cache(
        index,
        stamps,
        arrays["file.trusted"].tolist(),
        docs,
        doc_bounds,
        skips,
        skip_bounds,
        str(manifest["digest"]),
    )


def _blob(
    arrays: dict[str, np.ndarray[Any, Any]], name: str
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    return arrays[name], arrays[f"{name}_offsets"]


def _bounds(offsets: npt.NDArray[np.int64], files: int, total: int, name: str) -> list[int]:
    if len(offsets) != files + 1 or offsets[0] != 0 or offsets[-1] != total:
        raise CacheError(f"{name}: offsets do not cover the entries")
    if np.any(np.diff(offsets) < 0):
        raise CacheError(f"{name}: offsets decrease")
    bounds: list[int] = offsets.tolist()
    return bounds


def _unpack_texts(
    blob: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64], count: int
) -> list[str]:
    bounds = _bounds(offsets, count, len(blob), "doc.text_offsets")
    view = memoryview(blob.data)
    try:
        return [str(view[a:b], "utf-8", "surrogatepass") for a, b in itertools.pairwise(bounds)]
    except UnicodeDecodeError as exc:
        raise CacheError(f"doc.text: not UTF-8: {exc}") from None
