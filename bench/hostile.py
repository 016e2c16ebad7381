"""Hostile corpus files (issue 17): how long one takes to read, and how much memory.

Each case writes one file as a hostile admin or upload would, then reads it with
``bot.corpus.load_file`` in a fresh child process (so that one case's memory is not another's)
and reports the wall time of the read and the peak RSS growth of the child during it, with what
came out (documents, passages of the largest, skip reasons). The child runs under an address-space
limit and a timeout, so a case that would take the machine down ends as "MemoryError" or
"timeout" instead.

``--questions`` instead builds an engine over ``--passages`` generated passages (the corpus of
``bench/load.py``) and times one search per hostile question: compounds of 500-4000 letters
made of corpus words after one known word, and questions of 1000 and 4000 characters of words.

``--big-document MB`` writes one ``.jsonl`` line of that many MB (sentences of the generated
corpus, so its words are everyone's words), reads it with ``load_file``, builds an engine over it
and ``--passages`` generated passages, and times 30 generated questions.

``--memory N`` builds an engine over ``--passages`` passages and asks it N distinct questions
of about 500 characters (made-up words, two of the corpus's own among them, so every word goes
through the whole search), then N/2 inline-style searches (five results, first and second
page) of as many other distinct questions; it reports the process's RSS after the build and
every N/10 questions (after a garbage collection), and the per-term caches' bytes at the end.

Usage: python bench/hostile.py [--case yaml-bomb|nested-html|one-line-jsonl ...]
       [--memory-limit-mb 4096] [--timeout 120] [--json]
       python bench/hostile.py --questions [--passages 100000] [--json]
       python bench/hostile.py --big-document 40 [--passages 20000] [--json]
       python bench/hostile.py --memory 20000 [--passages 100000] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent


def yaml_bomb(dirpath: Path) -> Path:
    """Issue 17 #4: nine levels of nine aliases each under ``markup:`` (478 bytes)."""
    lines = ["---", "url: https://e.org/bomb", "markup:"]
    lines.append("  l0: &l0 [" + ",".join(["lol"] * 9) + "]")
    for level in range(1, 9):
        lines.append(f"  l{level}: &l{level} [" + ",".join([f"*l{level - 1}"] * 9) + "]")
    path = dirpath / "bomb.md"
    path.write_text("\n".join([*lines, "---", "Text.", ""]), encoding="utf-8")
    return path


def nested_html(dirpath: Path) -> Path:
    """Issue 17 #11: 100,000 nested ``<div>``s around one sentence (1.1 MB)."""
    depth = 100_000
    html = (
        "<html><body>"
        + "<div>" * depth
        + "Ein Satz ganz tief unten."
        + "</div>" * depth
        + "<p>Quelle: https://e.org/tief</p></body></html>"
    )
    path = dirpath / "nested.html"
    path.write_text(html, encoding="utf-8")
    return path


def one_line_jsonl(dirpath: Path) -> Path:
    """Issue 17 #7: one 40 MB JSON line, one document of sentences."""
    sentence = "Die Regierung hat am Montag neue Regeln für alle Bürger der Stadt beschlossen. "
    text = sentence * (40_000_000 // len(sentence))
    row = {"id": "gross", "url": "https://e.org/gross", "title": "Groß", "text": text}
    path = dirpath / "gross.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


CASES: dict[str, Callable[[Path], Path]] = {
    "yaml-bomb": yaml_bomb,
    "nested-html": nested_html,
    "one-line-jsonl": one_line_jsonl,
}


def _child(path: Path, limit_mb: int) -> None:
    """Read one file; print what happened as one JSON line."""
    if limit_mb > 0:
        limit = limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from bot.corpus import load_file

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    try:
        docs, skips = load_file(path, path.parent)
        outcome: dict[str, object] = {
            "documents": len(docs),
            "largest_chars": max((len(d.text) for d in docs), default=0),
            "skipped": [s.reason for s in skips],
        }
    except MemoryError:
        outcome = {"error": "MemoryError"}
    seconds = time.perf_counter() - start
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    figures = {"seconds": round(seconds, 3), "peak_rss_growth_mb": round(grown / 1024, 1)}
    print(json.dumps({**figures, **outcome}))


def run_case(name: str, limit_mb: int, timeout: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="citebot-hostile-") as tmp:
        path = CASES[name](Path(tmp))
        size = path.stat().st_size
        cmd = [sys.executable, __file__, "--child", str(path), "--memory-limit-mb", str(limit_mb)]
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
            )
        except subprocess.TimeoutExpired:
            return {"case": name, "bytes": size, "error": f"timeout after {timeout:g} s"}
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            tail = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
            return {"case": name, "bytes": size, "error": tail[0]}
        return {"case": name, "bytes": size, **json.loads(lines[-1])}


def hostile_questions(passages: int) -> list[dict[str, object]]:
    """One timed search per hostile question, on an engine built first (not timed)."""
    import random

    from bot.engine import Engine, SearchConfig
    from tests.support.corpora import make_corpus

    documents, texts = make_corpus(passages)
    engine = Engine.build(documents, SearchConfig())
    rng = random.Random(5)
    words = sorted({w.strip(".,").lower() for t in texts[:2000] for w in t.split() if len(w) > 5})

    def joined(sep: str, length: int) -> str:
        out = ""
        while len(out) < length:
            out += sep + rng.choice(words)
        return out[len(sep) : length + len(sep)]

    sizes = (500, 1000, 2000, 4000)
    questions = [(f"compound-{n}", f"{words[0]} {joined('', n).capitalize()}") for n in sizes]
    questions += [(f"words-{n}", joined(" ", n)) for n in (1000, 4000)]
    results: list[dict[str, object]] = []
    for name, question in questions:
        start = time.perf_counter()
        answer = engine.search(question)
        seconds = time.perf_counter() - start
        results.append(
            {"question": name, "chars": len(question), "seconds": round(seconds, 3)}
            | {"hits": len(answer.hits)}
        )
    return results


def big_document(megabytes: float, passages: int) -> dict[str, object]:
    """Questions against a corpus holding one document of one huge line."""
    import random

    from bot.corpus import load_file
    from bot.engine import Engine, SearchConfig
    from tests.support.corpora import make_corpus, make_questions

    documents, texts = make_corpus(passages)
    rng = random.Random(3)
    pieces: list[str] = []
    size = 0
    while size < megabytes * 1e6:
        pieces.append(rng.choice(texts))
        size += len(pieces[-1].encode()) + 1
    row = {"id": "gross", "url": "https://e.org/gross", "text": " ".join(pieces)}
    with tempfile.TemporaryDirectory(prefix="citebot-hostile-") as tmp:
        path = Path(tmp) / "gross.jsonl"
        path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
        file_bytes = path.stat().st_size
        start = time.perf_counter()
        big, _ = load_file(path, path.parent)
        load_seconds = time.perf_counter() - start
    engine = Engine.build([*documents, *big], SearchConfig())
    times: list[float] = []
    from_big = 0
    for question in make_questions(texts, 30):
        start = time.perf_counter()
        answer = engine.search(question)
        times.append(time.perf_counter() - start)
        from_big += any(hit.document.startswith("gross") for hit in answer.hits)
    times.sort()
    return {
        "file_mb": round(file_bytes / 1e6, 1),
        "documents_from_it": len(big),
        "passages": engine.stats.passages,
        "load_s": round(load_seconds, 2),
        "questions": len(times),
        "answered_from_it": from_big,
        "median_ms": round(1000 * times[len(times) // 2]),
        "max_ms": round(1000 * times[-1]),
    }


def rss_mb() -> float:
    """The resident set size now (not the peak), from /proc."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def distinct_questions(count: int, known: list[str], seed: int) -> Iterator[str]:
    """``count`` questions of about 500 characters, none repeating a made-up word."""
    import random

    rng = random.Random(seed)
    syllables = [a + b for a in "bdfgklmnprstvwz" for b in ("a", "e", "i", "o", "u", "au", "ei")]
    for _ in range(count):
        words: list[str] = rng.sample(known, 2)
        while sum(len(w) + 1 for w in words) < 500:
            words.append(
                "".join(rng.choices(syllables, k=rng.randint(2, 5))) + str(rng.randrange(10**6))
            )
        rng.shuffle(words)
        yield " ".join(words)[:500]


def memory_soak(questions: int, passages: int) -> dict[str, object]:
    """RSS while one engine answers many distinct long questions."""
    import gc

    from bot.engine import Engine, SearchConfig
    from tests.support.corpora import make_corpus

    sizes: Callable[[], int] | None = None
    try:
        from bot.engine.termcache import total_cache_bytes

        sizes = total_cache_bytes
    except ImportError:  # before the caches had byte budgets
        pass

    documents, texts = make_corpus(passages)
    engine = Engine.build(documents, SearchConfig())
    known = sorted({w.strip(".,") for t in texts[:500] for w in t.split() if len(w) > 6})
    gc.collect()
    base = rss_mb()
    samples: list[dict[str, object]] = []
    start = time.perf_counter()
    step = max(questions // 10, 1)
    for n, question in enumerate(distinct_questions(questions, known, 1), start=1):
        engine.search(question)
        if n % step == 0:
            gc.collect()
            samples.append({"questions": n, "rss_mb": round(rss_mb(), 1)})
    after_questions = rss_mb()
    inline = questions // 2
    for n, question in enumerate(distinct_questions(inline, known, 2), start=1):
        engine.search(question, k=5, offset=5 * (n % 2))
    gc.collect()
    end = rss_mb()
    return {
        "passages": engine.stats.passages,
        "rss_after_build_mb": round(base, 1),
        "questions": questions,
        "growth_after_questions_mb": round(after_questions - base, 1),
        "inline_searches": inline,
        "growth_by_inline_mb": round(end - after_questions, 1),
        "growth_total_mb": round(end - base, 1),
        "seconds": round(time.perf_counter() - start, 1),
        "cache_mb": None if sizes is None else round(sizes() / 1e6, 1),
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--memory-limit-mb", type=int, default=4096)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--questions", action="store_true")
    parser.add_argument("--passages", type=int, default=None)
    parser.add_argument("--big-document", type=float, default=None, metavar="MB")
    parser.add_argument("--memory", type=int, default=None, metavar="QUESTIONS")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _child(args.child, args.memory_limit_mb)
        return
    if args.memory is not None:
        results = [memory_soak(args.memory, args.passages or 100_000)]
    elif args.big_document is not None:
        results = [big_document(args.big_document, args.passages or 20_000)]
    elif args.questions:
        results = hostile_questions(args.passages or 100_000)
    else:
        limit, timeout = args.memory_limit_mb, args.timeout
        results = [run_case(name, limit, timeout) for name in args.case or CASES]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for result in results:
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
