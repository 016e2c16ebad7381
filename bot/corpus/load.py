"""Loading the corpus: walking its directory, and reading each file with the reader its suffix
names. Every content problem becomes a ``Skipped`` entry; only "no corpus at all" raises."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from bot.corpus.documents import CorpusLoad, Document, FileLoader, Skip, skipped
from bot.corpus.fields import normalize_lang
from bot.corpus.files import check_file, read_text
from bot.corpus.html import read_html
from bot.corpus.jsonl import read_jsonl
from bot.corpus.markdown import read_markdown
from bot.corpus.txt import read_txt
from bot.errors import CorpusError, Skipped
from bot.languages import SUPPORTED_LANGUAGES

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "READER_VERSION",
    "SUPPORTED_SUFFIXES",
    "load_corpus",
    "load_file",
]

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".jsonl", ".html", ".htm")
#: Bump whenever a file would be read into different documents or skip reasons: the corpus
#: file cache (:mod:`bot.store.filecache`) keeps what files were read into under this version.
READER_VERSION = 3
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024


def load_corpus(
    root: Path | str,
    *,
    default_lang: str = "de",
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    loader: FileLoader | None = None,
) -> CorpusLoad:
    """Load every supported file under ``root``; raise only when nothing usable is there.

    ``loader`` reads each file instead of :func:`load_file` (:mod:`bot.store.filecache` answers from
    what it remembers of files that did not change)."""
    root_path = Path(root)
    if not root_path.is_dir():
        what = "not a directory" if root_path.exists() else "does not exist"
        raise CorpusError(f"corpus directory not found: {root_path} ({what})")
    lang = _check_default_lang(default_lang)
    if loader is None:

        def loader(path: str, rel: str) -> tuple[list[Document], list[Skipped]]:
            return load_file(
                Path(path), root_path, default_lang=lang, max_file_bytes=max_file_bytes
            )

    documents: list[Document] = []
    skips: list[Skipped] = []
    files = 0
    for path, rel in _walk(root_path, skips):
        files += 1
        docs, file_skips = loader(path, rel)
        documents.extend(docs)
        skips.extend(file_skips)

    documents.sort(key=lambda d: d.id)
    skips.sort(key=lambda s: s.path)
    if not documents:
        if skips:
            first = "; ".join(f"{s.path}: {s.reason}" for s in skips[:3])
            more = f"; and {len(skips) - 3} more" if len(skips) > 3 else ""
            detail = f"{files} files skipped: {first}{more}"
        else:
            detail = f"{files} files skipped: no {', '.join(SUPPORTED_SUFFIXES)} file found"
        raise CorpusError(f"no usable document in {root_path} ({detail})", tuple(skips))
    logger.debug(
        "corpus %s: %d documents, %d skipped, %d files",
        root_path,
        len(documents),
        len(skips),
        files,
    )
    return CorpusLoad(documents=tuple(documents), skipped=tuple(skips), files=files)


def load_file(
    path: Path,
    root: Path,
    *,
    default_lang: str = "de",
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> tuple[list[Document], list[Skipped]]:
    """Load one file; content problems come back as ``Skipped`` so one file can't stop a load."""
    lang = _check_default_lang(default_lang)
    rel = _relative(path, root)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return [], [skipped(rel, f"unsupported file type {suffix or '(no extension)'!r}")]
    try:
        size = check_file(path, max_file_bytes)
        if suffix == ".jsonl":
            return read_jsonl(path, rel, lang, max_file_bytes)
        text = read_text(path, max_file_bytes, size)
        if suffix == ".txt":
            doc = read_txt(text, rel, lang)
        elif suffix == ".md":
            doc = read_markdown(text, rel, lang)
        else:
            doc = read_html(text, rel, lang)
    except Skip as skip:
        return [], [skipped(rel, skip.reason)]
    except OSError as exc:
        return [], [skipped(rel, _unreadable(exc))]
    except Exception as exc:  # a parser bug on odd input must not stop the load
        logger.debug("unexpected error while loading %s", rel, exc_info=True)
        return [], [skipped(rel, f"could not parse: {type(exc).__name__}: {exc}")]
    return [doc], []


def _walk(root: Path, skips: list[Skipped]) -> Iterator[tuple[str, str]]:
    """Yield supported files (full and relative path) in a stable order; never follows
    directory symlinks (no loops). Plain strings: a Path per file cost more than a cached
    file's whole load."""

    def on_error(exc: OSError) -> None:
        where = _relative(Path(exc.filename), root) if exc.filename else "."
        skips.append(skipped(where, f"unreadable directory: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=on_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        where = Path(os.path.relpath(dirpath, root)).as_posix()
        prefix = "" if where == "." else where + "/"
        base = os.path.join(dirpath, "")
        for name in sorted(filenames):
            dot = name.rfind(".")  # os.path.splitext's suffix, for names not starting with "."
            if dot > 0 and name[0] != "." and name[dot:].lower() in SUPPORTED_SUFFIXES:
                yield base + name, prefix + name


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _unreadable(exc: OSError) -> str:
    return f"unreadable: {exc.strerror or type(exc).__name__}"


def _check_default_lang(value: str) -> str:
    lang = normalize_lang(value)
    if lang is None:
        raise ValueError(f"default_lang must be one of {SUPPORTED_LANGUAGES}, got {value!r}")
    return lang
