"""bench/replicas.py runs real `citebot run` processes behind the proxy and reports both sides:
a tiny corpus, a few users, one round."""

from __future__ import annotations

import asyncio

from bench.replicas import run
from tests.support.redis_server import require_redis_server


def test_replicas_benchmark_answers_everything_once() -> None:
    require_redis_server()
    result = asyncio.run(run(passages=500, users=4, per_user=2, rounds=1))
    assert [r["replicas"] for r in result["runs"]] == [1, 2]
    for r in result["runs"]:
        assert (r["asked"], r["answered"], r["lost"], r["duplicates"]) == (8, 8, 0, 0)
    assert all(result["runs"][1]["served"])  # both replicas answered some
    assert result["ratio"] > 0
