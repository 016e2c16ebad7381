"""Write the benchmark corpus of bench/speed.py as corpus files, to time a whole restart.

`bench/speed.py` measures the index from documents already in memory; a real `citebot ask` or
`citebot run` also reads every file of CORPUS_DIR. This writes the same synthetic documents as
`.txt` files (title line, text, source URL on the last line, as the shipped corpus), a thousand
per directory, so the whole path can be timed:

    python bench/write_corpus.py --passages 1000000 /tmp/big/corpus
    time CORPUS_DIR=/tmp/big/corpus CACHE_DIR=/tmp/big/cache citebot ask "Lagebericht Angriff"

Usage: python bench/write_corpus.py [--passages N] DIR
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.corpora import make_corpus


def write_corpus(passages: int, out: Path) -> int:
    """The documents of ``make_corpus(passages)`` as files under ``out``; how many."""
    documents, _ = make_corpus(passages)
    for number, doc in enumerate(documents):
        folder = out / f"{number // 1000:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        text = f"{doc.title}\n\n{doc.text}\n\n{doc.url}\n"
        (folder / f"{number:07d}.txt").write_text(text, encoding="utf-8")
    return len(documents)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    count = write_corpus(args.passages, args.directory)
    print(f"{count:,} documents written to {args.directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
