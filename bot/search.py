"""The answer engine: documents in, quoted passages out. The CLI, the bot and the benchmarks all
call :class:`Engine`, so they rank and cut off exactly alike.

Ranking: a passage's score is its own relevance plus ``document_weight`` times its document's,
where relevance = BM25(terms) + ``gram_weight`` * BM25(3- and 4-grams of the terms). Each of the
four fields (stems and grams, of passages and of whole documents) is exact BM25Okapi (see
:mod:`bot.index`). The n-gram fields find compounds and transliterations; the document fields let
a passage that answers the question win over one that merely repeats its words elsewhere
(measured on XQuAD-de in docs/BENCHMARKS.md).

No answer: BM25 scores are not comparable across questions or corpus sizes, so the cut-off asks a
question that is: how much of the question's content does a passage cover? Each content word of
the question weighs its idf (rare words matter more; a word the corpus never uses weighs as much as
the rarest word it has). A passage is an answer only if the words it matches, word by word (same
stem, same name variant, or part of a compound), carry at least ``min_coverage`` of that weight,
and if it scores at least ``min_relative_score`` of the best answer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import numpy.typing as npt

from bot.analysis import Analyzer, Token, analyzer_for, fold
from bot.corpus import CorpusLoad, Document, load_corpus
from bot.index import Accumulator, BM25Field, SparseScores, top_k
from bot.passages import split_passages

__all__ = [
    "Answer",
    "Engine",
    "EngineStats",
    "Hit",
    "LoadedCorpus",
    "SearchConfig",
    "guess_question_language",
    "load_engine",
    "quote_link",
]


_TERMS_CACHE_SIZE = 50_000


@dataclass(frozen=True, slots=True)
class SearchConfig:
    """Retrieval knobs; the defaults are the ones measured in docs/BENCHMARKS.md."""

    passage_chars: int = 500
    max_sentences: int = 3
    default_lang: str = "de"
    gram_weight: float = 0.2
    document_weight: float = 1.0
    min_coverage: float = 0.4
    min_relative_score: float = 0.2
    candidates: int = 50


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


@dataclass(frozen=True, slots=True)
class Answer:
    """The hits for one page of results; ``total`` counts every passage that passed the cut-off."""

    query: str
    hits: tuple[Hit, ...]
    total: int
    offset: int = 0
    lang: str = "de"

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.hits) < self.total


@dataclass(frozen=True, slots=True)
class EngineStats:
    documents: int
    passages: int
    languages: tuple[tuple[str, int], ...]
    build_seconds: float


@dataclass(frozen=True, slots=True)
class _Passage:
    document: int
    index: int
    text: str
    lang: str


@dataclass(frozen=True, slots=True)
class _Term:
    term: str
    weight: float


@dataclass(frozen=True)
class Engine:
    """An immutable, thread-safe index over a set of documents (swap it whole to reload)."""

    documents: tuple[Document, ...]
    config: SearchConfig
    _passages: list[_Passage] = field(repr=False)
    _stems: BM25Field = field(repr=False)
    _grams: BM25Field = field(repr=False)
    _doc_stems: BM25Field = field(repr=False)
    _doc_grams: BM25Field = field(repr=False)
    _passage_doc: npt.NDArray[np.int64] = field(repr=False)
    stats: EngineStats
    _terms_cache: dict[int, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, documents: Sequence[Document], config: SearchConfig | None = None) -> Engine:
        config = config or SearchConfig()
        started = time.perf_counter()
        passages: list[_Passage] = []
        stem_docs: list[list[str]] = []
        gram_docs: list[list[str]] = []
        doc_stems: list[list[str]] = []
        doc_grams: list[list[str]] = []
        langs: dict[str, int] = {}
        for doc_no, doc in enumerate(documents):
            analyzer = analyzer_for(doc.lang if doc.lang in ("de", "en") else config.default_lang)
            langs[analyzer.lang] = langs.get(analyzer.lang, 0) + 1
            title_lines = 1 if doc.title and doc.text.split("\n", 1)[0].strip() == doc.title else 0
            all_stems: list[str] = []
            all_grams: list[str] = []
            for p in split_passages(
                doc.text,
                target_chars=config.passage_chars,
                max_sentences=config.max_sentences,
                title_lines=title_lines,
            ):
                terms = analyzer.terms(p.text)
                passages.append(_Passage(doc_no, p.index, p.text, analyzer.lang))
                stem_docs.append(terms)
                gram_docs.append(Analyzer.grams_of(terms))
                all_stems.extend(stem_docs[-1])
                all_grams.extend(gram_docs[-1])
            doc_stems.append(all_stems)
            doc_grams.append(all_grams)
        passage_doc = np.fromiter((p.document for p in passages), np.int64, len(passages))
        stats = EngineStats(
            documents=len(documents),
            passages=len(passages),
            languages=tuple(sorted(langs.items())),
            build_seconds=time.perf_counter() - started,
        )
        return cls(
            tuple(documents),
            config,
            passages,
            BM25Field(stem_docs),
            BM25Field(gram_docs),
            BM25Field(doc_stems),
            BM25Field(doc_grams),
            passage_doc,
            stats,
        )

    @classmethod
    def from_arrays(
        cls,
        documents: Sequence[Document],
        config: SearchConfig,
        *,
        passage_doc: npt.NDArray[np.int64],
        passage_index: npt.NDArray[np.int64],
        passage_lang: npt.NDArray[np.uint8],
        langs: Sequence[str],
        passage_texts: Sequence[str],
        fields: Mapping[str, BM25Field],
        languages: tuple[tuple[str, int], ...],
        build_seconds: float = 0.0,
    ) -> Engine:
        """The engine :meth:`export_arrays` describes, over the same ``documents`` (see
        :mod:`bot.snapshot`); ValueError if the parts do not fit together."""
        n = len(passage_texts)
        if not (len(passage_doc) == len(passage_index) == len(passage_lang) == n):
            raise ValueError("passage arrays differ in length")
        if n and (int(passage_doc.min()) < 0 or int(passage_doc.max()) >= len(documents)):
            raise ValueError("passage of a document that is not there")
        if n and int(passage_lang.max()) >= len(langs):
            raise ValueError("passage language out of range")
        stems, grams = fields["stems"], fields["grams"]
        doc_stems, doc_grams = fields["doc_stems"], fields["doc_grams"]
        if len(stems) != n or len(grams) != n:
            raise ValueError("passage fields do not match the passages")
        if len(doc_stems) != len(documents) or len(doc_grams) != len(documents):
            raise ValueError("document fields do not match the documents")
        lang_of = [analyzer_for(lang).lang for lang in langs]
        passages = [
            _Passage(doc, index, text, lang_of[code])
            for doc, index, text, code in zip(
                passage_doc.tolist(),
                passage_index.tolist(),
                passage_texts,
                passage_lang.tolist(),
                strict=True,
            )
        ]
        stats = EngineStats(len(documents), n, languages, build_seconds)
        return cls(
            tuple(documents),
            config,
            passages,
            stems,
            grams,
            doc_stems,
            doc_grams,
            passage_doc,
            stats,
        )

    def export_arrays(self) -> dict[str, Any]:
        """Everything but the documents that :meth:`from_arrays` needs to rebuild this engine."""
        langs = sorted({p.lang for p in self._passages})
        code = {lang: i for i, lang in enumerate(langs)}
        n = len(self._passages)
        return {
            "passage_doc": self._passage_doc,
            "passage_index": np.fromiter((p.index for p in self._passages), np.int64, n),
            "passage_lang": np.fromiter((code[p.lang] for p in self._passages), np.uint8, n),
            "langs": langs,
            "passage_texts": [p.text for p in self._passages],
            "fields": {
                "stems": self._stems,
                "grams": self._grams,
                "doc_stems": self._doc_stems,
                "doc_grams": self._doc_grams,
            },
            "languages": self.stats.languages,
        }

    # -- questions -------------------------------------------------------------------------

    def search(self, query: str, k: int = 3, offset: int = 0) -> Answer:
        """The best ``k`` passages after the first ``offset`` that answer ``query``, or none."""
        lang = guess_question_language(query, self.config.default_lang)
        analyzer = analyzer_for(lang)
        tokens = analyzer.tokens(query)
        # Every candidate shares at least a term or an n-gram with the question.
        ranked = self._rank(tokens)
        if not ranked:
            return Answer(query, (), 0, offset, lang)
        terms = self._weighted_terms(tokens)
        accepted: list[tuple[int, float]] = []
        best = ranked[0][1]
        for pid, score in ranked:
            # BM25Okapi scores can be negative in tiny corpora; only positive ones compare.
            if best > 0 and score < self.config.min_relative_score * best:
                break
            if _coverage(terms, self._terms(pid)) >= self.config.min_coverage:
                accepted.append((pid, score))
        page = accepted[offset : offset + max(k, 0)]
        hits = tuple(
            self._hit(offset + i + 1, pid, score, self._highlights(terms, pid))
            for i, (pid, score) in enumerate(page)
        )
        return Answer(query, hits, len(accepted), offset, lang)

    def scores(self, query: str) -> SparseScores:
        """Combined scores of every passage sharing a term with ``query`` (for benchmarks)."""
        lang = guess_question_language(query, self.config.default_lang)
        return self._scores(analyzer_for(lang).tokens(query))

    def _scores(self, tokens: list[Token]) -> SparseScores:
        terms = [t.term for t in tokens]
        grams = Analyzer.grams_of(terms)
        weight = self.config.gram_weight
        passages = Accumulator.for_thread(len(self._passages))
        self._stems.accumulate(terms, passages)
        self._grams.accumulate(grams, passages, weight)
        own = passages.take()
        if not self.config.document_weight or not len(own.ids):
            return own
        documents = Accumulator.for_thread(len(self.documents))
        self._doc_stems.accumulate(terms, documents)
        self._doc_grams.accumulate(grams, documents, weight)
        docs = documents.take()
        # Every passage with a score belongs to a document with a score (it shares a term).
        doc_of = self._passage_doc[own.ids]
        # BM25Okapi gives negative scores when the corpus has very few documents (every idf
        # negative); such a context says nothing, so it counts as zero.
        context = np.maximum(docs.scores[np.searchsorted(docs.ids, doc_of)], 0.0)
        return SparseScores(own.ids, own.scores + self.config.document_weight * context)

    def _rank(self, tokens: list[Token]) -> list[tuple[int, float]]:
        return top_k(self._scores(tokens), self.config.candidates)

    def _weighted_terms(self, tokens: Iterable[Token]) -> list[_Term]:
        """Distinct question words with their idf (a word the corpus lacks counts as rarest)."""
        n = max(len(self._passages), 1)
        seen: set[str] = set()
        out = []
        for token in tokens:
            if token.term in seen:
                continue
            seen.add(token.term)
            df = max(self._stems.document_frequency(token.term), 1)
            out.append(_Term(token.term, math.log(1 + (n - df + 0.5) / (df + 0.5))))
        return out

    def _hit(self, rank: int, pid: int, score: float, spans: tuple[tuple[int, int], ...]) -> Hit:
        passage = self._passages[pid]
        doc = self.documents[passage.document]
        return Hit(
            rank=rank,
            score=round(score, 6),
            text=passage.text,
            title=doc.title,
            url=doc.url,
            link=quote_link(doc.url, passage.text),
            document=doc.id,
            passage=f"{doc.id}:p{passage.index}",
            highlights=spans,
            date=doc.date,
        )

    def _terms(self, pid: int) -> frozenset[str]:
        """A passage's distinct terms, analysed again on demand (cheaper in memory than keeping
        them for every passage; the cache keeps the ones popular questions need)."""
        cached = self._terms_cache.get(pid)
        if cached is None:
            passage = self._passages[pid]
            cached = frozenset(analyzer_for(passage.lang).terms(passage.text))
            if len(self._terms_cache) >= _TERMS_CACHE_SIZE:
                self._terms_cache.clear()
            self._terms_cache[pid] = cached
        return cached

    def _highlights(self, terms: Sequence[_Term], pid: int) -> tuple[tuple[int, int], ...]:
        """Spans of the passage words that match a question word: what was matched is bold."""
        passage = self._passages[pid]
        return tuple(
            (token.start, token.end)
            for token in analyzer_for(passage.lang).tokens(passage.text)
            if any(Analyzer.match(t.term, token.term) for t in terms)
        )

    def passage_text(self, pid: int) -> str:
        return self._passages[pid].text

    def passage_document(self, pid: int) -> Document:
        return self.documents[self._passages[pid].document]


def _coverage(terms: Sequence[_Term], passage: frozenset[str]) -> float:
    """Share of the question's weight that the passage's words match (compound parts count
    ``PART_MATCH``)."""
    total = sum(t.weight for t in terms)
    if total <= 0:
        return 0.0
    matched = 0.0
    for term in terms:
        if term.term in passage:
            matched += term.weight
        else:
            best = max((Analyzer.match(term.term, word) for word in passage), default=0.0)
            matched += best * term.weight
    return matched / total


def guess_question_language(query: str, default: str) -> str:
    """Short questions: whichever language's stop words the question uses more."""
    words = [fold(w) for w in query.split()]
    scores = {}
    for lang in ("de", "en"):
        stop = analyzer_for(lang)
        scores[lang] = sum(1 for w in words if stop.is_stop_word(w.strip("?!.,;:\"'")))
    if scores["de"] == scores["en"]:
        return default
    return "de" if scores["de"] > scores["en"] else "en"


_FRAGMENT_WORDS = 4


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
    return quote(text, safe="").replace("-", "%2D")


@dataclass(frozen=True, slots=True)
class LoadedCorpus:
    """An engine together with what loading its corpus found (for reports and /reload).

    ``snapshot``: "loaded" (the engine came from the index snapshot), "written" (built and
    saved), "unsaved" (built; the cache directory was not usable) or "off" (no cache dir)."""

    engine: Engine
    corpus: CorpusLoad
    load_seconds: float
    snapshot: str = "off"


def load_engine(
    corpus_dir: str | Path,
    config: SearchConfig | None = None,
    *,
    max_file_bytes: int | None = None,
    cache_dir: str | Path | None = None,
) -> LoadedCorpus:
    """Read ``corpus_dir`` and build an engine over it; CorpusError if nothing usable is there.

    With ``cache_dir``, the engine comes from an index snapshot of exactly this corpus and
    config if there is a sound one, and is saved there after a build otherwise
    (:mod:`bot.snapshot`)."""
    config = config or SearchConfig()
    started = time.perf_counter()
    kwargs = {} if max_file_bytes is None else {"max_file_bytes": max_file_bytes}
    corpus = load_corpus(corpus_dir, default_lang=config.default_lang, **kwargs)
    load_seconds = time.perf_counter() - started
    if cache_dir is None or str(cache_dir) == "":
        return LoadedCorpus(Engine.build(corpus.documents, config), corpus, load_seconds)
    from bot import snapshot

    key = snapshot.snapshot_key(corpus.documents, config)
    engine = snapshot.load_snapshot(corpus.documents, config, cache_dir, corpus_dir, key)
    if engine is not None:
        return LoadedCorpus(engine, corpus, load_seconds, "loaded")
    engine = Engine.build(corpus.documents, config)
    saved = snapshot.save_snapshot(engine, cache_dir, corpus_dir, key)
    return LoadedCorpus(engine, corpus, load_seconds, "written" if saved else "unsaved")
