"""The engine: documents in, quoted passages out. The CLI, the bot and the benchmarks all call
:class:`Engine`, so they rank and cut off exactly alike. A question is ranked here, cut off by
:mod:`bot.engine.cutoff` (no answer rather than a wrong one) and quoted with its matched words.

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
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.corpus import Document
from bot.engine.analysis import Analyzer, Token, analyzer_for, clear_caches, fold
from bot.engine.bilingual import Lexicon, other_language
from bot.engine.build import Previous, build_parts, release_freed_memory
from bot.engine.config import SearchConfig
from bot.engine.crossquery import TermGroup, term_groups, with_translations
from bot.engine.cutoff import PartIds, QuestionTerm, answers, parts_of, weighted_terms
from bot.engine.facets import LazyFacets, Scope
from bot.engine.frequency import prepare
from bot.engine.grams import gram_counts, group_counts
from bot.engine.index import (
    Accumulator,
    BM25Field,
    FloatArray,
    IntArray,
    SparseScores,
    gather_rows,
    top_k,
    top_k_dense,
    top_k_grouped,
)
from bot.engine.links import quote_link
from bot.engine.parts import IndexParts
from bot.engine.passages import passage_text, title_end
from bot.engine.query import Query, parse_query
from bot.engine.quotes import quote_span

# ``as Answer``: bot.serving.holder imports Answer from here (until it takes the package's).
from bot.engine.results import Answer as Answer
from bot.engine.results import EngineStats, Hit
from bot.engine.termcache import TermCache

__all__ = ["Engine", "guess_question_language"]

# Blocks of passages whose best possible stage-1 score is bounded before any is added up.
_BLOCKS = 1024


@dataclass(frozen=True, slots=True)
class _Passage:
    document: int
    index: int
    text: str
    lang: str


@dataclass(frozen=True)
class Engine:
    """An immutable, thread-safe index over a set of documents (swap it whole to reload)."""

    documents: tuple[Document, ...]
    config: SearchConfig
    parts: IndexParts = field(repr=False)
    stats: EngineStats
    #: German–English lexicon for questions in the language the corpus has fewer documents
    #: of; None: every question is matched in its own language only.
    lexicon: Lexicon | None = field(default=None, repr=False, compare=False)
    # Per-term look-ups (questions repeat their words); no part of the engine's value.
    _neighbours: TermCache[tuple[tuple[str, float], ...]] = field(
        default_factory=TermCache, repr=False, compare=False
    )
    _term_parts: TermCache[frozenset[str]] = field(
        default_factory=TermCache, repr=False, compare=False
    )
    _term_ids: TermCache[PartIds] = field(default_factory=TermCache, repr=False, compare=False)
    _groups: TermCache[TermGroup] = field(default_factory=TermCache, repr=False, compare=False)
    # Dates and channels of the documents, for filters and the newest-first order.
    _facets: LazyFacets = field(default_factory=LazyFacets, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The cut-off weighs question words by word lists: load them before the first question.
        langs = [self.config.default_lang, *(lang for lang, _ in self.stats.languages)]
        prepare(tuple(dict.fromkeys(langs)))

    @classmethod
    def build(
        cls,
        documents: Sequence[Document],
        config: SearchConfig | None = None,
        previous: Engine | None = None,
        lexicon: Lexicon | None = None,
    ) -> Engine:
        """Analyse and index ``documents``. With ``previous`` (the engine being replaced), a
        document it already holds unchanged is not analysed again: its passages and terms are
        taken from there, so a reload costs the analysis of the changed documents only. The
        new engine keeps ``previous``'s lexicon unless given one."""
        started = time.perf_counter()
        config = config or SearchConfig()
        # What questions to the engine this one replaces put in the analysis caches goes with
        # it; the build fills the highlighting cache with its own frequent words.
        clear_caches()
        parts = build_parts(
            documents,
            config,
            None
            if previous is None
            else Previous(previous.documents, previous.config, previous.parts),
        )
        # The build's temporary lists (a Python int per passage, several times) died with its
        # frames: hand the heap they leave back to the system only now.
        release_freed_memory()
        stats = EngineStats(
            documents=len(documents),
            passages=len(parts.passages),
            languages=parts.languages,
            build_seconds=time.perf_counter() - started,
        )
        if lexicon is None and previous is not None:
            lexicon = previous.lexicon
        return cls(tuple(documents), config, parts, stats, lexicon)

    @classmethod
    def from_parts(
        cls,
        documents: Sequence[Document],
        config: SearchConfig,
        parts: IndexParts,
        build_seconds: float = 0.0,
    ) -> Engine:
        """The engine of ``parts`` (an index snapshot's, see :mod:`bot.store.snapshot`) over
        the same ``documents``; ValueError if they do not fit together."""
        parts.check(documents)
        clear_caches()
        stats = EngineStats(len(documents), len(parts.passages), parts.languages, build_seconds)
        return cls(tuple(documents), config, parts, stats)

    def with_lexicon(self, lexicon: Lexicon | None) -> Engine:
        """This engine answering cross-language questions through ``lexicon`` (None: not)."""
        return Engine(self.documents, self.config, self.parts, self.stats, lexicon)

    @property
    def cross_language(self) -> bool:
        """Whether questions may be translated: a lexicon, and documents in both languages
        or in one the default language is not."""
        return self.lexicon is not None and len(self._languages()) > 0

    def _languages(self) -> frozenset[str]:
        return frozenset(lang for lang, count in self.parts.languages if count > 0)

    def _translates(self, lang: str) -> bool:
        """Translate a question of ``lang`` only if the corpus has documents of the other
        language: a one-language corpus asked in its language pays nothing."""
        return self.lexicon is not None and other_language(lang) in self._languages()

    # -- questions -------------------------------------------------------------------------

    def search(self, query: str | Query, k: int = 3, offset: int = 0) -> Answer:
        """The best ``k`` passages after the first ``offset`` that answer ``query``, or none.

        A string is parsed with :func:`parse_query`, so its filter tokens apply; the answer's
        ``query`` is that string (a :class:`Query`'s text otherwise). A filter bounds the
        candidates of stage 1; newest first reorders the same answers."""
        raw = query if isinstance(query, str) else query.text
        if isinstance(query, str):
            query = parse_query(query)
        told = _told_language(query.text)
        lang = told or self.config.default_lang
        analyzer = analyzer_for(lang)
        tokens = analyzer.tokens(query.text)
        groups = None
        if told is not None and self._translates(told):
            assert self.lexicon is not None
            groups = term_groups(query.text, tokens, lang, self.lexicon, self.parts, self._groups)
        facets = (
            self._facets.get(self.documents, self.parts.passages.document)
            if query.filtered or query.newest
            else None
        )
        scope = None if facets is None else facets.scope(query)
        # Every candidate shares at least a term or an n-gram with the question.
        ranked = top_k(self._scores(tokens, scope, groups), self.config.candidates)
        if not ranked:
            return Answer(raw, (), 0, offset, lang, query.newest, query.filtered)
        terms = weighted_terms(
            query.text, tokens, lang, self.parts, self.config, self._term_parts, self._term_ids
        )
        if groups is not None:
            terms = with_translations(terms, groups, self.parts)
        accepted = answers(ranked, terms, self.parts, self.config)
        if facets is not None and query.newest:
            accepted = facets.newest_first(accepted)
        page = accepted[offset : offset + max(k, 0)]
        hits = tuple(
            self._hit(
                offset + i + 1,
                pid,
                score,
                terms,
                frozenset(p for p, _ in page[:i]),
                frozenset(p for p, _ in page[i + 1 :]),
            )
            for i, (pid, score) in enumerate(page)
        )
        quote_lang = None
        if groups is not None:
            langs = {self._passage(pid).lang for pid, _ in page}
            if len(langs) == 1 and lang not in langs:
                quote_lang = langs.pop()
        return Answer(
            raw, hits, len(accepted), offset, lang, query.newest, query.filtered, quote_lang
        )

    def _scores(
        self,
        tokens: list[Token],
        scope: Scope | None = None,
        translated: list[TermGroup] | None = None,
    ) -> SparseScores:
        """Full scores of the ``rerank`` best candidates of the word index (of the passages in
        ``scope`` only, if given); with ``translated`` (a translated question), each question
        word counts as its group of terms."""
        terms = [t.term for t in tokens]
        config = self.config
        parts = self.parts
        # Stage 1: the word index, widened by each term's spelling neighbours, plus the
        # document context, picks the candidates.
        near = self._near(terms)
        scaled = (
            [(term, 1.0) for term in terms]
            if translated is None
            else [member for group in translated for member in group.members]
        )
        units = scaled + near
        # Above ~1 % of the corpus in postings, whole-corpus arrays beat per-posting bookkeeping
        # (measured at 100k and 1M passages).
        if parts.stems.postings_count(term for term, _ in units) * 100 >= len(parts.passages):
            picked = self._candidates_dense(scaled, units, scope)
        else:
            picked = self._candidates_sparse(scaled, near, scope)
        if picked is None:
            return SparseScores.empty()
        candidates, doc_own = picked
        # Stage 2: the full score of each candidate, n-gram fields included.
        if translated is None:
            score = parts.stems.lookup(terms, candidates)
        else:
            score = np.zeros(len(candidates), dtype=np.float64)
            for term, scale in scaled:
                score += scale * parts.stems.lookup((term,), candidates)
        # The n-grams stay the question's own words' (names and numbers match across the
        # languages by them): the grams of every translation would give a word with many
        # translations many times the weight (measured in docs/BENCHMARKS.md).
        query = parts.term_grams.query(Analyzer.grams_of(terms))
        doc_of = parts.passages.document
        docs = np.unique(doc_of[candidates])
        if query is not None:
            # The candidates are passages of ``docs``: count the question's n-grams in the
            # documents' passages once and read both fields from those counts.
            groups = parts.doc_grams.groups
            assert groups is not None
            sizes = groups[docs + 1] - groups[docs]
            rows, _ = gather_rows(groups, docs)
            counts = gram_counts(parts.forward, parts.term_grams, rows, query[0])
            own = counts[np.searchsorted(rows, candidates)]
            score = score + config.gram_weight * parts.grams.scores_of_counts(
                own, candidates, query
            )
        if config.document_weight:
            doc_score = doc_own(docs)
            if query is not None:
                doc_score = doc_score + config.gram_weight * parts.doc_grams.scores_of_counts(
                    group_counts(counts, sizes), docs, query
                )
            context = _context(SparseScores(docs, doc_score), doc_of[candidates])
            score = score + config.document_weight * context
        return SparseScores(candidates, score)

    def _candidates_dense(
        self,
        terms: list[tuple[str, float]],
        units: list[tuple[str, float]],
        scope: Scope | None = None,
    ) -> tuple[IntArray, Callable[[IntArray], FloatArray]] | None:
        """Stage 1 when the question's postings cover a good part of the corpus: whole-corpus
        arrays, no bookkeeping of touched passages. Same scores, same candidates as
        :meth:`_candidates_sparse`."""
        config = self.config
        parts = self.parts
        n_docs = len(self.documents)
        documents = parts.doc_stems.dense(terms)
        doc_scores = np.zeros(n_docs, dtype=np.float64) if documents is None else documents[0]
        best: list[tuple[int, float]] | None = None
        if config.document_weight > 0:
            # The word scores go into this thread's zeroed buffer (no fresh corpus-sized array
            # per question), which is zeroed again whatever happens.
            scores = Accumulator.for_thread(len(parts.passages)).values
            try:
                positive = parts.stems.add_into(units, scores)
                if positive is None:
                    return None
                if scope is not None:
                    # Out of scope is no posting: only the period's or channel's passages rank.
                    np.copyto(scores, 0.0, where=scope.outside)
                if positive:
                    # Negative document scores say nothing and count as zero.
                    context = np.maximum(doc_scores, 0.0)
                    if config.document_weight != 1.0:
                        context = config.document_weight * context
                    block = max(16, len(scores) // _BLOCKS)
                    best = top_k_grouped(
                        scores, context, parts.passages.document, config.rerank, block
                    )
            finally:
                scores.fill(0.0)
        if best is None:
            # Some weight is zero or negative (tiny corpora), or no positive document weight:
            # mark the passages with postings.
            found = parts.stems.dense(units)
            if found is None:
                return None
            scores, touched = found
            if touched is None:
                touched = scores > 0
            if scope is not None:
                np.copyto(touched, False, where=scope.outside)
            if config.document_weight:
                context = np.maximum(doc_scores, 0.0)[parts.passages.document]
                if config.document_weight != 1.0:
                    context = config.document_weight * context
                np.add(scores, context, out=scores)
            best = top_k_dense(scores, config.rerank, touched)
        if not best:
            return None
        candidates = np.sort(np.array([pid for pid, _ in best], np.int64))
        return candidates, lambda docs: doc_scores[docs]

    def _candidates_sparse(
        self,
        terms: list[tuple[str, float]],
        near: list[tuple[str, float]],
        scope: Scope | None = None,
    ) -> tuple[IntArray, Callable[[IntArray], FloatArray]] | None:
        """Stage 1 through the per-thread buffers: costs the postings, not the corpus size."""
        config = self.config
        parts = self.parts
        passages = Accumulator.for_thread(len(parts.passages))
        _accumulate(parts.stems, terms, passages)
        for term, weight in near:
            parts.stems.accumulate((term,), passages, weight)
        wide = passages.take()
        if scope is not None:
            wide = scope.restrict(wide)
        if not len(wide.ids):
            return None
        documents = Accumulator.for_thread(len(self.documents))
        _accumulate(parts.doc_stems, terms, documents)
        if config.document_weight:
            # Read the context straight from the dense buffer (a gather, not a search per
            # passage); negative document scores say nothing and count as zero.
            dense = documents.values[parts.passages.document[wide.ids]]
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
            found = self._neighbours.get(term, self._find_neighbours)
            out.extend((word, config.neighbour_weight * dice) for word, dice in found)
        return out

    def _find_neighbours(self, term: str) -> tuple[tuple[str, float], ...]:
        """Spelling neighbours, and compounds that ``term`` heads or modifies (few share enough
        n-grams with it: "Satz" and "Fundamentalsatz"), the shortest ``neighbours`` of them."""
        config = self.config
        found = self.parts.term_grams.neighbours(term, config.neighbours, config.neighbour_dice)
        near = {word for word, _ in found}
        heads = sorted(
            (
                w
                for w in parts_of(term, self.parts, self._term_parts)
                if w not in near and len(w) > len(term) and Analyzer.match(term, w) == 1.0
            ),
            key=lambda w: (len(w), w),
        )
        return tuple(found) + tuple((w, 1.0) for w in heads[: config.neighbours])

    # -- quoting ---------------------------------------------------------------------------

    def _passage(self, pid: int) -> _Passage:
        table = self.parts.passages
        doc = int(table.document[pid])
        text = passage_text(self.documents[doc].text, int(table.start[pid]), int(table.end[pid]))
        return _Passage(doc, int(table.index[pid]), text, table.langs[int(table.lang[pid])])

    def _hit(
        self,
        rank: int,
        pid: int,
        score: float,
        terms: Sequence[QuestionTerm],
        shown: frozenset[int] = frozenset(),
        below: frozenset[int] = frozenset(),
    ) -> Hit:
        passage = self._quote(pid, terms, shown, below)
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

    def _quote(
        self,
        pid: int,
        terms: Sequence[QuestionTerm],
        shown: frozenset[int] = frozenset(),
        below: frozenset[int] = frozenset(),
    ) -> _Passage:
        """The passage as quoted: without the headline that opens it (shown as the title),
        widened by a neighbouring sentence that likely holds the answer (see
        :mod:`bot.engine.quotes`), unless that sentence's passage is quoted above it on the
        same page (``shown``): the reader has seen it already; nor forward into a passage
        quoted below it (``below``): the reader would read it twice, one quote apart. (Back
        into one below stays: an "Er …" needs the sentence it points to, first.)"""
        table = self.parts.passages
        doc = int(table.document[pid])
        document = self.documents[doc]
        text = document.text
        start, end = int(table.start[pid]), int(table.end[pid])
        # The body starts after the headline (and the blank after it); a passage of the
        # headline alone is quoted as it is.
        head = title_end(text, document.title)
        body = len(text) - len(text[head:].lstrip()) if head else 0
        if start < body < end:
            start = body
        first = pid == 0 or table.document[pid - 1] != doc or pid - 1 in shown
        lower = start if first else max(int(table.start[pid - 1]), min(body, start))
        last = (
            pid + 1 >= len(table.document)
            or table.document[pid + 1] != doc
            or pid + 1 in shown
            or pid + 1 in below
        )
        upper = end if last else int(table.end[pid + 1])
        lang = table.langs[int(table.lang[pid])]
        analyzer = analyzer_for(lang)
        owner: dict[str, str] = {}
        for term in terms:
            owner[term.term] = term.term
            for part in term.parts:
                owner.setdefault(part, term.term)

        def matched(sentence: str) -> frozenset[str]:
            return frozenset(owner[t] for t in analyzer.terms(sentence) if t in owner)

        start, end = quote_span(text, start, end, lower, upper, matched)
        return _Passage(doc, int(table.index[pid]), passage_text(text, start, end), lang)

    def _highlights(
        self, terms: Sequence[QuestionTerm], passage: _Passage
    ) -> tuple[tuple[int, int], ...]:
        """Spans of the passage words that match a question word: what was matched is bold."""
        wanted = set().union(
            *(t.parts for t in terms), *(t.alternatives for t in terms), (t.term for t in terms)
        )
        return tuple(analyzer_for(passage.lang).spans(passage.text, wanted))

    def passage_text(self, pid: int) -> str:
        return self._passage(pid).text


def _accumulate(field: BM25Field, terms: list[tuple[str, float]], into: Accumulator) -> None:
    """Add the field's scores of the scaled ``terms`` in order; unscaled terms all at once (as
    a question in the corpus's language always was)."""
    if all(scale == 1.0 for _, scale in terms):
        field.accumulate([term for term, _ in terms], into)
        return
    for term, scale in terms:
        field.accumulate((term,), into, scale)


def _lookup(scores: SparseScores, ids: IntArray) -> FloatArray:
    """``scores`` at ``ids`` (both ascending), zero where an id has no score."""
    out = np.zeros(len(ids), dtype=np.float64)
    if len(scores.ids) and len(ids):
        where = np.minimum(np.searchsorted(scores.ids, ids), len(scores.ids) - 1)
        found = scores.ids[where] == ids
        out[found] = scores.scores[where[found]]
    return out


def _context(documents: SparseScores, doc_of: IntArray) -> FloatArray:
    """Each passage's document score, for passages in id order (so ``doc_of`` ascends: a
    document's passages are numbered together). BM25Okapi gives negative scores when the corpus
    has very few documents (every idf negative); such a context says nothing, so it counts as
    zero."""
    return np.maximum(_lookup(documents, doc_of), 0.0)


def guess_question_language(query: str, default: str) -> str:
    """Short questions: whichever language's stop words the question uses more."""
    return _told_language(query) or default


def _told_language(query: str) -> str | None:
    """The language whose stop words the question uses more; None if neither (keywords only,
    or as many of each): such a question is never translated, for nothing says it is in the
    other language."""
    words = [fold(w) for w in query.split()]
    scores = {}
    for lang in ("de", "en"):
        stop = analyzer_for(lang)
        scores[lang] = sum(1 for w in words if stop.is_stop_word(w.strip("?!.,;:\"'")))
    if scores["de"] == scores["en"]:
        return None
    return "de" if scores["de"] > scores["en"] else "en"
