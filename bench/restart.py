"""A whole restart, timed as a user sees it: `citebot ask` in a new process, corpus files on disk.

`bench/speed.py` times the index from documents already in memory. Here the benchmark corpus is
written as files (`bench/write_corpus.py`), and each run is a new `python -m bot ask --json`
process with its own CORPUS_DIR and CACHE_DIR, timed from start to exit:

- cold: the first run, with an empty cache directory (read every file, build, save);
- restart: later runs (the corpus file cache and the index snapshot, nothing changed);
- serve: later runs as `citebot run` restarts (bot/loader.py `open_last_for`): the last
  committed index opened from the pointer in CACHE_DIR without a look at the corpus files, the
  first answer, then the check of the files the bot runs in the background (timed apart);
- baseline, in the same run: a process that restarts as citebot did before the corpus file
  cache (read and parse every file, hash them, load the snapshot, answer), with the same
  settings, cache and question. Restarts and baselines alternate, so noise hits both.

Every run must print the same answer, or the benchmark fails.

Usage: python bench/restart.py [--passages N] [--repeat R] [--corpus DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUESTION = "Lagebericht Angriff"
#: Bound on one child process (a cold build at a million passages takes about two minutes).
TIMEOUT_S = 900


def _baseline_child(question: str) -> int:
    """The restart before the corpus file cache: every file read, every document hashed."""
    from bot.corpus import load_corpus
    from bot.loader import search_config
    from bot.serving import answer_to_dict
    from bot.settings import Settings
    from bot.store import snapshot

    settings = Settings()
    config = search_config(settings)
    corpus_dir, cache_dir = settings.corpus_dir, settings.cache_dir
    if cache_dir is None:
        raise SystemExit("the baseline needs CACHE_DIR")
    corpus = load_corpus(
        corpus_dir,
        default_lang=config.default_lang,
        max_file_bytes=settings.max_file_mb * 1024 * 1024,
    )
    key = snapshot.snapshot_key(corpus.documents, config)
    engine = snapshot.load_snapshot(corpus.documents, config, cache_dir, corpus_dir, key)
    if engine is None:
        raise SystemExit("no snapshot to restart from")
    answer = engine.search(question, k=settings.results_per_answer)
    print(json.dumps(answer_to_dict(answer), ensure_ascii=False))
    return 0


def _serve_child(question: str, check_first: bool = False) -> int:
    """The bot's restart: the last committed index, the first answer, then the files' check
    (``check_first``: the files checked before the first answer, as `citebot ask` does)."""
    started = time.perf_counter()
    from bot.loader import load_corpus_for, open_last_for
    from bot.serving import answer_to_dict
    from bot.serving.watch import check_corpus
    from bot.settings import Settings

    settings = Settings()
    imported = time.perf_counter()
    if check_first:
        loaded = load_corpus_for(settings)
        answer = loaded.engine.search(question, k=settings.results_per_answer)
        answered = time.perf_counter()
        print(json.dumps(answer_to_dict(answer), ensure_ascii=False))
        timings = {"imports_s": imported - started, "load_to_answer_s": answered - imported}
        print(json.dumps(timings))
        return 0
    last = open_last_for(settings)
    if last is None:
        raise SystemExit("no committed index to restart from")
    loaded = last
    answer = loaded.engine.search(question, k=settings.results_per_answer)
    answered = time.perf_counter()
    print(json.dumps(answer_to_dict(answer), ensure_ascii=False))
    changed = check_corpus(settings, loaded)
    checked = time.perf_counter()
    timings = {
        "imports_s": imported - started,
        "load_to_answer_s": answered - imported,
        "check_s": checked - answered,
        "changed": len(changed),
    }
    print(json.dumps(timings))
    return 0


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[1:4]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, done.stdout


def run(passages: int, repeat: int, corpus: Path | None = None) -> dict[str, Any]:
    """Cold start, then ``repeat`` restarts and baselines, alternating; medians and ratio."""
    from bench.write_corpus import write_corpus

    with tempfile.TemporaryDirectory(prefix="citebot-restart-") as tmp:
        if corpus is None:
            corpus = Path(tmp) / "corpus"
            write_corpus(passages, corpus)
        files = sum(1 for _ in corpus.rglob("*.txt"))
        size_mb = sum(p.stat().st_size for p in corpus.rglob("*.txt")) / 1e6
        env = {
            **os.environ,
            "CORPUS_DIR": str(corpus),
            "CACHE_DIR": str(Path(tmp) / "cache"),
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        }
        ask = [sys.executable, "-m", "bot", "ask", "--json", QUESTION]
        baseline = [sys.executable, str(Path(__file__).resolve()), "--baseline-child", QUESTION]
        serve = [sys.executable, str(Path(__file__).resolve()), "--serve-child", QUESTION]
        first = [sys.executable, str(Path(__file__).resolve()), "--check-first-child", QUESTION]
        cold_s, expected = _timed(ask, env)
        restarts: list[float] = []
        baselines: list[float] = []
        serves: list[float] = []
        in_process: list[dict[str, float]] = []
        checked_first: list[dict[str, float]] = []
        same = True
        for _ in range(repeat):
            seconds, answer = _timed(ask, env)
            restarts.append(seconds)
            same = same and json.loads(answer) == json.loads(expected)
            seconds, answer = _timed(baseline, env)
            baselines.append(seconds)
            same = same and json.loads(answer) == json.loads(expected)
            seconds, output = _timed(serve, env)
            answer, timings = output.splitlines()
            serves.append(seconds)
            in_process.append(json.loads(timings))
            same = same and json.loads(answer) == json.loads(expected)
            _, output = _timed(first, env)
            answer, timings = output.splitlines()
            checked_first.append(json.loads(timings))
            same = same and json.loads(answer) == json.loads(expected)
        if not same:
            raise RuntimeError("a restart answered differently from the first run")
        if any(t["changed"] for t in in_process):
            raise RuntimeError("the check found changes in an unchanged corpus")

        def p50(name: str) -> float:
            return round(statistics.median(t[name] for t in in_process), 3)

        restart_p50 = statistics.median(restarts)
        baseline_p50 = statistics.median(baselines)
        return {
            "passages": passages,
            "files": files,
            "corpus_mb": round(size_mb, 1),
            "cold_s": round(cold_s, 3),
            "restart_p50_s": round(restart_p50, 3),
            "restart_runs_s": [round(s, 3) for s in restarts],
            "baseline_p50_s": round(baseline_p50, 3),
            "baseline_runs_s": [round(s, 3) for s in baselines],
            "speedup_p50": round(baseline_p50 / restart_p50, 2),
            "serve_p50_s": round(statistics.median(serves), 3),
            "serve_runs_s": [round(s, 3) for s in serves],
            "serve_imports_p50_s": p50("imports_s"),
            "serve_load_to_answer_p50_s": p50("load_to_answer_s"),
            "serve_check_p50_s": p50("check_s"),
            # The same in-process span when the files are checked first (`citebot ask`'s way).
            "check_first_load_to_answer_p50_s": round(
                statistics.median(t["load_to_answer_s"] for t in checked_first), 3
            ),
            "same_answers": same,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--corpus", type=Path, default=None, help="a corpus bench/write_corpus.py wrote already"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--baseline-child", metavar="QUESTION", help=argparse.SUPPRESS)
    parser.add_argument("--serve-child", metavar="QUESTION", help=argparse.SUPPRESS)
    parser.add_argument("--check-first-child", metavar="QUESTION", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_child is not None:
        return _baseline_child(args.baseline_child)
    if args.serve_child is not None:
        return _serve_child(args.serve_child)
    if args.check_first_child is not None:
        return _serve_child(args.check_first_child, check_first=True)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    result = run(args.passages, args.repeat, args.corpus)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>16}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
