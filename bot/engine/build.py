"""The build: documents in, the :class:`~bot.engine.parts.IndexParts` of their index out.

Analysing documents (passages, then the words' terms) is most of a build's time. A reload
replaces an engine whose documents mostly did not change, so the build takes the engine being
replaced (:class:`Previous`): a document it holds unchanged is not analysed again, its passages
and tokens are read from the previous arrays without turning them back into strings, and the
n-gram statistics follow from the previous ones. Big builds analyse in worker processes
(:mod:`bot.engine.workers`). Either way the index is the one a fresh build in one process makes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
from array import array
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.corpus import Document
from bot.engine.analysis import Analyzer, analyzer_for
from bot.engine.config import SearchConfig, index_settings
from bot.engine.grams import GramField, TermGrams
from bot.engine.index import BM25Field, IntArray, TermIds, TokenIds, gather_rows, unit_entries
from bot.engine.parts import IndexParts, Passages
from bot.engine.passages import Passage, split_passages, title_end
from bot.engine.workers import DocumentPassages, analysed_documents, worker_count

__all__ = ["Previous", "build_parts", "release_freed_memory"]


@dataclass(frozen=True, slots=True)
class Previous:
    """The index a build replaces: its documents, the config it was built with, its parts."""

    documents: Sequence[Document]
    config: SearchConfig
    parts: IndexParts


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each passage of the new index comes from, in passage order. Per-passage columns
    are machine integers: lists would hold a Python int per passage each, some 200 MB at a
    million passages through the whole build."""

    #: >= 0: that passage of the previous index (reused whole, arrays only); < 0: the
    #: -(k + 1)-th passage analysed now.
    origin: IntArray
    document: array[int]
    lang: array[int]
    #: Language of each code in ``lang``; documents per language.
    langs: tuple[str, ...]
    languages: tuple[tuple[str, int], ...]
    #: The passages analysed now: number in their document, and span.
    index: array[int]
    start: array[int]
    end: array[int]
    #: The previous index's numbers of the documents reused, and this index's numbers of the
    #: documents analysed now.
    kept_docs: list[int]
    new_docs: list[int]


def build_parts(
    documents: Sequence[Document], config: SearchConfig, previous: Previous | None = None
) -> IndexParts:
    """Analyse and index ``documents``, taking from ``previous`` the documents it holds
    unchanged (if it was built with the same :func:`~bot.engine.config.index_settings`: other
    settings make other passages and terms of every document)."""
    reuse = previous
    if reuse is not None and not (
        reuse.documents and index_settings(reuse.config) == index_settings(config)
    ):
        reuse = None
    numbering = TokenIds()
    layout = _lay_out(documents, config, reuse, numbering)
    fresh = layout.origin < 0
    passages = _passage_table(layout, fresh, None if reuse is None else reuse.parts.passages)
    numbered = numbering.finish()
    del numbering
    if reuse is not None:
        numbered = _merge_reused(numbered, reuse.parts, layout.origin, np.flatnonzero(fresh))
    stems = BM25Field.from_ids(numbered.vocabulary, numbered.terms, numbered.units, len(passages))
    del numbered
    doc_stems = _document_field(stems, passages, len(documents))
    if reuse is None:
        term_grams = TermGrams(list(stems.vocabulary))
        grams = GramField(stems.forward_index(), term_grams)
        doc_grams = GramField(
            stems.forward_index(), term_grams, groups=passages.groups(len(documents))
        )
    else:
        old = reuse.parts
        term_grams = TermGrams(list(stems.vocabulary), old.term_grams, old.stems.vocabulary)
        # The n-gram statistics follow from the previous engine's: count only the passages
        # and documents that are gone and those that are new.
        gone_passages = np.setdiff1d(
            np.arange(len(old.passages), dtype=np.int64),
            layout.origin[~fresh],
            assume_unique=True,
        )
        gone_docs = np.setdiff1d(
            np.arange(len(reuse.documents), dtype=np.int64),
            np.asarray(layout.kept_docs, dtype=np.int64),
            assume_unique=True,
        )
        grams = GramField(
            stems.forward_index(),
            term_grams,
            update=(old.grams, gone_passages, np.flatnonzero(fresh)),
        )
        doc_grams = GramField(
            stems.forward_index(),
            term_grams,
            groups=passages.groups(len(documents)),
            update=(old.doc_grams, gone_docs, np.asarray(layout.new_docs, dtype=np.int64)),
        )
    return IndexParts(passages, stems, doc_stems, term_grams, grams, doc_grams, layout.languages)


def _lay_out(
    documents: Sequence[Document],
    config: SearchConfig,
    previous: Previous | None,
    numbering: TokenIds,
) -> _Layout:
    """Every document's passages, reused from ``previous`` or analysed now (their words
    numbered into ``numbering``), in document order."""
    p_doc = array("q")
    p_lang = array("q")
    source = array("q")
    f_index = array("q")
    f_start = array("q")
    f_end = array("q")
    lang_codes: dict[str, int] = {}
    langs: dict[str, int] = {}
    reusable: dict[Document, int] = {}
    kept_docs: list[int] = []
    new_docs: list[int] = []
    bounds = np.zeros(1, dtype=np.int64)
    if previous is not None:
        reusable = {doc: no for no, doc in enumerate(previous.documents)}
        bounds = previous.parts.passages.groups(len(previous.documents))
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
    return _Layout(
        np.array(source, dtype=np.int64),
        p_doc,
        p_lang,
        tuple(lang_codes),
        tuple(sorted(langs.items())),
        f_index,
        f_start,
        f_end,
        kept_docs,
        new_docs,
    )


def _passage_table(layout: _Layout, fresh: npt.NDArray[np.bool_], old: Passages | None) -> Passages:
    """The passages' table: the new passages' columns from the layout, the reused ones' from
    ``old``."""
    origin = layout.origin
    reused = ~fresh
    fresh_rank = -origin[fresh] - 1

    def column(new: array[int], old_values: IntArray | None) -> IntArray:
        out = np.empty(len(origin), dtype=np.int64)
        out[fresh] = np.array(new, dtype=np.int64)[fresh_rank]
        if old_values is not None:
            out[reused] = old_values[origin[reused]]
        return out

    return Passages(
        np.array(layout.document, dtype=np.int64),
        column(layout.index, None if old is None else old.index),
        column(layout.start, None if old is None else old.start),
        column(layout.end, None if old is None else old.end),
        np.array(layout.lang, dtype=np.uint8),
        layout.langs,
    )


def _document_field(stems: BM25Field, passages: Passages, documents: int) -> BM25Field:
    """The documents' word field: a document's terms are its passages' terms, so the passages'
    entries are added up (no token is read again)."""
    forward = stems.forward_index()
    owner = np.repeat(passages.document.astype(np.int32), np.diff(forward.indptr).astype(np.int64))
    vocabulary = stems.vocabulary
    return BM25Field.from_entries(
        vocabulary,
        unit_entries(forward.terms, owner, len(vocabulary), documents, tf=forward.tf),
        documents,
        forward=False,
    )


def _merge_reused(
    fresh: TermIds, previous: IndexParts, origin: IntArray, fresh_pids: IntArray
) -> TermIds:
    """The tokens of every passage: those analysed now (``fresh``, numbered by their own
    vocabulary, units counting fresh passages) and those of reused passages, read from the
    previous engine's forward index without turning them back into strings. Terms keep the
    previous engine's order, new ones follow; terms no passage uses any more are dropped, so
    the vocabulary is exactly the corpus's."""
    forward = previous.forward
    old_vocabulary = previous.term_grams.vocabulary
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


def release_freed_memory() -> None:
    """Hand the heap a build's temporary tables freed back to the system (glibc keeps it
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


def _analyzer_of(doc: Document, config: SearchConfig) -> Analyzer:
    return analyzer_for(doc.lang if doc.lang in ("de", "en") else config.default_lang)


def _title_lines(doc: Document) -> int:
    """1 if the text starts with the title line (which opens the first passage), else 0."""
    return 1 if title_end(doc.text, doc.title) else 0


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
