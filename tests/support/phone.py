"""The phone-screen yardstick for replies (docs/BENCHMARKS.md, "Phone screen"): how many lines a
message takes on a 6-inch phone, and how many fit on one screen.

A 6.1-inch phone (1080 x 2400 px, about 411 x 914 dp) with Telegram's default text size shows
about 36 characters of German prose per line in a message bubble and about 33 inside a quote,
whose bar and padding take the rest; between the chat's top bar and the input field there is
room for about 30 lines. A row of inline buttons takes about as much height as 2 lines of text.
The count is pessimistic: every line is wrapped at 33 characters, quote or not.
"""

from __future__ import annotations

import textwrap

__all__ = ["BUTTON_ROW_LINES", "LINE_CHARS", "SCREEN_LINES", "phone_lines"]

LINE_CHARS = 33
SCREEN_LINES = 30
BUTTON_ROW_LINES = 2


def phone_lines(text: str, button_rows: int = 0) -> int:
    """The lines ``text`` (as Telegram shows it, without markup) and ``button_rows`` rows of
    buttons take on the phone: each paragraph wrapped at word boundaries, a blank line one."""
    lines = sum(
        max(1, len(textwrap.wrap(line, LINE_CHARS, break_on_hyphens=False)))
        for line in text.split("\n")
    )
    return lines + BUTTON_ROW_LINES * button_rows
