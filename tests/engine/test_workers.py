"""Builds with worker processes: the same index as a build in one process, whatever happens."""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from bot.corpus import Document
from bot.engine import Engine, SearchConfig, workers
from bot.engine.index import TokenIds

SERIAL = SearchConfig(build_workers=1)
PARALLEL = SearchConfig(build_workers=2, parallel_chars=0)

WORDS = (
    "Russland Ukraine Kiew Kyjiw Lawrow Lavrov Selenskyj Waffenstillstand Getreideabkommen "
    "Raketenangriffe Charkiw Kharkiv Front Offensive Bachmut Verhandlungen Sanktionen the war "
    "and talks ceasefire Nord-Stream-2 US-Präsident #UkraineWar #Kriegsverbrechen @isw E-Mail "
    "Scholz’ 2. Dezember z. B. Dr. Müller"
).split()


def _corpus(seed: int, n: int = 80) -> list[Document]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        sentences = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))).capitalize() + "."
            for _ in range(rng.randint(0, 7))
        ]
        title = f"Lage {i}"
        text = "\n\n".join([title, *sentences]) if i % 3 else " ".join(sentences)
        docs.append(
            Document(
                id=f"d{i:03d}.md",
                title=title,
                url=f"https://example.org/{i}",
                lang=("en", "de", None)[i % 3],
                date=None,
                text=text,
                path=f"d{i:03d}.md",
            )
        )
    return docs


def _assert_same_index(got: Engine, want: Engine) -> None:
    def flat(engine: Engine) -> list[Any]:
        parts = engine.parts
        table = parts.passages
        out: list[Any] = [table.document, table.index, table.start, table.end, table.lang]
        out.append(table.langs)
        for field in (parts.stems, parts.doc_stems):
            out += [list(field.vocabulary.items()), field.doc_len, field.doc_ids, field.indptr]
            out += [field.idf, field.weights]
            if field.forward is not None:
                out += [field.forward.indptr, field.forward.terms, field.forward.tf]
        out += list(parts.term_grams.export().values())
        out += [
            a
            for grams in (parts.grams, parts.doc_grams)
            for a in (grams.length, grams.idf, grams.df)
        ]
        out.append(engine.stats.languages)
        return out

    for a, b in zip(flat(got), flat(want), strict=True):
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b)
        else:
            assert a == b


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many batches from a small corpus: their order and the numbering across them count."""
    monkeypatch.setattr(workers, "BATCH_CHARS", 500)


@pytest.mark.usefixtures("small_batches")
def test_a_build_in_worker_processes_equals_one_in_this_process() -> None:
    docs = _corpus(1)
    # Texts cross to the workers as UTF-8: a lone surrogate (a JSON escape) must survive it.
    docs[4] = replace(docs[4], text=docs[4].text + " Kiew\ud83d Straße.")
    parallel, serial = Engine.build(docs, PARALLEL), Engine.build(docs, SERIAL)
    _assert_same_index(parallel, serial)
    for question in ("Lawrow Kiew", "ceasefire talks", "#UkraineWar", "Getreide", "xyz"):
        got, want = parallel.search(question, k=10), serial.search(question, k=10)
        assert [(h.passage, h.score, h.highlights) for h in got.hits] == [
            (h.passage, h.score, h.highlights) for h in want.hits
        ]


@pytest.mark.usefixtures("small_batches")
def test_a_rebuild_sends_only_the_changed_documents_to_the_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = _corpus(2)
    engine = Engine.build(docs, SERIAL)
    changed = list(docs)
    changed[5] = replace(changed[5], text=changed[5].text + " Neuwort Offensive.")
    del changed[9]
    changed += [replace(d, id=f"new{d.id}", path=f"new{d.path}") for d in _corpus(3, 6)[1:]]
    sent: list[int] = []
    analyse = workers.analysed_documents

    def counting(documents: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(len(documents))
        return analyse(documents, *args, **kwargs)

    monkeypatch.setattr("bot.engine.build.analysed_documents", counting)
    rebuilt = Engine.build(changed, PARALLEL, previous=engine)
    assert sent == [6]
    _assert_same_index(rebuilt, Engine.build(changed, SERIAL, previous=engine))


def test_the_workers_do_the_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    """With workers, this process only numbers what they found (they run their own copy)."""

    def not_here(batch: workers.Batch) -> workers.Analysed:
        raise AssertionError("analysed in the building process")

    monkeypatch.setattr(workers, "BATCH_CHARS", 500)
    docs = _corpus(7)
    serial = Engine.build(docs, SERIAL)
    monkeypatch.setattr(workers, "analyse_batch", not_here)
    _assert_same_index(Engine.build(docs, PARALLEL), serial)


@pytest.mark.parametrize("how", ["dies", "garbles", "hangs up"])
def test_a_failing_worker_costs_time_not_the_build(
    how: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    receive = workers._Worker.receive
    calls = 0

    def failing(worker: Any) -> workers.Analysed:
        nonlocal calls
        calls += 1
        if calls < 3:
            return receive(worker)
        if how == "dies":
            worker.process.kill()
            worker.process.wait()
            return receive(worker)  # EOF
        if how == "garbles":
            raise ValueError("a worker answered something else than a batch's analysis")
        assert worker.process.stdout is not None
        worker.process.stdout.close()
        return receive(worker)

    monkeypatch.setattr(workers._Worker, "receive", failing)
    monkeypatch.setattr(workers, "BATCH_CHARS", 500)
    docs = _corpus(8)
    with caplog.at_level(logging.WARNING, logger="bot.engine.workers"):
        parallel = Engine.build(docs, PARALLEL)
    assert "analysing in this process: a worker failed" in caplog.text
    _assert_same_index(parallel, Engine.build(docs, SERIAL))


def test_no_worker_processes_means_this_process_does_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("no more processes")

    monkeypatch.setattr(workers.subprocess, "Popen", refuse)
    monkeypatch.setattr(workers, "BATCH_CHARS", 500)
    docs = _corpus(5)
    with caplog.at_level(logging.WARNING, logger="bot.engine.workers"):
        _assert_same_index(Engine.build(docs, PARALLEL), Engine.build(docs, SERIAL))
    assert "no worker processes (no more processes)" in caplog.text


def test_small_builds_stay_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no worker for a small build")

    monkeypatch.setattr(workers, "_Worker", refuse)
    docs = _corpus(6)
    Engine.build(docs, SearchConfig(build_workers=4))  # far below parallel_chars
    Engine.build(docs, SearchConfig(build_workers=1, parallel_chars=0))


def test_a_worker_ends_with_its_input() -> None:
    worker = workers._Worker()
    batch = next(workers._batches([("Der Krieg. Die Front.", 0, "de")], 500, 3))
    worker.send(batch)
    assert worker.receive() == workers.analyse_batch(batch)
    workers._stop([worker])
    assert worker.process.returncode == 0


def test_worker_count() -> None:
    assert workers.worker_count(1) == 1
    assert workers.worker_count(3) == 3
    assert workers.worker_count(50) == workers.MAX_WORKERS
    assert 1 <= workers.worker_count(0) <= workers.MAX_WORKERS


def test_numbered_units_can_be_added_whole() -> None:
    numbering = TokenIds()
    table = numbering.words("de", lambda word: (word.lower(),))
    numbering.add(table, ["Krieg", "Frieden"])
    numbering.add_ids(np.array([1, 0, 1], dtype=np.int32), np.array([1, 2], dtype=np.int64))
    numbered = numbering.finish()
    assert list(numbered.terms) == [0, 1, 1, 0, 1] and list(numbered.units) == [0, 0, 1, 2, 2]


def test_worker_processes_print_nothing(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers share the terminal of whoever builds (``citebot index``, ``citebot run``):
    a build with them writes nothing there (runpy's warning about a module started with ``-m``
    after its package imported it was one such line)."""
    monkeypatch.setattr(workers, "BATCH_CHARS", 500)  # several batches: the workers do start
    started = []
    real = workers._Worker

    def counted() -> workers._Worker:
        started.append(1)
        return real()

    monkeypatch.setattr(workers, "_Worker", counted)
    engine = Engine.build(_corpus(3), PARALLEL)
    assert engine.stats.passages > 0 and started
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")
