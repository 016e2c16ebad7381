"""What a live channel post costs: indexing one new post into a running index
(:func:`bot.loader.apply_files`) against reading and indexing the whole corpus again.

Builds a synthetic German-like corpus (bench/speed.py's generator) as one .jsonl file in a
temporary directory, loads it once (not timed), then measures, each ``--repeat`` times with
fresh posts: the one-post update (only the post's file is read and analysed; the serving engine
lends the analysis of every other document), and the full load (what /reload would do without a
serving engine to borrow from). Snapshots are off, so neither writes one.

Usage: python bench/update.py [--passages 100000] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engine import SearchConfig
from bot.ingest import ChannelPost, write_post
from bot.loader import apply_files, load_engine
from tests.support.corpora import make_corpus

MB = 1024 * 1024


def _tag(i: int) -> str:
    """A made-up word per post, so its question finds exactly that post."""
    return "".join(chr(ord("a") + int(d)) for d in str(i))


def measure(passages: int, repeat: int) -> dict[str, float]:
    config = SearchConfig()
    documents, _ = make_corpus(passages)
    with tempfile.TemporaryDirectory(prefix="citebot-update-") as tmp:
        root = Path(tmp)
        with (root / "reports.jsonl").open("w", encoding="utf-8") as fh:
            for doc in documents:
                record = {"id": doc.id, "title": doc.title, "url": doc.url, "text": doc.text}
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        loaded = load_engine(root, config, max_file_bytes=4096 * MB)
        update_s: list[float] = []
        full_s: list[float] = []
        for i in range(repeat):
            post = ChannelPost(
                chat_id=-1001000000001,
                username="frontnews",
                message_id=i + 1,
                text=f"Meldung {i}\nDie Behelfsbrücke Quorx{_tag(i)} wurde beschädigt.",
            )
            _, path = write_post(root, post)
            started = time.perf_counter()
            loaded = apply_files(loaded, root, [path], config, max_file_bytes=4096 * MB)
            update_s.append(time.perf_counter() - started)
            hits = loaded.engine.search(f"Behelfsbrücke Quorx{_tag(i)}").hits
            assert hits and hits[0].url == f"https://t.me/frontnews/{i + 1}"
            started = time.perf_counter()
            load_engine(root, config, max_file_bytes=4096 * MB)
            full_s.append(time.perf_counter() - started)
    update = statistics.median(update_s)
    full = statistics.median(full_s)
    return {
        "passages": passages,
        "update_one_post_s": round(update, 3),
        "full_load_s": round(full, 3),
        "ratio": round(full / update, 2) if update else float("inf"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = measure(args.passages, args.repeat)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['passages']} passages: one post {result['update_one_post_s']:.3f} s,"
            f" full load {result['full_load_s']:.3f} s (median of {args.repeat};"
            f" {result['ratio']:.1f}x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
