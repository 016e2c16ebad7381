"""bench/state.py runs and reports what it says: every store timed, the file written."""

from __future__ import annotations

from bench.state import run


def test_state_benchmark_reports_every_store(redis_url: str) -> None:
    result = run(questions=200, users=20, redis_url=redis_url)
    assert result["questions"] == 200 and result["file_bytes"] > 0
    for store in ("sqlite_file", "in_memory", "redis"):
        timing = result[store]
        assert 0 < timing["p50_ms"] <= timing["p95_ms"]
