"""Index snapshots on disk: save an :class:`~bot.engine.search.Engine`'s
:class:`~bot.engine.parts.IndexParts`, load them back instead of building.

A snapshot is a directory ``<cache dir>/<corpus tag>-<key>/`` holding one ``.npy`` file per array
(written with ``np.save``, read with ``np.load(..., allow_pickle=False)``: loading never runs code
from the file) and ``manifest.json`` (format version, analyzer version, config, key, counts, and
each array's file, dtype, shape and CRC-32). Strings (vocabularies, n-grams) are UTF-8 blobs with
character offset arrays. Documents are not stored: the key is a hash of every loaded document, so
the caller's documents are the snapshot's.

The key covers the corpus content, :data:`~bot.engine.analysis.ANALYZER_VERSION`, the index-time
:class:`~bot.engine.config.SearchConfig` fields, the BM25 parameters and :data:`SNAPSHOT_FORMAT`;
any change gives a new key. A snapshot is written into a temporary directory next to its final
place, fsynced and renamed, so a reader never sees a partial one. Anything wrong with a snapshot
(bad JSON, another format, checksum mismatch, wrong dtype or shape, arrays inconsistent with each
other) is logged at WARNING, the snapshot is deleted and the caller builds the engine again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bot.corpus import Document
from bot.engine import Engine, IndexParts, SearchConfig
from bot.engine.analysis import ANALYZER_VERSION, analyzer_for
from bot.engine.config import index_settings
from bot.engine.grams import GramField, TermGrams
from bot.engine.index import BM25Field, BM25Params, ForwardIndex
from bot.engine.parts import Passages
from bot.errors import CacheError
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
    "MANIFEST",
    "SNAPSHOT_FORMAT",
    "SnapshotError",
    "load_snapshot",
    "save_snapshot",
    "snapshot_key",
    "snapshot_path",
]

logger = logging.getLogger(__name__)

#: Bump on any change to the files or arrays of a snapshot.
SNAPSHOT_FORMAT = 8
MANIFEST = "manifest.json"

_FIELDS = ("stems", "doc_stems")
_FIELD_ARRAYS: dict[str, type[np.generic]] = {
    "doc_len": np.float64,
    "doc_ids": np.int32,
    "indptr": np.int64,
    "idf": np.float64,
    "weights": np.float64,
    "vocab_blob": np.uint8,
    "vocab_offsets": np.int64,
}
# Only the passage field has a forward index (documents read theirs from their passages).
_FORWARD_ARRAYS: dict[str, type[np.generic]] = {
    "stems.fwd_indptr": np.int64,
    "stems.fwd_terms": np.int32,
    "stems.fwd_tf": np.int32,
}
_GRAM_FIELDS = ("grams", "doc_grams")
_ENGINE_ARRAYS: dict[str, type[np.generic]] = {
    "passage_doc": np.int64,
    "passage_index": np.int64,
    "passage_lang": np.uint8,
    "passage_start": np.int64,
    "passage_end": np.int64,
    "term_grams.gram_blob": np.uint8,
    "term_grams.gram_offsets": np.int64,
    **{f"term_grams.{name}": dtype for name, dtype in TermGrams.ARRAY_TYPES.items()},
    **{f"{name}.{part}": np.float64 for name in _GRAM_FIELDS for part in ("length", "idf", "df")},
}


#: A snapshot that must not be used (the message says why).
SnapshotError = CacheError


# --------------------------------------------------------------------------- key


def _index_config(config: SearchConfig) -> dict[str, Any]:
    """What of the config changes the index (:func:`~bot.engine.config.index_settings`), and
    the BM25 parameters."""
    return {**index_settings(config), "bm25": asdict(BM25Params())}


def snapshot_key(
    documents: Sequence[Document], config: SearchConfig, digest: str | None = None
) -> str:
    """Changes with the corpus content, the analyzer, the index config and the format.

    ``digest``: :func:`corpus_hash` of ``documents`` when the caller knows it already."""
    head = json.dumps(
        [SNAPSHOT_FORMAT, ANALYZER_VERSION, _index_config(config)], sort_keys=True
    ).encode()
    key = hashlib.blake2b(head, digest_size=20)
    key.update((digest or corpus_hash(documents)).encode())
    return key.hexdigest()


def snapshot_path(cache_dir: str | Path, corpus_dir: str | Path, key: str) -> Path:
    return Path(cache_dir) / f"{corpus_tag(corpus_dir)}-{key}"


# --------------------------------------------------------------------------- strings


def _arrays_of(parts: IndexParts) -> tuple[dict[str, np.ndarray[Any, Any]], dict[str, Any]]:
    arrays: dict[str, np.ndarray[Any, Any]] = {}
    fields: dict[str, Any] = {}
    for name, bm25 in zip(_FIELDS, (parts.stems, parts.doc_stems), strict=True):
        arrays[f"{name}.doc_len"] = bm25.doc_len
        arrays[f"{name}.doc_ids"] = bm25.doc_ids
        arrays[f"{name}.indptr"] = bm25.indptr
        arrays[f"{name}.idf"] = bm25.idf
        arrays[f"{name}.weights"] = bm25.weights
        blob, offsets = pack_strings(list(bm25.vocabulary))
        arrays[f"{name}.vocab_blob"], arrays[f"{name}.vocab_offsets"] = blob, offsets
        if bm25.forward is not None:
            arrays[f"{name}.fwd_indptr"] = bm25.forward.indptr
            arrays[f"{name}.fwd_terms"] = bm25.forward.terms
            arrays[f"{name}.fwd_tf"] = bm25.forward.tf
        fields[name] = {
            "corpus_size": bm25.corpus_size,
            "avgdl": bm25.avgdl,
            "terms": len(bm25.vocabulary),
            "params": asdict(bm25.params),
        }
    passages = parts.passages
    langs: list[str] = list(passages.langs)
    arrays["passage_doc"] = passages.document
    arrays["passage_index"] = passages.index
    arrays["passage_lang"] = passages.lang
    arrays["passage_start"] = passages.start
    arrays["passage_end"] = passages.end
    term_grams = parts.term_grams
    gram_blob, gram_offsets = pack_strings(list(term_grams.gram_ids))
    arrays["term_grams.gram_blob"], arrays["term_grams.gram_offsets"] = gram_blob, gram_offsets
    for name, array in term_grams.export().items():
        arrays[f"term_grams.{name}"] = array
    for name, grams in zip(_GRAM_FIELDS, (parts.grams, parts.doc_grams), strict=True):
        arrays[f"{name}.length"], arrays[f"{name}.idf"] = grams.length, grams.idf
        # Empty: not known (the next rebuild counts them in full).
        df = grams.df
        arrays[f"{name}.df"] = df if df is not None else np.zeros(0, dtype=np.float64)
    meta = {"fields": fields, "langs": langs, "languages": [list(x) for x in parts.languages]}
    return arrays, meta


def save_snapshot(
    engine: Engine, cache_dir: str | Path, corpus_dir: str | Path, key: str | None = None
) -> Path | None:
    """Write ``engine``'s snapshot; None (and a WARNING) if the cache directory is unusable."""
    key = key or snapshot_key(engine.documents, engine.config)
    final = snapshot_path(cache_dir, corpus_dir, key)
    tmp: Path | None = None
    try:
        arrays, meta = _arrays_of(engine.parts)
        manifest = {
            "format": SNAPSHOT_FORMAT,
            "analyzer": ANALYZER_VERSION,
            "key": key,
            "corpus": str(corpus_dir),
            "config": asdict(engine.config),
            "counts": {"documents": len(engine.documents), "passages": engine.stats.passages},
            "created": time.time(),
            **meta,
        }
        tmp = write_store(Path(cache_dir), arrays, manifest, MANIFEST)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / MANIFEST).exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process wrote it meanwhile
        tmp = None
        fsync_dir(Path(cache_dir))
        _prune(Path(cache_dir), final)
        return final
    except (OSError, ValueError) as exc:
        logger.warning("index snapshot not written to %s: %s", cache_dir, exc)
        return None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _prune(cache_dir: Path, keep: Path) -> None:
    """Drop other snapshots of the same corpus directory, then those of all but a few other
    corpus directories (:func:`bot.store.keys.prune`), the least recently written first."""
    snapshots = [
        entry for entry in cache_dir.iterdir() if entry.is_dir() and (entry / MANIFEST).exists()
    ]
    prune(snapshots, _tag_of(keep), _tag_of, lambda path: path.stat().st_mtime, keep)


def _tag_of(snapshot: Path) -> str:
    return snapshot.name.split("-", 1)[0]


# --------------------------------------------------------------------------- load


def load_snapshot(
    documents: Sequence[Document],
    config: SearchConfig,
    cache_dir: str | Path,
    corpus_dir: str | Path,
    key: str | None = None,
) -> Engine | None:
    """The engine stored for exactly these documents and config, or None (never raises).

    A snapshot that is there but unusable is logged at WARNING and deleted."""
    key = key or snapshot_key(documents, config)
    path = snapshot_path(cache_dir, corpus_dir, key)
    if not path.is_dir():
        return None
    try:
        return _read(path, documents, config, key)
    except Exception as exc:  # any failure means: do not trust it, rebuild
        logger.warning("index snapshot %s is unusable, rebuilding: %s", path, exc)
        shutil.rmtree(path, ignore_errors=True)
        return None


def _read(path: Path, documents: Sequence[Document], config: SearchConfig, key: str) -> Engine:
    started = time.perf_counter()
    manifest = read_manifest(path / MANIFEST)
    if manifest.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(f"format {manifest.get('format')!r}, expected {SNAPSHOT_FORMAT}")
    if manifest.get("analyzer") != ANALYZER_VERSION or manifest.get("key") != key:
        raise SnapshotError("made for another analyzer, config or corpus")
    counts = manifest["counts"]
    if counts["documents"] != len(documents):
        raise SnapshotError("document count differs")
    described: Mapping[str, Any] = manifest["arrays"]
    expected = {f"{f}.{a}": t for f in _FIELDS for a, t in _FIELD_ARRAYS.items()}
    expected.update(_ENGINE_ARRAYS)
    expected.update(_FORWARD_ARRAYS)
    if set(described) != set(expected):
        raise SnapshotError("unexpected set of arrays")
    # Reading and CRC-32 dominate, and both release the GIL: the files load in parallel while
    # this thread makes the (small, first-loaded) string tables into Python objects.
    order = sorted(expected, key=lambda name: not name.endswith(("_blob", "_offsets")))
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        futures = {
            name: pool.submit(load_array, path, described[name], expected[name]) for name in order
        }
        vocabularies: dict[str, dict[str, int]] = {}
        for name in _FIELDS:
            first = _FIELDS[0]
            if vocabularies and all(
                np.array_equal(futures[f"{first}.{p}"].result(), futures[f"{name}.{p}"].result())
                for p in ("vocab_blob", "vocab_offsets")
            ):
                # The document field has the passages' vocabulary: share its table.
                vocabularies[name] = vocabularies[first]
                continue
            terms = unpack_strings(
                futures[f"{name}.vocab_blob"].result(), futures[f"{name}.vocab_offsets"].result()
            )
            vocabularies[name] = {term: tid for tid, term in enumerate(terms)}
            if len(vocabularies[name]) != len(terms):
                raise SnapshotError(f"{name}: a term is there twice")
        gram_strings = unpack_strings(
            futures["term_grams.gram_blob"].result(), futures["term_grams.gram_offsets"].result()
        )
        arrays = {name: future.result() for name, future in futures.items()}

    fields: dict[str, BM25Field] = {}
    for name in _FIELDS:
        meta = manifest["fields"][name]
        fields[name] = BM25Field.from_arrays(
            vocabulary=vocabularies[name],
            doc_len=arrays[f"{name}.doc_len"],
            doc_ids=arrays[f"{name}.doc_ids"],
            indptr=arrays[f"{name}.indptr"],
            idf=arrays[f"{name}.idf"],
            weights=arrays[f"{name}.weights"],
            avgdl=float(meta["avgdl"]),
            forward=ForwardIndex(
                arrays[f"{name}.fwd_indptr"], arrays[f"{name}.fwd_terms"], arrays[f"{name}.fwd_tf"]
            )
            if name == "stems"
            else None,
            params=BM25Params(**meta["params"]),
        )
    term_grams = TermGrams.from_arrays(
        list(fields["stems"].vocabulary),
        gram_strings,
        {name: arrays[f"term_grams.{name}"] for name in TermGrams.ARRAY_TYPES},
    )
    langs = tuple(analyzer_for(str(x)).lang for x in manifest["langs"])
    languages = tuple((str(lang), int(n)) for lang, n in manifest["languages"])
    passages = Passages(
        arrays["passage_doc"],
        arrays["passage_index"],
        arrays["passage_start"],
        arrays["passage_end"],
        arrays["passage_lang"],
        langs,
    )
    forward = fields["stems"].forward_index()
    grams = {
        name: GramField.from_arrays(
            forward,
            term_grams,
            length=arrays[f"{name}.length"],
            idf=arrays[f"{name}.idf"],
            df=arrays[f"{name}.df"] if len(arrays[f"{name}.df"]) else None,
            groups=passages.groups(len(documents)) if name == "doc_grams" else None,
        )
        for name in _GRAM_FIELDS
    }
    parts = IndexParts(
        passages,
        fields["stems"],
        fields["doc_stems"],
        term_grams,
        grams["grams"],
        grams["doc_grams"],
        languages,
    )
    return Engine.from_parts(documents, config, parts, time.perf_counter() - started)
