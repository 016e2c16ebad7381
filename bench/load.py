"""Load on the bot itself: the real Application against the local Bot API stand-in.

Many users write to the bot in private at once; each asks its questions one after another, like a
person, waiting for the previous answer. Every answer (a sendMessage into that user's private
chat) is matched to its question, and per question the end-to-end latency is measured from the
moment the update is queued at the stand-in to the moment the stand-in receives the bot's
sendMessage. The engine's own search time for the same questions is measured separately
(``engine.search`` called directly), so the difference of the two medians is the bot's
update-to-reply overhead. A single user asking ~50 questions in sequence gives that overhead
without any queueing. The engine the bot holds also times each search made inside the bot's
request, so each answer's latency less its own search is that answer's overhead, free of the
noise between separately timed runs (``overhead_in_run_p50_ms``).

The engine is built before the measurement (not timed). QUESTIONS_PER_MINUTE is set to its
maximum so the flood limit never throttles the benchmark; answers that are flood-limit notices
are counted anyway. Only 127.0.0.1 is ever contacted.

Usage: python bench/load.py [--passages 100000 | --corpus DIR] [--users 200]
       [--questions-per-user 5] [--mode polling|webhook] [--timeout 300]
       [--state sqlite|memory|redis://...] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bot.chat import build_application, stop_application
from bot.chat.run import start_webhook
from bot.corpus import CorpusLoad
from bot.engine import Engine
from bot.loader import LoadedCorpus, load_engine, search_config
from bot.settings import Settings, load_settings
from bot.texts import text
from tests.support.botapi import BotApiStub, Call, TgUser
from tests.support.corpora import make_corpus, make_questions

MAX_QUESTIONS_PER_MINUTE = 1000  # the setting's upper bound; no user here comes near it
WARMUP_QUESTIONS = 5
WEBHOOK_SECRET = "bench-s3cret"


Key = tuple[str, int | str]  # ("chat", chat_id) or ("inline", query_id)


class RecordingStub(BotApiStub):
    """The stand-in, plus the bot's successful answers per chat and per inline query."""

    def __init__(self) -> None:
        super().__init__()
        self.replies: dict[Key, list[Call]] = defaultdict(list)
        self.refused = 0  # answers Telegram would have refused (bad HTML, too long ...)
        self._arrived: dict[Key, asyncio.Event] = {}

    def _record(self, call: Call) -> None:
        super()._record(call)
        key: Key | None = None
        if call.method == "sendMessage":
            key = ("chat", int(call.params.get("chat_id", 0)))
        elif call.method == "answerInlineQuery":
            key = ("inline", str(call.params.get("inline_query_id", "")))
        if key is None:
            return
        if not call.ok:
            self.refused += 1
            return
        self.replies[key].append(call)
        event = self._arrived.pop(key, None)
        if event is not None:
            event.set()

    async def wait_replies(self, key: Key, count: int, deadline: float) -> bool:
        """Wait until ``key`` has ``count`` replies; False at ``deadline`` (monotonic)."""
        while len(self.replies[key]) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            event = self._arrived.setdefault(key, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
        return True


@dataclass
class _Asked:
    user: int
    question: str
    queued: float
    latency_ms: float | None = None


class _TimedEngine:
    """The engine as the bot holds it, timing each search inside the bot's own request: each
    answer's latency then pairs with the search made for it, in the same run, and their
    difference is the bot's overhead for that answer (separately timed searches add the noise
    of a shared machine to it)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.search_ms: dict[str, list[float]] = defaultdict(list)

    def search(self, query: str, k: int = 3, offset: int = 0) -> Any:
        t0 = time.perf_counter()
        try:
            return self._engine.search(query, k, offset)
        finally:
            self.search_ms[query].append((time.perf_counter() - t0) * 1000)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


# The webhook server of each app start_bot started, for stop_bot.
_WEBHOOKS: dict[int, Any] = {}


async def start_bot(settings: Settings, loaded: LoadedCorpus, mode: str) -> Any:
    """The real Application, started against the stand-in (polling, or a local webhook)."""
    app = build_application(settings, loaded)
    updater = app.updater
    assert updater is not None
    async with asyncio.timeout(30):
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        if mode == "polling":
            await updater.start_polling(poll_interval=0, timeout=1)
        else:
            port = _free_port()
            webhook = await start_webhook(
                app,
                listen="127.0.0.1",
                port=port,
                path="hook",
                url=f"http://127.0.0.1:{port}/hook",
                secret=WEBHOOK_SECRET,
            )
            _WEBHOOKS[id(app)] = webhook
    return app


async def stop_bot(app: Any, timeout: float = 30) -> None:
    """Stop what :func:`start_bot` started, bounded in time."""
    async with asyncio.timeout(timeout):
        await stop_application(app, _WEBHOOKS.pop(id(app), None))


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(np.array(values), q)), 3) if values else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _build(
    passages: int, corpus: Path | None, settings: Settings, n_questions: int
) -> tuple[LoadedCorpus, list[str]]:
    if corpus is not None:
        loaded = load_engine(corpus, search_config(settings), cache_dir=None)
        engine = loaded.engine
        texts = [engine.passage_text(i) for i in range(engine.stats.passages)]
    else:
        documents, texts = make_corpus(passages)
        engine = Engine.build(documents, search_config(settings))
        loaded = LoadedCorpus(engine, CorpusLoad(tuple(documents), (), len(documents)), 0.0)
    return loaded, make_questions(texts, n_questions)


def _engine_times(engine: Engine, questions: list[str], k: int) -> dict[str, float]:
    """Milliseconds of ``engine.search`` for each question, called directly."""
    for question in questions[:WARMUP_QUESTIONS]:
        engine.search(question, k=k)
    times = {}
    for question in questions:
        t0 = time.perf_counter()
        engine.search(question, k=k)
        times[question] = (time.perf_counter() - t0) * 1000
    return times


async def _ask(
    stub: RecordingStub, user: TgUser, questions: list[str], deadline: float, out: list[_Asked]
) -> None:
    """One person: asks, waits for the answer, asks the next; gives up at ``deadline``."""
    for question in questions:
        have = len(stub.replies[("chat", user.id)])
        asked = _Asked(user.id, question, time.monotonic())
        stub.send_private(user, question)
        out.append(asked)
        if not await stub.wait_replies(("chat", user.id), have + 1, deadline):
            return  # lost: a person would not ask on
        asked.latency_ms = (stub.replies[("chat", user.id)][have].time - asked.queued) * 1000


def _summary(
    asked: list[_Asked],
    planned: int,
    wall_s: float,
    engine: dict[str, float],
    in_bot: dict[str, list[float]],
) -> Any:
    latencies = [a.latency_ms for a in asked if a.latency_ms is not None]
    p50 = percentile(latencies, 50)
    engine_p50 = _median(list(engine.values()))
    paired = [a.latency_ms - engine[a.question] for a in asked if a.latency_ms is not None]
    # A question asked twice pairs with its searches in order.
    searches = {question: list(times) for question, times in in_bot.items()}
    own = [
        a.latency_ms - searches[a.question].pop(0)
        for a in asked
        if a.latency_ms is not None and searches.get(a.question)
    ]
    return {
        "planned": planned,
        "asked": len(asked),
        "answered": len(latencies),
        "lost": len(asked) - len(latencies),
        "p50_ms": p50,
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": round(max(latencies), 3) if latencies else None,
        "wall_s": round(wall_s, 3),
        "throughput_per_s": round(len(latencies) / wall_s, 1) if wall_s > 0 else None,
        "overhead_p50_ms": (
            round(p50 - engine_p50, 3) if p50 is not None and engine_p50 is not None else None
        ),
        "engine_p50_ms": engine_p50,
        "overhead_paired_p50_ms": _median(paired),
        "overhead_in_run_p50_ms": _median(own),
        "overhead_in_run_p95_ms": percentile(own, 95),
    }


class ErrorCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def run(
    *,
    passages: int = 100_000,
    corpus: Path | None = None,
    users: int = 200,
    questions_per_user: int = 5,
    mode: str = "polling",
    timeout: float = 300.0,
    sequential: int = 50,
    grace: float = 0.5,
    state: str = "sqlite",
) -> dict[str, Any]:
    """The whole benchmark in this event loop; returns the result dict (see ``main``).
    ``state``: "sqlite" (a file in a temporary directory), "memory", or a redis:// URL."""
    if mode not in ("polling", "webhook"):
        raise ValueError(f"mode must be polling or webhook, not {mode!r}")
    errors = ErrorCount()
    for name in ("bot", "telegram", "tests"):
        logging.getLogger(name).addHandler(errors)
    if state.startswith("redis"):
        import redis

        # The stand-in numbers updates from 1 in every run: the last run's would be repeats.
        redis.Redis.from_url(state).flushdb()
    stub = RecordingStub()
    await stub.start()
    with tempfile.TemporaryDirectory(prefix="citebot-load-") as empty:
        try:
            settings = load_settings(
                corpus_dir=corpus or Path(empty),
                telegram_bot_token=stub.token,
                telegram_api_url=stub.base_url,
                questions_per_minute=MAX_QUESTIONS_PER_MINUTE,
                cache_dir=None,
                state_dir=None if state != "sqlite" else Path(empty) / "state",
                state_url=state if state.startswith("redis") else None,
            )
            k = settings.results_per_answer
            n_load = users * questions_per_user
            started = time.perf_counter()
            loaded, questions = _build(
                passages, corpus, settings, WARMUP_QUESTIONS + sequential + n_load
            )
            build_s = time.perf_counter() - started
            warmup = questions[:WARMUP_QUESTIONS]
            seq_questions = questions[WARMUP_QUESTIONS : WARMUP_QUESTIONS + sequential]
            load_questions = questions[WARMUP_QUESTIONS + sequential :]
            seq_engine = _engine_times(loaded.engine, seq_questions, k)
            load_engine_ms = _engine_times(loaded.engine, load_questions, k)
            result = await _drive(
                stub,
                settings,
                loaded,
                mode=mode,
                timeout=timeout,
                grace=grace,
                warmup=warmup,
                seq_questions=seq_questions,
                load_questions=load_questions,
                users=users,
                questions_per_user=questions_per_user,
                seq_engine=seq_engine,
                load_engine=load_engine_ms,
            )
        finally:
            await stub.stop()
            for name in ("bot", "telegram", "tests"):
                logging.getLogger(name).removeHandler(errors)
    return {
        "passages": loaded.engine.stats.passages,
        "documents": loaded.engine.stats.documents,
        "corpus": str(corpus) if corpus is not None else "synthetic (bench/speed.py)",
        "build_s": round(build_s, 3),
        "mode": mode,
        "state": "redis" if state.startswith("redis") else state,
        "users": users,
        "questions_per_user": questions_per_user,
        "results_per_answer": k,
        "questions_per_minute_setting": MAX_QUESTIONS_PER_MINUTE,
        "cpus": os.cpu_count(),
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),  # other work on the machine
        "engine_p50_ms": _median(list(load_engine_ms.values())),
        "engine_p95_ms": percentile(list(load_engine_ms.values()), 95),
        "logged_errors": errors.count,
        **result,
    }


async def _drive(
    stub: RecordingStub,
    settings: Settings,
    loaded: LoadedCorpus,
    *,
    mode: str,
    timeout: float,
    grace: float,
    warmup: list[str],
    seq_questions: list[str],
    load_questions: list[str],
    users: int,
    questions_per_user: int,
    seq_engine: dict[str, float],
    load_engine: dict[str, float],
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    timed = _TimedEngine(loaded.engine)
    app = await start_bot(settings, replace(loaded, engine=cast(Engine, timed)), mode)
    try:
        # one person first: warm-up, then the pure update-to-reply path without queueing
        solo = stub.user(None, "Solo")
        await _ask(stub, solo, warmup, deadline, [])
        timed.search_ms.clear()
        seq: list[_Asked] = []
        t0 = time.monotonic()
        await _ask(stub, solo, seq_questions, deadline, seq)
        seq_summary = _summary(
            seq, len(seq_questions), time.monotonic() - t0, seq_engine, timed.search_ms
        )
        timed.search_ms.clear()

        people = [stub.user(None, f"User{i}") for i in range(users)]
        asked: list[_Asked] = []
        t0 = time.monotonic()
        await asyncio.gather(
            *(
                _ask(
                    stub,
                    person,
                    load_questions[i * questions_per_user : (i + 1) * questions_per_user],
                    deadline,
                    asked,
                )
                for i, person in enumerate(people)
            )
        )
        wall = max(
            (a.queued + a.latency_ms / 1000 for a in asked if a.latency_ms is not None),
            default=t0,
        )
        load_summary = _summary(
            asked, users * questions_per_user, wall - t0, load_engine, timed.search_ms
        )
        await asyncio.sleep(grace)  # late or doubled answers still arrive
        asked_by: dict[int, int] = defaultdict(int)
        for a in asked:
            asked_by[a.user] += 1
        extra = sum(max(0, len(stub.replies[("chat", p.id)]) - asked_by[p.id]) for p in people)
        flood = text("bot_flood", "de", limit=MAX_QUESTIONS_PER_MINUTE)[:40]
        throttled = sum(
            1
            for p in people
            for c in stub.replies[("chat", p.id)]
            if flood in str(c.params.get("text"))
        )
        load_summary["duplicates"] = extra
        load_summary["throttled"] = throttled
    finally:
        await stop_bot(app, 20)
    return {
        "sequential": seq_summary,
        "load": load_summary,
        "webhook_delivery": "serial (the stand-in posts one update at a time)"
        if mode == "webhook"
        else None,
    }


def run_benchmark(**kwargs: Any) -> dict[str, Any]:
    """:func:`run` in a fresh event loop."""
    return asyncio.run(run(**kwargs))


def _report(r: dict[str, Any]) -> str:
    s, load = r["sequential"], r["load"]

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f} ms"

    lines = [
        f"citebot load benchmark: {r['passages']:,} passages ({r['corpus']}), built in "
        f"{r['build_s']:.1f} s (not part of the load); mode {r['mode']}; {r['cpus']} CPUs, "
        f"load average {r['loadavg_1m_at_end']} at the end",
        f"QUESTIONS_PER_MINUTE={r['questions_per_minute_setting']} (so the flood limit never "
        f"throttles); top {r['results_per_answer']} per answer",
        f"engine.search alone: p50 {ms(r['engine_p50_ms'])}, p95 {ms(r['engine_p95_ms'])}",
        f"single user, {s['asked']} questions in sequence: end-to-end p50 {ms(s['p50_ms'])}, "
        f"p95 {ms(s['p95_ms'])}; engine p50 {ms(s['engine_p50_ms'])}; overhead p50 "
        f"{ms(s['overhead_p50_ms'])} (paired per question {ms(s['overhead_paired_p50_ms'])}); "
        f"lost {s['lost']}",
        f"  overhead against the search made for each answer: p50 "
        f"{ms(s['overhead_in_run_p50_ms'])}, p95 {ms(s['overhead_in_run_p95_ms'])}",
        f"{r['users']} users x {r['questions_per_user']} questions at once: asked "
        f"{load['asked']}/{load['planned']}, answered {load['answered']}, lost {load['lost']}, "
        f"duplicates {load['duplicates']}, throttled {load['throttled']}",
        f"  end-to-end p50 {ms(load['p50_ms'])}, p95 {ms(load['p95_ms'])}, "
        f"p99 {ms(load['p99_ms'])}, max {ms(load['max_ms'])}; "
        f"{load['throughput_per_s']} answers/s over {load['wall_s']:.2f} s; "
        f"overhead p50 {ms(load['overhead_p50_ms'])}",
        f"errors logged by the bot: {r['logged_errors']}",
    ]
    if r.get("webhook_delivery"):
        lines.append(f"webhook delivery: {r['webhook_delivery']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=100_000, help="synthetic corpus size")
    parser.add_argument("--corpus", type=Path, help="use this corpus directory instead")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--questions-per-user", type=int, default=5)
    parser.add_argument("--mode", choices=("polling", "webhook"), default="polling")
    parser.add_argument("--sequential", type=int, default=50, help="single-user questions")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for the load")
    parser.add_argument(
        "--state",
        default="sqlite",
        help='"sqlite" (a temporary file), "memory" or a redis:// URL (its database is flushed)',
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = run_benchmark(
        passages=args.passages,
        corpus=args.corpus,
        users=args.users,
        questions_per_user=args.questions_per_user,
        mode=args.mode,
        timeout=args.timeout,
        sequential=args.sequential,
        state=args.state,
    )
    print(json.dumps(result) if args.json else _report(result), flush=True)
    load = result["load"]
    return 0 if load["lost"] == 0 and load["duplicates"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
