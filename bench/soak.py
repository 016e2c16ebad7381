"""Soak: the real bot under mixed load for a bounded time while an admin reloads the corpus.

People ask in private, in groups (``/ask`` and ``@bot`` mentions) and inline, each one question
after another (waiting for the answer, like a person), for ``--seconds``; meanwhile an admin
adds a small document to the corpus and sends ``/reload`` every ``--reload-every`` seconds
(waiting for the reply; a reload that takes longer delays the next one). Every answer is matched
to its question: a sendMessage into the asker's chat, or the answerInlineQuery of the query.

Per kind: asked, answered, failed (the bot's apology or its flood-limit notice), lost (no
answer ``--answer-timeout`` seconds after the end), duplicates (answers beyond one per question,
counted after a grace period) and latency percentiles, from the moment the update is queued at
the stand-in to the moment the stand-in receives the bot's answer. The corpus is written to a
temporary directory (a copy of ``--corpus``, or ``--passages`` synthetic passages as ``.jsonl``
files) so that reloads read it from disk as ``citebot run`` does; index snapshots are off.
Only 127.0.0.1 is ever contacted.

Usage: python bench/soak.py [--passages 100000 | --corpus DIR] [--seconds 60]
       [--reload-every 5] [--private 100] [--groups 20] [--inline 30]
       [--mode polling|webhook] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import (
    MAX_QUESTIONS_PER_MINUTE,
    ErrorCount,
    Key,
    RecordingStub,
    percentile,
    start_bot,
    stop_bot,
)
from bot.loader import LoadedCorpus, load_corpus_for
from bot.settings import Settings, load_settings
from bot.texts import text
from tests.support.botapi import TgUser
from tests.support.corpora import make_corpus, make_questions

KINDS = ("private", "group_ask", "group_mention", "inline")
ADMIN_ID = 777
DOCS_PER_FILE = 1000
_RELOADED = re.compile(r"^Reloaded: ([\d,]+) documents?, ([\d,]+) passages? in ([\d.]+) s\.")


@dataclass
class _Asked:
    kind: str
    key: Key
    queued: float
    latency_ms: float | None = None
    failed: bool = False


@dataclass
class _Reload:
    asked_at: float
    ok: bool = False
    answered: bool = False
    documents: int = 0
    seconds: float | None = None  # as the bot reports it
    reply_ms: float | None = None  # /reload to its reply
    text: str = ""


def _write_corpus(target: Path, passages: int, corpus: Path | None) -> list[str]:
    """The corpus as files under ``target``; returns passage-like texts to draw questions from."""
    if corpus is not None:
        shutil.copytree(corpus, target, dirs_exist_ok=True)
        return []
    target.mkdir(parents=True, exist_ok=True)
    documents, texts = make_corpus(passages)
    for start in range(0, len(documents), DOCS_PER_FILE):
        lines = [
            json.dumps(
                {"id": d.id, "title": d.title, "url": d.url, "lang": d.lang, "text": d.text},
                ensure_ascii=False,
            )
            for d in documents[start : start + DOCS_PER_FILE]
        ]
        (target / f"part{start // DOCS_PER_FILE:04d}.jsonl").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
    return texts


def _refusals(kind: str) -> tuple[str, ...]:
    """Reply texts that mean the question failed: the apology and the flood-limit notice."""
    flood = text("bot_flood", "de", limit=MAX_QUESTIONS_PER_MINUTE)
    return (text("bot_error", "de"), flood[:40]) if kind != "inline" else ()


async def _person(
    stub: RecordingStub,
    kind: str,
    asker: TgUser,
    chat_id: int,
    questions: Iterator[str],
    stop_at: float,
    answer_deadline: float,
    pause: float,
    out: list[_Asked],
) -> None:
    """One person: asks, waits for the answer, (pauses,) asks the next, until ``stop_at``."""
    refusals = _refusals(kind)
    while time.monotonic() < stop_at:
        question = next(questions)
        if kind == "inline":
            update = stub.inline_query(asker, question)
            key: Key = ("inline", str(update["inline_query"]["id"]))
        else:
            key = ("chat", chat_id)
        have = len(stub.replies[key])
        asked = _Asked(kind, key, time.monotonic())
        if kind == "private":
            stub.send_private(asker, question)
        elif kind == "group_ask":
            stub.send_group(asker, chat_id, f"/ask {question}")
        elif kind == "group_mention":
            stub.send_group(asker, chat_id, f"@{stub.username} {question}")
        out.append(asked)
        if not await stub.wait_replies(key, have + 1, answer_deadline):
            return  # lost: a person would not ask on
        reply = stub.replies[key][have]
        asked.latency_ms = (reply.time - asked.queued) * 1000
        if kind == "inline":
            # The flood limit answers no results and no button; "nothing found" has its button.
            asked.failed = reply.params.get("results") == [] and "button" not in reply.params
        else:
            body = str(reply.params.get("text", ""))
            asked.failed = any(body.startswith(r) for r in refusals)
        if pause > 0:
            await asyncio.sleep(pause)  # think time, when asked for


async def _admin(
    stub: RecordingStub,
    corpus_dir: Path,
    every: float,
    stop_at: float,
    answer_deadline: float,
    out: list[_Reload],
) -> None:
    """Every ``every`` seconds: one more document in the corpus, then /reload and its reply."""
    admin = stub.user(ADMIN_ID, "Admin", language_code="en")
    key: Key = ("chat", ADMIN_ID)
    next_at = time.monotonic() + every
    for number in itertools.count(1):
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))  # the schedule
        if time.monotonic() >= stop_at:
            return
        (corpus_dir / f"soak-{number:04d}.md").write_text(
            f"---\ntitle: Soak {number}\nurl: https://example.org/soak/{number}\nlang: de\n---\n"
            f"Der Belastungstest fügte das Dokument Nummer {number} hinzu.\n",
            encoding="utf-8",
        )
        have = len(stub.replies[key])
        reload = _Reload(time.monotonic())
        out.append(reload)
        stub.send_private(admin, "/reload")
        if not await stub.wait_replies(key, have + 1, answer_deadline):
            return
        reply = stub.replies[key][have]
        reload.answered = True
        reload.reply_ms = (reply.time - reload.asked_at) * 1000
        reload.text = str(reply.params.get("text", ""))[:300]
        match = _RELOADED.match(reload.text)
        if match is not None:
            reload.ok = True
            reload.documents = int(match[1].replace(",", ""))
            reload.seconds = float(match[3])
        next_at = max(next_at + every, time.monotonic())


def _kind_summary(asked: list[_Asked], duplicates: int) -> dict[str, Any]:
    latencies = [a.latency_ms for a in asked if a.latency_ms is not None]
    return {
        "asked": len(asked),
        "answered": sum(1 for a in asked if a.latency_ms is not None and not a.failed),
        "failed": sum(1 for a in asked if a.failed),
        "lost": sum(1 for a in asked if a.latency_ms is None),
        "duplicates": duplicates,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": round(max(latencies), 3) if latencies else None,
    }


def _duplicates(stub: RecordingStub, asked: list[_Asked]) -> dict[str, int]:
    """Per kind: answers beyond one per question (a chat's or a query's replies minus asks)."""
    asks: dict[Key, int] = defaultdict(int)
    kind_of: dict[Key, str] = {}
    for a in asked:
        asks[a.key] += 1
        kind_of[a.key] = a.kind
    extra: dict[str, int] = dict.fromkeys(KINDS, 0)
    for key, count in asks.items():
        extra[kind_of[key]] += max(0, len(stub.replies[key]) - count)
    return extra


async def run(
    *,
    passages: int = 100_000,
    corpus: Path | None = None,
    seconds: float = 60.0,
    reload_every: float = 5.0,
    private: int = 100,
    groups: int = 20,
    inline: int = 30,
    mode: str = "polling",
    answer_timeout: float = 60.0,
    pause: float = 0.0,
    grace: float = 1.0,
) -> dict[str, Any]:
    """The whole soak in this event loop; returns the result dict (see ``main``)."""
    if mode not in ("polling", "webhook"):
        raise ValueError(f"mode must be polling or webhook, not {mode!r}")
    errors = ErrorCount()
    for name in ("bot", "telegram", "tests"):
        logging.getLogger(name).addHandler(errors)
    stub = RecordingStub()
    await stub.start()
    try:
        with tempfile.TemporaryDirectory(prefix="citebot-soak-") as tmp:
            corpus_dir = Path(tmp) / "corpus"
            texts = _write_corpus(corpus_dir, passages, corpus)
            settings = load_settings(
                corpus_dir=corpus_dir,
                telegram_bot_token=stub.token,
                telegram_api_url=stub.base_url,
                questions_per_minute=MAX_QUESTIONS_PER_MINUTE,
                admin_ids=frozenset({ADMIN_ID}),
                cache_dir=None,
                state_dir=Path(tmp) / "state",  # never the user's own bot state
            )
            started = time.perf_counter()
            loaded = load_corpus_for(settings)
            build_s = time.perf_counter() - started
            engine = loaded.engine
            if not texts:
                texts = [engine.passage_text(i) for i in range(engine.stats.passages)]
            questions = make_questions(texts, 5000)
            result = await _drive(
                stub,
                settings,
                loaded,
                corpus_dir=corpus_dir,
                questions=questions,
                mode=mode,
                seconds=seconds,
                reload_every=reload_every,
                private=private,
                groups=groups,
                inline=inline,
                answer_timeout=answer_timeout,
                pause=pause,
                grace=grace,
            )
    finally:
        await stub.stop()
        for name in ("bot", "telegram", "tests"):
            logging.getLogger(name).removeHandler(errors)
    return {
        "corpus": str(corpus) if corpus is not None else f"synthetic {passages} passages",
        "passages": engine.stats.passages,
        "documents": engine.stats.documents,
        "build_s": round(build_s, 3),
        "mode": mode,
        "seconds": seconds,
        "reload_every_s": reload_every,
        "people": {
            "private": private,
            "group_ask": groups,
            "group_mention": groups,
            "inline": inline,
        },
        "pause_s": pause,
        "questions_per_minute_setting": MAX_QUESTIONS_PER_MINUTE,
        "cpus": os.cpu_count(),
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        "logged_errors": errors.count,
        "refused_calls": stub.refused,
        **result,
    }


async def _drive(
    stub: RecordingStub,
    settings: Settings,
    loaded: LoadedCorpus,
    *,
    corpus_dir: Path,
    questions: list[str],
    mode: str,
    seconds: float,
    reload_every: float,
    private: int,
    groups: int,
    inline: int,
    answer_timeout: float,
    pause: float,
    grace: float,
) -> dict[str, Any]:
    app = await start_bot(settings, loaded, mode)
    try:
        cycle = itertools.cycle(questions)
        asked: list[_Asked] = []
        reloads: list[_Reload] = []
        t0 = time.monotonic()
        stop_at = t0 + seconds
        answer_deadline = stop_at + answer_timeout
        people: list[tuple[str, TgUser, int]] = []
        for i in range(private):
            user = stub.user(None, f"Private{i}", language_code="de")
            people.append(("private", user, user.id))
        for i in range(groups):
            people.append(("group_ask", stub.user(None, f"Ask{i}"), -1_000_000_000_000 - i))
            people.append(("group_mention", stub.user(None, f"Men{i}"), -1_000_000_100_000 - i))
        for i in range(inline):
            user = stub.user(None, f"Inline{i}", language_code="de")
            people.append(("inline", user, 0))
        tasks = [
            _person(stub, kind, user, chat, cycle, stop_at, answer_deadline, pause, asked)
            for kind, user, chat in people
        ]
        if reload_every > 0:
            tasks.append(_admin(stub, corpus_dir, reload_every, stop_at, answer_deadline, reloads))
        await asyncio.gather(*tasks)
        wall = time.monotonic() - t0
        await asyncio.sleep(grace)  # late or doubled answers still arrive
        extra = _duplicates(stub, asked)
        generation = app.bot_data.services.holder.generation
    finally:
        await stop_bot(app)
    by_kind = {
        kind: _kind_summary([a for a in asked if a.kind == kind], extra[kind]) for kind in KINDS
    }
    total = _kind_summary(asked, sum(extra.values()))
    answered = total["answered"]
    reload_seconds = [r.seconds for r in reloads if r.seconds is not None]
    reply_ms = [r.reply_ms for r in reloads if r.reply_ms is not None]
    return {
        "wall_s": round(wall, 3),
        "throughput_per_s": round(answered / wall, 1) if wall > 0 else None,
        "kinds": by_kind,
        "total": total,
        "reloads": {
            "requested": len(reloads),
            "ok": sum(1 for r in reloads if r.ok),
            "failed": [r.text for r in reloads if r.answered and not r.ok],
            "unanswered": sum(1 for r in reloads if not r.answered),
            "documents_after_last": reloads[-1].documents if reloads else None,
            "engine_swaps": generation,
            "seconds_p50": percentile(reload_seconds, 50),
            "seconds_max": round(max(reload_seconds), 3) if reload_seconds else None,
            "reply_ms_p50": percentile(reply_ms, 50),
        },
    }


def run_soak(**kwargs: Any) -> dict[str, Any]:
    """:func:`run` in a fresh event loop."""
    return asyncio.run(run(**kwargs))


def clean(result: dict[str, Any]) -> bool:
    """Nothing failed, lost or doubled, and every reload succeeded."""
    total: dict[str, int] = result["total"]
    reloads: dict[str, Any] = result["reloads"]
    return bool(
        total["failed"] == 0
        and total["lost"] == 0
        and total["duplicates"] == 0
        and reloads["ok"] == reloads["requested"]
    )


def _report(r: dict[str, Any]) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    lines = [
        f"citebot soak: {r['passages']:,} passages ({r['corpus']}, built in {r['build_s']:.1f} s);"
        f" mode {r['mode']}; {r['seconds']:.0f} s with /reload every {r['reload_every_s']} s;"
        f" {r['cpus']} CPUs, load average {r['loadavg_1m_at_end']} at the end",
        f"people: {r['people']}; pause {r['pause_s']} s; answers/s {r['throughput_per_s']}",
        "kind           asked  answered  failed  lost  dup   p50 ms   p95 ms   p99 ms   max ms",
    ]
    for kind, s in [*r["kinds"].items(), ("total", r["total"])]:
        lines.append(
            f"{kind:<13} {s['asked']:>6} {s['answered']:>9} {s['failed']:>7} {s['lost']:>5}"
            f" {s['duplicates']:>4} {ms(s['p50_ms']):>8} {ms(s['p95_ms']):>8}"
            f" {ms(s['p99_ms']):>8} {ms(s['max_ms']):>8}"
        )
    rl = r["reloads"]
    lines.append(
        f"reloads: {rl['ok']}/{rl['requested']} ok, failed {len(rl['failed'])}, unanswered "
        f"{rl['unanswered']}; build p50 {rl['seconds_p50']} s, max {rl['seconds_max']} s; "
        f"/reload to reply p50 {ms(rl['reply_ms_p50'])} ms; documents after the last "
        f"{rl['documents_after_last']}; engine swaps {rl['engine_swaps']}"
    )
    lines.append(
        f"errors logged by the bot: {r['logged_errors']}; calls Telegram refused: "
        f"{r['refused_calls']}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=100_000, help="synthetic corpus size")
    parser.add_argument("--corpus", type=Path, help="use a copy of this corpus directory instead")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long people ask")
    parser.add_argument("--reload-every", type=float, default=5.0, help="0: no reloads")
    parser.add_argument("--private", type=int, default=100, help="people asking in private")
    parser.add_argument("--groups", type=int, default=20, help="groups (one /ask, one mention)")
    parser.add_argument("--inline", type=int, default=30, help="people asking inline")
    parser.add_argument("--mode", choices=("polling", "webhook"), default="polling")
    parser.add_argument("--answer-timeout", type=float, default=60.0)
    parser.add_argument("--pause", type=float, default=0.0, help="think time after an answer")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = run_soak(
        passages=args.passages,
        corpus=args.corpus,
        seconds=args.seconds,
        reload_every=args.reload_every,
        private=args.private,
        groups=args.groups,
        inline=args.inline,
        mode=args.mode,
        answer_timeout=args.answer_timeout,
        pause=args.pause,
    )
    print(json.dumps(result) if args.json else _report(result), flush=True)
    return 0 if clean(result) else 1


if __name__ == "__main__":
    sys.exit(main())
