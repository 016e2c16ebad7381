"""Links that open a source at the quoted words: a URL text fragment (``#:~:text=start,end``)."""

from __future__ import annotations

import re
from urllib.parse import quote

__all__ = ["quote_link"]

_FRAGMENT_WORDS = 4
_PLAIN_FRAGMENT = re.compile(r"[A-Za-z0-9_.~ ]*")


def quote_link(url: str, text: str) -> str:
    """``url`` with a text fragment (``#:~:text=start,end``) that opens it at the quoted words."""
    if not url:
        return url
    words = text.split()
    if not words:
        return url
    if len(words) <= 2 * _FRAGMENT_WORDS:
        directive = "text=" + _fragment_part(" ".join(words))
    else:
        start = " ".join(words[:_FRAGMENT_WORDS])
        end = " ".join(words[-_FRAGMENT_WORDS:])
        directive = f"text={_fragment_part(start)},{_fragment_part(end)}"
    separator = ":~:" if "#" in url else "#:~:"
    return f"{url}{separator}{directive}"


def _fragment_part(text: str) -> str:
    # '-', ',' and '&' have a meaning inside a text directive and must be percent-encoded.
    if _PLAIN_FRAGMENT.fullmatch(text):  # what quote() leaves alone, and spaces
        return text.replace(" ", "%20")
    return quote(text, safe="").replace("-", "%2D")
