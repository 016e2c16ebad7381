"""Telegram Desktop exports ("Export chat history", ``result.json``) as corpus posts.

The export is read as a stream with ``ijson`` (its C backend, yajl2_c, parses about 70 MB/s
here): only the message being converted is ever a Python object, so a 100 MB export imports
with a traced peak under 1 MB (writing the posts' files, not reading, takes most of its 30 s).
A hand-written reader around ``json.JSONDecoder.raw_decode`` would need its own tokenizer for
the nesting of full-account exports (top object → ``chats`` → ``list`` → chat →
``messages``), and truncated or malformed input is exactly where such code goes wrong; ijson
already reports those cases as errors.

Each post goes through :func:`bot.ingest.posts.write_post`, the same path as a post the bot sees
live, so files are written atomically one by one (a truncated export keeps the posts before the
cut), and importing the same export twice, or after the bot saw the posts live, changes nothing.

Which chats are imported:

* a single-chat export (``{"name", "type", "id", "messages"}``) must be a channel
  (``public_channel`` or ``private_channel``); ``channel`` is then that channel's public
  username, whatever its title;
* a full-account export (``{"chats": {"list": [...]}, "left_chats": {"list": [...]}}``): every
  channel in it (left ones too), each under ``c<id>`` with t.me/c/ links as for a private
  channel, since the export does not hold usernames. Groups, private chats and bots are skipped
  and named in the report. With ``channel`` only the channel whose title matches it (ignoring
  case, spaces and punctuation: "Kyiv Independent" for ``kyivindependent``) is imported, under
  that username.

The chat's ``name``, ``type`` and ``id`` must come before its ``messages`` (Telegram Desktop
writes them so); the reader never buffers messages to wait for them.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, overload

import ijson

from bot import tme
from bot.errors import ExportError
from bot.ingest.posts import ChannelDirs, ChannelPost, WriteOutcome, write_post

__all__ = [
    "CHANNEL_TYPES",
    "ExportReader",
    "ImportReport",
    "ImportedPaths",
    "SkippedChat",
    "import_export",
    "public_username",
    "read_export",
]

#: Chat types of a Telegram Desktop export that are channels.
CHANNEL_TYPES = frozenset(("public_channel", "private_channel"))

# Where chats sit: the top object of a single-chat export, the lists of a full-account export.
_CHAT_PREFIXES = ("", "chats.list.item", "left_chats.list.item")
_CHAT_LISTS = frozenset(("chats.list", "left_chats.list"))
_META_KEYS = ("name", "type", "id")
_META = {f"{p}.{k}".lstrip("."): (p, k) for p in _CHAT_PREFIXES for k in _META_KEYS}
_MESSAGES = {f"{p}.messages".lstrip("."): p for p in _CHAT_PREFIXES}
_MESSAGE = {f"{p}.messages.item".lstrip("."): p for p in _CHAT_PREFIXES}
_CHAT_START = frozenset(_CHAT_PREFIXES)

_SLUG_RE = re.compile(r"[^a-z0-9_]+")
_SHOWN_CHATS = 5


@dataclass(frozen=True, slots=True)
class SkippedChat:
    """A chat of the export that was not imported: not a channel (``type`` says what it is),
    or a channel other than the one ``channel`` chose."""

    title: str
    type: str

    def __str__(self) -> str:
        return f"{self.title or '(untitled)'} ({self.type or 'unknown type'})"


class ImportedPaths(Sequence[Path]):
    """The files an import created or updated, kept as (directory, message id) numbers: a first
    import changes every post, and a Path object costs about 450 bytes (44 MB for 100,000 posts,
    more than the reading itself), these 12. The Paths are made when read."""

    __slots__ = ("_dir_index", "_dirs", "_ids", "_index_of")

    def __init__(self, paths: Iterable[Path] = ()) -> None:
        self._dirs: list[Path] = []
        self._index_of: dict[Path, int] = {}
        self._dir_index = array("I")
        self._ids = array("q")
        for path in paths:
            self._append(path)

    def _append(self, path: Path) -> None:
        """Only for the import that fills it: ``<dir>/<message id>.md``, as write_post names."""
        if path.suffix != ".md" or not path.stem.isdigit():
            raise ValueError(f"not a post file name: {path.name!r}")
        parent = path.parent
        index = self._index_of.get(parent)
        if index is None:
            index = self._index_of[parent] = len(self._dirs)
            self._dirs.append(parent)
        self._dir_index.append(index)
        self._ids.append(int(path.stem))

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> Path: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Path, ...]: ...

    def __getitem__(self, index: int | slice) -> Path | tuple[Path, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        return self._dirs[self._dir_index[index]] / f"{self._ids[index]}.md"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ImportedPaths | tuple):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"ImportedPaths({list(self)!r})"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did. ``paths`` are the files created, updated or removed (so a caller
    can reload just those); ``replaced`` the copies removed because the posts are now filed
    under another name of their channel; ``chats`` the channels imported; ``skipped_chats`` the
    chats left out."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_service: int = 0
    skipped_empty: int = 0
    chats: int = 0
    skipped_chats: tuple[SkippedChat, ...] = ()
    paths: ImportedPaths = field(default_factory=ImportedPaths)
    replaced: int = 0


@dataclass(slots=True)
class _Chat:
    prefix: str
    name: str = ""
    type: str = ""
    id: object = None
    #: The post template for an imported chat; None while undecided or when skipped.
    template: ChannelPost | None = None


@dataclass(slots=True)
class _Counts:
    service: int = 0
    empty: int = 0
    posts: int = 0
    chats: int = 0
    skipped_chats: list[SkippedChat] = field(default_factory=list)
    channel_titles: list[str] = field(default_factory=list)


def public_username(channel: str) -> str:
    """``name``, ``@name`` or a t.me link as the bare username; ExportError if it is none."""
    username = tme.username_of(channel)
    if username is None:
        raise ExportError(
            f"{channel!r} is not a public channel username"
            " (like @name or https://t.me/name; a private channel needs none)"
        )
    return username


class ExportReader:
    """One pass over an export: iterating it yields the posts to import, in file order, and
    counts what it leaves out as it goes. Raises :class:`ExportError` for input that is not an
    export; the posts yielded before stay valid."""

    def __init__(self, source: Path | BinaryIO, channel: str | None = None) -> None:
        self._source = source
        self._username = public_username(channel) if channel is not None else None
        self._counts = _Counts()
        self._chosen = False

    @property
    def skipped_service(self) -> int:
        """Service messages (pins, joins, channel creation…) and other non-message entries."""
        return self._counts.service

    @property
    def skipped_empty(self) -> int:
        """Messages without text to quote (a photo without caption, a sticker, a poll…)."""
        return self._counts.empty

    @property
    def chats(self) -> int:
        """Channels imported so far."""
        return self._counts.chats

    @property
    def skipped_chats(self) -> tuple[SkippedChat, ...]:
        """The chats left out so far."""
        return tuple(self._counts.skipped_chats)

    def __iter__(self) -> Iterator[ChannelPost]:
        with ExitStack() as stack:
            if isinstance(self._source, Path):
                try:
                    fh: BinaryIO = stack.enter_context(self._source.open("rb"))
                except OSError as exc:
                    raise ExportError(
                        f"cannot read {self._source}: {exc.strerror or type(exc).__name__}"
                    ) from None
            else:
                fh = self._source
            try:
                yield from self._posts(ijson.parse(fh, use_float=True))
            except ijson.JSONError as exc:
                raise ExportError(self._json_problem(exc)) from None
            except OSError as exc:
                raise ExportError(f"cannot read the export: {exc.strerror or exc}") from None

    def _json_problem(self, exc: Exception) -> str:
        """One line without the file's name (an upload's is a staging name) or its content."""
        detail = re.sub(r"^b['\"]", "", str(exc)).replace("\\n", "\n").split("\n", 1)[0]
        detail = detail.strip().rstrip(".")
        done = self._counts.posts
        if "premature EOF" in detail:
            if done:
                return (
                    f"the export ends early (cut off?); the {done} post(s) before the cut were"
                    " imported, export it again for the rest"
                )
            return "the file is empty or ends early (cut off?): not a complete export"
        return f"not a Telegram export: invalid JSON ({detail})"

    def _posts(self, events: Iterator[tuple[str, str, Any]]) -> Iterator[ChannelPost]:
        first = next(events, None)
        if first is None or first[:2] != ("", "start_map"):
            raise ExportError("not a Telegram export: not a JSON object")
        chats: dict[str, _Chat] = {"": _Chat("")}
        found = False  # a "messages" array or a chat list: it is an export
        builder: Any = None
        building = ""
        for prefix, event, value in events:
            if builder is not None:
                builder.event(event, value)
                if event == "end_map" and prefix == building:
                    post = self._post(builder.value, chats[_MESSAGE[building]])
                    builder = None
                    if post is not None:
                        self._counts.posts += 1
                        yield post
                continue
            if prefix in _MESSAGE:
                if event == "start_map":
                    chat = chats[_MESSAGE[prefix]]
                    if chat.template is not None:
                        builder = ijson.ObjectBuilder()
                        builder.event(event, value)
                        building = prefix
                continue
            meta = _META.get(prefix)
            if meta is not None:
                if event in ("string", "number"):
                    setattr(chats[meta[0]], meta[1], value)
            elif prefix in _MESSAGES and event == "start_array":
                found = True
                self._open_chat(chats[_MESSAGES[prefix]])
            elif prefix in _CHAT_START and prefix and event == "start_map":
                chats[prefix] = _Chat(prefix)
            elif prefix in _CHAT_LISTS and event == "start_array":
                found = True
        if not found:
            raise ExportError("not a Telegram Desktop export (no 'messages' or 'chats' in it)")
        self._check_imported()

    def _open_chat(self, chat: _Chat) -> None:
        """Decide, when a chat's messages start, whether they are imported and under what name."""
        title = chat.name if isinstance(chat.name, str) else str(chat.name)
        kind = chat.type if isinstance(chat.type, str) else str(chat.type)
        label = title or "(untitled)"
        if kind not in CHANNEL_TYPES:
            self._counts.skipped_chats.append(SkippedChat(title, kind))
            return
        username = ""
        if self._username is not None:
            single = chat.prefix == ""
            self._counts.channel_titles.append(label)
            if not single and (self._chosen or _slug(title) != self._username.lower()):
                self._counts.skipped_chats.append(SkippedChat(title, kind))
                return
            self._chosen = True
            username = self._username
        chat.template = ChannelPost(
            chat_id=_bot_api_id(chat.id, label),
            username=username,
            message_id=0,
            text="",
            channel_title=title,
        )
        self._counts.chats += 1

    def _check_imported(self) -> None:
        counts = self._counts
        if counts.chats:
            return
        shown = ", ".join(str(chat) for chat in counts.skipped_chats[:_SHOWN_CHATS])
        more = len(counts.skipped_chats) - _SHOWN_CHATS
        shown += f" and {more} more" if more > 0 else ""
        if self._username is not None and counts.channel_titles:
            raise ExportError(
                f"no channel titled like {self._username!r} in the export (its channels:"
                f" {', '.join(counts.channel_titles[:_SHOWN_CHATS])}); export that channel alone"
                " (Export chat history) to import it under this name"
            )
        raise ExportError(
            "no channel in the export" + (f" (chats found: {shown})" if shown else "")
        )

    def _post(self, message: object, chat: _Chat) -> ChannelPost | None:
        template = chat.template
        assert template is not None
        if not isinstance(message, dict) or message.get("type") != "message":
            self._counts.service += 1
            return None
        message_id = message.get("id")
        raw = message.get("text")
        if raw is None or raw == "":
            raw = message.get("text_entities")
        text, links = _flatten(raw)
        if not text.strip() or isinstance(message_id, bool) or not isinstance(message_id, int):
            self._counts.empty += 1
            return None
        return ChannelPost(
            chat_id=template.chat_id,
            username=template.username,
            message_id=message_id,
            text=text,
            date=_date(message),
            links=links,
            channel_title=template.channel_title,
        )


def read_export(source: Path | BinaryIO, channel: str | None = None) -> Iterator[ChannelPost]:
    """The posts of an export as a stream (see :class:`ExportReader` for the counts)."""
    return iter(ExportReader(source, channel))


def import_export(
    source: Path | BinaryIO, corpus_dir: Path, channel: str | None = None
) -> ImportReport:
    """Write every post of the export under ``corpus_dir/telegram/``; identical files are left
    alone. ``channel`` is the channel's public username (``@name`` or a t.me link work too)."""
    reader = ExportReader(source, channel)
    outcomes = {WriteOutcome.CREATED: 0, WriteOutcome.UPDATED: 0, WriteOutcome.UNCHANGED: 0}
    empty = replaced = 0
    paths = ImportedPaths()
    dirs = ChannelDirs(corpus_dir)
    for post in reader:
        try:
            outcome, path = write_post(corpus_dir, post)
            if outcome != WriteOutcome.EMPTY:
                # Imported before under the channel's other name (with or without --channel).
                for old in dirs.remove_other_copies(post):
                    paths._append(old)
                    replaced += 1
        except OSError as exc:  # a read-only or full corpus volume: one line, not a traceback
            where = exc.filename or corpus_dir
            raise ExportError(f"cannot write {where}: {exc.strerror or exc}") from None
        if outcome == WriteOutcome.EMPTY:
            empty += 1
            continue
        outcomes[outcome] += 1
        if outcome != WriteOutcome.UNCHANGED:
            paths._append(path)
    return ImportReport(
        created=outcomes[WriteOutcome.CREATED],
        updated=outcomes[WriteOutcome.UPDATED],
        unchanged=outcomes[WriteOutcome.UNCHANGED],
        skipped_service=reader.skipped_service,
        skipped_empty=reader.skipped_empty + empty,
        chats=reader.chats,
        skipped_chats=reader.skipped_chats,
        paths=paths,
        replaced=replaced,
    )


def _slug(title: str) -> str:
    return _SLUG_RE.sub("", title.lower())


def _bot_api_id(export_id: object, label: str) -> int:
    """The export writes a channel's bare id; the Bot API (and the live bot) use -100<id>."""
    value = export_id
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise ExportError(
            f"chat {label!r} has no numeric 'id' before its messages: not a Telegram Desktop export"
        )
    return tme.bot_api_id(value)


def _flatten(raw: object) -> tuple[str, tuple[str, ...]]:
    """The text of ``text`` (a string, or a list of strings and entity objects) and the URLs of
    its ``link`` (shown URL) and ``text_link`` (hidden ``href``) entities, in text order."""
    if isinstance(raw, str):
        return raw, ()
    if not isinstance(raw, list):
        return "", ()
    parts: list[str] = []
    links: list[str] = []
    for item in raw:
        if isinstance(item, str):
            parts.append(item)
            continue
        if not isinstance(item, dict):
            continue
        shown = item.get("text")
        if isinstance(shown, str):
            parts.append(shown)
        kind = item.get("type")
        if kind == "link" and isinstance(shown, str) and shown.strip():
            links.append(shown.strip())
        elif kind == "text_link":
            href = item.get("href")
            if isinstance(href, str) and href.strip():
                links.append(href.strip())
    return "".join(parts), tuple(links)


def _date(message: dict[str, Any]) -> str | None:
    """UTC ISO 8601 as the Bot API gives it (``…+00:00``): ``date_unixtime`` is UTC, while
    ``date`` is the exporting computer's local time, used only when there is nothing else."""
    unix = message.get("date_unixtime")
    if isinstance(unix, str) and unix.strip().isdigit():
        unix = int(unix)
    if isinstance(unix, int) and not isinstance(unix, bool):
        try:
            return datetime.fromtimestamp(unix, tz=UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            pass
    local = message.get("date")
    return local if isinstance(local, str) and local.strip() else None
