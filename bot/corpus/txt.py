"""The ``.txt`` reader: a title line, the text, and the source link as the last line (or a
"Quelle: URL" line anywhere)."""

from __future__ import annotations

from bot.corpus.documents import Document, Skip, make_document
from bot.corpus.fields import take_source_line

__all__ = ["read_txt"]


def read_txt(text: str, rel: str, default_lang: str) -> Document:
    """The document of a plain-text file's normalised ``text``."""
    url, lines = take_source_line(text.split("\n"))
    if url is None:
        raise Skip("no source URL (add the link as the last line or as 'Quelle: URL')")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise Skip("no usable text (only a source URL)")
    title = lines[first].strip()
    body = "\n".join(lines[first + 1 :]).rstrip()
    full = f"{title}\n{body}" if body.strip() else title
    return make_document(
        rel,
        rel,
        title=title,
        url=url,
        declared_lang=None,
        raw_date=None,
        text=full,
        default_lang=default_lang,
    )
