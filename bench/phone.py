"""How long an answer is on a phone: each question's reply rendered exactly as the bot sends
it, measured in characters as Telegram shows them and in lines on the yardstick of
tests/support/phone.py (33 characters a line, 30 lines a screen, 2 lines a row of buttons).

``--dated`` gives every quote a date and a channel post link, the longest line a document can
have. ``--button-rows`` is the rows of buttons under the answer (2: pages and order).

Usage: python bench/phone.py [--corpus DIR] [--dated] [--button-rows 2] [--json] [QUESTION ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.chat.html import render_answer_html
from bot.loader import load_engine
from tests.support.botapi import parse_telegram_html
from tests.support.paths import REPO_CORPUS
from tests.support.phone import SCREEN_LINES, phone_lines

QUESTIONS = (
    "Putin Scholz",
    "Peskov",
    "Zugeständnisse",
    "Lavrov",
    "Verhandlungen",
    "Biden",
    "Ukraine Russland",
)


def run(
    corpus: Path = REPO_CORPUS,
    questions: tuple[str, ...] = QUESTIONS,
    *,
    dated: bool = False,
    button_rows: int = 2,
) -> dict[str, Any]:
    """Every question's reply (3 quotes) in characters, phone lines and screens."""
    engine = load_engine(corpus).engine
    rows: list[dict[str, Any]] = []
    for question in questions:
        answer = engine.search(question, k=3)
        if dated:
            hits = tuple(
                dataclasses.replace(h, date="2022-12-02", post_url="https://t.me/isw_de/1234")
                for h in answer.hits
            )
            answer = dataclasses.replace(answer, hits=hits)
        shown = parse_telegram_html(render_answer_html(answer, "de"))
        lines = phone_lines(shown, button_rows=button_rows)
        rows.append(
            {
                "question": question,
                "quotes": len(answer.hits),
                "documents": len({hit.document for hit in answer.hits}),
                "chars": len(shown),
                "lines": lines,
                "screens": round(lines / SCREEN_LINES, 2),
            }
        )
    return {
        "screen_lines": SCREEN_LINES,
        "answers": rows,
        "max_chars": max(r["chars"] for r in rows),
        "max_lines": max(r["lines"] for r in rows),
        "max_screens": max(r["screens"] for r in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", nargs="*")
    parser.add_argument("--corpus", type=Path, default=REPO_CORPUS)
    parser.add_argument("--dated", action="store_true")
    parser.add_argument("--button-rows", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(
        args.corpus,
        tuple(args.questions) or QUESTIONS,
        dated=args.dated,
        button_rows=args.button_rows,
    )
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for row in result["answers"]:
        print(
            f"{row['question']:<20} {row['quotes']} quotes / {row['documents']} doc:"
            f" {row['chars']:>5} chars, {row['lines']:>3} lines = {row['screens']} screens"
        )
    print(f"longest: {result['max_chars']} chars, {result['max_lines']} lines")


if __name__ == "__main__":
    main()
