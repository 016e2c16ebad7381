"""A local stand-in for the Telegram Bot API, for end-to-end tests of citebot.

The stand-in is an aiohttp server on 127.0.0.1 that speaks the Bot API well enough for a real
python-telegram-bot ``Application`` (polling or webhook mode) to run against it.  Tests play the
users (``send_private``, ``send_group``, ``press_button``, ``inline_query`` ...) and observe the
bot through the recorded calls (``wait_for``, ``next_message`` ...), without sleeping.

Typical use::

    async with BotApiStub() as stub:
        bot = telegram.Bot(stub.token, base_url=stub.base_url, base_file_url=stub.base_file_url)
        anna = stub.user(1001, "Anna")
        stub.send_private(anna, "/start")
        reply = await stub.next_message(anna.id)   # the Message dict the bot sent
        assert "Willkommen" in reply["text"]

It never sends traffic anywhere but 127.0.0.1: webhooks may only point there.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import mimetypes
import re
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.support.botapi_conformance import violations as spec_violations

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "BotApiStub",
    "Call",
    "StoredFile",
    "TelegramHtmlError",
    "TgUser",
    "UploadedFile",
    "WebhookDelivery",
    "compute_entities",
    "parse_telegram_html",
    "parse_telegram_html_entities",
    "utf16_len",
]

JSONDict = dict[str, Any]

DEFAULT_TOKEN: Final = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
MAX_MESSAGE_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_INLINE_RESULTS: Final = 50
MAX_CALLBACK_DATA_BYTES: Final = 64

#: Update types Telegram delivers when ``allowed_updates`` was never given (or given as []).
DEFAULT_EXCLUDED_UPDATES: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)

_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# Form fields whose values PTB (and Telegram clients generally) JSON-encode.
_JSON_FIELDS: Final = frozenset(
    {
        "reply_markup",
        "results",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "allowed_updates",
        "media",
        "button",
        "options",
        "permissions",
        "menu_button",
        "rights",
        "message_ids",
        "reaction",
        "input_message_content",
    }
)
# Free-text fields: never guessed to be JSON.
_TEXT_FIELDS: Final = frozenset(
    {
        "text",
        "caption",
        "query",
        "description",
        "short_description",
        "title",
        "name",
        "url",
        "next_offset",
        "secret_token",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "file_id",
        "language_code",
        "parse_mode",
        "action",
        "question",
    }
)
_INT_FIELDS: Final = frozenset(
    {
        "chat_id",
        "message_id",
        "from_chat_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "reply_to_message_id",
        "message_thread_id",
        "max_connections",
    }
)
_BOOL_FIELDS: Final = frozenset(
    {
        "drop_pending_updates",
        "show_alert",
        "is_personal",
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "disable_content_type_detection",
        "allow_paid_broadcast",
    }
)
_INT_RE: Final = re.compile(r"-?\d+")


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram measures texts and offsets in."""
    # Two bytes per unit; "surrogatepass" counts a lone surrogate as the one unit it is.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _now() -> int:
    return int(time.time())


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class _Signal:
    """A broadcast wake-up that can be fired from synchronous code.

    ``fire()`` wakes every coroutine currently in ``wait_until``; each re-checks its predicate.
    The predicate is checked before the event is taken, with no await in between, so no wake-up
    can be missed.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Wait until ``predicate()`` is true; False if ``timeout`` seconds passed first."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not predicate():
            event = self._event
            if deadline is None:
                await event.wait()
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True


# --------------------------------------------------------------------------------------------
# Telegram's HTML dialect
# --------------------------------------------------------------------------------------------


class TelegramHtmlError(ValueError):
    """Text that Telegram would refuse with "Bad Request: can't parse entities: <message>"."""


_TAG_ENTITY: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]*")
_UNQUOTED_VALUE_RE: Final = re.compile(r"[^\s>\"'`=<]+")
_ENTITY_RE: Final = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8}));")


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output text
    language: str | None = None  # for <pre>, set by an inner <code class="language-...">


def _decode_entities(text: str, base_index: int, source: str) -> str:
    """Decode the HTML entities in ``text`` (a slice of ``source`` starting at ``base_index``)."""
    out: list[str] = []
    i = 0
    while True:
        j = text.find("&", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        match = _ENTITY_RE.match(text, j)
        if match is None:
            offset = _byte_offset(source, base_index + j)
            raise TelegramHtmlError(
                f'Character "&" must start an HTML entity like "&amp;" at byte offset {offset}'
            )
        out.append(_entity_char(match, source, base_index + j))
        i = match.end()


def _entity_char(match: re.Match[str], source: str, index: int) -> str:
    named, dec, hexa = match.groups()
    if named is not None:
        return _NAMED_ENTITIES[named]
    code = int(dec) if dec is not None else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise TelegramHtmlError(
            f"Invalid numeric HTML entity at byte offset {_byte_offset(source, index)}"
        )
    return chr(code)


def _parse_start_tag_attrs(text: str, pos: int, tag_index: int) -> tuple[dict[str, str], int]:
    """Parse attributes from ``pos``; return them and the index of the closing '>'."""
    attrs: dict[str, str] = {}
    n = len(text)

    def unclosed() -> TelegramHtmlError:
        return TelegramHtmlError(
            f"Unclosed start tag at byte offset {_byte_offset(text, tag_index)}"
        )

    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            raise unclosed()
        if text[pos] == ">":
            return attrs, pos
        name_match = _ATTR_NAME_RE.match(text, pos)
        if name_match is None:
            raise TelegramHtmlError(
                f"Unexpected character {text[pos]!r} in start tag at byte offset "
                f"{_byte_offset(text, pos)}"
            )
        name = name_match.group().lower()
        pos = name_match.end()
        while pos < n and text[pos].isspace():
            pos += 1
        value = ""
        if pos < n and text[pos] == "=":
            pos += 1
            while pos < n and text[pos].isspace():
                pos += 1
            if pos >= n:
                raise unclosed()
            quote = text[pos]
            if quote in "\"'":
                end = text.find(quote, pos + 1)
                if end < 0:
                    raise unclosed()
                value = _decode_entities(text[pos + 1 : end], pos + 1, text)
                pos = end + 1
            else:
                value_match = _UNQUOTED_VALUE_RE.match(text, pos)
                if value_match is None:
                    raise TelegramHtmlError(
                        f"Expected attribute value at byte offset {_byte_offset(text, pos)}"
                    )
                value = _decode_entities(value_match.group(), pos, text)
                pos = value_match.end()
        attrs[name] = value


def _check_tag_attrs(name: str, attrs: Mapping[str, str]) -> None:
    if name == "a" and not attrs.get("href"):
        raise TelegramHtmlError('Tag "a" must have a non-empty attribute "href"')
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise TelegramHtmlError('Tag "span" must have class "tg-spoiler"')
    if name == "tg-emoji" and not attrs.get("emoji-id"):
        raise TelegramHtmlError('Tag "tg-emoji" must have attribute "emoji-id"')


def _close_tag(tag: _OpenTag, end: int, stack: list[_OpenTag], entities: list[JSONDict]) -> None:
    length = end - tag.start
    if tag.name == "code" and stack and stack[-1].name == "pre":
        css = tag.attrs.get("class", "")
        if css.startswith("language-") and len(css) > len("language-"):
            stack[-1].language = css[len("language-") :]
            return  # Telegram folds <pre><code class="language-x"> into one pre entity
    if length <= 0:
        return
    entity: JSONDict = {"type": _TAG_ENTITY[tag.name], "offset": tag.start, "length": length}
    if tag.name == "a":
        entity["url"] = tag.attrs["href"]
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    entities.append(entity)


def parse_telegram_html_entities(text: str) -> tuple[str, list[JSONDict]]:
    """Parse ``text`` with Telegram's HTML rules: return the plain text and its entities.

    Offsets and lengths of the entities are in UTF-16 code units.  The text is not stripped.
    Raises :class:`TelegramHtmlError` for an unknown tag, a missing or mismatched end tag, a
    bare "<" that does not start a tag, and a bare "&" that does not start an entity.
    """
    out: list[str] = []
    out_len = 0
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "<":
            if i + 1 < n and text[i + 1] == "/":
                name_match = _TAG_NAME_RE.match(text, i + 2)
                j = name_match.end() if name_match else i + 2
                while j < n and text[j].isspace():
                    j += 1
                if name_match is None or j >= n or text[j] != ">":
                    raise TelegramHtmlError(
                        f"Unclosed or malformed end tag at byte offset {_byte_offset(text, i)}"
                    )
                name = name_match.group().lower()
                if not stack:
                    raise TelegramHtmlError(
                        f'Unexpected end tag "</{name}>" at byte offset {_byte_offset(text, i)}'
                    )
                top = stack.pop()
                if top.name != name:
                    raise TelegramHtmlError(
                        f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                        f'expected "</{top.name}>", found "</{name}>"'
                    )
                _close_tag(top, out_len, stack, entities)
                i = j + 1
                continue
            name_match = _TAG_NAME_RE.match(text, i + 1)
            if name_match is None:
                raise TelegramHtmlError(
                    f'Unsupported start tag "" at byte offset {_byte_offset(text, i)}'
                )
            name = name_match.group().lower()
            if name not in _TAG_ENTITY:
                raise TelegramHtmlError(
                    f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, i)}'
                )
            attrs, j = _parse_start_tag_attrs(text, name_match.end(), i)
            _check_tag_attrs(name, attrs)
            stack.append(_OpenTag(name=name, attrs=attrs, start=out_len))
            i = j + 1
            continue
        if ch == "&":
            match = _ENTITY_RE.match(text, i)
            if match is None:
                raise TelegramHtmlError(
                    'Character "&" must start an HTML entity like "&amp;" at byte offset '
                    f"{_byte_offset(text, i)}"
                )
            decoded = _entity_char(match, text, i)
            out.append(decoded)
            out_len += utf16_len(decoded)
            i = match.end()
            continue
        j = i + 1
        while j < n and text[j] not in "<&":
            j += 1
        chunk = text[i:j]
        out.append(chunk)
        out_len += utf16_len(chunk)
        i = j
    if stack:
        raise TelegramHtmlError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def parse_telegram_html(text: str) -> str:
    """Parse ``text`` with Telegram's HTML rules and return the plain text (not stripped).

    Raises :class:`TelegramHtmlError` where Telegram would answer "can't parse entities".
    """
    return parse_telegram_html_entities(text)[0]


def _strip_with_entities(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip surrounding whitespace as Telegram does, moving and clipping the entities."""
    stripped_left = text.lstrip()
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    total = utf16_len(result)
    out: list[JSONDict] = []
    for entity in entities:
        start = max(0, int(entity["offset"]) - shift)
        end = min(total, int(entity["offset"]) + int(entity["length"]) - shift)
        if end > start:
            out.append({**entity, "offset": start, "length": end - start})
    return result, out


_COMMAND_RE: Final = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")
_MENTION_RE: Final = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{3,32}(?![\w@])")


def compute_entities(text: str) -> list[JSONDict]:
    """The ``bot_command`` and ``mention`` entities Telegram attaches to a user's message.

    A command is "/name" or "/name@botname" at the start of the text or after whitespace; a
    mention is "@username" not preceded by a word character.  Offsets and lengths are in UTF-16
    code units.
    """
    found: list[JSONDict] = []
    for kind, regex in (("bot_command", _COMMAND_RE), ("mention", _MENTION_RE)):
        for match in regex.finditer(text):
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: match.start()]),
                    "length": utf16_len(match.group()),
                }
            )
    found.sort(key=lambda e: e["offset"])
    return found


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer of the Bot API: {"ok": false, "error_code": ..., "description": ...}."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class TgUser:
    """A Telegram user played by a test (see :meth:`BotApiStub.user`)."""

    id: int
    first_name: str = "Anna"
    username: str | None = None
    language_code: str | None = "de"
    last_name: str | None = None
    is_bot: bool = False

    def to_dict(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data

    def private_chat(self) -> JSONDict:
        chat: JSONDict = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            chat["last_name"] = self.last_name
        if self.username is not None:
            chat["username"] = self.username
        return chat


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    content: bytes


@dataclass(frozen=True)
class StoredFile:
    """A file getFile knows about; downloadable at ``/file/bot<token>/<file_path>``."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def document(self) -> JSONDict:
        doc: JSONDict = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
        }
        if self.file_name is not None:
            doc["file_name"] = self.file_name
        if self.mime_type is not None:
            doc["mime_type"] = self.mime_type
        return doc


@dataclass
class Call:
    """One request the bot made.  ``time`` is ``time.monotonic()`` at arrival."""

    method: str
    params: JSONDict
    time: float
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int = 200
    result: Any = None
    error: str | None = None
    index: int = -1
    #: Where the call departs from the published Bot API (tests/support/botapi_conformance.py).
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300

    def describe(self) -> str:
        shown = {k: v for k, v in self.params.items() if k not in ("reply_markup", "results")}
        text = json.dumps(shown, ensure_ascii=False, default=str)
        if len(text) > 160:
            text = text[:157] + "..."
        outcome = "ok" if self.ok else f"{self.status} {self.error}"
        return f"#{self.index} {self.method} {text} -> {outcome}"


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to POST an update to the webhook.

    ``status`` is the HTTP status (None on a connection error, then ``error`` says why);
    ``final`` is True for the last attempt made for that update.
    """

    update_id: int | None
    url: str
    status: int | None
    error: str | None
    attempt: int
    secret_token: str | None
    time: float
    final: bool

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class _Fault:
    status: int | None
    retry_after: int
    description: str | None
    delay: float
    drop: bool
    remaining: int
    drop_after: bool = False
    delay_after: float = 0.0
    chat_id: int | None = None


@dataclass
class _StoredMessage:
    message: JSONDict
    from_bot: bool
    raw_text: str | None = None
    parse_mode: str | None = None


@dataclass(frozen=True)
class _Webhook:
    url: str
    secret_token: str | None
    allowed_updates: tuple[str, ...]
    max_connections: int


_DEFAULT_DESCRIPTIONS: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_QUERY_INVALID: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_SEND_METHODS: Final = ("sendMessage", "sendDocument")
_EDIT_METHODS: Final = ("editMessageText", "editMessageReplyMarkup")
_UNSET: Final = object()

_Handler = Callable[[JSONDict, dict[str, UploadedFile]], Coroutine[Any, Any, Any]]


def _normalize_params(params: Mapping[str, Any]) -> JSONDict:
    """Decode JSON-encoded form fields and coerce the obvious ints and bools."""
    out: JSONDict = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in _JSON_FIELDS or (
                key not in _TEXT_FIELDS and value[:1] in ("{", "[") and value[-1:] in ("}", "]")
            ):
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            elif key in _INT_FIELDS and _INT_RE.fullmatch(value):
                value = int(value)
            elif key in _BOOL_FIELDS and value.lower() in ("true", "false", "1", "0"):
                value = value.lower() in ("true", "1")
        out[key] = value
    return out


def _update_type(update: Mapping[str, Any]) -> str:
    for key in update:
        if key != "update_id":
            return key
    return ""


def _as_float(value: Any, name: str = "timeout") -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return float(value)
    raise ApiError(400, f"Bad Request: invalid {name} specified")


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ApiError(400, f"Bad Request: wrong parameter {name}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_RE.fullmatch(value):
        return int(value)
    raise ApiError(400, f"Bad Request: invalid {name} specified")


# --------------------------------------------------------------------------------------------
# The stand-in
# --------------------------------------------------------------------------------------------


class BotApiStub:
    """A Telegram Bot API stand-in on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = "citebot_test_bot",
        bot_id: int | None = None,
        first_name: str = "CiteBot",
        port: int = 0,
        webhook_attempts: int = 5,
        webhook_timeout: float = 5.0,
        max_poll_timeout: float = 30.0,
        max_download_bytes: int = 20 * 1024 * 1024,
    ) -> None:
        self.token = token
        #: getFile refuses bigger files ("file is too big"), as the cloud Bot API does at 20 MB.
        self.max_download_bytes = max_download_bytes
        self.username = username
        prefix = token.split(":", 1)[0]
        self.bot_id = bot_id if bot_id is not None else int(prefix) if prefix.isdigit() else 1
        self.first_name = first_name
        self.webhook_attempts = max(1, webhook_attempts)
        self.webhook_timeout = webhook_timeout
        self.max_poll_timeout = max_poll_timeout
        self._requested_port = port

        #: Every Bot API request, in order of completion.
        self.calls: list[Call] = []
        #: Every attempt to POST an update to a webhook.
        self.webhook_deliveries: list[WebhookDelivery] = []

        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._session: aiohttp.ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None
        self._closing = False

        self._calls_signal = _Signal()
        self._updates_signal = _Signal()
        self._deliveries_signal = _Signal()
        self._consumed: set[int] = set()

        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._user_ids = itertools.count(100001)
        self._updates: list[JSONDict] = []
        self._allowed_updates: tuple[str, ...] = ()
        self._poll_generation = 0
        self._polls_waiting = 0
        self._webhook: _Webhook | None = None
        self._webhook_last_error: tuple[int, str] | None = None
        self._delivered: dict[int, WebhookDelivery] = {}

        self._chats: dict[int, JSONDict] = {}
        self._message_counters: dict[int, int] = {}
        self._messages: dict[tuple[int, int], _StoredMessage] = {}
        self._inline_messages: dict[str, _StoredMessage] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        # (field, language_code) -> text, for setMyDescription / setMyShortDescription.
        self._descriptions: dict[tuple[str, str], str] = {}
        self._open_callback_queries: set[str] = set()
        self._open_inline_queries: set[str] = set()
        self._faults: dict[str, list[_Fault]] = {}
        self._lost_webhook_answers = 0
        self._held: list[JSONDict] | None = None

        handlers: dict[str, _Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._set_my_description,
            "getMyDescription": self._get_my_description,
            "setMyShortDescription": self._set_my_short_description,
            "getMyShortDescription": self._get_my_short_description,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "sendDocument": self._send_document,
            "close": self._true,
            "logOut": self._true,
        }
        self._handlers: dict[str, tuple[str, _Handler]] = {
            name.lower(): (name, handler) for name, handler in handlers.items()
        }

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1 (the port given, or a free one) and start webhook delivery."""
        if self._runner is not None:
            raise RuntimeError("BotApiStub already started")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._requested_port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._closing = False
        self._session = aiohttp.ClientSession()
        self._worker = asyncio.create_task(self._webhook_worker(), name="botapi-webhook-worker")

    async def stop(self) -> None:
        """Stop serving; pending long polls return at once.  Safe to call twice."""
        self._closing = True
        self._updates_signal.fire()
        self._calls_signal.fire()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiStub:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("BotApiStub is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/bot`` — PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """``http://127.0.0.1:PORT/file/bot`` — PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    # ---------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = 429,
        retry_after: int = 1,
        description: str | None = None,
        count: int = 1,
        delay: float = 0.0,
        drop: bool = False,
        drop_after: bool = False,
        delay_after: float = 0.0,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` misbehave (only those to ``chat_id``,
        when given: Telegram limits each chat on its own).

        ``status`` is the HTTP error to answer (429 answers "Too Many Requests: retry after N"
        with ``parameters.retry_after``); ``status=None`` answers normally.  ``delay`` seconds
        pass before answering; ``drop=True`` closes the connection without an answer.  Those
        happen *before* the request is carried out: a client that gives up during ``delay``
        cancels it, and a dropped request leaves no trace.

        ``drop_after=True`` and ``delay_after`` act *after* the request was carried out, as when
        Telegram has sent the message but the answer is lost on the way back: the call is
        recorded as done (the message exists, :meth:`next_message` sees it), then the
        connection is closed without an answer, or the answer waits ``delay_after`` seconds
        (a client with a shorter read timeout sees a timeout; the message stays sent).
        """
        if count < 1:
            raise ValueError("count must be >= 1")
        if drop_after and status is not None:
            raise ValueError("drop_after needs status=None: the request is carried out")
        if delay_after > 0 and status is not None:
            raise ValueError("delay_after needs status=None: the request is carried out")
        self._faults.setdefault(method.lower(), []).append(
            _Fault(
                status,
                retry_after,
                description,
                delay,
                drop,
                count,
                drop_after,
                delay_after,
                chat_id,
            )
        )

    def slow_next(self, method: str, delay: float, *, count: int = 1) -> None:
        """Answer the next ``count`` calls of ``method`` normally, but ``delay`` seconds late."""
        self.fail_next(method, status=None, delay=delay, count=count)

    def clear_faults(self) -> None:
        self._faults.clear()
        self._lost_webhook_answers = 0

    def lose_webhook_answers(self, count: int = 1) -> None:
        """The next ``count`` webhook POSTs reach the bot, but its answer counts as lost (as when
        the connection breaks after the bot read the update): Telegram sees a failed delivery
        and POSTs the same update (same ``update_id``) again."""
        if count < 1:
            raise ValueError("count must be >= 1")
        self._lost_webhook_answers += count

    @contextlib.contextmanager
    def held_updates(self) -> Iterator[list[JSONDict]]:
        """Updates pushed inside the block are remembered (the bot can reply to them) but not
        queued; the list yielded collects them for the test to deliver itself, e.g. hundreds at
        once with :meth:`deliver_webhook`."""
        held: list[JSONDict] = []
        self._held = held
        try:
            yield held
        finally:
            self._held = None

    def _take_fault(self, method: str, params: JSONDict) -> _Fault | None:
        queue = self._faults.get(method.lower())
        if not queue:
            return None
        chat = params.get("chat_id")
        for i, fault in enumerate(queue):
            if fault.chat_id is None or str(fault.chat_id) == str(chat):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.pop(i)
                return fault
        return None

    @staticmethod
    def _fault_error(fault: _Fault) -> ApiError:
        status = fault.status if fault.status is not None else 500
        if status == 429:
            description = fault.description or f"Too Many Requests: retry after {fault.retry_after}"
            return ApiError(429, description, {"retry_after": fault.retry_after})
        description = fault.description or _DEFAULT_DESCRIPTIONS.get(status, "Error")
        return ApiError(status, description)

    # ---------------------------------------------------------------- HTTP handlers

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        raw_method = request.match_info["method"]
        canonical, handler = self._handlers.get(raw_method.lower(), (raw_method, None))
        call = Call(method=canonical, params={}, time=arrived)
        fault: _Fault | None = None
        try:
            call.params, call.files = await self._read_params(request)
            call.violations = spec_violations(canonical, call.params, call.files)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            fault = self._take_fault(canonical, call.params)
            if fault is not None:
                if fault.delay > 0:
                    await asyncio.sleep(fault.delay)  # simulated server latency
                if fault.drop:
                    call.status, call.error = 0, "connection dropped (fault injection)"
                    self._record(call)
                    if request.transport is not None:
                        request.transport.close()
                    return web.Response(status=500)  # never reaches the client
                if fault.status is not None:
                    raise self._fault_error(fault)
            if handler is None:
                lowered = canonical.lower()
                if lowered.startswith(("set", "delete")):
                    result: Any = True
                else:
                    raise ApiError(404, "Not Found")
            else:
                result = await handler(call.params, call.files)
        except ApiError as exc:
            call.status, call.error = exc.status, exc.description
            self._record(call)
            return web.json_response(exc.body(), status=exc.status)
        except asyncio.CancelledError:
            call.status, call.error = 0, "client went away"
            self._record(call)
            raise
        call.result = result
        self._record(call)  # carried out: the message exists whatever the client sees next
        if fault is not None and (fault.drop_after or fault.delay_after > 0):
            return await self._lose_answer(request, fault, result)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _lose_answer(request: web.Request, fault: _Fault, result: Any) -> web.Response:
        """After the request was carried out: answer late, or drop the connection."""
        if fault.delay_after > 0:
            await asyncio.sleep(fault.delay_after)  # a client that gives up cancels only this
        if fault.drop_after and request.transport is not None:
            request.transport.close()
        return web.json_response({"ok": True, "result": result})

    async def _read_params(self, request: web.Request) -> tuple[JSONDict, dict[str, UploadedFile]]:
        params: JSONDict = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.can_read_body:
            ctype = request.content_type
            if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = UploadedFile(
                            key, value.filename, value.content_type, value.file.read()
                        )
                    else:
                        params[key] = value
            else:
                raw = await request.read()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise ApiError(400, "Bad Request: can't parse JSON request body") from None
                    if not isinstance(body, dict):
                        raise ApiError(400, "Bad Request: request body must be a JSON object")
                    params.update(body)
        return _normalize_params(params), files

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        stored = self._files_by_path.get(request.match_info["file_path"])
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        return web.Response(
            body=stored.content, content_type=stored.mime_type or "application/octet-stream"
        )

    def _record(self, call: Call) -> None:
        call.index = len(self.calls)
        self.calls.append(call)
        self._calls_signal.fire()

    # ---------------------------------------------------------------- chats and messages

    def _remember_chat(self, chat: JSONDict) -> None:
        self._chats[int(chat["id"])] = dict(chat)

    def _chat_for(self, chat_id: Any) -> JSONDict:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            wanted = chat_id[1:].lower()
            for chat in self._chats.values():
                if str(chat.get("username", "")).lower() == wanted:
                    return dict(chat)
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        cid = _as_int(chat_id, "chat_id")
        known = self._chats.get(cid)
        if known is not None:
            return dict(known)
        if cid > 0:
            return {"id": cid, "type": "private"}
        if cid <= -1_000_000_000_000:
            return {"id": cid, "type": "supergroup", "title": "Gruppe"}
        return {"id": cid, "type": "group", "title": "Gruppe"}

    def _next_message_id(self, chat_id: int) -> int:
        value = self._message_counters.get(chat_id, 0) + 1
        self._message_counters[chat_id] = value
        return value

    def _store_message(self, message: JSONDict, *, from_bot: bool, **meta: Any) -> None:
        key = (int(message["chat"]["id"]), int(message["message_id"]))
        self._messages[key] = _StoredMessage(copy.deepcopy(message), from_bot, **meta)
        counter = self._message_counters.get(key[0], 0)
        self._message_counters[key[0]] = max(counter, key[1])

    def _reply_copy(self, chat_id: int, message_id: int) -> JSONDict:
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise KeyError(f"no remembered message {message_id} in chat {chat_id}")
        embedded = copy.deepcopy(stored.message)
        embedded.pop("reply_to_message", None)
        return embedded

    def message(self, chat_id: int, message_id: int) -> JSONDict:
        """The remembered message (current state, edits applied)."""
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise KeyError(f"no remembered message {message_id} in chat {chat_id}")
        return copy.deepcopy(stored.message)

    def message_counts(self) -> Counter[int]:
        """How many messages the bot sent to each chat (one pass: for thousands of chats)."""
        return Counter(key[0] for key, stored in self._messages.items() if stored.from_bot)

    def messages_to(self, chat_id: int | TgUser) -> list[JSONDict]:
        """Messages the bot sent to the chat, oldest first, in their current state.

        Each dict is the Message plus ``raw_text`` (the text as the bot sent it, HTML intact)
        and ``parse_mode``.
        """
        cid = chat_id.id if isinstance(chat_id, TgUser) else chat_id
        found = [
            (key[1], stored)
            for key, stored in self._messages.items()
            if key[0] == cid and stored.from_bot
        ]
        return [self._with_raw(s.message, s.raw_text, s.parse_mode) for _, s in sorted(found)]

    @staticmethod
    def _with_raw(message: JSONDict, raw_text: str | None, parse_mode: str | None) -> JSONDict:
        out = copy.deepcopy(message)
        out["raw_text"] = raw_text
        out["parse_mode"] = parse_mode
        return out

    # ---------------------------------------------------------------- validation helpers

    @staticmethod
    def _render_text(
        raw: Any,
        parse_mode: Any,
        entities: Any,
        *,
        limit: int = MAX_MESSAGE_LENGTH,
        allow_empty: bool = False,
        too_long: str = "Bad Request: message is too long",
    ) -> tuple[str, list[JSONDict]]:
        if raw is None or raw == "":
            if allow_empty:
                return "", []
            raise ApiError(400, "Bad Request: message text is empty")
        if not isinstance(raw, str):
            raw = str(raw)
        mode = parse_mode.lower() if isinstance(parse_mode, str) else ""
        if mode == "html":
            try:
                text, ents = parse_telegram_html_entities(raw)
            except TelegramHtmlError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        else:
            # Markdown modes are passed through unparsed.
            text = raw
            ents = [dict(e) for e in entities] if isinstance(entities, list) else []
        text, ents = _strip_with_entities(text, ents)
        if not text and not allow_empty:
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > limit:
            raise ApiError(400, too_long)
        return text, ents

    @staticmethod
    def _check_markup(markup: Any) -> JSONDict | None:
        """Validate reply_markup; return it if it is an inline keyboard (only those are echoed)."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        keyboard = markup.get("inline_keyboard")
        if keyboard is None:
            return None
        if not isinstance(keyboard, list):
            raise ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array')
        for row in keyboard:
            if not isinstance(row, list):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button")
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError(400, "Bad Request: BUTTON_TEXT_EMPTY")
                data = button.get("callback_data")
                if data is not None and (
                    not isinstance(data, str)
                    or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup if keyboard else None

    def _reply_target(self, chat_id: int, params: JSONDict) -> JSONDict | None:
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {"message_id": params["reply_to_message_id"]}
        if not isinstance(reply, dict) or reply.get("message_id") is None:
            return None
        target_chat = chat_id
        if reply.get("chat_id") is not None:
            target_chat = int(self._chat_for(reply["chat_id"])["id"])
        message_id = _as_int(reply["message_id"], "message_id")
        if (target_chat, message_id) in self._messages:
            return self._reply_copy(target_chat, message_id)
        if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
            return None
        raise ApiError(400, "Bad Request: message to be replied not found")

    def _new_bot_message(self, chat: JSONDict, params: JSONDict) -> JSONDict:
        chat_id = int(chat["id"])
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "date": _now(),
            "chat": chat,
        }
        if chat.get("type") == "channel":
            message["sender_chat"] = chat
        else:
            message["from"] = self.bot_user
        reply_to = self._reply_target(chat_id, params)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return message

    def _find_message(self, params: JSONDict, what: str) -> _StoredMessage:
        if params.get("message_id") is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        chat = self._chat_for(params.get("chat_id"))
        key = (int(chat["id"]), _as_int(params["message_id"], "message_id"))
        stored = self._messages.get(key)
        if stored is None:
            raise ApiError(400, f"Bad Request: message to {what} not found")
        return stored

    # ---------------------------------------------------------------- Bot API methods

    async def _true(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        return True

    async def _get_me(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _allowed(self, allowed: tuple[str, ...], update: Mapping[str, Any]) -> bool:
        kind = _update_type(update)
        if allowed:
            return kind in allowed
        return kind not in DEFAULT_EXCLUDED_UPDATES

    async def _get_updates(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params.get("offset", 0), "offset")
        limit = min(100, max(1, _as_int(params.get("limit", 100), "limit")))
        timeout = min(self.max_poll_timeout, max(0.0, _as_float(params.get("timeout", 0))))
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = tuple(str(kind) for kind in allowed)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.fire()  # terminates an older long poll, as Telegram does

        def available() -> list[JSONDict]:
            return [u for u in self._updates if self._allowed(self._allowed_updates, u)]

        self._polls_waiting += 1
        self._calls_signal.fire()  # for wait_polling()
        try:
            await self._updates_signal.wait_until(
                lambda: (
                    bool(available())
                    or self._closing
                    or self._webhook is not None
                    or generation != self._poll_generation
                ),
                timeout,
            )
        finally:
            self._polls_waiting -= 1
        if generation != self._poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot "
                "instance is running",
            )
        if self._webhook is not None:
            raise ApiError(409, "Conflict: webhook was set while getUpdates was waiting")
        return copy.deepcopy(available()[:limit])

    async def _set_webhook(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params, files)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname != "127.0.0.1":
            raise ApiError(
                400, "Bad Request: bad webhook: the test stand-in only delivers to 127.0.0.1"
            )
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        allowed = params.get("allowed_updates")
        kinds = tuple(str(k) for k in allowed) if isinstance(allowed, list) else ()
        max_connections = _as_int(params.get("max_connections", 40), "max_connections")
        self._webhook = _Webhook(url, str(secret) if secret else None, kinds, max_connections)
        self._webhook_last_error = None
        self._updates_signal.fire()
        return True

    async def _delete_webhook(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = None
        self._updates_signal.fire()
        return True

    async def _get_webhook_info(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        hook = self._webhook
        info: JSONDict = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.allowed_updates:
                info["allowed_updates"] = list(hook.allowed_updates)
            if self._webhook_last_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    async def _send_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._chat_for(params.get("chat_id"))
        raw = params.get("text")
        text, entities = self._render_text(raw, params.get("parse_mode"), params.get("entities"))
        markup = self._check_markup(params.get("reply_markup"))
        message = self._new_bot_message(chat, params)
        message["text"] = text
        if entities:
            message["entities"] = entities
        if markup is not None:
            message["reply_markup"] = markup
        self._store_message(
            message, from_bot=True, raw_text=str(raw), parse_mode=params.get("parse_mode")
        )
        return message

    async def _edit_message_text(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        raw = params.get("text")
        text, entities = self._render_text(raw, params.get("parse_mode"), params.get("entities"))
        markup = self._check_markup(params.get("reply_markup"))
        inline_id = params.get("inline_message_id")
        if inline_id is not None:
            stored = self._inline_messages.get(str(inline_id))
            if stored is None:
                stored = _StoredMessage({}, from_bot=True)
                self._inline_messages[str(inline_id)] = stored
            elif (
                stored.message.get("text") == text
                and stored.message.get("entities", []) == entities
                and stored.message.get("reply_markup") == markup
            ):
                raise ApiError(400, _NOT_MODIFIED)
            stored.message = {"text": text, "entities": entities, "reply_markup": markup}
            stored.raw_text, stored.parse_mode = str(raw), params.get("parse_mode")
            return True
        stored = self._find_message(params, "edit")
        old = stored.message
        if not stored.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        if "text" not in old:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        if (
            old.get("text") == text
            and old.get("entities", []) == entities
            and old.get("reply_markup") == markup
        ):
            raise ApiError(400, _NOT_MODIFIED)
        old["text"] = text
        old.pop("entities", None)
        if entities:
            old["entities"] = entities
        old.pop("reply_markup", None)
        if markup is not None:
            old["reply_markup"] = markup
        old["edit_date"] = _now()
        stored.raw_text, stored.parse_mode = str(raw), params.get("parse_mode")
        return copy.deepcopy(old)

    async def _edit_message_reply_markup(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> Any:
        markup = self._check_markup(params.get("reply_markup"))
        if params.get("inline_message_id") is not None:
            return True
        stored = self._find_message(params, "edit")
        if not stored.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        if stored.message.get("reply_markup") == markup:
            raise ApiError(400, _NOT_MODIFIED)
        stored.message.pop("reply_markup", None)
        if markup is not None:
            stored.message["reply_markup"] = markup
        stored.message["edit_date"] = _now()
        return copy.deepcopy(stored.message)

    async def _delete_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        stored = self._find_message(params, "delete")
        message = stored.message
        del self._messages[(int(message["chat"]["id"]), int(message["message_id"]))]
        return True

    async def _answer_callback_query(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_callback_queries:
            raise ApiError(400, _QUERY_INVALID)
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._open_callback_queries.discard(query_id)
        return True

    async def _answer_inline_query(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        query_id = str(params.get("inline_query_id", ""))
        if query_id not in self._open_inline_queries:
            raise ApiError(400, _QUERY_INVALID)
        results = params.get("results")
        if not isinstance(results, list):
            raise ApiError(400, "Bad Request: can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or not result.get("type"):
                raise ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
            result_id = str(result.get("id", ""))
            if not 1 <= len(result_id.encode("utf-8")) <= 64:
                raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
            if result_id in seen:
                raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
            seen.add(result_id)
            if result.get("type") == "article" and not str(result.get("title") or "").strip():
                raise ApiError(400, "Bad Request: RESULT_TITLE_EMPTY")
            content = result.get("input_message_content")
            if isinstance(content, dict) and "message_text" in content:
                self._render_text(
                    content.get("message_text"), content.get("parse_mode"), content.get("entities")
                )
            self._check_markup(result.get("reply_markup"))
        self._check_results_button(params.get("button"))
        self._open_inline_queries.discard(query_id)
        return True

    @staticmethod
    def _check_results_button(button: Any) -> None:
        """InlineQueryResultsButton: a text and exactly one of web_app / start_parameter (1-64
        characters A-Z, a-z, 0-9, _ and -)."""
        if button is None:
            return
        if not isinstance(button, dict) or not str(button.get("text") or "").strip():
            raise ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
        if ("web_app" in button) == ("start_parameter" in button):
            raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
        start = button.get("start_parameter")
        if start is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(start)):
            raise ApiError(400, "Bad Request: START_PARAM_INVALID")
        unknown = set(button) - {"text", "web_app", "start_parameter"}
        if unknown:
            raise ApiError(400, f"Bad Request: unknown button fields {sorted(unknown)}")

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope_dict = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope_dict, sort_keys=True), str(language_code or "")

    async def _set_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command", ""))
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        if commands:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._commands.pop(key, None)
        return True

    def _store_description(self, field: str, limit: int, params: JSONDict) -> bool:
        """setMyDescription (0-512 characters) and setMyShortDescription (0-120): an empty or
        missing text removes the one for that language; language_code is two letters or
        empty (all users without a dedicated one)."""
        unknown = set(params) - {field, "language_code"}
        if unknown:
            raise ApiError(400, f"Bad Request: unknown parameters {sorted(unknown)}")
        value = str(params.get(field) or "")
        if len(value) > limit:
            raise ApiError(400, f"Bad Request: {field.upper()}_TOO_LONG")
        lang = str(params.get("language_code") or "")
        if lang and not re.fullmatch(r"[a-z]{2}", lang):
            raise ApiError(400, "Bad Request: LANG_CODE_INVALID")
        if value:
            self._descriptions[(field, lang)] = value
        else:
            self._descriptions.pop((field, lang), None)
        return True

    async def _set_my_description(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        return self._store_description("description", 512, params)

    async def _set_my_short_description(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> bool:
        return self._store_description("short_description", 120, params)

    async def _get_my_description(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        return {"description": self.description(str(params.get("language_code") or ""))}

    async def _get_my_short_description(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> Any:
        lang = str(params.get("language_code") or "")
        return {"short_description": self.short_description(lang)}

    def description(self, language_code: str = "") -> str:
        """What "What can this bot do?" shows a user of ``language_code`` ("" for the rest)."""
        return self._descriptions.get(("description", language_code), "")

    def short_description(self, language_code: str = "") -> str:
        """The bot's profile text for a user of ``language_code`` ("" for the rest)."""
        return self._descriptions.get(("short_description", language_code), "")

    async def _get_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        return self.commands(params.get("scope"), params.get("language_code") or "")

    async def _delete_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        self._commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """The commands stored by setMyCommands for that scope and language."""
        return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    async def _send_chat_action(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        self._chat_for(params.get("chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _get_file(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.content) > self.max_download_bytes:
            raise ApiError(400, "Bad Request: file is too big")
        return {**stored.document(), "file_path": stored.file_path}

    async def _send_document(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._chat_for(params.get("chat_id"))
        document = params.get("document")
        upload = files.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            upload = files.get(document[len("attach://") :])
        if upload is not None:
            stored = self.register_file(
                upload.content, file_name=upload.filename, mime_type=upload.content_type
            )
        elif isinstance(document, str) and document in self._files:
            stored = self._files[document]
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        caption_raw = params.get("caption")
        caption, caption_entities = self._render_text(
            caption_raw,
            params.get("parse_mode"),
            params.get("caption_entities"),
            limit=MAX_CAPTION_LENGTH,
            allow_empty=True,
            too_long="Bad Request: message caption is too long",
        )
        markup = self._check_markup(params.get("reply_markup"))
        message = self._new_bot_message(chat, params)
        message["document"] = stored.document()
        if caption:
            message["caption"] = caption
            if caption_entities:
                message["caption_entities"] = caption_entities
        if markup is not None:
            message["reply_markup"] = markup
        self._store_message(
            message,
            from_bot=True,
            raw_text=None if caption_raw is None else str(caption_raw),
            parse_mode=params.get("parse_mode"),
        )
        return message

    # ---------------------------------------------------------------- files

    def register_file(
        self,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        folder: str = "documents",
    ) -> StoredFile:
        """Make ``content`` known to getFile and downloadable; return its record."""
        number = next(self._file_ids)
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1]
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{number:06d}",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"{folder}/file_{number}{suffix}",
            content=bytes(content),
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    # ---------------------------------------------------------------- playing users

    def user(
        self,
        id: int | None = None,
        first_name: str = "Anna",
        username: str | None = None,
        language_code: str | None = "de",
        *,
        last_name: str | None = None,
    ) -> TgUser:
        """A user to play; ``id`` defaults to a fresh one."""
        return TgUser(
            id=next(self._user_ids) if id is None else id,
            first_name=first_name,
            username=username,
            language_code=language_code,
            last_name=last_name,
        )

    def push_update(self, update: Mapping[str, Any]) -> JSONDict:
        """Queue any update (an ``update_id`` is added if missing); return it.

        Messages, callback queries and inline queries in it are remembered, so the bot can
        reply to, edit or answer them.
        """
        data = copy.deepcopy(dict(update))
        if "update_id" not in data:
            data["update_id"] = next(self._update_ids)
        else:
            current = next(self._update_ids)
            wanted = int(data["update_id"])
            self._update_ids = itertools.count(max(current, wanted + 1))
        for kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
            message = data.get(kind)
            if isinstance(message, dict) and isinstance(message.get("chat"), dict):
                self._remember_chat(message["chat"])
                key = (int(message["chat"]["id"]), int(message["message_id"]))
                known = self._messages.get(key)
                self._store_message(message, from_bot=known.from_bot if known else False)
        query = data.get("callback_query")
        if isinstance(query, dict):
            self._open_callback_queries.add(str(query["id"]))
        inline = data.get("inline_query")
        if isinstance(inline, dict):
            self._open_inline_queries.add(str(inline["id"]))
        if self._held is not None:
            self._held.append(copy.deepcopy(data))
            return copy.deepcopy(data)
        self._updates.append(data)
        self._updates_signal.fire()
        return copy.deepcopy(data)

    def _resolve_reply(self, chat_id: int, reply_to: Any) -> JSONDict | None:
        if reply_to is None:
            return None
        if isinstance(reply_to, int):
            return self._reply_copy(chat_id, reply_to)
        if isinstance(reply_to, Mapping):
            return self._reply_copy(int(reply_to["chat"]["id"]), int(reply_to["message_id"]))
        target_chat, message_id = reply_to
        return self._reply_copy(int(target_chat), int(message_id))

    def _user_message(
        self,
        user: TgUser,
        chat: JSONDict,
        text: str,
        *,
        reply_to: Any,
        entities: list[JSONDict] | None,
    ) -> JSONDict:
        chat_id = int(chat["id"])
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": user.to_dict(),
            "chat": chat,
            "date": _now(),
            "text": text,
        }
        found = compute_entities(text) if entities is None else entities
        if found:
            message["entities"] = found
        replied = self._resolve_reply(chat_id, reply_to)
        if replied is not None:
            message["reply_to_message"] = replied
        return message

    def send_private(
        self,
        user: TgUser,
        text: str,
        *,
        reply_to: Any = None,
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """The user writes ``text`` to the bot in private; entities are computed if not given.

        ``reply_to`` is a message id in that chat, a ``(chat_id, message_id)`` pair, or a
        message dict.
        """
        chat = user.private_chat()
        return self.push_update(
            {"message": self._user_message(user, chat, text, reply_to=reply_to, entities=entities)}
        )

    def send_group(
        self,
        user: TgUser,
        chat_id: int,
        text: str,
        *,
        chat_type: Literal["group", "supergroup"] = "supergroup",
        title: str = "Gruppe",
        reply_to: Any = None,
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """The user writes ``text`` in a group; ``reply_to`` as for :meth:`send_private`."""
        chat: JSONDict = {"id": chat_id, "type": chat_type, "title": title}
        known = self._chats.get(chat_id)
        if known is not None and known.get("type") == chat_type:
            chat = {**known, "title": title}
        return self.push_update(
            {"message": self._user_message(user, chat, text, reply_to=reply_to, entities=entities)}
        )

    def channel_post(
        self,
        chat_id: int,
        text: str | None,
        *,
        username: str | None = "kanal",
        title: str = "Kanal",
        entities: list[JSONDict] | None = None,
        caption: str | None = None,
        photo: bool = False,
    ) -> JSONDict:
        """A post in a channel (``sender_chat`` set, no ``from``): text, or a photo with an
        optional caption; ``entities`` replaces the computed ones (e.g. a ``text_link``)."""
        chat: JSONDict = {"id": chat_id, "type": "channel", "title": title}
        if username is not None:
            chat["username"] = username
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "sender_chat": chat,
            "chat": chat,
            "date": _now(),
        }
        if photo:
            message["photo"] = [
                {"file_id": "AgACph0t0", "file_unique_id": "AQADph0t", "width": 90, "height": 60}
            ]
        if text is not None:
            message["text"] = text
            found = compute_entities(text) if entities is None else entities
            if found:
                message["entities"] = found
        if caption is not None:
            message["caption"] = caption
            found = compute_entities(caption) if entities is None else entities
            if found:
                message["caption_entities"] = found
        return self.push_update({"channel_post": message})

    def _edited(self, chat_id: int, message_id: int, text: str, entities: Any) -> JSONDict:
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise KeyError(f"no remembered message {message_id} in chat {chat_id}")
        message = copy.deepcopy(stored.message)
        message["text"] = text
        message.pop("entities", None)
        found = compute_entities(text) if entities is None else entities
        if found:
            message["entities"] = found
        message["edit_date"] = _now()
        return message

    def edit_message(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """The author edits a remembered user message: an ``edited_message`` update."""
        return self.push_update(
            {"edited_message": self._edited(chat_id, message_id, text, entities)}
        )

    def edited_channel_post(self, chat_id: int, message_id: int, text: str) -> JSONDict:
        """A remembered channel post is edited: an ``edited_channel_post`` update."""
        return self.push_update(
            {"edited_channel_post": self._edited(chat_id, message_id, text, None)}
        )

    @staticmethod
    def chat_instance(chat_id: int) -> str:
        return str(7_000_000_000_000 + abs(chat_id) * 31 + (1 if chat_id < 0 else 0))

    def press_button(
        self, user: TgUser, message: Any, data: str, *, check: bool = True
    ) -> JSONDict:
        """The user presses an inline button: a ``callback_query`` update.

        ``message`` is a Message dict (e.g. from :meth:`next_message`), a ``(chat_id,
        message_id)`` pair, or an ``inline_message_id`` string.  With ``check`` the remembered
        message must carry a button with that ``callback_data``.
        """
        query: JSONDict = {
            "id": str(next(self._query_ids) * 1000 + 17),
            "from": user.to_dict(),
            "data": data,
        }
        if isinstance(message, str):
            query["inline_message_id"] = message
            query["chat_instance"] = self.chat_instance(0)
            return self.push_update({"callback_query": query})
        if isinstance(message, Mapping):
            key = (int(message["chat"]["id"]), int(message["message_id"]))
        else:
            key = (int(message[0]), int(message[1]))
        stored = self._messages.get(key)
        if stored is None:
            raise KeyError(f"no remembered message {key[1]} in chat {key[0]}")
        if check:
            keyboard = (stored.message.get("reply_markup") or {}).get("inline_keyboard") or []
            datas = [b.get("callback_data") for row in keyboard for b in row]
            if data not in datas:
                raise ValueError(
                    f"message {key} has no button with callback_data {data!r}: {datas}"
                )
        query["message"] = copy.deepcopy(stored.message)
        query["chat_instance"] = self.chat_instance(key[0])
        return self.push_update({"callback_query": query})

    def inline_query(
        self, user: TgUser, query: str, offset: str = "", *, chat_type: str = "sender"
    ) -> JSONDict:
        """The user types ``@bot query``: an ``inline_query`` update."""
        return self.push_update(
            {
                "inline_query": {
                    "id": str(next(self._query_ids) * 1000 + 42),
                    "from": user.to_dict(),
                    "query": query,
                    "offset": offset,
                    "chat_type": chat_type,
                }
            }
        )

    def send_document(
        self,
        user: TgUser,
        file_name: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> JSONDict:
        """The user sends a file (in private, or to the remembered chat ``chat_id``)."""
        stored = self.register_file(content, file_name=file_name, mime_type=mime_type)
        if chat_id is None:
            chat = user.private_chat()
        else:
            chat = self._chats.get(chat_id) or {
                "id": chat_id,
                "type": "supergroup",
                "title": "Gruppe",
            }
        message: JSONDict = {
            "message_id": self._next_message_id(int(chat["id"])),
            "from": user.to_dict(),
            "chat": chat,
            "date": _now(),
            "document": stored.document(),
        }
        if caption:
            message["caption"] = caption
            found = compute_entities(caption)
            if found:
                message["caption_entities"] = found
        return self.push_update({"message": message})

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed (polling) or delivered (webhook)."""
        return copy.deepcopy(self._updates)

    # ---------------------------------------------------------------- webhook delivery

    async def _webhook_worker(self) -> None:
        while True:
            await self._updates_signal.wait_until(
                lambda: self._closing or (self._webhook is not None and bool(self._updates)),
                None,
            )
            if self._closing:
                return
            hook = self._webhook
            assert hook is not None
            update = self._updates[0]
            if not self._allowed(hook.allowed_updates, update):
                self._updates.pop(0)
                continue
            delivered = await self._deliver_with_retries(hook, update)
            if delivered or self._webhook is hook:
                # Delivered, or given up after the bounded retries: either way it is gone.
                self._updates = [u for u in self._updates if u is not update]

    async def _deliver_with_retries(self, hook: _Webhook, update: JSONDict) -> bool:
        backoff = 0.05
        for attempt in range(1, self.webhook_attempts + 1):
            last = attempt == self.webhook_attempts
            record = await self._post_update(
                hook.url, update, hook.secret_token, attempt=attempt, final_if_failed=last
            )
            if record.ok:
                return True
            self._webhook_last_error = (_now(), record.error or f"Wrong response: {record.status}")
            if last or self._webhook is not hook or self._closing:
                return False
            await asyncio.sleep(backoff)  # retry back-off, as Telegram's
            backoff = min(backoff * 2, 1.0)
        return False

    async def _post_update(
        self,
        url: str,
        update: Mapping[str, Any],
        secret_token: str | None,
        *,
        attempt: int,
        final_if_failed: bool,
    ) -> WebhookDelivery:
        if urlsplit(url).hostname != "127.0.0.1":
            raise ValueError("the stand-in only delivers to 127.0.0.1")
        if self._session is None:
            raise RuntimeError("BotApiStub is not started")
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        status: int | None = None
        error: str | None = None
        try:
            async with self._session.post(
                url,
                data=json.dumps(update).encode("utf-8"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                await response.read()
                status = response.status
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = f"Connection failed: {exc!r}"
        if self._lost_webhook_answers > 0:
            self._lost_webhook_answers -= 1
            status, error = None, f"Connection failed: answer {status} lost (fault injection)"
        update_id = update.get("update_id")
        ok = status is not None and 200 <= status < 300
        record = WebhookDelivery(
            update_id=int(update_id) if update_id is not None else None,
            url=url,
            status=status,
            error=error,
            attempt=attempt,
            secret_token=secret_token,
            time=time.monotonic(),
            final=ok or final_if_failed,
        )
        self.webhook_deliveries.append(record)
        if record.final and record.update_id is not None:
            self._delivered[record.update_id] = record
        self._deliveries_signal.fire()
        return record

    async def deliver_webhook(
        self, update: Mapping[str, Any], *, url: str | None = None, secret_token: Any = _UNSET
    ) -> WebhookDelivery:
        """POST ``update`` once to the webhook (or ``url``), bypassing the queue.

        ``secret_token`` overrides the header (None sends none); use it to check that the bot
        refuses forged deliveries.
        """
        hook = self._webhook
        target = url or (hook.url if hook else None)
        if target is None:
            raise RuntimeError("no webhook set and no url given")
        secret = (hook.secret_token if hook else None) if secret_token is _UNSET else secret_token
        return await self._post_update(target, update, secret, attempt=1, final_if_failed=True)

    async def wait_delivery(
        self, update_id: int | Mapping[str, Any], *, timeout: float = 5.0
    ) -> WebhookDelivery:
        """Wait for the final webhook delivery attempt of an update (successful or not)."""
        uid = int(update_id["update_id"]) if isinstance(update_id, Mapping) else update_id
        if not await self._deliveries_signal.wait_until(lambda: uid in self._delivered, timeout):
            raise TimeoutError(
                f"update {uid} was not delivered to the webhook within {timeout}s; "
                f"deliveries: {self.webhook_deliveries[-10:]}"
            )
        return self._delivered[uid]

    # ---------------------------------------------------------------- observing the bot

    @property
    def polls_waiting(self) -> int:
        """How many getUpdates requests are waiting in a long poll right now."""
        return self._polls_waiting

    async def wait_polling(self, *, timeout: float = 5.0) -> None:
        """Wait until the bot is inside a getUpdates long poll (it is then idle and listening)."""
        if not await self._calls_signal.wait_until(lambda: self._polls_waiting > 0, timeout):
            raise TimeoutError(
                f"no getUpdates long poll within {timeout}s\n{self.describe_calls()}"
            )

    def violations(self) -> list[str]:
        """Every departure from the published Bot API in the calls so far, one a line with its
        call (tests/support/botapi_conformance.py): a test of the bot expects none."""
        return [f"#{c.index} {problem}" for c in self.calls for problem in c.violations]

    def calls_of(self, method: str) -> list[Call]:
        """All recorded calls of ``method`` (case-insensitive), oldest first."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def mark(self) -> int:
        """A position in :attr:`calls`; pass it as ``since`` to only see later calls."""
        return len(self.calls)

    def _find_call(
        self,
        methods: frozenset[str],
        predicate: Callable[[Call], bool] | None,
        since: int,
    ) -> Call | None:
        for call in itertools.islice(self.calls, since, None):
            if call.index in self._consumed or call.method.lower() not in methods:
                continue
            if predicate is None or predicate(call):
                return call
        return None

    async def wait_for(
        self,
        method: str | Iterable[str],
        predicate: Callable[[Call], bool] | None = None,
        *,
        since: int | None = None,
        timeout: float = 5.0,
    ) -> Call:
        """Wait for a call of ``method`` (a name or several, case-insensitive).

        Returns the earliest recorded call that matches ``predicate``, is at index ``since``
        or later, and has not yet been returned by ``wait_for`` or a helper built on it — so
        successive waits see successive calls, and a call made before the wait began is not
        missed.  Raises ``TimeoutError`` listing the recent calls.
        """
        names = [method] if isinstance(method, str) else list(method)
        methods = frozenset(name.lower() for name in names)
        start = since or 0
        found: list[Call] = []

        def check() -> bool:
            call = self._find_call(methods, predicate, start)
            if call is not None:
                found.append(call)
            return call is not None or self._closing

        await self._calls_signal.wait_until(check, timeout)
        if not found:
            raise TimeoutError(
                ("the stand-in was stopped; " if self._closing else "")
                + f"no matching {'/'.join(names)} call within {timeout}s"
                + ("" if since is None else f" since #{since}")
                + "\n"
                + self.describe_calls()
            )
        self._consumed.add(found[0].index)
        return found[0]

    def describe_calls(self, last: int = 15) -> str:
        """The recent calls other than getUpdates, one a line, for failure messages."""
        polls = sum(1 for c in self.calls if c.method == "getUpdates")
        recent = [c for c in self.calls if c.method != "getUpdates"][-last:]
        lines = [f"recent calls ({polls} getUpdates not shown):"]
        lines += [f"  {c.describe()}" for c in recent] or ["  (none)"]
        return "\n".join(lines)

    @staticmethod
    def _chat_id_of(chat: int | TgUser) -> int:
        return chat.id if isinstance(chat, TgUser) else int(chat)

    async def next_message(
        self, chat_id: int | TgUser, *, timeout: float = 5.0, since: int | None = None
    ) -> JSONDict:
        """Wait for the next successful sendMessage/sendDocument to the chat.

        Returns the Message dict the bot got back, plus ``raw_text`` (the text or caption as
        the bot sent it, HTML intact) and ``parse_mode``.
        """
        cid = self._chat_id_of(chat_id)
        call = await self.wait_for(
            _SEND_METHODS,
            lambda c: c.ok and int(c.result["chat"]["id"]) == cid,
            since=since,
            timeout=timeout,
        )
        raw = call.params.get("text", call.params.get("caption"))
        return self._with_raw(
            call.result, None if raw is None else str(raw), call.params.get("parse_mode")
        )

    async def next_edit(
        self, chat_id: int | TgUser, *, timeout: float = 5.0, since: int | None = None
    ) -> JSONDict:
        """Wait for the next successful edit of a message in the chat; return it as edited."""
        cid = self._chat_id_of(chat_id)
        call = await self.wait_for(
            _EDIT_METHODS,
            lambda c: c.ok and isinstance(c.result, dict) and int(c.result["chat"]["id"]) == cid,
            since=since,
            timeout=timeout,
        )
        raw = call.params.get("text")
        return self._with_raw(
            call.result, None if raw is None else str(raw), call.params.get("parse_mode")
        )

    @staticmethod
    def _query_id(query: str | Mapping[str, Any], kind: str) -> str:
        if isinstance(query, Mapping):
            return str(query[kind]["id"])
        return str(query)

    async def inline_answer(
        self, query_id: str | Mapping[str, Any], *, timeout: float = 5.0
    ) -> JSONDict:
        """Wait for a successful answerInlineQuery to the query; return its parameters.

        ``query_id`` may also be the update returned by :meth:`inline_query`.
        """
        qid = self._query_id(query_id, "inline_query")
        call = await self.wait_for(
            "answerInlineQuery",
            lambda c: c.ok and str(c.params.get("inline_query_id")) == qid,
            timeout=timeout,
        )
        return copy.deepcopy(call.params)

    async def callback_answer(
        self, callback_query_id: str | Mapping[str, Any], *, timeout: float = 5.0
    ) -> JSONDict:
        """Wait for a successful answerCallbackQuery; return its parameters.

        ``callback_query_id`` may also be the update returned by :meth:`press_button`.
        """
        qid = self._query_id(callback_query_id, "callback_query")
        call = await self.wait_for(
            "answerCallbackQuery",
            lambda c: c.ok and str(c.params.get("callback_query_id")) == qid,
            timeout=timeout,
        )
        return copy.deepcopy(call.params)
