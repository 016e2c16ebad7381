"""bench/phone.py measures what it says, and holds the target: a 3-quote answer from one
document, dated and with both links, within one phone screen with its two rows of buttons."""

from __future__ import annotations

from bench.phone import run


def test_three_quotes_from_one_document_take_at_most_one_screen() -> None:
    result = run(dated=True, button_rows=2)
    single = [row for row in result["answers"] if row["quotes"] == 3 and row["documents"] == 1]
    assert len(single) >= 5
    assert all(row["lines"] <= result["screen_lines"] for row in single), result
    assert result["max_screens"] <= 1.0
    assert all(0 < row["chars"] < 1000 for row in result["answers"])
