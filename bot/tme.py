"""Telegram's naming rules in one place: a channel's id in its spellings, the hosts of t.me links,
username syntax, the channel references people write, and a post's own link.

The settings (``SOURCE_CHANNELS``) and the ingestion of live posts and exports follow the same
rules, so they sit with the basics. Nothing here talks to Telegram.

A channel's id is written two ways: bare (``1234567890``) in t.me/c/ links and in Telegram
Desktop exports, and as the Bot API's ``-1001234567890``, which is -(10**12 + the bare id):
"-100" written before it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = [
    "LINK_HOSTS",
    "TELEGRAM_DIR",
    "USERNAME_RE",
    "bot_api_id",
    "channel_key",
    "channel_ref",
    "channel_slug",
    "document_channel",
    "internal_id",
    "is_telegram_host",
    "post_link",
    "username_of",
]

#: Channel posts are kept under this directory of the corpus, one sub-directory per channel.
TELEGRAM_DIR = "telegram"
#: Hosts whose links name a channel or a post (``t.me/name/5``, ``t.me/c/123/5``).
LINK_HOSTS = frozenset(("t.me", "www.t.me", "telegram.me", "telegram.dog"))
# Telegram's own site: no channel's link, but no outside source for a post either.
_SITE_HOSTS = frozenset(("telegram.org",))
#: A public username: a letter, then 3 to 31 letters, digits or underscores.
USERNAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_CHANNEL_OFFSET = 1_000_000_000_000
# SOURCE_CHANNELS takes links only with these two prefixes, exactly as written here (no
# "www.t.me", no "telegram.dog", lowercase): it always did, and accepting more is a change of
# its own. The export's channel (username_of) takes every link host, in any case.
_REF_LINK_RE = re.compile(r"^(?:https?://)?(?:t\.me|telegram\.me)/")
_REF_ID_RE = re.compile(r"-?\d{1,20}")
_SLUG_RE = re.compile(r"[^a-z0-9_]+")
_KEY_ID_RE = re.compile(r"[cC]\d{1,20}")


def bot_api_id(channel_id: int) -> int:
    """The Bot API id of a channel's bare id (an export's ``id``, the number in t.me/c/ links);
    a Bot API id comes back unchanged."""
    if channel_id <= -_CHANNEL_OFFSET:
        return channel_id
    return -(_CHANNEL_OFFSET + abs(channel_id))


def internal_id(chat_id: int) -> int:
    """The bare id (for t.me/c/ links) of a channel's Bot API id: without the "-100"."""
    if chat_id <= -_CHANNEL_OFFSET:
        return -chat_id - _CHANNEL_OFFSET
    return abs(chat_id)


def post_link(chat_id: int, username: str, message_id: int) -> str:
    """A post's own link: t.me/name/id for public channels, t.me/c/id/id for private ones."""
    # Usernames are case-insensitive; one spelling keeps live posts and imports byte-identical.
    name = username.lstrip("@").lower()
    if name:
        return f"https://t.me/{name}/{message_id}"
    return f"https://t.me/c/{internal_id(chat_id)}/{message_id}"


def is_telegram_host(host: str) -> bool:
    """Whether a link to ``host`` stays inside Telegram (t.me and its aliases, any *.t.me,
    telegram.org): such a link is never a post's outside source."""
    host = host.lower()
    return host in LINK_HOSTS or host in _SITE_HOSTS or host.endswith(".t.me")


def username_of(ref: str) -> str | None:
    """The bare username of ``name``, ``@name`` or a t.me link (``t.me/name/5`` too), as
    written; None if it names no public channel (a t.me/c/ link names a private one)."""
    value = ref.strip()
    if "/" in value:
        parts = urlsplit(value if "://" in value else f"https://{value}")
        host = (parts.hostname or "").lower()
        segments = [s for s in parts.path.split("/") if s]
        value = segments[0] if host in LINK_HOSTS and segments and segments[0] != "c" else ""
    value = value.removeprefix("@")
    return value if USERNAME_RE.fullmatch(value) else None


def channel_ref(ref: str) -> str | None:
    """A channel as ``SOURCE_CHANNELS`` names it ("-1001234567890", "@name", "name", or a
    t.me/name link) in the spelling a post's chat is compared with: the id in decimal, or the
    username lowercase without "@"; None if it is neither."""
    part = _REF_LINK_RE.sub("", ref.strip()).strip("/")
    part = part.removeprefix("@")
    if _REF_ID_RE.fullmatch(part):
        return str(int(part))
    if USERNAME_RE.fullmatch(part):
        return part.lower()
    return None


def channel_slug(username: str, chat_id: int) -> str:
    """A channel's key: its username lowercase (the letters, digits and underscores), or
    ``c<bare id>`` as in private t.me links. Posts are filed under it
    (``telegram/<key>/``) and a channel filter names a channel by it."""
    name = _SLUG_RE.sub("", username.lower().lstrip("@"))
    if name:
        return name
    return f"c{internal_id(chat_id)}"


def channel_key(ref: str) -> str | None:
    """The key (:func:`channel_slug`) of a channel as a person names it: "@name", "name", a
    t.me/name link, "c1234567890" (the key itself), or its id bare or as "-100…"; None if it is
    none of these."""
    if _KEY_ID_RE.fullmatch(ref.strip().removeprefix("@")):
        return ref.strip().removeprefix("@").lower()
    found = channel_ref(ref)
    if found is None:
        return None
    if _REF_ID_RE.fullmatch(found):
        return channel_slug("", int(found))
    return channel_slug(found, 0)


def _link_channel(url: str) -> str | None:
    """The key of the channel a t.me link points into (t.me/name/5, t.me/c/123/5, t.me/name)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if (parts.hostname or "").lower() not in LINK_HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) >= 2 and segments[0] == "c" and segments[1].isdigit():
        return channel_slug("", int(segments[1]))
    name = username_of(url)
    return None if name is None else channel_slug(name, 0)


def document_channel(path: str, *links: str | None) -> str | None:
    """The key of the channel a corpus document comes from: the directory of a post filed under
    ``telegram/<key>/``, else the channel of the first t.me link among ``links`` (a document's
    ``post_url``, then its ``url``); None for a document from no channel."""
    segments = path.replace("\\", "/").split("/")
    if len(segments) >= 3 and segments[0] == TELEGRAM_DIR and segments[1]:
        return segments[1].lower()
    for link in links:
        if link:
            key = _link_channel(link)
            if key is not None:
                return key
    return None
