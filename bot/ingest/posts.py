"""Channel posts as corpus files: one Markdown file per post, written atomically.

Live posts (the bot layer) and Telegram Desktop exports (:mod:`bot.ingest.tgexport`) both end up
here, so a post has one file name and one content whatever way it arrived: importing an export
twice, or importing it after the bot saw the posts live, changes nothing.

One channel can go by two names: ``c<id>`` (an export without ``--channel``, or while it was
private) and its username. Each file records the channel's id (``chat_id``), so a post filed
under one name replaces its copy under the other (:class:`ChannelDirs`) and is never quoted twice.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import yaml

from bot import tme
from bot.corpus import short_title

__all__ = [
    "PART_MAX_AGE_SECONDS",
    "TELEGRAM_DIR",
    "ChannelDirs",
    "ChannelPost",
    "WriteOutcome",
    "atomic_write",
    "channel_slug",
    "post_link",
    "post_markdown",
    "post_relpath",
    "remove_partial_writes",
    "remove_post",
    "source_url",
    "write_post",
]

#: Posts are kept under this directory of the corpus, one sub-directory per channel.
TELEGRAM_DIR = tme.TELEGRAM_DIR
#: A post's temporary file older than this is left from a killed process: a write takes
#: milliseconds, and a younger one may be another replica's write in progress.
PART_MAX_AGE_SECONDS = 120.0
_PART_PREFIX, _PART_SUFFIX = ".", ".part"

_URL_RE = re.compile(r"https?://[^\s<>\"'«»“”]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\"»“”…"


@dataclass(frozen=True, slots=True)
class ChannelPost:
    """A channel post as far as the corpus cares, whichever way it arrived.

    ``username`` is the public @name without the "@" ("" for a private channel); ``chat_id`` the
    Bot API id ("-100…"); ``links`` the URLs behind the post's links in text order (Telegram
    hides them in entities, so they are not always in ``text``); ``date`` ISO 8601."""

    chat_id: int
    username: str
    message_id: int
    text: str
    date: str | None = None
    links: tuple[str, ...] = ()
    channel_title: str = ""


class WriteOutcome:
    """What :func:`write_post` did with a post."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    EMPTY = "empty"


def channel_slug(post: ChannelPost) -> str:
    """The channel's directory name: its username, or ``c<id>`` as in private t.me links."""
    return tme.channel_slug(post.username, post.chat_id)


def post_link(post: ChannelPost) -> str:
    """The post's own link: t.me/name/id for public channels, t.me/c/id/id for private ones."""
    return tme.post_link(post.chat_id, post.username, post.message_id)


def _external(url: str) -> str | None:
    url = url.rstrip(_TRAILING)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if tme.is_telegram_host(host):
        return None
    return url


def source_url(post: ChannelPost) -> str | None:
    """The first link to outside Telegram: an entity's link first, else one written in the text
    (the seed post ends with its source URL)."""
    candidates: Iterable[str] = (*post.links, *_URL_RE.findall(post.text))
    for candidate in candidates:
        url = _external(candidate.strip())
        if url:
            return url
    return None


def post_relpath(post: ChannelPost) -> PurePosixPath:
    """``telegram/<channel>/<message id>.md``: a post is found again under the same name."""
    return PurePosixPath(TELEGRAM_DIR, channel_slug(post), f"{post.message_id}.md")


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def _title(text: str) -> str:
    return next((line.strip() for line in text.split("\n") if line.strip()), "")


def post_markdown(post: ChannelPost) -> str | None:
    """The corpus file for ``post``, or None if it has no text to quote.

    The text is kept exactly (``markup: plain``: Telegram text is not Markdown) and starts with
    the title line, as a post does."""
    text = _clean_text(post.text)
    if not text.strip():
        return None
    link = post_link(post)
    meta: dict[str, object] = {
        # A post is often one long paragraph: cut as the loader cuts derived titles.
        "title": short_title(" ".join(_title(text).split())),
        "url": source_url(post) or link,
        "post_url": link,
    }
    if post.date:
        meta["date"] = post.date
    meta["channel"] = post.username.lstrip("@").lower() or post.channel_title or channel_slug(post)
    meta["chat_id"] = post.chat_id
    meta["message_id"] = post.message_id
    meta["markup"] = "plain"
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000)
    return f"---\n{front}---\n{text}\n"


def write_post(root: Path, post: ChannelPost) -> tuple[str, Path]:
    """Write ``post`` under ``root`` atomically; returns a :class:`WriteOutcome` value and the
    path. An identical file is left alone, so repeated imports change nothing (not even
    mtimes)."""
    path = root / Path(post_relpath(post))
    content = post_markdown(post)
    if content is None:
        return WriteOutcome.EMPTY, path
    data = content.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return WriteOutcome.UNCHANGED, path
        outcome = WriteOutcome.UPDATED
    except FileNotFoundError:
        outcome = WriteOutcome.CREATED
    atomic_write(path, data)
    return outcome, path


_BARE_ID_RE = re.compile(r"c(\d{1,20})")
_HEADER_BYTES = 4096


def _recorded_chat_id(directory: Path) -> int | None:
    """The channel id a post directory holds: from a ``c<id>`` name, else from the front matter
    of one of its posts (None: unknown, e.g. files written before ``chat_id`` was recorded)."""
    bare = _BARE_ID_RE.fullmatch(directory.name)
    if bare is not None:
        return tme.bot_api_id(int(bare.group(1)))
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            if not entry.name.endswith(".md") or not entry.is_file():
                continue
            with open(entry.path, "rb") as fh:
                head = fh.read(_HEADER_BYTES).decode("utf-8", "replace")
            parts = head.split("---\n", 2)
            if len(parts) < 3 or parts[0]:
                continue
            try:
                meta = yaml.safe_load(parts[1])
            except yaml.YAMLError:
                continue
            value = meta.get("chat_id") if isinstance(meta, dict) else None
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            return None  # one file tells the directory's channel, or none does
    return None


class ChannelDirs:
    """Which directories under ``telegram/`` hold which channel (by id), looked up once per
    import, so a post filed under one name of its channel removes its copy under another."""

    def __init__(self, root: Path) -> None:
        self._base = root / TELEGRAM_DIR
        self._ids: dict[str, int | None] | None = None

    def _known(self) -> dict[str, int | None]:
        if self._ids is None:
            self._ids = {}
            with contextlib.suppress(OSError):
                for entry in os.scandir(self._base):
                    if entry.is_dir() and not entry.name.startswith("."):
                        self._ids[entry.name] = _recorded_chat_id(Path(entry.path))
        return self._ids

    def remove_other_copies(self, post: ChannelPost) -> list[Path]:
        """Delete the post's files under its channel's other names; the paths deleted (for the
        index). Call it after writing the post under its own name."""
        known = self._known()
        slug = channel_slug(post)
        known[slug] = post.chat_id
        removed: list[Path] = []
        for name, chat_id in known.items():
            if name == slug or chat_id != post.chat_id:
                continue
            path = self._base / name / f"{post.message_id}.md"
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
        return removed


def remove_post(root: Path, post: ChannelPost) -> Path | None:
    """Delete the post's file (its text was edited away); the path if there was one."""
    path = root / Path(post_relpath(post))
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    return path


def atomic_write(path: Path, data: bytes) -> None:
    """Readers (a reload in another thread) see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_PART_PREFIX, suffix=_PART_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_partial_writes(
    root: Path, *, older_than: float = PART_MAX_AGE_SECONDS, now: float | None = None
) -> list[Path]:
    """Delete the temporary files of post writes that never finished (a kill -9 between
    ``mkstemp`` and the rename) under ``root``'s posts; the paths removed. The loader never
    reads them (hidden), but nothing else would ever delete them."""
    cutoff = (time.time() if now is None else now) - older_than
    removed: list[Path] = []
    for dirpath, _dirnames, filenames in os.walk(root / TELEGRAM_DIR):
        for name in filenames:
            if not (name.startswith(_PART_PREFIX) and name.endswith(_PART_SUFFIX)):
                continue
            path = Path(dirpath, name)
            with contextlib.suppress(OSError):  # gone already, or a read-only volume
                if path.lstat().st_mtime < cutoff:
                    path.unlink()
                    removed.append(path)
    return removed
