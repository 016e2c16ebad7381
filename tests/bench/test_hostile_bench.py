"""bench/hostile.py runs and reports what it says: the hostile files refused in a child process
within issue 17's bounds (1 s, 50 MB of peak RSS growth; the time bound here is generous, as the
machine is shared), and a small memory soak."""

from __future__ import annotations

import pytest

from bench.hostile import memory_soak, run_case


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("yaml-bomb", "bad front matter: aliases (*name) are not allowed (line 5)"),
        ("nested-html", "html nested too deeply (more than 1000 levels)"),
    ],
)
def test_hostile_files_are_refused_within_the_bounds(case: str, reason: str) -> None:
    result = run_case(case, limit_mb=4096, timeout=60)
    assert result["skipped"] == [reason], result
    assert float(result["seconds"]) < 5
    assert float(result["peak_rss_growth_mb"]) <= 50


def test_the_memory_soak_reports_a_bounded_growth() -> None:
    result = memory_soak(questions=200, passages=2000)
    assert result["questions"] == 200 and result["inline_searches"] == 100
    assert float(result["growth_total_mb"]) < 60
    assert 0 < float(result["cache_mb"]) < 64
