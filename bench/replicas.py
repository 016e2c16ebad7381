"""One `citebot run` process against two behind a round-robin proxy, as a load balancer runs
them: the same users and questions, answers per second, and nothing lost or doubled.

The Bot API stand-in and the proxy run in this process; each replica is its own `citebot run`
in webhook mode, all sharing one corpus directory, one index cache and a Redis server that this
benchmark starts (Debian's redis-server). Runs alternate between one and two replicas.

Usage: python bench/replicas.py [--passages 100000] [--users 100] [--questions-per-user 5]
       [--rounds 2] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.write_corpus import write_corpus
from tests.support.bot_helpers import Lines, free_port, kill_if_running, start_run, stop_run
from tests.support.botapi import BotApiStub
from tests.support.corpora import make_corpus, make_questions
from tests.support.proxy import RoundRobinProxy
from tests.support.redis_server import redis_server

_READY_SECONDS = 300.0  # a first build of a big corpus takes a while


async def _one_run(
    replicas: int, corpus: Path, cache: Path, redis_url: str, questions: list[list[str]]
) -> dict[str, Any]:
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # the stand-in numbers updates from 1 again
    stub = BotApiStub()
    await stub.start()
    ports = [free_port() for _ in range(replicas)]
    proxy = RoundRobinProxy([f"http://127.0.0.1:{port}/hook" for port in ports])
    await proxy.start()
    procs: list[asyncio.subprocess.Process] = []
    outputs: list[tuple[Lines, Lines]] = []
    try:
        for port in ports:
            proc = await start_run(
                stub,
                corpus.parent,
                CORPUS_DIR=str(corpus),
                CACHE_DIR=str(cache),
                STATE_URL=redis_url,
                WEBHOOK_URL=proxy.url,
                WEBHOOK_LISTEN="127.0.0.1",
                WEBHOOK_PORT=str(port),
                WEBHOOK_SECRET="bench-secret",
                QUESTIONS_PER_MINUTE="1000",
                LOG_LEVEL="INFO",  # its "ready" line says when a replica answers
            )
            assert proc.stdout is not None and proc.stderr is not None
            procs.append(proc)
            outputs.append((Lines(proc.stdout), Lines(proc.stderr)))
        for _, err in outputs:
            await err.wait_for("ready as @", timeout=_READY_SECONDS)
        users = [stub.user(8000 + i, f"Leser {i}") for i in range(len(questions))]
        lost = 0

        async def ask(user: Any, own: list[str]) -> None:
            nonlocal lost
            for question in own:
                stub.send_private(user, question)
                try:
                    await stub.next_message(user, timeout=60)
                except TimeoutError:
                    lost += 1

        started = time.perf_counter()
        await asyncio.gather(*(ask(u, q) for u, q in zip(users, questions, strict=True)))
        wall = time.perf_counter() - started
        asked = sum(len(q) for q in questions)
        answered = sum(
            min(len(stub.messages_to(u)), len(q)) for u, q in zip(users, questions, strict=True)
        )
        duplicates = sum(
            max(0, len(stub.messages_to(u)) - len(q)) for u, q in zip(users, questions, strict=True)
        )
        for proc, (out, err) in zip(procs, outputs, strict=True):
            await stop_run(proc, out, err, signal.SIGTERM)
        return {
            "replicas": replicas,
            "asked": asked,
            "answered": answered,
            "lost": lost,
            "duplicates": duplicates,
            "wall_s": round(wall, 3),
            "answers_per_s": round(answered / wall, 1),
            "served": proxy.served,
        }
    finally:
        for proc in procs:
            await kill_if_running(proc)
        await proxy.stop()
        await stub.stop()


async def run(passages: int, users: int, per_user: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="citebot-replicas-") as tmp:
        root = Path(tmp)
        corpus = root / "corpus"
        write_corpus(passages, corpus)
        _, texts = make_corpus(passages)
        pool = make_questions(texts, users * per_user)
        questions = [pool[i * per_user : (i + 1) * per_user] for i in range(users)]
        runs: list[dict[str, Any]] = []
        with redis_server(root) as redis_url:
            # A first run builds the shared index snapshot; the timed runs load it.
            await _one_run(1, corpus, root / "cache", redis_url, questions[:2])
            for _ in range(rounds):
                for replicas in (1, 2):
                    runs.append(
                        await _one_run(replicas, corpus, root / "cache", redis_url, questions)
                    )
    one = [r["answers_per_s"] for r in runs if r["replicas"] == 1]
    two = [r["answers_per_s"] for r in runs if r["replicas"] == 2]
    return {
        "passages": passages,
        "users": users,
        "questions_per_user": per_user,
        "runs": runs,
        "median_answers_per_s": {"1": statistics.median(one), "2": statistics.median(two)},
        "ratio": round(statistics.median(two) / statistics.median(one), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--questions-per-user", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.passages, args.users, args.questions_per_user, args.rounds))
    if args.json:
        print(json.dumps(result))
    else:
        for r in result["runs"]:
            print(
                f"{r['replicas']} replica(s): {r['answered']}/{r['asked']} answered,"
                f" {r['lost']} lost, {r['duplicates']} duplicates,"
                f" {r['answers_per_s']} answers/s (served {r['served']})"
            )
        print(f"two against one: {result['ratio']}x")
    clean = all(r["lost"] == 0 and r["duplicates"] == 0 for r in result["runs"])
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
