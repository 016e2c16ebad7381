"""The field rules every reader shares: text normalisation, language, date, source URL (and the
"Quelle: URL" line it may come from) and the short title derived from a text.

Channel posts (:mod:`bot.ingest.posts`) cut their titles with :func:`short_title` too, so a post
has the same title whichever way it is read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from urllib.parse import urlsplit

from bot.languages import SUPPORTED_LANGUAGES, guess_language

__all__ = [
    "clean_url",
    "first_field",
    "normalize_lang",
    "normalize_text",
    "parse_date",
    "resolve_lang",
    "short_title",
    "take_source_line",
    "without_surrogates",
]

_TITLE_MAX = 120
# JSON and YAML "\ud800" escapes decode to lone surrogates, which no UTF-8 request can carry.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
#: Exactly the characters ``str.isspace`` accepts (both use Py_UNICODE_ISSPACE).
_SPACE_RE = re.compile(r"\s")


def normalize_text(text: str) -> str:
    """NFC, one kind of line break, no NUL: a NUL past the binary sniff would reach a quote
    (and a Telegram message) otherwise."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text.replace("\x00", ""))


def without_surrogates(text: str) -> str:
    """Lone surrogates as U+FFFD: same length, and sendable in a UTF-8 request."""
    return _SURROGATE_RE.sub("\ufffd", text)


_LANG_ALIASES = {
    "de": "de",
    "deu": "de",
    "ger": "de",
    "german": "de",
    "deutsch": "de",
    "en": "en",
    "eng": "en",
    "english": "en",
    "englisch": "en",
}


def normalize_lang(value: object) -> str | None:
    """Map "de-DE", "German", "eng"... to a supported code; None means "guess instead"."""
    if not isinstance(value, str):
        return None
    primary = re.split(r"[-_\s]", value.strip().lower(), maxsplit=1)[0]
    lang = _LANG_ALIASES.get(primary)
    return lang if lang in SUPPORTED_LANGUAGES else None


def resolve_lang(declared: object, text: str, default_lang: str) -> str:
    """The declared language if it is one we support, else the guess from the text."""
    return normalize_lang(declared) or guess_language(text, default_lang)


def parse_date(value: object) -> str | None:
    """Keep dates comparable: plain dates become YYYY-MM-DD, datetimes stay as written."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > 64:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return None
    return value


def clean_url(value: object) -> str | None:
    """Only http(s) links can be shown to users as a source."""
    if not isinstance(value, str):
        return None
    url = value.strip().removeprefix("<").removesuffix(">").strip()
    if not url or _SPACE_RE.search(url) or _SURROGATE_RE.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def short_title(text: str) -> str:
    """First line of the text, cut at a word boundary so titles fit in a reply."""
    line = next((ln.strip() for ln in text.split("\n") if ln.strip()), "")
    if len(line) <= _TITLE_MAX:
        return line
    cut = line[: _TITLE_MAX - 1]
    if not line[_TITLE_MAX - 1].isspace():
        space = cut.rfind(" ")
        if space > 0:
            cut = cut[:space]
    return cut.rstrip() + "…"


def first_field(mapping: Mapping[str, object], *keys: str) -> object:
    """The value of the first of ``keys`` that is set (front matter and JSON have synonyms)."""
    for key in keys:
        value = mapping.get(key)
        if value is not None:
            return value
    return None


# Possessive: the URL never gives characters back to the trailing "[\s*_]*" (same matches,
# but a long line of "_" no longer costs quadratic time).
_URL_CHARS = r"[^\s<>*]++"
_BARE_URL_RE = re.compile(rf"^[\s<]*(https?://{_URL_CHARS})>?\s*$", re.IGNORECASE)
_LABELED_URL_RE = re.compile(
    rf"^[\s*_>]*(?:quelle|source|link|url)[\s*_:]+<?(https?://{_URL_CHARS})>?[\s*_]*$",
    re.IGNORECASE,
)


def take_source_line(lines: list[str]) -> tuple[str | None, list[str]]:
    """Find the source link line (bare URL last, or "Quelle: URL"), and drop it from the text."""
    last = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), None)
    if last is not None:
        match = _BARE_URL_RE.match(lines[last]) or _LABELED_URL_RE.match(lines[last])
        url = clean_url(match.group(1)) if match else None
        if url:
            return url, lines[:last] + lines[last + 1 :]
    for i in range(len(lines) - 1, -1, -1):
        match = _LABELED_URL_RE.match(lines[i])
        url = clean_url(match.group(1)) if match else None
        if url:
            return url, lines[:i] + lines[i + 1 :]
    return None, lines
