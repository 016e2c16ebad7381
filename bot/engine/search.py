"""The answer engine: documents in, quoted passages out. The CLI, the bot and the benchmarks all
call :class:`Engine`, so they rank and cut off exactly alike.

Ranking: a passage's score is its own relevance plus ``document_weight`` times its document's,
where relevance = BM25(terms) + ``gram_weight`` * BM25(3- and 4-grams of the terms). Each of the
four fields (terms and n-grams, of passages and of whole documents) is exact BM25Okapi (see
:mod:`bot.engine.index` and :mod:`bot.engine.grams`). The n-gram fields find compounds and
transliterations; the document fields let a passage that answers the question win over one that
merely repeats its words elsewhere (measured on XQuAD-de in docs/BENCHMARKS.md).

An n-gram index would be ten times the size of the word index, so the ranking runs in two
stages: the word index finds the ``rerank`` best candidates by the question's terms and their
spelling neighbours (vocabulary terms sharing most of their n-grams), then the full score above is
computed for those candidates only, from their terms.

No answer: BM25 scores are not comparable across questions or corpus sizes, so the cut-off asks a
question that is: how much of the question's content does a passage cover? Each content word of
the question weighs its idf (rare words matter more; a word the corpus never uses weighs as much as
the rarest word it has). A passage is an answer only if the words it matches, word by word (same
stem, same name variant, or part of a compound), carry at least ``min_coverage`` of that weight,
and if it scores at least ``min_relative_score`` of the best answer.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import math
import operator
import re
import time
from array import array
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

import numpy as np
import numpy.typing as npt

from bot.corpus import Document
from bot.engine.analysis import MIN_PART, PART_MATCH, Analyzer, Token, analyzer_for, fold
from bot.engine.grams import GramField, TermGrams, gram_counts, group_counts, scratch
from bot.engine.index import (
    Accumulator,
    BM25Field,
    ForwardIndex,
    SparseScores,
    TermIds,
    TokenIds,
    gather_rows,
    top_k,
    top_k_dense,
    top_k_grouped,
    unit_entries,
)
from bot.engine.passages import Passage, passage_text, split_passages
from bot.engine.workers import DocumentPassages, analysed_documents, worker_count

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = [
    "Answer",
    "Engine",
    "EngineStats",
    "Hit",
    "SearchConfig",
    "guess_question_language",
    "quote_link",
]


_TERMS_CACHE_SIZE = 50_000
_TEXT = operator.attrgetter("text")
# Blocks of passages whose best possible stage-1 score is bounded before any is added up.
_BLOCKS = 1024


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
    rerank: int = 50
    neighbours: int = 5
    neighbour_dice: float = 0.4
    neighbour_weight: float = 0.5
    #: Processes that analyse documents in a build (0: one per CPU; 1: none besides this one),
    #: used once there are ``parallel_chars`` characters to analyse. The index is the same.
    build_workers: int = 0
    parallel_chars: int = 20_000_000


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
class Passages:
    """Where every passage stands in its document: arrays, not a million objects (the texts are
    the documents' own, sliced when a passage is quoted)."""

    document: npt.NDArray[np.int64]
    index: npt.NDArray[np.int64]
    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    lang: npt.NDArray[np.uint8]
    langs: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.document)

    def groups(self, documents: int) -> npt.NDArray[np.int64]:
        """Document d's passages are ``groups[d]`` to ``groups[d + 1]`` (numbered together)."""
        return np.searchsorted(self.document, np.arange(documents + 1), side="left").astype(
            np.int64
        )

    def check(self, documents: Sequence[Document]) -> None:
        """ValueError unless every passage lies inside its document's text."""
        n = len(self.document)
        if not (len(self.index) == len(self.start) == len(self.end) == len(self.lang) == n):
            raise ValueError("passage arrays differ in length")
        if not n:
            return
        if int(self.document.min()) < 0 or int(self.document.max()) >= len(documents):
            raise ValueError("passage of a document that is not there")
        if int(self.lang.max()) >= len(self.langs):
            raise ValueError("passage language out of range")
        lengths = np.fromiter(map(len, map(_TEXT, documents)), np.int64, len(documents))
        if np.any(self.start < 0) or np.any(self.end < self.start):
            raise ValueError("passage span out of order")
        if np.any(self.end > lengths[self.document]):
            raise ValueError("passage span beyond its document")


@dataclass(frozen=True, slots=True)
class _Term:
    """A question word: its term, its idf weight, and the vocabulary terms it is a part of or
    that are part of it (what ``Analyzer.match`` calls a part match)."""

    term: str
    weight: float
    parts: frozenset[str]
    #: The term's id (-1 if the corpus lacks it) and its parts' ids, for the forward index.
    tid: int = -1
    part_ids: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))


@dataclass(frozen=True)
class Engine:
    """An immutable, thread-safe index over a set of documents (swap it whole to reload)."""

    documents: tuple[Document, ...]
    config: SearchConfig
    _passages: Passages = field(repr=False)
    _stems: BM25Field = field(repr=False)
    _doc_stems: BM25Field = field(repr=False)
    _term_grams: TermGrams = field(repr=False)
    _grams: GramField = field(repr=False)
    _doc_grams: GramField = field(repr=False)
    stats: EngineStats
    _neighbour_cache: dict[str, tuple[tuple[str, float], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _parts_cache: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)
    _ids_cache: dict[str, tuple[int, npt.NDArray[np.int32]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def build(
        cls,
        documents: Sequence[Document],
        config: SearchConfig | None = None,
        previous: Engine | None = None,
    ) -> Engine:
        """Analyse and index ``documents``. With ``previous`` (the engine being replaced), a
        document it already holds unchanged is not analysed again: its passages and terms are
        taken from there, so a reload costs the analysis of the changed documents only."""
        started = time.perf_counter()
        engine = cls._build(documents, config or SearchConfig(), previous)
        # The build's temporary lists (a Python int per passage, several times) die with its
        # frame: hand the heap they leave back to the system only after that.
        _release_freed_memory()
        object.__setattr__(
            engine, "stats", replace(engine.stats, build_seconds=time.perf_counter() - started)
        )
        return engine

    @classmethod
    def _build(
        cls, documents: Sequence[Document], config: SearchConfig, previous: Engine | None
    ) -> Engine:
        # Per-passage columns as machine integers: lists would hold a Python int per passage
        # each, some 200 MB at a million passages through the whole build.
        p_doc = array("q")
        p_lang = array("q")
        # Where each passage comes from: >= 0 a passage of ``previous`` (reused whole, arrays
        # only), < 0 the -(k + 1)-th passage analysed now.
        source = array("q")
        f_index = array("q")
        f_start = array("q")
        f_end = array("q")
        lang_codes: dict[str, int] = {}
        numbering = TokenIds()
        langs: dict[str, int] = {}
        reusable: dict[Document, int] = {}
        kept_docs: list[int] = []  # the previous engine's numbers of the documents reused
        new_docs: list[int] = []  # this engine's numbers of the documents analysed now
        bounds = np.zeros(1, dtype=np.int64)
        if previous is not None and _analysis_settings(previous.config) == _analysis_settings(
            config
        ):
            reusable = {doc: no for no, doc in enumerate(previous.documents)}
            bounds = previous._passages.groups(len(previous.documents))
        analysed = _in_workers([doc for doc in documents if doc not in reusable], numbering, config)
        for doc_no, doc in enumerate(documents):
            analyzer = _analyzer_of(doc, config)
            langs[analyzer.lang] = langs.get(analyzer.lang, 0) + 1
            code = lang_codes.setdefault(analyzer.lang, len(lang_codes))
            before = len(source)
            old = reusable.get(doc)
            if old is not None:
                source.extend(range(int(bounds[old]), int(bounds[old + 1])))
                kept_docs.append(old)
            elif analysed is not None:
                new_docs.append(doc_no)
                found = next(analysed)
                source.extend(range(-len(f_index) - 1, -len(f_index) - len(found.index) - 1, -1))
                f_index.extend(found.index)
                f_start.extend(found.start)
                f_end.extend(found.end)
            else:
                new_docs.append(doc_no)
                words = numbering.words(analyzer.lang, analyzer.index_terms)
                for passage in _analyse(doc, analyzer, config):
                    numbering.add(words, analyzer.words(passage.text))
                    source.append(-len(f_index) - 1)
                    f_index.append(passage.index)
                    f_start.append(passage.start)
                    f_end.append(passage.end)
            added = len(source) - before
            p_doc.extend(itertools.repeat(doc_no, added))
            p_lang.extend(itertools.repeat(code, added))
        if analysed is not None:
            for _ in analysed:  # every document is in: let it stop the worker processes
                raise AssertionError("a document was analysed twice")
        origin = np.array(source, dtype=np.int64)
        del source
        reused = origin >= 0
        fresh = ~reused
        fresh_rank = -origin[fresh] - 1

        def column(
            new: array[int], old_values: npt.NDArray[np.int64] | None
        ) -> npt.NDArray[np.int64]:
            out = np.empty(len(origin), dtype=np.int64)
            out[fresh] = np.array(new, dtype=np.int64)[fresh_rank]
            if old_values is not None:
                out[reused] = old_values[origin[reused]]
            return out

        old_table = previous._passages if previous is not None and reusable else None
        passages = Passages(
            np.array(p_doc, dtype=np.int64),
            column(f_index, old_table.index if old_table else None),
            column(f_start, old_table.start if old_table else None),
            column(f_end, old_table.end if old_table else None),
            np.array(p_lang, dtype=np.uint8),
            tuple(lang_codes),
        )
        numbered = numbering.finish()
        del numbering
        if old_table is not None and previous is not None:
            numbered = _merge_reused(numbered, previous, origin, np.flatnonzero(fresh))
        vocabulary = numbered.vocabulary
        stems = BM25Field.from_ids(vocabulary, numbered.terms, numbered.units, len(passages))
        del numbered
        # A document's terms are its passages' terms: add up the passages' entries.
        forward = _forward(stems)
        owner = np.repeat(
            passages.document.astype(np.int32), np.diff(forward.indptr).astype(np.int64)
        )
        documents_field = BM25Field.from_entries(
            vocabulary,
            unit_entries(forward.terms, owner, len(vocabulary), len(documents), tf=forward.tf),
            len(documents),
            forward=False,
        )
        del owner
        term_grams = (
            TermGrams(list(stems.vocabulary), previous._term_grams, previous._stems.vocabulary)
            if old_table is not None and previous is not None
            else TermGrams(list(stems.vocabulary))
        )
        updates: tuple[Any, Any] = (None, None)
        if old_table is not None and previous is not None:
            # The n-gram statistics follow from the previous engine's: count only the passages
            # and documents that are gone and those that are new.
            gone_passages = np.setdiff1d(
                np.arange(len(old_table), dtype=np.int64), origin[reused], assume_unique=True
            )
            gone_docs = np.setdiff1d(
                np.arange(len(previous.documents), dtype=np.int64),
                np.asarray(kept_docs, dtype=np.int64),
                assume_unique=True,
            )
            updates = (
                (previous._grams, gone_passages, np.flatnonzero(fresh)),
                (previous._doc_grams, gone_docs, np.asarray(new_docs, dtype=np.int64)),
            )
        stats = EngineStats(
            documents=len(documents),
            passages=len(passages),
            languages=tuple(sorted(langs.items())),
            build_seconds=0.0,
        )
        return cls(
            tuple(documents),
            config,
            passages,
            stems,
            documents_field,
            term_grams,
            GramField(_forward(stems), term_grams, update=updates[0]),
            GramField(
                _forward(stems),
                term_grams,
                groups=passages.groups(len(documents)),
                update=updates[1],
            ),
            stats,
        )

    @classmethod
    def from_arrays(
        cls,
        documents: Sequence[Document],
        config: SearchConfig,
        *,
        passages: Passages,
        fields: Mapping[str, BM25Field],
        term_grams: TermGrams,
        gram_fields: Mapping[str, tuple[FloatArray, FloatArray, FloatArray | None]],
        languages: tuple[tuple[str, int], ...],
        build_seconds: float = 0.0,
    ) -> Engine:
        """The engine :meth:`export_arrays` describes, over the same ``documents`` (see
        :mod:`bot.store.snapshot`); ValueError if the parts do not fit together."""
        passages.check(documents)
        n = len(passages)
        stems, doc_stems = fields["stems"], fields["doc_stems"]
        if len(stems) != n:
            raise ValueError("passage fields do not match the passages")
        if len(doc_stems) != len(documents):
            raise ValueError("document fields do not match the documents")
        if list(stems.vocabulary) != list(doc_stems.vocabulary) or list(
            term_grams.vocabulary
        ) != list(stems.vocabulary):
            raise ValueError("vocabularies differ")
        length, idf, df = gram_fields["grams"]
        grams = GramField.from_arrays(_forward(stems), term_grams, length=length, idf=idf, df=df)
        length, idf, df = gram_fields["doc_grams"]
        doc_grams = GramField.from_arrays(
            _forward(stems),
            term_grams,
            length=length,
            idf=idf,
            df=df,
            groups=passages.groups(len(documents)),
        )
        stats = EngineStats(len(documents), n, languages, build_seconds)
        return cls(
            tuple(documents),
            config,
            passages,
            stems,
            doc_stems,
            term_grams,
            grams,
            doc_grams,
            stats,
        )

    def export_arrays(self) -> dict[str, Any]:
        """Everything but the documents that :meth:`from_arrays` needs to rebuild this engine."""
        return {
            "passages": self._passages,
            "fields": {"stems": self._stems, "doc_stems": self._doc_stems},
            "term_grams": self._term_grams,
            "gram_fields": {
                "grams": (self._grams.length, self._grams.idf, self._grams.df),
                "doc_grams": (self._doc_grams.length, self._doc_grams.idf, self._doc_grams.df),
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
        best = ranked[0][1]
        listed = ranked
        if best > 0:
            # BM25Okapi scores can be negative in tiny corpora; only positive ones compare.
            floor = self.config.min_relative_score * best
            listed = list(itertools.takewhile(lambda hit: not hit[1] < floor, ranked))
        covered = self._coverage(terms, np.array([pid for pid, _ in listed], dtype=np.int64))
        accepted = [
            hit
            for hit, coverage in zip(listed, covered.tolist(), strict=True)
            if coverage >= self.config.min_coverage
        ]
        page = accepted[offset : offset + max(k, 0)]
        hits = tuple(
            self._hit(offset + i + 1, pid, score, terms) for i, (pid, score) in enumerate(page)
        )
        return Answer(query, hits, len(accepted), offset, lang)

    def _scores(self, tokens: list[Token]) -> SparseScores:
        """Full scores of the ``rerank`` best candidates of the word index."""
        terms = [t.term for t in tokens]
        config = self.config
        # Stage 1: the word index, widened by each term's spelling neighbours, plus the
        # document context, picks the candidates.
        near = self._near(terms)
        units = [(term, 1.0) for term in terms] + near
        # Above ~1 % of the corpus in postings, whole-corpus arrays beat per-posting bookkeeping
        # (measured at 100k and 1M passages).
        if self._stems.postings_count(term for term, _ in units) * 100 >= len(self._passages):
            picked = self._candidates_dense(terms, units)
        else:
            picked = self._candidates_sparse(terms, near)
        if picked is None:
            return SparseScores.empty()
        candidates, doc_own = picked
        # Stage 2: the full score of each candidate, n-gram fields included.
        score = self._stems.lookup(terms, candidates)
        query = self._term_grams.query(Analyzer.grams_of(terms))
        doc_of = self._passages.document
        docs = np.unique(doc_of[candidates])
        if query is not None:
            # The candidates are passages of ``docs``: count the question's n-grams in the
            # documents' passages once and read both fields from those counts.
            groups = self._doc_grams.groups
            assert groups is not None
            sizes = groups[docs + 1] - groups[docs]
            rows, _ = gather_rows(groups, docs)
            counts = gram_counts(_forward(self._stems), self._term_grams, rows, query[0])
            own = counts[np.searchsorted(rows, candidates)]
            score = score + config.gram_weight * self._grams.scores_of_counts(
                own, candidates, query
            )
        if config.document_weight:
            doc_score = doc_own(docs)
            if query is not None:
                doc_score = doc_score + config.gram_weight * self._doc_grams.scores_of_counts(
                    group_counts(counts, sizes), docs, query
                )
            context = _context(SparseScores(docs, doc_score), doc_of[candidates])
            score = score + config.document_weight * context
        return SparseScores(candidates, score)

    def _candidates_dense(
        self, terms: list[str], units: list[tuple[str, float]]
    ) -> tuple[IntArray, Callable[[IntArray], FloatArray]] | None:
        """Stage 1 when the question's postings cover a good part of the corpus: whole-corpus
        arrays, no bookkeeping of touched passages. Same scores, same candidates as
        :meth:`_candidates_sparse`."""
        config = self.config
        n_docs = len(self.documents)
        documents = self._doc_stems.dense([(term, 1.0) for term in terms])
        doc_scores = np.zeros(n_docs, dtype=np.float64) if documents is None else documents[0]
        best: list[tuple[int, float]] | None = None
        if config.document_weight > 0:
            # The word scores go into this thread's zeroed buffer (no fresh corpus-sized array
            # per question), which is zeroed again whatever happens.
            scores = Accumulator.for_thread(len(self._passages)).values
            try:
                positive = self._stems.add_into(units, scores)
                if positive is None:
                    return None
                if positive:
                    # Negative document scores say nothing and count as zero.
                    context = np.maximum(doc_scores, 0.0)
                    if config.document_weight != 1.0:
                        context = config.document_weight * context
                    block = max(16, len(scores) // _BLOCKS)
                    best = top_k_grouped(
                        scores, context, self._passages.document, config.rerank, block
                    )
            finally:
                scores.fill(0.0)
        if best is None:
            # Some weight is zero or negative (tiny corpora), or no positive document weight:
            # mark the passages with postings.
            found = self._stems.dense(units)
            if found is None:
                return None
            scores, touched = found
            if touched is None:
                touched = scores > 0
            if config.document_weight:
                context = np.maximum(doc_scores, 0.0)[self._passages.document]
                if config.document_weight != 1.0:
                    context = config.document_weight * context
                np.add(scores, context, out=scores)
            best = top_k_dense(scores, config.rerank, touched)
        candidates = np.sort(np.array([pid for pid, _ in best], np.int64))
        return candidates, lambda docs: doc_scores[docs]

    def _candidates_sparse(
        self, terms: list[str], near: list[tuple[str, float]]
    ) -> tuple[IntArray, Callable[[IntArray], FloatArray]] | None:
        """Stage 1 through the per-thread buffers: costs the postings, not the corpus size."""
        config = self.config
        passages = Accumulator.for_thread(len(self._passages))
        self._stems.accumulate(terms, passages)
        for term, weight in near:
            self._stems.accumulate((term,), passages, weight)
        wide = passages.take()
        if not len(wide.ids):
            return None
        documents = Accumulator.for_thread(len(self.documents))
        self._doc_stems.accumulate(terms, documents)
        if config.document_weight:
            # Read the context straight from the dense buffer (a gather, not a search per
            # passage); negative document scores say nothing and count as zero.
            dense = documents.values[self._passages.document[wide.ids]]
            wide = SparseScores(
                wide.ids, wide.scores + config.document_weight * np.maximum(dense, 0.0)
            )
        doc_own = documents.take()
        candidates = np.sort(np.array([pid for pid, _ in top_k(wide, config.rerank)], np.int64))
        return candidates, lambda docs: _lookup(doc_own, docs)

    def _near(self, terms: Sequence[str]) -> list[tuple[str, float]]:
        """Spelling neighbours of the question's terms, with their stage-1 weights."""
        config = self.config
        out: list[tuple[str, float]] = []
        for term in dict.fromkeys(terms):
            found = self._neighbour_cache.get(term)
            if found is None:
                found = tuple(
                    self._term_grams.neighbours(term, config.neighbours, config.neighbour_dice)
                )
                if len(self._neighbour_cache) >= _TERMS_CACHE_SIZE:
                    self._neighbour_cache.clear()
                self._neighbour_cache[term] = found
            out.extend((word, config.neighbour_weight * dice) for word, dice in found)
        return out

    def _parts_of(self, term: str) -> frozenset[str]:
        """Vocabulary terms that ``term`` is a part of or that are a part of it, as
        ``Analyzer.match`` defines it; looked up once per term, not per passage word."""
        found = self._parts_cache.get(term)
        if found is None:
            vocabulary = self._stems.vocabulary
            parts = {
                term[i:j]
                for i in range(len(term))
                for j in range(i + MIN_PART + 1, len(term) + 1)
                if term[i:j] != term and term[i:j] in vocabulary
            }
            if len(term) >= MIN_PART:
                parts.update(w for w in self._term_grams.containing(term) if w != term)
            found = frozenset(parts)
            if len(self._parts_cache) >= _TERMS_CACHE_SIZE:
                self._parts_cache.clear()
            self._parts_cache[term] = found
        return found

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
            weight = math.log(1 + (n - df + 0.5) / (df + 0.5))
            parts = self._parts_of(token.term)
            out.append(_Term(token.term, weight, parts, *self._ids_of(token.term, parts)))
        return out

    def _passage(self, pid: int) -> _Passage:
        table = self._passages
        doc = int(table.document[pid])
        text = passage_text(self.documents[doc].text, int(table.start[pid]), int(table.end[pid]))
        return _Passage(doc, int(table.index[pid]), text, table.langs[int(table.lang[pid])])

    def _hit(self, rank: int, pid: int, score: float, terms: Sequence[_Term]) -> Hit:
        passage = self._passage(pid)
        doc = self.documents[passage.document]
        spans = self._highlights(terms, passage)
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
            post_url=doc.post_url,
        )

    def _highlights(self, terms: Sequence[_Term], passage: _Passage) -> tuple[tuple[int, int], ...]:
        """Spans of the passage words that match a question word: what was matched is bold."""
        wanted = set().union(*(t.parts for t in terms), (t.term for t in terms))
        return tuple(analyzer_for(passage.lang).spans(passage.text, wanted))

    def _ids_of(self, term: str, parts: frozenset[str]) -> tuple[int, npt.NDArray[np.int32]]:
        """A question term's id (-1 if the corpus lacks it) and the ids of its parts."""
        found = self._ids_cache.get(term)
        if found is None:
            vocabulary = self._stems.vocabulary
            ids = sorted(vocabulary[w] for w in parts)
            found = (vocabulary.get(term, -1), np.array(ids, dtype=np.int32))
            if len(self._ids_cache) >= _TERMS_CACHE_SIZE:
                self._ids_cache.clear()
            self._ids_cache[term] = found
        return found

    def _coverage(self, terms: Sequence[_Term], pids: IntArray) -> FloatArray:
        """Share of the question's weight that each passage's words match, read from the forward
        index for all of them at once: a word itself counts fully, a compound part
        (``_Term.parts``) counts ``PART_MATCH``."""
        total = sum(t.weight for t in terms)
        if total <= 0 or not len(pids):
            return np.zeros(len(pids), dtype=np.float64)
        forward = _forward(self._stems)
        positions, owner = gather_rows(forward.indptr, pids)
        present = forward.terms[positions]
        matched = np.zeros(len(pids), dtype=np.float64)
        table = scratch("clean", len(self._stems.vocabulary))
        for term in terms:
            full = np.zeros(len(pids), dtype=bool)
            if term.tid >= 0:
                full[owner[present == term.tid]] = True
            part = np.zeros(len(pids), dtype=bool)
            if len(term.part_ids):
                table[term.part_ids] = 0
                try:
                    part[owner[table[present] == 0]] = True
                finally:
                    table[term.part_ids] = -1
            matched += np.where(full, term.weight, np.where(part, PART_MATCH * term.weight, 0.0))
        covered: FloatArray = matched / total
        return covered

    def passage_text(self, pid: int) -> str:
        return self._passage(pid).text


def _forward(field: BM25Field) -> ForwardIndex:
    """The passage field's forward index (built with it; the document field has none)."""
    if field.forward is None:
        raise ValueError("the passage field has no forward index")
    return field.forward


def _merge_reused(
    fresh: TermIds,
    previous: Engine,
    origin: npt.NDArray[np.int64],
    fresh_pids: npt.NDArray[np.int64],
) -> TermIds:
    """The tokens of every passage: those analysed now (``fresh``, numbered by their own
    vocabulary, units counting fresh passages) and those of reused passages, read from the
    previous engine's forward index without turning them back into strings. Terms keep the
    previous engine's order, new ones follow; terms no passage uses any more are dropped, so
    the vocabulary is exactly the corpus's."""
    forward = _forward(previous._stems)
    old_vocabulary = previous._term_grams.vocabulary
    reused_pids = np.flatnonzero(origin >= 0)
    old_pids = origin[reused_pids]
    # The reused passages' entries in the forward arrays, passage after passage.
    positions, owner = gather_rows(forward.indptr, old_pids)
    tf = forward.tf[positions].astype(np.int64)
    old_terms = np.repeat(forward.terms[positions].astype(np.int64), tf)
    old_units = np.repeat(reused_pids[owner], tf)
    del owner

    known = {term: tid for tid, term in enumerate(old_vocabulary)}
    strings = list(old_vocabulary)
    to_global = np.empty(len(fresh.vocabulary), dtype=np.int64)
    for term, fid in fresh.vocabulary.items():
        gid = known.get(term)
        if gid is None:
            gid = known[term] = len(strings)
            strings.append(term)
        to_global[fid] = gid
    terms = np.concatenate([old_terms, to_global[fresh.terms]]) if len(to_global) else old_terms
    units = np.concatenate([old_units, fresh_pids[fresh.units]])
    # Which terms occur: a scatter into a table of flags. np.unique would sort or hash every
    # token (4.4 s of a one-post update at a million passages).
    present = np.zeros(len(strings), dtype=bool)
    present[terms] = True
    used = np.flatnonzero(present)
    renumber = np.full(len(strings), -1, dtype=np.int64)
    renumber[used] = np.arange(len(used), dtype=np.int64)
    vocabulary = {strings[g]: i for i, g in enumerate(used.tolist())}
    return TermIds(vocabulary, renumber[terms], units)


def _release_freed_memory() -> None:
    """Hand the heap the build's temporary tables freed back to the system (glibc keeps it
    otherwise: at 100k passages a quarter of the retained memory). Elsewhere, nothing."""
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        try:
            _MALLOC_TRIM = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _MALLOC_TRIM = False
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM: Any = None


def _analysis_settings(config: SearchConfig) -> tuple[int, int, str]:
    """The settings that change passages and terms (the others apply at question time)."""
    return (config.passage_chars, config.max_sentences, config.default_lang)


def _analyzer_of(doc: Document, config: SearchConfig) -> Analyzer:
    return analyzer_for(doc.lang if doc.lang in ("de", "en") else config.default_lang)


def _title_lines(doc: Document) -> int:
    """1 if the text starts with the title line (a passage of its own), else 0."""
    return 1 if doc.title and doc.text.split("\n", 1)[0].strip() == doc.title else 0


def _analyse(doc: Document, analyzer: Analyzer, config: SearchConfig) -> list[Passage]:
    """A document's passages, whose texts ``analyzer`` then reads (with the analysis of their
    words, the expensive part of a build)."""
    return split_passages(
        doc.text,
        target_chars=config.passage_chars,
        max_sentences=config.max_sentences,
        title_lines=_title_lines(doc),
    )


def _in_workers(
    documents: Sequence[Document], numbering: TokenIds, config: SearchConfig
) -> Generator[DocumentPassages, None, None] | None:
    """The documents analysed by worker processes, in order, if there are enough of them."""
    workers = worker_count(config.build_workers)
    if workers <= 1 or sum(len(doc.text) for doc in documents) < config.parallel_chars:
        return None
    jobs = [(doc.text, _title_lines(doc), _analyzer_of(doc, config).lang) for doc in documents]
    return analysed_documents(jobs, numbering, config.passage_chars, config.max_sentences, workers)


def _lookup(scores: SparseScores, ids: npt.NDArray[np.int64]) -> FloatArray:
    """``scores`` at ``ids`` (both ascending), zero where an id has no score."""
    out = np.zeros(len(ids), dtype=np.float64)
    if len(scores.ids) and len(ids):
        where = np.minimum(np.searchsorted(scores.ids, ids), len(scores.ids) - 1)
        found = scores.ids[where] == ids
        out[found] = scores.scores[where[found]]
    return out


def _context(documents: SparseScores, doc_of: npt.NDArray[np.int64]) -> FloatArray:
    """Each passage's document score, for passages in id order (so ``doc_of`` ascends: a
    document's passages are numbered together). BM25Okapi gives negative scores when the corpus
    has very few documents (every idf negative); such a context says nothing, so it counts as
    zero."""
    return np.maximum(_lookup(documents, doc_of), 0.0)


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
    if _PLAIN_FRAGMENT.fullmatch(text):  # what quote() leaves alone, and spaces
        return text.replace(" ", "%20")
    return quote(text, safe="").replace("-", "%2D")


_PLAIN_FRAGMENT = re.compile(r"[A-Za-z0-9_.~ ]*")
