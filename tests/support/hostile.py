"""Hostile inputs shared by the tests of several layers (issue 17)."""

from __future__ import annotations


def alias_bomb(levels: int) -> str:
    """Issue 17's front matter: each level nine aliases of the one before, under ``markup:``
    (9 levels: 409 bytes standing for 9**9 strings, about a minute and GBs when expanded)."""
    lines = ["---", "url: https://e.org/bomb", "markup:"]
    lines.append("  l0: &l0 [" + ",".join(["lol"] * 9) + "]")
    for level in range(1, levels):
        lines.append(f"  l{level}: &l{level} [" + ",".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join([*lines, "---", "Text.", ""])
