"""Telegram HTML: how an answer looks in a chat. Every string entering the HTML goes through
:func:`escape`; :func:`fit_html` keeps a reply within Telegram's 4096 limit, and
:func:`pack_html` spreads a long list over a few messages each within it."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from bot.engine import Answer, Hit
from bot.serving import mark_highlights, quote_language
from bot.texts import format_date, text

__all__ = [
    "MAX_MESSAGE_CHARS",
    "MIN_QUOTE_CHARS",
    "PAGE_QUOTE_CHARS",
    "TITLE_CHARS",
    "by_document",
    "document_html",
    "domain_of",
    "escape",
    "fit_html",
    "focused_text",
    "hit_html",
    "pack_html",
    "render_answer_html",
    "shorten",
    "utf16_len",
]

#: Telegram's limit for a message text, in UTF-16 code units after entity parsing.
MAX_MESSAGE_CHARS = 4096
_ELLIPSIS = "…"
#: The characters the quotes of one answer page share, and the least one quote gets: three
#: quotes from one document then fit one phone screen (docs/BENCHMARKS.md, "Phone screen").
PAGE_QUOTE_CHARS = 510
MIN_QUOTE_CHARS = 170
#: A document's title, at most two lines on a phone.
TITLE_CHARS = 70
_MAX_PACKED_MESSAGES = 5
_PACK_RESERVE = 200  # room for the "… and N more" line
# A sentence ends at . ! ? … (and closing quotes), not after a number ("vom 1. Dezember") or a
# one-letter abbreviation ("z. B.").
_SENTENCE_END = re.compile(r"(?<!\d)(?<!\b\w)[.!?…][\"'”“»«)\]]*\s")


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


def domain_of(url: str) -> str:
    """A link's text: the host a reader recognises ("understandingwar.org"), not the URL."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.") or url


def _post_label(post_url: str) -> str:
    """A channel post's link text: "t.me/isw_de/42", which names the channel that posted it."""
    return post_url.split("://", 1)[-1].removeprefix("www.")


def _focus(hit: Hit, limit: int | None) -> Hit:
    """The hit cut (as plain text) to at most ``limit`` characters where its highlights are:
    from the start of a sentence with a highlight (or a few words before the highlight, if that
    sentence starts far before it), the start that shows the most different matched words, then
    the most matches, then the earliest; "…" where the quote was cut; only whole highlights
    kept."""
    if limit is None or len(hit.text) <= limit:
        return hit
    value = hit.text
    starts = [0] + [m.end() for m in _SENTENCE_END.finditer(value)]
    candidates = []
    for first, _ in hit.highlights or ((0, 0),):
        begin = max(s for s in starts if s <= first)
        if first - begin > limit // 2:  # the sentence starts far before: a few words before it
            space = value.rfind(" ", 0, max(first - limit // 4, 0))
            begin = space + 1 if space >= 0 else 0
        candidates.append(begin)

    def shown(begin: int) -> tuple[int, int, int]:
        end = begin + limit - 2 * len(_ELLIPSIS) - 2
        inside = [(s, e) for s, e in hit.highlights if s >= begin and e <= end]
        return len({value[s:e].lower() for s, e in inside}), len(inside), -begin

    begin = max(candidates, key=shown)
    prefix = f"{_ELLIPSIS} " if begin > 0 else ""
    short = prefix + shorten(value[begin:], limit - len(prefix))
    kept = len(short.removesuffix(_ELLIPSIS).rstrip())
    shift = len(prefix) - begin
    spans = tuple(
        (s + shift, e + shift) for s, e in hit.highlights if s >= begin and e + shift <= kept
    )
    return dataclasses.replace(hit, text=short, highlights=spans)


def focused_text(hit: Hit, limit: int) -> str:
    """The hit's text as :func:`document_html` quotes it, cut to ``limit`` where its
    highlights are (plain text, for an inline result's description)."""
    return _focus(hit, limit).text


def _quote_html(hit: Hit, limit: int | None) -> str:
    return f"<blockquote>{mark_highlights(_focus(hit, limit), '<b>', '</b>', escape)}</blockquote>"


def document_html(hits: Sequence[Hit], lang: str, passage_limit: int | None = None) -> str:
    """One document's part of an answer: its title, then date and links on one line, then its
    quotes. Said once per document however many quotes it has: on a phone the title and links
    are what repeated most. The links show their domain (Telegram shows the full address when
    it is tapped); the source link is the document's own address, so that confirmation shows a
    short URL, not the quote's percent-encoded text fragment."""
    first = hits[0]
    lines = [f"<b>{escape(shorten(first.title or first.document, TITLE_CHARS))}</b>"]
    meta: list[str] = []
    day = format_date(first.date, lang)
    if day:
        meta.append(escape(day))
    if first.url and first.url != first.post_url:
        meta.append(f'<a href="{escape(first.url)}">{escape(domain_of(first.url))}</a>')
    if first.post_url:
        meta.append(f'<a href="{escape(first.post_url)}">{escape(_post_label(first.post_url))}</a>')
    if meta:
        lines.append(" · ".join(meta))
    lines += [_quote_html(hit, passage_limit) for hit in hits]
    return "\n".join(lines)


def hit_html(hit: Hit, lang: str, passage_limit: int | None = None) -> str:
    """One quote as a message of its own (an inline result): its document's title, date and
    links, then the quote."""
    return document_html([hit], lang, passage_limit)


def by_document(hits: Sequence[Hit]) -> list[list[Hit]]:
    """The hits grouped by document, in the order each document first appears (its best quote,
    or its date when newest first), the quotes of each in their order."""
    groups: dict[str, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(hit.document, []).append(hit)
    return list(groups.values())


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
    """A Telegram answer: one line on what was found, then the quotes grouped by document.

    The quotes of a page share :data:`PAGE_QUOTE_CHARS` (at least :data:`MIN_QUOTE_CHARS` each),
    each cut around its highlights: so three quotes from one document fit one phone screen
    (the yardstick is in docs/BENCHMARKS.md)."""
    key = "bot_found_newest" if answer.newest else "bot_found"
    header = escape(text(key, lang, total=answer.total))
    header += "".join(f"\n{escape(note)}" for note in [quote_language(answer, lang)] if note)
    groups = by_document(answer.hits)
    share = max(PAGE_QUOTE_CHARS // max(len(answer.hits), 1), MIN_QUOTE_CHARS)

    def render(passage_limit: int | None) -> str:
        quote_limit = share if passage_limit is None else min(share, passage_limit)
        parts = [header] + [document_html(group, lang, quote_limit) for group in groups]
        return "\n\n".join(parts)

    longest = max((len(hit.text) for hit in answer.hits), default=0)
    return fit_html(render, min(longest, share), limit)


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
