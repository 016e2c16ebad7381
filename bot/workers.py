"""Document analysis in worker processes, for builds big enough to pay for them.

Splitting documents into passages and finding their words is most of a build's time, and it needs
no shared state. Worker processes do it for batches of documents and hand back each batch's
passages, and its words as ids local to the batch. The building process then numbers the words
batch after batch, in document order, so the vocabulary and its term ids are exactly those of a
build in one process (each word is still analysed once, there).

Workers are started with "spawn": forking a process that runs threads (the bot's event loop,
its HTTP client) can deadlock the child. Anything going wrong with the pool (it cannot start, a
worker dies) only costs time: the batches it did not deliver are analysed in this process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from array import array
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from bot.analysis import analyzer_for, raw_words
from bot.index import TokenIds
from bot.passages import split_passages

__all__ = [
    "Analysed",
    "Batch",
    "DocumentPassages",
    "analyse_batch",
    "analysed_documents",
    "worker_count",
]

logger = logging.getLogger(__name__)

# Text per batch: big enough that sending it costs little next to analysing it, small enough
# that the workers stay busy to the end and a batch's results stay small.
BATCH_CHARS = 2_000_000
MAX_WORKERS = 8


@dataclass(frozen=True, slots=True)
class Batch:
    """Documents to analyse: their texts (UTF-8), title lines and languages, and the passage
    settings. Texts go as bytes: pickling a str makes CPython keep a UTF-8 copy inside it, and
    the building process keeps the documents (at a million passages, 250 MB more)."""

    texts: tuple[bytes, ...]
    title_lines: tuple[int, ...]
    langs: tuple[str, ...]
    passage_chars: int
    max_sentences: int


@dataclass(frozen=True, slots=True)
class Analysed:
    """A batch's passages and words. ``words`` are the batch's distinct words in order of first
    occurrence (``word_langs``: each one's language, as an index into ``langs``); ``tokens``
    are int32 indexes into ``words``, passage after passage (``lengths``: int64 tokens per
    passage); each document has ``counts`` (int64) passages, whose ``index``, ``start`` and
    ``end`` (int64) follow in order."""

    langs: tuple[str, ...]
    words: list[str]
    word_langs: bytes
    tokens: bytes
    lengths: bytes
    counts: bytes
    index: bytes
    start: bytes
    end: bytes


class _LocalWords(dict[str, int]):
    """Word -> batch-local id, the first occurrence numbering a new word."""

    def __init__(self, words: list[str], word_langs: array[int], code: int) -> None:
        super().__init__()
        self._words = words
        self._word_langs = word_langs
        self._code = code

    def __missing__(self, word: str) -> int:
        number = self[word] = len(self._words)
        self._words.append(word)
        self._word_langs.append(self._code)
        return number


def analyse_batch(batch: Batch) -> Analysed:
    """What a worker does with a batch (the building process calls it too, as the fallback)."""
    langs = tuple(dict.fromkeys(batch.langs))
    words: list[str] = []
    word_langs = array("b")
    tables = [_LocalWords(words, word_langs, code) for code in range(len(langs))]
    tokens, lengths = array("i"), array("q")
    counts, index, start, end = array("q"), array("q"), array("q"), array("q")
    for utf8, title_lines, lang in zip(batch.texts, batch.title_lines, batch.langs, strict=True):
        lookup = tables[langs.index(lang)].__getitem__
        passages = split_passages(
            utf8.decode("utf-8", "surrogatepass"),
            target_chars=batch.passage_chars,
            max_sentences=batch.max_sentences,
            title_lines=title_lines,
        )
        counts.append(len(passages))
        for passage in passages:
            before = len(tokens)
            tokens.extend(map(lookup, raw_words(passage.text)))
            lengths.append(len(tokens) - before)
            index.append(passage.index)
            start.append(passage.start)
            end.append(passage.end)
    return Analysed(
        langs,
        words,
        word_langs.tobytes(),
        tokens.tobytes(),
        lengths.tobytes(),
        counts.tobytes(),
        index.tobytes(),
        start.tobytes(),
        end.tobytes(),
    )


def worker_count(setting: int) -> int:
    """Processes for a build: ``setting``, or with 0 one per CPU this process may use."""
    if setting > 0:
        return min(setting, MAX_WORKERS)
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


@dataclass(frozen=True, slots=True)
class DocumentPassages:
    """One document's passages, as (index, start, end) columns."""

    index: Sequence[int]
    start: Sequence[int]
    end: Sequence[int]


def analysed_documents(
    documents: Sequence[tuple[str, int, str]],
    numbering: TokenIds,
    passage_chars: int,
    max_sentences: int,
    workers: int,
) -> Generator[DocumentPassages, None, None]:
    """Each of ``documents`` (text, title lines, language) analysed and its tokens numbered
    into ``numbering``, in order: the batches go to ``workers`` processes and come back in
    order. The caller takes the documents one by one (and may number others in between)."""
    batches = list(_batches(documents, passage_chars, max_sentences))
    pool = _start_pool(workers, len(batches))
    # A few batches in flight per worker, not all: an exit (SIGTERM during a reload) waits for
    # the pool's pending batches, and those are seconds of work, not minutes.
    in_flight: deque[tuple[Batch, Future[Analysed] | None]] = deque()
    queued = iter(batches)

    def submit() -> None:
        batch = next(queued, None)
        if batch is not None:
            in_flight.append((batch, pool.submit(analyse_batch, batch) if pool else None))

    finished = False
    try:
        for _ in range(2 * workers):
            submit()
        while in_flight:
            batch, future = in_flight.popleft()
            submit()
            yield from _merge(_result(batch, future), numbering)
        finished = True
    finally:
        if pool is not None:
            # Done: the idle workers exit at once, and with them the buffers of the pool's
            # queues. Abandoned (an error, a shutdown): do not wait for their batches.
            pool.shutdown(wait=finished, cancel_futures=not finished)


def _batches(
    documents: Sequence[tuple[str, int, str]], passage_chars: int, max_sentences: int
) -> Iterator[Batch]:
    first, size = 0, 0
    for i, (text, _, _) in enumerate(documents):
        size += len(text)
        if size >= BATCH_CHARS or i == len(documents) - 1:
            part = documents[first : i + 1]
            yield Batch(
                tuple(text.encode("utf-8", "surrogatepass") for text, _, _ in part),
                tuple(title for _, title, _ in part),
                tuple(lang for _, _, lang in part),
                passage_chars,
                max_sentences,
            )
            first, size = i + 1, 0


def _start_pool(workers: int, batches: int) -> ProcessPoolExecutor | None:
    if workers <= 1 or batches <= 1:
        return None
    try:
        return ProcessPoolExecutor(
            max_workers=min(workers, batches), mp_context=multiprocessing.get_context("spawn")
        )
    except (OSError, ValueError) as exc:
        logger.warning("analysing in this process: no worker processes (%s)", exc)
        return None


def _result(batch: Batch, future: Future[Analysed] | None) -> Analysed:
    if future is not None:
        try:
            return future.result()
        except Exception as exc:  # a broken pool or worker: do the batch here
            logger.warning("analysing a batch in this process: its worker failed (%s)", exc)
    return analyse_batch(batch)


def _merge(analysed: Analysed, numbering: TokenIds) -> Iterator[DocumentPassages]:
    """Number the batch's words (new ones in their order of first occurrence, as one process
    reading the documents would) and its tokens, then hand out its documents."""
    tables = [numbering.words(lang, analyzer_for(lang).index_terms) for lang in analysed.langs]
    codes = np.frombuffer(analysed.word_langs, dtype=np.int8)
    mapping = np.fromiter(
        (tables[code][word] for word, code in zip(analysed.words, codes.tolist(), strict=True)),
        np.int32,
        len(analysed.words),
    )
    local = np.frombuffer(analysed.tokens, dtype=np.int32)
    numbering.add_ids(mapping[local], np.frombuffer(analysed.lengths, dtype=np.int64))
    counts = np.frombuffer(analysed.counts, dtype=np.int64).tolist()
    columns = [
        np.frombuffer(column, dtype=np.int64).tolist()
        for column in (analysed.index, analysed.start, analysed.end)
    ]
    at = 0
    for count in counts:
        yield DocumentPassages(*(column[at : at + count] for column in columns))
        at += count
