"""A question with its filters: the words to rank, a period, a source channel, and the order.

Readers type filters into the question ("Inflation seit:2024-01-01 @lageticker"), so every caller
gets them from one parser: :func:`parse_query` takes the filter tokens out and leaves the
question's words. A token that looks like a filter but does not parse ("seit:gestern") stays a
word of the question: nothing a reader typed is silently dropped.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass

from bot import tme

__all__ = ["Query", "parse_query", "period_end", "period_start"]


@dataclass(frozen=True, slots=True)
class Query:
    """What the engine ranks: the question's words and the filters that bound its candidates."""

    #: The question words, filter tokens removed.
    text: str
    since: datetime.date | None = None
    #: Inclusive: a document of that day passes.
    until: datetime.date | None = None
    #: A source channel's key (:func:`bot.tme.channel_key`): its username lowercase, or
    #: ``c<id>``.
    channel: str | None = None
    #: Newest first instead of best first (among the same answers).
    newest: bool = False

    @property
    def filtered(self) -> bool:
        """Whether a period or a channel bounds the candidates."""
        return self.since is not None or self.until is not None or self.channel is not None


_SINCE = ("seit:", "since:")
_UNTIL = ("bis:", "until:")
_CHANNEL = ("kanal:", "channel:")
_MONTH_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_YEAR_RE = re.compile(r"\d{4}")
_GERMAN_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
# Punctuation that ends a sentence after a filter token ("… seit 2024-01?").
_TRAILING = ".,;:!?)"
_TOKEN_RE = re.compile(r"\S+")


def _period(value: str) -> tuple[datetime.date, datetime.date] | None:
    """The first and last day a period names: a day (2024-03-05, 5.3.2024), a month
    (2024-03) or a year (2024); None if it names none."""
    value = value.strip()
    try:
        if _YEAR_RE.fullmatch(value):
            year = int(value)
            return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        month = _MONTH_RE.fullmatch(value)
        if month:
            year, number = int(month[1]), int(month[2])
            last = calendar.monthrange(year, number)[1]
            return datetime.date(year, number, 1), datetime.date(year, number, last)
        german = _GERMAN_RE.fullmatch(value)
        if german:
            day = datetime.date(int(german[3]), int(german[2]), int(german[1]))
            return day, day
        if len(value) == 10:
            day = datetime.date.fromisoformat(value)
            return day, day
    except ValueError:
        return None
    return None


def period_start(value: str) -> datetime.date | None:
    """The first day of the period ``value`` names (``since``), None if it names none."""
    found = _period(value)
    return None if found is None else found[0]


def period_end(value: str) -> datetime.date | None:
    """The last day of the period ``value`` names (``until``, inclusive), None if none."""
    found = _period(value)
    return None if found is None else found[1]


@dataclass(slots=True)
class _Filters:
    since: datetime.date | None = None
    until: datetime.date | None = None
    channel: str | None = None

    def take(self, token: str, following: str | None) -> int:
        """How many tokens (0, 1 or 2: "seit: 2024") ``token`` uses as a filter."""
        lowered = token.lower()
        for prefixes, kind in ((_SINCE, "since"), (_UNTIL, "until"), (_CHANNEL, "channel")):
            prefix = next((p for p in prefixes if lowered.startswith(p)), None)
            if prefix is None:
                continue
            value, used = token[len(prefix) :], 1
            if not value and following is not None:
                value, used = following, 2
            return used if self._set(kind, value.rstrip(_TRAILING)) else 0
        bare = token.rstrip(_TRAILING)
        if bare.startswith("@") and tme.USERNAME_RE.fullmatch(bare[1:]):
            return 1 if self._set("channel", bare) else 0
        month = _MONTH_RE.fullmatch(bare)
        if month and not _season(month):
            return 1 if self._set("month", bare) else 0
        return 0

    def _set(self, kind: str, value: str) -> bool:
        if kind == "channel":
            key = tme.channel_key(value)
            if key is None:
                return False
            self.channel = key  # the last channel named wins
            return True
        found = _period(value)
        if found is None:
            return False
        # Several periods narrow each other: a document must lie in all of them.
        if kind in ("since", "month"):
            self.since = found[0] if self.since is None else max(self.since, found[0])
        if kind in ("until", "month"):
            self.until = found[1] if self.until is None else min(self.until, found[1])
        return True


def _season(month: re.Match[str]) -> bool:
    """ "2001-02" in a question is more often a season (2001/02) than February 2001: a bare
    month whose number is the next year's last two digits is read as words ("seit:2001-02"
    still filters)."""
    return int(month[2]) == (int(month[1]) + 1) % 100


def parse_query(raw: str) -> Query:
    """The question ``raw`` with its filter tokens taken out: ``seit:``/``since:`` and
    ``bis:``/``until:`` with a day, month or year; a bare month ``2024-03``; ``@channel`` or
    ``kanal:``/``channel:`` with a channel. Without filter tokens the text is ``raw`` itself."""
    filters = _Filters()
    tokens = list(_TOKEN_RE.finditer(raw))
    cut: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        following = tokens[i + 1].group() if i + 1 < len(tokens) else None
        used = filters.take(tokens[i].group(), following)
        if used:
            cut.append((tokens[i].start(), tokens[i + used - 1].end()))
            i += used
        else:
            i += 1
    if not cut:
        return Query(raw)
    kept: list[str] = []
    position = 0
    for start, end in cut:
        kept.append(raw[position:start])
        position = end
    kept.append(raw[position:])
    text = " ".join("".join(kept).split())
    return Query(text, filters.since, filters.until, filters.channel)
