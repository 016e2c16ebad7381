"""Speed at every corpus size: build time, memory and question latency of citebot's engine next to
rank_bm25 in the same run, and the agreement of their top-10 rankings.

Each size runs in a fresh subprocess so peak and retained memory are the process's own. Latency is
wall-clock time and, beside it, the searching thread's CPU time (steadier on a shared machine).
Corpora are German-like and reproducible (fixed seed): Zipf-distributed made-up words with real
German words mixed in. Questions are 2 to 4 words of a random passage, with question phrasing.

Filters and newest first (issue 18) are timed on the same engine and questions, interleaved with
the unfiltered question so the machine's noise falls on all alike: the documents get dates over
four years and ten source channels (the index is the same; only filters read them).

Usage: python bench/speed.py [--sizes 1000,10000,100000] [--questions 200] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bot.corpus import Document
from bot.engine import Engine, Query, SearchConfig
from bot.engine.analysis import analyzer_for
from bot.engine.index import top_k
from tests.support.corpora import make_corpus, make_questions


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def _agreement(engine: Engine, questions: list[str], baseline: Any) -> float:
    """Share of questions whose top-10 passage ids equal rank_bm25's on the same tokens
    (ties allowed: an id may differ only where rank_bm25 gives both the same score)."""
    analyzer = analyzer_for("de")
    agree = 0
    for question in questions:
        tokens = analyzer.terms(question)
        ours = top_k(engine.parts.stems.scores(tokens), 10)
        reference = baseline.get_scores(tokens)
        positive = int((reference > 0).sum())
        ref_ids = np.argsort(-reference, kind="stable")[: min(10, positive)]
        if len(ours) != len(ref_ids):
            continue
        ours_scores = np.array([reference[pid] for pid, _ in ours])
        if np.allclose(np.sort(ours_scores)[::-1], reference[ref_ids], rtol=0, atol=1e-9):
            agree += 1
    return agree / max(len(questions), 1)


def _index_mb(engine: Engine) -> float:
    """Megabytes of the engine's arrays (the index without the documents' texts)."""
    parts = engine.parts
    table = parts.passages
    arrays: list[Any] = [table.document, table.index, table.start, table.end, table.lang]
    for field in (parts.stems, parts.doc_stems):
        arrays += [field.doc_len, field.doc_ids, field.indptr, field.idf, field.weights]
        if field.forward is not None:
            arrays += [field.forward.indptr, field.forward.terms, field.forward.tf]
    arrays += list(parts.term_grams.export().values())
    arrays += [a for grams in (parts.grams, parts.doc_grams) for a in (grams.length, grams.idf)]
    arrays += [grams.df for grams in (parts.grams, parts.doc_grams) if grams.df is not None]
    return sum(int(a.nbytes) for a in arrays) / 1e6


def _first_answer_from_snapshot(engine: Engine, documents: list[Document], question: str) -> float:
    """Seconds from reading the index snapshot (the corpus files already read) to the first
    answer, as a restart of `citebot run` or `citebot ask` spends them."""
    from bot.store import snapshot

    with tempfile.TemporaryDirectory() as cache:
        key = snapshot.snapshot_key(documents, engine.config)
        if snapshot.save_snapshot(engine, cache, "bench", key) is None:
            raise RuntimeError("could not write the snapshot")
        started = time.perf_counter()
        loaded = snapshot.load_snapshot(documents, engine.config, cache, "bench", key)
        if loaded is None:
            raise RuntimeError("the snapshot just written did not load")
        loaded.search(question, k=10)
        return time.perf_counter() - started


_CHANNELS = 10
_FIRST_DAY = datetime.date(2021, 1, 1)
_DAYS = 4 * 365


def dated_corpus(documents: list[Document]) -> list[Document]:
    """The corpus as channel posts: every document but each 20th dated (spread over four
    years), filed under one of ten channels."""
    return [
        dataclasses.replace(
            doc,
            date=None
            if i % 20 == 19
            else (_FIRST_DAY + datetime.timedelta(days=i * 7919 % _DAYS)).isoformat(),
            path=f"telegram/kanal{i % _CHANNELS}/{i}.md",
        )
        for i, doc in enumerate(documents)
    ]


def filter_cases(question: str, i: int) -> dict[str, tuple[Query, int]]:
    """The question as each case asks it, with the offset: best first unfiltered (the
    baseline), its second page, newest first, a period that differs for every question (its
    masks are made afresh each time), a channel, and all of them at once."""
    since = _FIRST_DAY + datetime.timedelta(days=i % 365)
    until = since + datetime.timedelta(days=365)
    return {
        "unfiltered": (Query(question), 0),
        "second_page": (Query(question), 10),
        "newest": (Query(question, newest=True), 0),
        "period": (Query(question, since=since, until=until), 0),
        "channel": (Query(question, channel=f"kanal{i % _CHANNELS}"), 0),
        "all": (
            Query(question, since=since, until=until, channel=f"kanal{i % 3}", newest=True),
            10,
        ),
    }


def measure_filters(engine: Engine, questions: list[str]) -> dict[str, Any]:
    """Median wall and CPU milliseconds per case, and each case's median excess over the
    unfiltered question (measured question by question, in rotating order)."""
    started = time.perf_counter()
    engine.search(Query(questions[0], newest=True), k=10)  # reads the documents' dates once
    facets_ms = (time.perf_counter() - started) * 1000
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for i, question in enumerate(questions):
        cases = list(filter_cases(question, i).items())
        shift = i % len(cases)
        for name, (query, offset) in cases[shift:] + cases[:shift]:
            t0, c0 = time.perf_counter(), time.thread_time()
            engine.search(query, k=10, offset=offset)
            cpu.setdefault(name, []).append((time.thread_time() - c0) * 1000)
            wall.setdefault(name, []).append((time.perf_counter() - t0) * 1000)
    base_wall, base_cpu = wall["unfiltered"], cpu["unfiltered"]
    out: dict[str, Any] = {"first_filtered_question_ms": round(facets_ms, 3)}
    for name in wall:
        out[name] = {
            "p50_ms": round(statistics.median(wall[name]), 3),
            "p50_cpu_ms": round(statistics.median(cpu[name]), 3),
            "extra_p50_ms": round(
                statistics.median([a - b for a, b in zip(wall[name], base_wall, strict=True)]), 3
            ),
            "extra_p50_cpu_ms": round(
                statistics.median([a - b for a, b in zip(cpu[name], base_cpu, strict=True)]), 3
            ),
        }
    return out


def measure(passages: int, n_questions: int, baseline_questions: int) -> dict[str, Any]:
    """One size, in this process (called in a fresh subprocess by main)."""
    from rank_bm25 import BM25Okapi

    documents, texts = make_corpus(passages)
    documents = dated_corpus(documents)
    questions = make_questions(texts, n_questions)
    del texts  # the generator's copy of the passage texts; a bot does not hold one
    gc.collect()
    before = _rss_mb()
    started = time.perf_counter()
    engine = Engine.build(documents, SearchConfig())
    build_s = time.perf_counter() - started
    gc.collect()
    peak_mb = _peak_mb()
    retained_mb = _rss_mb() - before  # the documents are the corpus: they count as retained
    snapshot_s = _first_answer_from_snapshot(engine, documents, questions[0])
    del documents
    for question in questions[:5]:
        engine.search(question, k=10)  # warm caches as a running bot would be
    latencies = []
    cpu = []  # the thread's CPU time: what the search costs without the waits of a busy machine
    for question in questions:
        t0, c0 = time.perf_counter(), time.thread_time()
        engine.search(question, k=10)
        cpu.append((time.thread_time() - c0) * 1000)
        latencies.append((time.perf_counter() - t0) * 1000)
    filters = measure_filters(engine, questions)

    analyzer = analyzer_for("de")
    corpus_tokens = [analyzer.terms(engine.passage_text(i)) for i in range(engine.stats.passages)]
    baseline = BM25Okapi(corpus_tokens)
    sample = questions[:baseline_questions]
    baseline_ms = []
    for question in sample:
        tokens = analyzer.terms(question)
        t0 = time.perf_counter()
        baseline.get_scores(tokens)
        baseline_ms.append((time.perf_counter() - t0) * 1000)
    ours_stem_ms = []
    for question in sample:
        tokens = analyzer.terms(question)
        t0 = time.perf_counter()
        top_k(engine.parts.stems.scores(tokens), 10)
        ours_stem_ms.append((time.perf_counter() - t0) * 1000)
    p50 = statistics.median(latencies)
    baseline_p50 = statistics.median(baseline_ms)
    return {
        "passages": engine.stats.passages,
        "build_s": round(build_s, 3),
        "peak_mb": round(peak_mb, 1),
        "retained_mb": round(retained_mb, 1),
        "index_mb": round(_index_mb(engine), 1),
        "p50_ms": round(p50, 3),
        "p95_ms": round(_percentile(latencies, 95), 3),
        "p50_cpu_ms": round(statistics.median(cpu), 3),
        "p95_cpu_ms": round(_percentile(cpu, 95), 3),
        "baseline_p50_ms": round(baseline_p50, 3),
        "speedup_p50": round(baseline_p50 / p50, 2) if p50 else None,
        "stem_field_p50_ms": round(statistics.median(ours_stem_ms), 3),
        "top10_agreement": round(_agreement(engine, sample, baseline), 4),
        "first_answer_from_snapshot_s": round(snapshot_s, 3),
        "filters": filters,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="passage counts")
    parser.add_argument("--questions", type=int, default=200, help="questions per size")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one size
    args = parser.parse_args(argv)
    if args.one:
        baseline_questions = args.questions if args.one <= 100_000 else 20
        print(json.dumps(measure(args.one, args.questions, baseline_questions)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results = []
    for size in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--questions", str(args.questions)],
            capture_output=True,
            text=True,
            check=False,
            timeout=3600,
        )
        if out.returncode != 0:
            sys.stderr.write(out.stderr)
            return out.returncode
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        if not args.json:
            r = results[-1]
            print(
                f"{r['passages']:>9,} passages  build {r['build_s']:7.2f} s  "
                f"peak {r['peak_mb']:7.0f} MB  retained {r['retained_mb']:7.0f} MB "
                f"(index arrays {r['index_mb']:.0f} MB)  "
                f"p50 {r['p50_ms']:8.2f} ms  p95 {r['p95_ms']:8.2f} ms  "
                f"(CPU p50 {r['p50_cpu_ms']:.2f} ms, p95 {r['p95_cpu_ms']:.2f} ms)  "
                f"rank_bm25 p50 {r['baseline_p50_ms']:8.2f} ms  x{r['speedup_p50']}  "
                f"stem field p50 {r['stem_field_p50_ms']:.3f} ms  "
                f"top-10 agreement {r['top10_agreement']:.1%}  "
                f"first answer from snapshot {r['first_answer_from_snapshot_s']:.2f} s",
                flush=True,
            )
            cases = {k: v for k, v in r["filters"].items() if isinstance(v, dict)}
            print(
                "    filters: "
                + "  ".join(
                    f"{name} p50 {c['p50_ms']:.2f} ms ({c['extra_p50_ms']:+.3f} ms,"
                    f" CPU {c['extra_p50_cpu_ms']:+.3f} ms)"
                    for name, c in cases.items()
                )
                + f"  first filtered question {r['filters']['first_filtered_question_ms']:.1f} ms",
                flush=True,
            )
    if args.json:
        print(json.dumps({"sizes": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
