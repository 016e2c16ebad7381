"""Sentence splitting: citebot's own rules against pySBD and SoMaJo, on quality and speed.

Quality is pySBD's German suite (tests/support/sentence_suite.py, 35 cases; sentences compared
whitespace-normalised; SoMaJo returns tokens, so its sentences are compared without spaces).
Speed is characters per second over real German text (the XQuAD-de contexts given with
``--xquad``) and over the synthetic corpus ``bench/speed.py`` builds, extrapolated to that
corpus at 1M passages. ``--baseline FILE`` adds another version of ``bot/engine/passages.py``
(e.g. ``git show main:bot/engine/passages.py > /tmp/passages_main.py``) to the comparison.
pySBD and SoMaJo are measured when installed (``pip install pysbd somajo``).

With ``--xquad``, the quotes too: for each question's top 3 hits (cut-off off), how often the
quote is its passage widened by a neighbouring sentence (bot/engine/quotes.py), the quotes'
length in characters and sentences, and how often the first quote holds the answer.

Usage: python bench/sentences.py [--xquad FILE] [--baseline FILE] [--passages 20000] [--json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engine.passages import split_sentences
from tests.support.corpora import make_corpus
from tests.support.sentence_suite import CASES, normalise

Splitter = Callable[[str], list[str]]


def _spans_splitter(split: Callable[[str], Any]) -> Splitter:
    return lambda text: [text[s.start : s.end] for s in split(text)]


def _baseline(path: Path) -> Splitter:
    spec = importlib.util.spec_from_file_location("baseline_passages", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return _spans_splitter(module.split_sentences)


def _pysbd() -> Splitter | None:
    try:
        import pysbd
    except ImportError:
        return None
    segmenter = pysbd.Segmenter(language="de", clean=False)
    return lambda text: [str(s) for s in segmenter.segment(text)]


def _somajo() -> Splitter | None:
    try:
        from somajo import SoMaJo
    except ImportError:
        return None
    tokenizer = SoMaJo("de_CMC", split_camel_case=False)

    def split(text: str) -> list[str]:
        # Paragraphs are its unit: a blank line or a line break ends a paragraph.
        paragraphs = [line for line in text.split("\n") if line.strip()]
        return [
            " ".join(token.text for token in sentence)
            for sentence in tokenizer.tokenize_text(paragraphs)
        ]

    return split


def suite_score(split: Splitter, *, tokens: bool = False) -> tuple[int, list[int]]:
    """Cases passed, and the numbers of those failed."""
    failed = []
    for number, case in enumerate(CASES):
        got = [normalise(s) for s in split(case.text) if s.strip()]
        want = [normalise(s) for s in case.expected]
        if tokens:
            got = [s.replace(" ", "") for s in got]
            want = [s.replace(" ", "") for s in want]
        if got != want:
            failed.append(number)
    return len(CASES) - len(failed), failed


def chars_per_second(split: Splitter, texts: list[str], budget: float = 20.0) -> float:
    """Best of up to three passes (each at most ``budget`` seconds of text)."""
    best = 0.0
    for _ in range(3):
        done = 0
        started = time.perf_counter()
        for text in texts:
            split(text)
            done += len(text)
            if time.perf_counter() - started > budget:
                break
        best = max(best, done / (time.perf_counter() - started))
    return best


def quote_stats(path: Path) -> dict[str, float]:
    """What the top 3 quotes of each XQuAD question look like."""
    from bench.retrieval import NO_CUTOFF, load_squad
    from bot.engine import Engine

    documents, questions, _ = load_squad(path)
    engine = Engine.build(documents, NO_CUTOFF)
    table = engine.parts.passages
    pid_of = {
        (documents[int(d)].id, int(i)): pid
        for pid, (d, i) in enumerate(zip(table.document, table.index, strict=True))
    }
    quotes = widened = first_has_answer = 0
    chars: list[int] = []
    passage_chars: list[int] = []  # the same hits unwidened
    widened_chars: list[int] = []
    sentences: list[int] = []
    for q in questions:
        hits = engine.search(q.text, k=3).hits
        for hit in hits:
            doc, index = hit.passage.rsplit(":p", 1)
            quotes += 1
            passage = engine.passage_text(pid_of[doc, int(index)])
            passage_chars.append(len(passage))
            if hit.text != passage:
                widened += 1
                widened_chars.append(len(hit.text))
            chars.append(len(hit.text))
            sentences.append(len(split_sentences(hit.text)))
        if hits and hits[0].document == q.paragraph and any(a in hits[0].text for a in q.answers):
            first_has_answer += 1
    return {
        "quotes": quotes,
        "widened": round(widened / max(quotes, 1), 4),
        "mean_chars": round(sum(chars) / max(len(chars), 1), 1),
        "mean_passage_chars": round(sum(passage_chars) / max(len(passage_chars), 1), 1),
        "max_chars": max(chars, default=0),  # a passage of one long sentence
        "max_widened_chars": max(widened_chars, default=0),
        "max_sentences": max(sentences, default=0),
        "first_quote_has_answer": round(first_has_answer / max(len(questions), 1), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xquad", type=Path, help="SQuAD-format JSON: its contexts as text")
    parser.add_argument("--baseline", type=Path, help="another bot/engine/passages.py")
    parser.add_argument("--passages", type=int, default=20_000, help="synthetic sample size")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    splitters: dict[str, tuple[Splitter, bool]] = {
        "citebot": (_spans_splitter(split_sentences), False)
    }
    if args.baseline:
        splitters["baseline"] = (_baseline(args.baseline), False)
    for name, make, tokens in (("pysbd", _pysbd, False), ("somajo", _somajo, True)):
        found = make()
        if found is not None:
            splitters[name] = (found, tokens)

    documents, _ = make_corpus(args.passages)
    synthetic = [doc.text for doc in documents]
    per_passage = sum(map(len, synthetic)) / args.passages
    samples = {"synthetic": synthetic}
    if args.xquad:
        data = json.loads(args.xquad.read_text(encoding="utf-8"))["data"]
        samples["xquad"] = [p["context"] for a in data for p in a["paragraphs"]]

    result: dict[str, Any] = {}
    for name, (split, tokens) in splitters.items():
        passed, failed = suite_score(split, tokens=tokens)
        row: dict[str, Any] = {"suite": passed, "of": len(CASES), "failed": failed}
        for sample, texts in samples.items():
            row[f"{sample}_chars_per_s"] = round(chars_per_second(split, texts))
        row["seconds_at_1M_passages"] = round(1e6 * per_passage / row["synthetic_chars_per_s"], 1)
        result[name] = row
    if args.xquad:
        result["quotes"] = quote_stats(args.xquad)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"synthetic corpus: {per_passage:.0f} characters per passage")
    for name, row in result.items():
        if name == "quotes":
            print("quotes (top 3, cut-off off): " + ", ".join(f"{k} {v}" for k, v in row.items()))
            continue
        speeds = "  ".join(f"{k} {v:,}" for k, v in row.items() if k.endswith("_per_s"))
        print(
            f"{name:9} suite {row['suite']}/{row['of']} (failed {row['failed']})  {speeds}  "
            f"1M passages: {row['seconds_at_1M_passages']} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
