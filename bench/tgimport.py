"""Importing a large Telegram Desktop export: time, memory, and that a second import changes
nothing.

Writes a synthetic channel export of ``--mb`` megabytes (tests/support/export_factory.py,
streamed to disk, every message shape mixed in), imports it into an empty corpus directory, and
imports it again. Memory: the first import runs in a child process, whose peak resident size
(``ru_maxrss``) is compared with a child that only loads the same modules; with ``--traced``,
also tracemalloc's peak of Python allocations in this process (slower).

Usage: python bench/tgimport.py [--mb 100] [--traced] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.ingest import import_export
from tests.support.export_factory import write_large_export

_CHILD = """
import resource, sys
from pathlib import Path
from bot.ingest.tgexport import import_export
if sys.argv[1] != "-":
    import_export(Path(sys.argv[1]), Path(sys.argv[2]), channel="lageticker")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _child_peak_mb(*args: str) -> float:
    """Peak RSS (MB) of a fresh interpreter running the import (or only loading, with "-")."""
    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    return float(done.stdout.strip())


def measure(megabytes: int, traced: bool) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory(prefix="citebot-import-") as tmp:
        export = Path(tmp) / "result.json"
        write_large_export(export, megabytes * 1024 * 1024)
        corpus = Path(tmp) / "corpus"
        baseline = _child_peak_mb("-", "-")
        started = time.perf_counter()
        child_peak = _child_peak_mb(str(export), str(Path(tmp) / "child-corpus"))
        child_s = time.perf_counter() - started
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        first = import_export(export, corpus, channel="lageticker")
        first_s = time.perf_counter() - started
        traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else 0.0
        if traced:
            tracemalloc.stop()
        started = time.perf_counter()
        second = import_export(export, corpus, channel="lageticker")
        second_s = time.perf_counter() - started
        assert second.created == second.updated == 0 and second.unchanged == first.created
        return {
            "export_mb": round(export.stat().st_size / 2**20, 1),
            "posts": first.created,
            "skipped": first.skipped_service + first.skipped_empty,
            "import_s": round(first_s, 1),
            "child_import_s": round(child_s, 1),
            "peak_rss_mb": round(child_peak, 1),
            "baseline_rss_mb": round(baseline, 1),
            "tracemalloc_peak_mb": round(traced_peak, 2),
            "reimport_s": round(second_s, 1),
            "reimport_unchanged": second.unchanged,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--mb", type=int, default=100, help="size of the generated export")
    parser.add_argument("--traced", action="store_true", help="also measure with tracemalloc")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = measure(args.mb, args.traced)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['export_mb']} MB export, {result['posts']} posts: imported in"
            f" {result['import_s']} s; peak RSS {result['peak_rss_mb']} MB against"
            f" {result['baseline_rss_mb']} MB for the interpreter with the modules loaded"
            + (f", tracemalloc peak {result['tracemalloc_peak_mb']} MB" if args.traced else "")
            + f"; again in {result['reimport_s']} s, {result['reimport_unchanged']} unchanged"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
