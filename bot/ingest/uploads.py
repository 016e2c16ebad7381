"""Files an admin sends the bot: checked, then added to the corpus under a safe name.

Nothing Telegram-specific happens here: the bot layer downloads the file to :func:`staging_path`
and calls :func:`accept_upload`; the file joins the corpus only if it yields documents, and only
ever inside ``CORPUS_DIR/uploads`` (or, for a channel export, ``CORPUS_DIR/telegram``).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from bot.corpus import SUPPORTED_SUFFIXES, load_file
from bot.errors import ExportError, UploadError
from bot.ingest.tgexport import import_export

__all__ = [
    "EXPORT_SUFFIX",
    "STAGED_MAX_AGE_SECONDS",
    "UPLOAD_DIR",
    "UploadResult",
    "accept_upload",
    "allowed_suffixes",
    "check_upload",
    "remove_stale_uploads",
    "safe_file_name",
    "staging_path",
]

#: Uploaded documents live here, inside the corpus directory.
UPLOAD_DIR = "uploads"
#: A Telegram Desktop export (``result.json``) is imported as posts, not kept as a file.
EXPORT_SUFFIX = ".json"
_STAGING_DIR = ".incoming"  # hidden: the corpus loader skips dot-directories
#: A staged download older than this was left by a killed process: a download and its check
#: take seconds, and a younger one may be another replica's upload in progress.
STAGED_MAX_AGE_SECONDS = 3600.0
_NAME_MAX = 100
_UNSAFE_RE = re.compile(r"[^\w.\- ]+")


@dataclass(frozen=True, slots=True)
class UploadResult:
    """What an accepted upload added: the corpus files to index and a summary for the admin."""

    name: str
    paths: tuple[Path, ...]
    documents: int = 0
    replaced: bool = False
    #: For an export: posts created, updated and unchanged, and messages without text skipped.
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    export: bool = False


def allowed_suffixes() -> tuple[str, ...]:
    """What an admin may send: the corpus formats, and a channel export to import."""
    return (*SUPPORTED_SUFFIXES, EXPORT_SUFFIX)


def safe_file_name(raw: str | None) -> str:
    """The last path component of ``raw`` with only word characters, dots, dashes and spaces:
    no directory, no leading dot, no "..", at most 100 characters with the suffix kept."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE_RE.sub("_", name).strip(" ._")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = stem.strip(" ._") or "upload"
    suffix = suffix.lower()[:10]
    room = _NAME_MAX - len(suffix) - 1
    return f"{stem[:room].rstrip(' ._')}.{suffix}" if suffix else stem[:_NAME_MAX]


def check_upload(file_name: str | None, size: int | None, max_bytes: int) -> str:
    """Refuse before downloading: the safe name if the type and size are acceptable."""
    name = safe_file_name(file_name)
    suffix = os.path.splitext(name)[1].lower()
    if suffix not in allowed_suffixes():
        raise UploadError(
            "upload_bad_type",
            name=name,
            formats=", ".join(allowed_suffixes()),
        )
    if size is not None and size > max_bytes:
        raise UploadError(
            "upload_too_large",
            name=name,
            size_mb=round(size / 1024 / 1024, 1),
            limit_mb=round(max_bytes / 1024 / 1024, 1),
        )
    return name


def staging_path(corpus_dir: Path, name: str) -> Path:
    """A fresh file in the corpus's hidden staging directory (same file system as the corpus,
    so accepting is one atomic rename)."""
    staging = corpus_dir / _STAGING_DIR
    try:
        staging.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # e.g. a read-only Docker volume
        raise UploadError("upload_not_writable", name=name, reason=exc.strerror or exc) from None
    return staging / f"{uuid.uuid4().hex}{os.path.splitext(name)[1].lower()}"


def remove_stale_uploads(
    corpus_dir: Path, *, older_than: float = STAGED_MAX_AGE_SECONDS, now: float | None = None
) -> list[Path]:
    """Delete staged downloads that a kill -9 left in the staging directory (never read, never
    deleted otherwise); the paths removed."""
    cutoff = (time.time() if now is None else now) - older_than
    removed: list[Path] = []
    with contextlib.suppress(OSError):  # no staging directory, or a read-only volume
        for entry in os.scandir(corpus_dir / _STAGING_DIR):
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return sorted(removed)


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def accept_upload(
    staged: Path,
    name: str,
    corpus_dir: Path,
    *,
    max_file_bytes: int,
    default_lang: str,
    channel: str | None = None,
) -> UploadResult:
    """Add the downloaded file ``staged`` (named ``name`` by its sender) to the corpus, or raise
    UploadError saying why not. The staged file is gone afterwards either way."""
    try:
        name = check_upload(name, staged.stat().st_size, max_file_bytes)
        if os.path.splitext(name)[1].lower() == EXPORT_SUFFIX:
            return _import_export(staged, name, corpus_dir, channel)
        docs, skipped = load_file(
            staged, staged.parent, default_lang=default_lang, max_file_bytes=max_file_bytes
        )
        if not docs:
            reason = skipped[0].reason if skipped else "no document"
            raise UploadError("upload_unusable", name=name, reason=reason)
        target = corpus_dir / UPLOAD_DIR / name
        if not _inside(target.parent, corpus_dir) or target.is_symlink():
            raise UploadError("upload_unusable", name=name, reason="unsafe target path")
        replaced = target.exists()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(staged, 0o644)
            os.replace(staged, target)
        except OSError as exc:
            raise UploadError(
                "upload_not_writable", name=name, reason=exc.strerror or exc
            ) from None
        return UploadResult(name=name, paths=(target,), documents=len(docs), replaced=replaced)
    finally:
        with contextlib.suppress(FileNotFoundError):
            staged.unlink()


def _import_export(staged: Path, name: str, corpus_dir: Path, channel: str | None) -> UploadResult:
    try:
        report = import_export(staged, corpus_dir, channel)
    except ExportError as exc:
        raise UploadError("upload_unusable", name=name, reason=str(exc)) from None
    return UploadResult(
        name=name,
        paths=tuple(report.paths),
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=report.skipped_service + report.skipped_empty,
        export=True,
    )
