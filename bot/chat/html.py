"""Telegram HTML: how an answer looks in a chat. Every string entering the HTML goes through
:func:`escape`; :func:`fit_html` keeps a reply within Telegram's 4096 limit, and
:func:`pack_html` spreads a long list over a few messages each within it."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable

from bot.engine import Answer, Hit
from bot.serving import mark_highlights
from bot.texts import text

__all__ = [
    "MAX_MESSAGE_CHARS",
    "escape",
    "fit_html",
    "hit_html",
    "pack_html",
    "render_answer_html",
    "shorten",
    "utf16_len",
]

#: Telegram's limit for a message text, in UTF-16 code units after entity parsing.
MAX_MESSAGE_CHARS = 4096
_ELLIPSIS = "…"
_MAX_PACKED_MESSAGES = 5
_PACK_RESERVE = 200  # room for the "… and N more" line
_SENTENCE_END = re.compile(r"[.!?…][\"'”“»«)\]]*\s")


def escape(value: object) -> str:
    """The one escaping function for Telegram HTML: every corpus and user string goes through it."""
    return html.escape(str(value), quote=True)


def utf16_len(value: str) -> int:
    """Length in UTF-16 code units, the unit Telegram measures message length in."""
    # Two bytes per unit; "surrogatepass" counts a lone surrogate as the one unit it is.
    return len(value.encode("utf-16-le", "surrogatepass")) // 2


def shorten(value: str, limit: int) -> str:
    """``value`` cut to at most ``limit`` characters at a sentence or word boundary, with "…".

    Works on plain text (before escaping), so a cut can never fall inside a tag or an entity.
    """
    if limit <= 0:
        return ""
    if len(value) <= limit:
        return value
    room = max(limit - len(_ELLIPSIS) - 1, 0)
    head = value[:room]
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(head + " ")]
    # A sentence boundary wins if it keeps at least half of the room.
    if sentence_ends and sentence_ends[-1] >= room // 2:
        return head[: sentence_ends[-1]].rstrip() + " " + _ELLIPSIS
    space = head.rfind(" ")
    if space >= room // 2:
        head = head[:space]
    return head.rstrip(" ,;:-–—") + _ELLIPSIS


def _clip_hit(hit: Hit, limit: int | None) -> Hit:
    if limit is None or len(hit.text) <= limit:
        return hit
    short = shorten(hit.text, limit)
    kept = len(short.removesuffix(_ELLIPSIS).rstrip())
    spans = tuple((s, e) for s, e in hit.highlights if e <= kept)
    return dataclasses.replace(hit, text=short, highlights=spans)


def hit_html(hit: Hit, lang: str, passage_limit: int | None = None) -> str:
    """One quoted passage (matched words in bold), then its title, source link and, for a
    channel post, the post's own link (the source says who said it, the post who quoted it)."""
    clipped = _clip_hit(hit, passage_limit)
    quote = mark_highlights(clipped, "<b>", "</b>", escape)
    title = escape(hit.title or hit.document)
    cite = f"— {title}"
    if hit.link:
        cite += f' · <a href="{escape(hit.link)}">{escape(text("source", lang))}</a>'
    if hit.post_url:
        cite += f' · <a href="{escape(hit.post_url)}">{escape(text("post", lang))}</a>'
    return f"<blockquote>{quote}</blockquote>\n{cite}"


def fit_html(
    render: Callable[[int | None], str], full_length: int, limit: int = MAX_MESSAGE_CHARS
) -> str:
    """The ONE place that keeps replies within Telegram's length limit.

    ``render(passage_limit)`` builds the message with every passage shortened (as plain text) to
    at most ``passage_limit`` characters (None: not at all). The budget shrinks until the
    rendered HTML — which is never shorter than what Telegram counts — fits in ``limit``.
    """
    rendered: str = render(None)
    budget = full_length
    while utf16_len(rendered) > limit and budget > 40:
        over = utf16_len(rendered) - limit
        budget = max(40, min(budget - 20, budget - over // 2, int(budget * 0.9)))
        rendered = render(budget)
    if utf16_len(rendered) > limit:  # only titles/links too long: a hard but tag-safe cut
        plain = html.unescape(re.sub(r"<[^>]+>", "", rendered))
        cut = limit // 2
        rendered = escape(shorten(plain, cut))
        while utf16_len(rendered) > limit:  # escaping turns one '"' or "&" into up to 6
            cut //= 2
            rendered = escape(shorten(plain, cut))
    return rendered


def render_answer_html(answer: Answer, lang: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """A Telegram answer: one line on what was found, then each quote with title and link."""
    header = escape(text("bot_found", lang, total=answer.total))

    def render(passage_limit: int | None) -> str:
        parts = [header] + [hit_html(hit, lang, passage_limit) for hit in answer.hits]
        return "\n\n".join(parts)

    longest = max((len(hit.text) for hit in answer.hits), default=0)
    return fit_html(render, longest, limit)


def pack_html(lines: list[str], overflow: Callable[[int], str]) -> list[str]:
    """HTML lines (each far below the limit) packed into as few messages as fit; at most
    ``_MAX_PACKED_MESSAGES``, the lines left over summed up by ``overflow(count)``, an HTML line
    of at most ``_PACK_RESERVE`` characters."""
    messages: list[str] = []
    current = ""
    for index, line in enumerate(lines):
        candidate = f"{current}\n{line}" if current else line
        if current and utf16_len(candidate) > MAX_MESSAGE_CHARS - _PACK_RESERVE:
            if len(messages) == _MAX_PACKED_MESSAGES - 1:
                return [*messages, f"{current}\n{overflow(len(lines) - index)}"]
            messages.append(current)
            current = line
        else:
            current = candidate
    return [*messages, current] if current else messages
