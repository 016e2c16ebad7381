"""Dates as readers and scripts get them: bot.texts.format_date in the reader's language (or
nothing), bot.serving.answers.iso_date in `ask --json`."""

from __future__ import annotations

import pytest

from bot.serving.answers import iso_date
from bot.texts import format_date


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        ("2022-12-02", "de", "2. Dezember 2022"),
        ("2022-12-02", "en", "2 December 2022"),
        ("2024-03-05", "de", "5. März 2024"),
        ("2024-05-01T23:30:00+02:00", "de", "1. Mai 2024"),  # the day as written, not UTC's
        ("2024-01-31T08:00:00", "en", "31 January 2024"),
        ("2024-07-14", "fr", "14 July 2024"),  # a language without its own strings: English
    ],
)
def test_dates_in_the_readers_language(value: str, lang: str, expected: str) -> None:
    assert format_date(value, lang) == expected


@pytest.mark.parametrize("value", [None, "", "gestern", "2024-02-30"])
def test_no_date_says_nothing(value: str | None) -> None:
    assert format_date(value, "de") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-05", "2024-01-05"),
        ("2024-01-05 10:00", "2024-01-05T10:00:00"),
        ("2024-01-05T10:00:00+01:00", "2024-01-05T10:00:00+01:00"),
        (None, None),
    ],
)
def test_json_dates_are_iso_8601(value: str | None, expected: str | None) -> None:
    assert iso_date(value) == expected
