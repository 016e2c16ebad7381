"""bench/speed.py's filter cases in-process: each case asks what it says, on a small corpus."""

from __future__ import annotations

from bench.speed import dated_corpus, filter_cases, measure_filters
from bot.engine import Engine
from tests.support.corpora import make_corpus, make_questions

CASES = {"unfiltered", "second_page", "newest", "period", "channel", "all"}


def test_filter_cases_are_timed_against_the_unfiltered_question() -> None:
    documents, texts = make_corpus(2_000)
    dated = dated_corpus(documents)
    assert sum(d.date is None for d in dated) == len(dated) // 20
    assert {d.path.split("/")[1] for d in dated} == {f"kanal{i}" for i in range(10)}
    engine = Engine.build(dated)
    questions = make_questions(texts, 12)
    result = measure_filters(engine, questions)
    assert set(result) == CASES | {"first_filtered_question_ms"}
    assert result["unfiltered"]["extra_p50_ms"] == 0.0
    for case in CASES:
        assert result[case]["p50_ms"] > 0 and result[case]["p50_cpu_ms"] >= 0
    # The cases filter as named: hits of the period and channel only, newest first.
    for i, question in enumerate(questions):
        cases = filter_cases(question, i)
        period, _ = cases["period"]
        assert period.since is not None and period.until is not None
        for hit in engine.search(period, k=10).hits:
            assert hit.date is not None and str(period.since) <= hit.date <= str(period.until)
        channel, _ = cases["channel"]
        for hit in engine.search(channel, k=10).hits:
            assert hit.document in {d.id for d in dated if f"/{channel.channel}/" in d.path}
        newest, _ = cases["newest"]
        dates = [hit.date or "" for hit in engine.search(newest, k=10).hits]
        assert dates == sorted(dates, reverse=True)
