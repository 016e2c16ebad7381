"""What the state store adds to a question: the calls the bot makes for one answered question
with a "more" button (the update seen, the flood limit, the question counted, the button's key
stored), timed together: on a file as the bot keeps it, in memory for comparison, and on a Redis
server when one is named (``--redis redis://127.0.0.1:6379/15``: its keys are flushed).

Usage: python bench/state.py [--questions 5000] [--users 200] [--redis URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.store.redis_state import RedisState
from bot.store.state import STATE_FILE, SqliteState, StateStore

# A private question as the Bot API sends it: what `hold` keeps until the answer is out.
_UPDATE = json.dumps(
    {
        "update_id": 0,
        "message": {
            "message_id": 42,
            "from": {"id": 1, "is_bot": False, "first_name": "Anna", "language_code": "de"},
            "chat": {"id": 1, "first_name": "Anna", "type": "private"},
            "date": 1_800_000_000,
            "text": "Was fordert Scholz von Putin?",
        },
    }
)


def _one_store(store: StateStore, questions: int, users: int) -> dict[str, float]:
    times: list[float] = []
    for i in range(questions):
        started = time.perf_counter()
        store.hold(10_000 + i, _UPDATE)
        store.release(10_000 + i)
        store.allow(i % users, 20)
        store.record_question(f"Frage {i % 500}", answered=i % 10 != 0)
        store.put_page(i % users, f"Frage {i % 500}")
        times.append(time.perf_counter() - started)
    times.sort()
    return {
        "p50_ms": round(1000 * statistics.median(times), 4),
        "p95_ms": round(1000 * times[int(0.95 * (len(times) - 1))], 4),
        "mean_ms": round(1000 * statistics.fmean(times), 4),
    }


def run(questions: int, users: int, redis_url: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        on_disk = SqliteState(Path(tmp) / STATE_FILE)
        try:
            disk = _one_store(on_disk, questions, users)
        finally:
            on_disk.close()
        size = (Path(tmp) / STATE_FILE).stat().st_size
    memory_store = SqliteState(None)
    try:
        memory = _one_store(memory_store, questions, users)
    finally:
        memory_store.close()
    result: dict[str, Any] = {
        "questions": questions,
        "sqlite_file": disk,
        "in_memory": memory,
        "file_bytes": size,
    }
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        server = RedisState(redis_url, prefix="citebot-bench:")
        try:
            server.ping()
            result["redis"] = _one_store(server, questions, users)
        finally:
            server.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=5000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--redis", help="a Redis server to time too (its database is flushed)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.questions, args.users, args.redis)
    if args.json:
        print(json.dumps(result))
    else:
        for name in ("sqlite_file", "in_memory", "redis"):
            if name not in result:
                continue
            r = result[name]
            print(f"{name:12} p50 {r['p50_ms']:.3f} ms  p95 {r['p95_ms']:.3f} ms per question")
        print(f"file after {result['questions']} questions: {result['file_bytes']:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
