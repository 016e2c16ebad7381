"""bench/load.py in-process: the real bot under concurrent users loses and doubles nothing."""

from __future__ import annotations

import json
from pathlib import Path

from bench.load import run
from tests.support.bot_helpers import REPO_CORPUS

KEYS = {
    "passages",
    "mode",
    "users",
    "questions_per_user",
    "questions_per_minute_setting",
    "engine_p50_ms",
    "logged_errors",
    "sequential",
    "load",
}
LOAD_KEYS = {
    "planned",
    "asked",
    "answered",
    "lost",
    "duplicates",
    "throttled",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "throughput_per_s",
    "overhead_p50_ms",
    "overhead_in_run_p50_ms",
}


async def test_load_bench_polling_loses_nothing() -> None:
    result = await run(
        corpus=REPO_CORPUS, users=20, questions_per_user=2, sequential=10, timeout=60
    )
    result = json.loads(json.dumps(result))  # it is plain JSON
    assert result.keys() >= KEYS
    load, seq = result["load"], result["sequential"]
    assert load.keys() >= LOAD_KEYS and LOAD_KEYS - {"duplicates", "throttled"} <= seq.keys()
    assert load["asked"] == load["answered"] == 40
    assert load["lost"] == 0 and load["duplicates"] == 0 and load["throttled"] == 0
    assert seq["answered"] == 10 and seq["lost"] == 0
    assert result["logged_errors"] == 0
    assert 0 < load["p50_ms"] <= load["p95_ms"] <= load["p99_ms"] <= load["max_ms"]
    # Every answer paired with the search made for it: the overhead is what is left of its
    # latency, so it is positive and below the latency itself.
    assert 0 < seq["overhead_in_run_p50_ms"] < seq["p50_ms"]


def test_write_corpus_writes_files_the_loader_reads(tmp_path: Path) -> None:
    from bench.write_corpus import write_corpus
    from bot.corpus import load_corpus

    count = write_corpus(100, tmp_path)
    loaded = load_corpus(tmp_path)
    assert count == len(loaded.documents) == 20 and not loaded.skipped
    doc = loaded.documents[0]
    assert doc.title == "Lagebericht 0" and doc.url == "https://example.org/report/0"


def test_restart_bench_times_a_real_restart_and_its_baseline(tmp_path: Path) -> None:
    """bench/restart.py: cold start, restarts and baselines as processes, all the same answer."""
    from bench.restart import run as restart

    result = restart(100, 1)
    assert result["files"] == 20 and result["same_answers"] is True
    assert len(result["restart_runs_s"]) == len(result["baseline_runs_s"]) == 1
    assert result["cold_s"] > 0 and result["restart_p50_s"] > 0 and result["baseline_p50_s"] > 0
    ratio = result["baseline_p50_s"] / result["restart_p50_s"]  # of rounded medians: near
    assert abs(result["speedup_p50"] - ratio) <= 0.02 * ratio + 0.01
    # The bot's restart from the pointer: answered before the files' check, the check timed.
    assert len(result["serve_runs_s"]) == 1 and result["serve_p50_s"] > 0
    assert 0 < result["serve_load_to_answer_p50_s"] < result["serve_p50_s"]
    assert result["serve_check_p50_s"] > 0 and result["check_first_load_to_answer_p50_s"] > 0
