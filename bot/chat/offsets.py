"""Result offsets read back from Telegram: the inline query's ``offset`` and the "more" button's
callback data. A client can send anything there (the Bot API says so), so they are parsed
strictly: ``str.isdigit`` accepts "²" and 5,000 digits, which ``int`` refuses with a traceback."""

from __future__ import annotations

import re

__all__ = ["MAX_OFFSET", "parse_offset"]

#: No question has more passages worth paging to; larger offsets are forged.
MAX_OFFSET = 1_000_000
_OFFSET_RE = re.compile(r"(?:0|[1-9][0-9]{0,6})", re.ASCII)


def parse_offset(value: str | None) -> int | None:
    """The offset written as ASCII digits (no sign, no leading zero), at most
    :data:`MAX_OFFSET`; None for anything else."""
    if value is None or _OFFSET_RE.fullmatch(value) is None:
        return None
    offset = int(value)
    return offset if offset <= MAX_OFFSET else None
