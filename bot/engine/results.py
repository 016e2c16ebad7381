"""What the engine hands out: quoted passages, pages of them, and what an index holds. Plain
frozen records, so the chat, the CLI and the benchmarks share them without knowing the index."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Answer", "EngineStats", "Hit"]


@dataclass(frozen=True, slots=True)
class Hit:
    """One quoted passage. ``highlights`` are [start, end) spans of matched words in ``text``."""

    rank: int
    score: float
    text: str
    title: str
    url: str
    link: str
    document: str
    passage: str
    highlights: tuple[tuple[int, int], ...]
    date: str | None = None
    #: The channel post's own t.me link, when the document is one (``url`` is its source).
    post_url: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """The hits for one page of results; ``total`` counts every passage that passed the cut-off.

    ``newest``: the hits are ordered newest first; ``filtered``: a period or channel bounded the
    search, so an empty answer may be the filter's doing rather than the question's."""

    query: str
    hits: tuple[Hit, ...]
    total: int
    offset: int = 0
    lang: str = "de"
    newest: bool = False
    filtered: bool = False

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.hits) < self.total


@dataclass(frozen=True, slots=True)
class EngineStats:
    documents: int
    passages: int
    languages: tuple[tuple[str, int], ...]
    build_seconds: float
