"""An answer as a person at a terminal or a program reads it: plain text and the `ask --json`
object (the Telegram HTML lives with the bot, and marks its highlights the same way)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from bot.engine import Answer, Hit
from bot.texts import format_date, quoted, text

__all__ = ["answer_to_dict", "format_plain", "iso_date", "mark_highlights", "quote_language"]


def iso_date(value: str | None) -> str | None:
    """A document's date in ISO 8601 proper: the loader keeps a moment as written, which may
    be one of the spellings Python also reads ("2024-01-05 10:00"); None stays None."""
    if value is None or len(value) == 10:
        return value
    try:
        return datetime.datetime.fromisoformat(value).isoformat()
    except ValueError:
        return None


def quote_language(answer: Answer, lang: str) -> str | None:
    """The line saying, in ``lang``, which language the quotes are in: only when the question
    was in another one (the quotes are never translated)."""
    if answer.quote_lang is None or not answer.hits:
        return None
    return text("quotes_in", lang, language=text(f"language_{answer.quote_lang}", lang))


def mark_highlights(
    hit: Hit, before: str, after: str, escape: Callable[[str], str] | None = None
) -> str:
    """The hit's text with every highlighted span wrapped in ``before``/``after``.

    ``escape`` (e.g. an HTML escaper) is applied to the text around and inside the marks, never to
    the marks themselves.
    """
    esc = escape or (lambda s: s)
    out: list[str] = []
    pos = 0
    for start, end in hit.highlights:
        if start < pos:
            continue
        out.append(esc(hit.text[pos:start]))
        out.append(before + esc(hit.text[start:end]) + after)
        pos = end
    out.append(esc(hit.text[pos:]))
    return "".join(out)


def format_plain(answer: Answer, *, bold: bool = False) -> str:
    """A terminal answer: numbered quotes, each with title, date and link; or the no-answer
    line (which says so when a filter left nothing)."""
    if not answer.hits:
        return text("no_answer_filtered" if answer.filtered else "no_answer", answer.lang)
    before, after = ("\033[1m", "\033[0m") if bold else ("", "")
    lines = [text("found", answer.lang, total=answer.total), ""]
    note = quote_language(answer, answer.lang)
    if note:
        lines[1:1] = [note]
    for hit in answer.hits:
        lines.append(f"[{hit.rank}] {quoted(mark_highlights(hit, before, after), answer.lang)}")
        when = format_date(hit.date, answer.lang)
        lines.append(f"    — {hit.title}, {when}" if when else f"    — {hit.title}")
        lines.append(f"    {text('source', answer.lang)}: {hit.link}")
        if hit.post_url:
            lines.append(f"    {text('post', answer.lang)}: {hit.post_url}")
        lines.append("")
    return "\n".join(lines).rstrip()


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    """The `ask --json` contract: exactly these keys, ``hits`` empty when there is no answer."""
    return {
        "query": answer.query,
        "hits": [
            {
                "rank": hit.rank,
                "score": hit.score,
                "text": hit.text,
                "title": hit.title,
                "url": hit.url,
                "link": hit.link,
                "post_url": hit.post_url,
                "date": iso_date(hit.date),
                "document": hit.document,
                "passage": hit.passage,
                "highlights": [[start, end] for start, end in hit.highlights],
            }
            for hit in answer.hits
        ],
    }
