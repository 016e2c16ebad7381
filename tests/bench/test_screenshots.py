"""bench/screenshots.py draws the README's pictures from the bot's real replies."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from bench.screenshots import WIDTH, capture

NAMES = ("answer.png", "paged.png", "inline.png")


async def test_the_three_screenshots_are_drawn(tmp_path: Path) -> None:
    await capture(tmp_path)
    sizes = {name: Image.open(tmp_path / name).size for name in NAMES}
    assert all(width == WIDTH and height > 400 for width, height in sizes.values()), sizes
