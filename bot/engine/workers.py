"""Document analysis in worker processes, for builds big enough to pay for them.

Splitting documents into passages and finding their words is most of a build's time, and it needs
no shared state. Worker processes do it for batches of documents and hand back each batch's
passages, and its words as ids local to the batch. The building process then numbers the words
batch after batch, in document order, so the vocabulary and its term ids are exactly those of a
build in one process (each word is still analysed once, there).

A worker is :func:`main` in a fresh interpreter that reads batches from its stdin and writes
results to its stdout (length-prefixed pickles, only ever between this process and its own
children). Not ``multiprocessing``: its "spawn" runs the parent's main script again in each
child (a script without a ``__main__`` guard would build its index there too), and forking a
process that runs threads (the bot's) can deadlock the child. Each worker has one batch at a
time, so neither side ever blocks the other, and a parent that dies closes the pipes: its workers
end with it. Anything going wrong with a worker only costs time: what the workers did not deliver
is analysed in this process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import subprocess
import sys
import time
from array import array
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from bot.engine.analysis import analyzer_for, raw_words
from bot.engine.index import TokenIds
from bot.engine.passages import split_passages

__all__ = [
    "BATCH_CHARS",
    "MAX_WORKERS",
    "Analysed",
    "Batch",
    "DocumentPassages",
    "analyse_batch",
    "analysed_documents",
    "main",
    "worker_count",
]

logger = logging.getLogger(__name__)

# Text per batch: big enough that sending it costs little next to analysing it, small enough
# that the workers stay busy to the end and a batch's results stay small.
BATCH_CHARS = 2_000_000
MAX_WORKERS = 8
_STOP_SECONDS = 5.0  # how long stopped workers may take to end before they are killed


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
    into ``numbering``, in order: batch i goes to worker i mod ``workers``, and the results
    are read back in order. The caller takes the documents one by one (and may number others
    in between)."""
    batches = list(_batches(documents, passage_chars, max_sentences))
    pool = _start_workers(min(workers, len(batches)) if len(batches) > 1 else 0)
    try:
        try:
            for i, batch in enumerate(batches[: len(pool)]):
                pool[i].send(batch)
        except Exception as exc:
            pool = _give_up(pool, exc)
        for i, batch in enumerate(batches):
            analysed = None
            if pool:
                worker = pool[i % len(pool)]
                try:
                    analysed = worker.receive()
                    if i + len(pool) < len(batches):
                        worker.send(batches[i + len(pool)])
                except Exception as exc:  # whatever a worker did, this process can do it
                    pool = _give_up(pool, exc)
            yield from _merge(analysed or analyse_batch(batch), numbering)
    finally:
        _stop(pool)


def _give_up(pool: list[_Worker], exc: Exception) -> list[_Worker]:
    logger.warning("analysing in this process: a worker failed (%s)", exc)
    _stop(pool)
    return []


class _Worker:
    """One worker process (:func:`main` in a fresh interpreter) and its pipes."""

    def __init__(self) -> None:
        # The child finds this copy of the package even when it is not installed.
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            # Not ``-m bot.engine.workers``: the package imports this module first, and runpy
            # warns on stderr about running a module already imported.
            [sys.executable, "-c", "from bot.engine.workers import main; main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )

    def send(self, batch: Batch) -> None:
        assert self.process.stdin is not None
        _write(self.process.stdin, batch)

    def receive(self) -> Analysed:
        assert self.process.stdout is not None
        analysed = _read(self.process.stdout)
        if not isinstance(analysed, Analysed):
            raise ValueError("a worker answered something else than a batch's analysis")
        return analysed


def _start_workers(count: int) -> list[_Worker]:
    pool: list[_Worker] = []
    try:
        for _ in range(count if count > 1 else 0):
            pool.append(_Worker())
    except OSError as exc:
        logger.warning("analysing in this process: no worker processes (%s)", exc)
        _stop(pool)
        return []
    return pool


def _stop(pool: list[_Worker]) -> None:
    """Close the workers' input (they end at its end); kill those that do not end soon."""
    for worker in pool:
        for pipe in (worker.process.stdin, worker.process.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()
    deadline = time.monotonic() + _STOP_SECONDS
    for worker in pool:
        try:
            worker.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()


def _write(pipe: IO[bytes], value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(len(data).to_bytes(8, "little"))
    pipe.write(data)
    pipe.flush()


def _read(pipe: IO[bytes]) -> object:
    head = pipe.read(8)
    if len(head) < 8:
        raise EOFError("the worker ended")
    size = int.from_bytes(head, "little")
    data = pipe.read(size)
    if len(data) < size:
        raise EOFError("the worker ended mid-answer")
    return pickle.loads(data)


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


def _serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """A worker's life: analyse each batch that comes in, until the input ends."""
    while True:
        try:
            batch = _read(stdin)
        except EOFError:
            return
        if not isinstance(batch, Batch):
            raise ValueError("a worker was sent something else than a batch")
        _write(stdout, analyse_batch(batch))


def main() -> None:
    """A worker process's whole life (what ``_Worker`` starts): batches in, analyses out, until
    the builder closes the pipe."""
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):  # the builder is gone
        _serve(sys.stdin.buffer, sys.stdout.buffer)
