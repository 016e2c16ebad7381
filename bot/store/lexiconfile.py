"""The parsed German–English lexicon, cached as checksummed arrays: analysing the Ding
dictionary's 200k lines takes half a minute, reading them back well under a second.

The store is named by a hash of what it depends on (the dictionary file's path, size and
modification time, the analyzer version and this format), so a new dictionary or analyzer is
parsed again; a damaged store is parsed again and replaced. Nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from bot.engine.analysis import ANALYZER_VERSION
from bot.engine.bilingual import PARSE_VERSION, TABLES, Lexicon
from bot.errors import CacheError
from bot.store.arrayfiles import (
    fsync_dir,
    load_array,
    pack_strings,
    read_manifest,
    unpack_strings,
    write_store,
)

__all__ = ["LEXICON_FORMAT", "load_lexicon"]

logger = logging.getLogger(__name__)

LEXICON_FORMAT = 2
_MANIFEST = "lexicon.json"
_PREFIX = "lexicon-"
_LISTS = ("terms", "translations")


def load_lexicon(dictionary: str | Path, cache_dir: str | Path | None = None) -> Lexicon | None:
    """The lexicon of the Ding file ``dictionary``, from the cache in ``cache_dir`` when it has
    a sound one (and written there otherwise); None if the file is not there."""
    path = Path(dictionary)
    try:
        stat = path.stat()
    except OSError:
        return None
    if not path.is_file():
        return None
    key = _key(path, stat.st_size, stat.st_mtime_ns)
    store = (
        None
        if cache_dir is None or str(cache_dir) == ""
        else Path(cache_dir) / (_PREFIX + key[:24])
    )
    if store is not None and store.is_dir():
        try:
            return _read(store, key, str(path))
        except (CacheError, KeyError, TypeError, ValueError) as exc:
            logger.warning("lexicon cache %s unusable (%s): parsing the dictionary", store, exc)
    try:
        lexicon = Lexicon.read(path)
    except OSError as exc:
        logger.warning("dictionary %s unreadable: %s", path, exc)
        return None
    if store is not None:
        _write(lexicon, store, key)
    return lexicon


def _key(path: Path, size: int, mtime_ns: int) -> str:
    parts = [LEXICON_FORMAT, PARSE_VERSION, ANALYZER_VERSION, str(path.resolve()), size, mtime_ns]
    text = json.dumps(parts)
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def _write(lexicon: Lexicon, store: Path, key: str) -> None:
    arrays: dict[str, np.ndarray[Any, Any]] = {}
    for lang, (terms, translations, ends) in lexicon.tables().items():
        for name, values in zip(_LISTS, (terms, translations), strict=True):
            arrays[f"{lang}.{name}"], arrays[f"{lang}.{name}_offsets"] = pack_strings(values)
        arrays[f"{lang}.ends"] = np.array(ends, dtype=np.int64)
    arrays["heads"], arrays["heads_offsets"] = pack_strings(sorted(lexicon.heads))
    tmp = None
    try:
        tmp = write_store(store.parent, arrays, {"key": key}, _MANIFEST)
        if store.exists():
            shutil.rmtree(store)
        os.rename(tmp, store)
        tmp = None
        fsync_dir(store.parent)
    except OSError as exc:
        logger.warning("lexicon cache not written to %s: %s", store, exc)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _read(store: Path, key: str, path: str) -> Lexicon:
    manifest = read_manifest(store / _MANIFEST)
    if manifest.get("key") != key:
        raise CacheError("made for another dictionary")
    described = manifest["arrays"]

    def strings(name: str) -> list[str]:
        return unpack_strings(
            load_array(store, described[name], np.uint8),
            load_array(store, described[f"{name}_offsets"], np.int64),
        )

    tables = {}
    for lang in TABLES:
        ends = load_array(store, described[f"{lang}.ends"], np.int64).tolist()
        tables[lang] = (strings(f"{lang}.terms"), strings(f"{lang}.translations"), ends)
    return Lexicon.from_tables(path, tables, strings("heads"))
