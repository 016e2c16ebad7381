"""What the corpus readers produce: documents, the reasons a file was left out, and the one way
a reader makes a document (its fields cleaned the same whatever the format).

``Skipped`` itself lives in :mod:`bot.errors` with the :class:`~bot.errors.CorpusError` that
carries it; :class:`Skip` is how a reader stops on one file (or line) to produce one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.corpus.fields import clean_url, parse_date, resolve_lang, without_surrogates
from bot.errors import Skipped

__all__ = ["CorpusLoad", "Document", "FileLoader", "Skip", "make_document", "skipped"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Document:
    """One citable unit; ``id`` stays stable across reloads so citations stay valid."""

    id: str
    title: str
    url: str
    lang: str
    date: str | None
    text: str
    path: str
    #: The post's own t.me link when the document is a channel post (``url`` is its source).
    post_url: str | None = None


@dataclass(frozen=True, slots=True)
class CorpusLoad:
    """Everything a load produced, so callers can report what was left out."""

    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...]
    files: int


#: Reads one file into documents and skipped entries; called with the file's full path and
#: its path relative to the corpus root (the one documents name it by).
FileLoader = Callable[[str, str], tuple[list[Document], list[Skipped]]]


class Skip(Exception):
    """Aborts reading one file (or ``.jsonl`` line) with a human reason; the loader turns it
    into a :class:`~bot.errors.Skipped` entry, so it never leaves the corpus package."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def skipped(rel: str, reason: str) -> Skipped:
    """The entry for a file (or line) left out, logged so a load can be followed."""
    logger.debug("skipped %s: %s", rel, reason)
    return Skipped(path=rel, reason=reason)


def make_document(
    rel: str,
    doc_id: str,
    *,
    title: str,
    url: str,
    declared_lang: object,
    raw_date: object,
    text: str,
    default_lang: str,
    post_url: object = None,
) -> Document:
    """A reader's document with the shared field rules applied (language, date, post link)."""
    post = clean_url(post_url)
    # Lone surrogates become U+FFFD (same length, so passage spans stay valid): a quote or a
    # title that Telegram cannot be sent would fail the whole reply.
    text = without_surrogates(text)
    return Document(
        id=without_surrogates(doc_id),
        title=without_surrogates(title),
        url=url,
        lang=resolve_lang(declared_lang, text, default_lang),
        date=parse_date(raw_date),
        text=text,
        path=rel,
        post_url=post if post != url else None,
    )
