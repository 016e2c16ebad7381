"""What the corpus readers produce: documents, the reasons a file was left out, and the one way
a reader makes a document (its fields cleaned the same whatever the format).

``Skipped`` itself lives in :mod:`bot.errors` with the :class:`~bot.errors.CorpusError` that
carries it; :class:`Skip` is how a reader stops on one file (or line) to produce one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.corpus.fields import clean_url, parse_date, resolve_lang, without_surrogates
from bot.errors import Skipped

__all__ = [
    "MAX_DOCUMENT_CHARS",
    "CorpusLoad",
    "Document",
    "FileLoader",
    "Skip",
    "bounded_documents",
    "make_document",
    "skipped",
]

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


#: A longer text is read as several documents of at most this many characters (about 200
#: passages): a question pays for every passage of a document it scores as a whole, and one
#: 40 MB line (108,570 passages) made each question touching it take seconds.
MAX_DOCUMENT_CHARS = 100_000
# Where a part may end, best first: a paragraph, a line, a sentence, a word.
_BREAKS = ("\n\n", "\n", ". ", "! ", "? ", " ")


def bounded_documents(
    documents: list[Document], max_chars: int = MAX_DOCUMENT_CHARS
) -> list[Document]:
    """``documents`` with every text longer than ``max_chars`` cut into parts of at most that,
    in order, each ending at the best break in its last quarter. The first part keeps the
    document's id (citations of it stay valid), the others add ``#2``, ``#3`` ... (made unique
    among the file's ids)."""
    if all(len(doc.text) <= max_chars for doc in documents):
        return documents
    taken = {doc.id for doc in documents}
    out: list[Document] = []
    for doc in documents:
        if len(doc.text) <= max_chars:
            out.append(doc)
            continue
        for number, text in enumerate(_pieces(doc.text, max_chars), start=1):
            doc_id = doc.id
            if number > 1:
                doc_id = f"{doc.id}#{number}"
                while doc_id in taken:
                    doc_id += "+"
                taken.add(doc_id)
            out.append(replace(doc, id=doc_id, text=text))
    return out


def _pieces(text: str, max_chars: int) -> list[str]:
    pieces: list[str] = []
    start, end_of_text = 0, len(text)
    while end_of_text - start > max_chars:
        limit = start + max_chars
        floor = limit - max_chars // 4
        cut = limit
        for mark in _BREAKS:
            found = text.rfind(mark, floor, limit)
            if found > start:
                cut = found + (1 if mark[0] in ".!?" else 0)  # the sentence keeps its mark
                break
        piece = text[start:cut].strip()
        if piece:
            pieces.append(piece)
        start = cut
    last = text[start:].strip()
    if last:
        pieces.append(last)
    return pieces
