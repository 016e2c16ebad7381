"""bench/soak.py in-process: mixed load (private, group /ask and mentions, inline) while an admin
reloads; nothing fails, nothing is lost, nothing is answered twice, every reload succeeds."""

from __future__ import annotations

import json

from bench.soak import KINDS, clean, run
from tests.support.bot_helpers import REPO_CORPUS


async def test_soak_with_reloads_loses_and_doubles_nothing() -> None:
    result = await run(
        corpus=REPO_CORPUS,
        seconds=8,
        reload_every=2,
        private=12,
        groups=4,
        inline=6,
        pause=0.05,  # keeps each person far below the flood limit on a fast machine
        answer_timeout=30,
    )
    result = json.loads(json.dumps(result))  # it is plain JSON
    for kind in KINDS:
        summary = result["kinds"][kind]
        assert summary["asked"] > 0, kind
        assert summary["answered"] == summary["asked"], (kind, summary)
        assert summary["failed"] == summary["lost"] == summary["duplicates"] == 0, kind
        assert 0 < summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"] <= summary["max_ms"]
    reloads = result["reloads"]
    assert reloads["requested"] >= 3 and reloads["ok"] == reloads["requested"], reloads
    assert reloads["failed"] == [] and reloads["unanswered"] == 0
    # each reload picked up the document the admin had just added
    assert reloads["documents_after_last"] == result["documents"] + reloads["requested"]
    assert result["logged_errors"] == 0 and result["refused_calls"] == 0
    assert clean(result)
