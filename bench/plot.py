"""Plot of question latency against corpus size, from the JSON that bench/speed.py writes.

Lines: citebot full search p50 (p95 dashed, same colour), citebot word field alone p50 and
rank_bm25 get_scores p50, on log-log axes, with the targets of issue 4 as markers. Several JSON
files are merged (e.g. the small sizes from one run and the 1M point from another); a size present
in more than one file takes the figures of the last file given.

Needs matplotlib (pip install -e '.[bench]').

Usage: python bench/plot.py RESULTS.json [MORE.json ...] [-o docs/latency.png]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "latency.png"

# (passages, milliseconds, label) — the targets of issue 4.
TARGETS: tuple[tuple[int, float, str], ...] = (
    (100_000, 0.3, "p50"),
    (1_000_000, 2.0, "p50"),
    (1_000_000, 5.0, "p95"),
)

# White box behind point labels so lines and grid do not run through the text.
LABEL_BOX: dict[str, Any] = {"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8}

# (JSON key, legend label, colour, line style)
SERIES: tuple[tuple[str, str, str, str], ...] = (
    ("p50_ms", "citebot full search p50", "tab:blue", "-"),
    ("p95_ms", "citebot full search p95", "tab:blue", "--"),
    ("stem_field_p50_ms", "citebot word field alone p50", "tab:green", "-"),
    ("baseline_p50_ms", "rank_bm25 get_scores p50", "tab:red", "-"),
)


def load_sizes(paths: list[Path]) -> list[dict[str, Any]]:
    """The per-size records of every file, one per corpus size, sorted by size."""
    by_size: dict[int, dict[str, Any]] = {}
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        for record in data["sizes"]:
            by_size[int(record["passages"])] = dict(record)
    return [by_size[size] for size in sorted(by_size)]


def series(sizes: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    """The (passages, value) points of one measure, skipping sizes where it is missing."""
    xs: list[int] = []
    ys: list[float] = []
    for record in sizes:
        value = record.get(key)
        if value is not None:
            xs.append(int(record["passages"]))
            ys.append(float(value))
    return xs, ys


def plot(sizes: list[dict[str, Any]], output: Path) -> None:
    """Write the latency-vs-corpus-size PNG to ``output``."""
    fig, ax = plt.subplots(figsize=(9, 6), dpi=120)
    for key, label, colour, style in SERIES:
        xs, ys = series(sizes, key)
        if xs:
            ax.plot(xs, ys, style, color=colour, marker="o", markersize=5, label=label)
            for x, y in zip(xs, ys, strict=True):
                ax.annotate(
                    f"{y:.3g}",
                    (x, y),
                    textcoords="offset points",
                    xytext=(6, -3),
                    fontsize=7,
                    color=colour,
                    bbox=LABEL_BOX,
                )

    target_x = [x for x, _, _ in TARGETS]
    target_y = [y for _, y, _ in TARGETS]
    ax.scatter(
        target_x,
        target_y,
        marker="*",
        s=180,
        color="black",
        zorder=5,
        label="issue 4 target",
    )
    for x, y, which in TARGETS:
        ax.annotate(
            f"target {which} {y:g} ms",
            (x, y),
            textcoords="offset points",
            xytext=(-12, 8),
            ha="right",
            fontsize=8,
            bbox=LABEL_BOX,
        )

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("corpus size (passages)")
    ax.set_ylabel("milliseconds per question")
    ax.set_title("Question latency against corpus size: citebot and rank_bm25")
    ax.grid(True, which="major", linestyle="-", alpha=0.5)
    ax.grid(True, which="minor", linestyle=":", alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("results", nargs="+", type=Path, help="JSON from bench/speed.py --json")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="PNG to write")
    args = parser.parse_args(argv)
    sizes = load_sizes(args.results)
    if not sizes:
        print("no sizes in the given files", file=sys.stderr)
        return 1
    plot(sizes, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
