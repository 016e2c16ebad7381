"""Loading the corpus: walking its directory, and reading each file with the reader its suffix
names. Every content problem becomes a ``Skipped`` entry; only "no corpus at all" raises."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from bot.corpus.documents import (
    CorpusLoad,
    Document,
    FileLoader,
    Skip,
    bounded_documents,
    skipped,
)
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
    "OUTSIDE_LINK",
    "READER_VERSION",
    "SUPPORTED_SUFFIXES",
    "leads_outside",
    "load_corpus",
    "load_file",
]

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".jsonl", ".html", ".htm")
#: Bump whenever a file would be read into different documents or skip reasons: the corpus
#: file cache (:mod:`bot.store.filecache`) keeps what files were read into under this version.
READER_VERSION = 4
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
#: Why a file reached by a symlink leading out of the corpus directory is not read.
OUTSIDE_LINK = "symlink out of the corpus directory: not read"


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
            documents, skips = read_jsonl(path, rel, lang, max_file_bytes)
            return bounded_documents(documents), skips
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
    return bounded_documents([doc]), []


def _walk(root: Path, skips: list[Skipped]) -> Iterator[tuple[str, str]]:
    """Yield supported files (full and relative path) in a stable order. Never follows directory
    symlinks (no loops), nor any symlink whose target lies outside ``root``: its target would be
    quoted to users as the corpus. Plain strings and ``os.scandir`` (whose entries know
    whether they are links without another system call): a Path per file cost more than a
    cached file's whole load."""
    real_root = os.path.realpath(root)
    stack = [(os.fspath(root), "")]
    while stack:
        dirpath, prefix = stack.pop()
        try:
            with os.scandir(dirpath) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            skips.append(
                skipped(prefix.rstrip("/") or ".", f"unreadable directory: {exc.strerror or exc}")
            )
            continue
        subdirs: list[tuple[str, str]] = []
        for entry in entries:
            name = entry.name
            if name[0] == ".":
                continue
            dot = name.rfind(".")  # os.path.splitext's suffix, for names not starting with "."
            supported = dot > 0 and name[dot:].lower() in SUPPORTED_SUFFIXES
            if entry.is_symlink():
                is_dir = _is_dir(entry)
                if not (supported or is_dir):
                    continue
                if not _inside(os.path.realpath(entry.path), real_root):
                    reason = OUTSIDE_LINK.replace("read", "followed") if is_dir else OUTSIDE_LINK
                    skips.append(skipped(prefix + name, reason))
                elif supported and not is_dir:
                    yield entry.path, prefix + name
                continue
            if _is_dir(entry):
                subdirs.append((entry.path, prefix + name + "/"))
            elif supported:
                yield entry.path, prefix + name
        stack.extend(reversed(subdirs))


def leads_outside(path: Path, root: Path) -> bool:
    """Whether ``path``, with every symlink on the way resolved, lies outside ``root``."""
    return not _inside(os.path.realpath(path), os.path.realpath(root))


def _inside(real_path: str, real_root: str) -> bool:
    return real_path == real_root or real_path.startswith(os.path.join(real_root, ""))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a link loop, or a directory we may not look into
        return False


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
