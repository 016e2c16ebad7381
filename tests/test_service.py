"""The engine holder: a reload lends the serving engine to the next build and swaps atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import CorpusError
from bot.search import Engine, LoadedCorpus, load_engine
from bot.service import CorpusHolder

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


async def test_reload_passes_the_serving_engine_and_keeps_it_on_failure() -> None:
    first = load_engine(CORPUS)
    seen: list[Engine] = []
    fail = False

    def loader(previous: Engine) -> LoadedCorpus:
        seen.append(previous)
        if fail:
            raise CorpusError("no usable document in /nowhere")
        return load_engine(CORPUS, previous=previous)

    holder = CorpusHolder(first, loader)
    result = await holder.reload()
    assert result.ok and seen == [first.engine]
    second = holder.engine
    assert second is not first.engine
    fail = True
    result = await holder.reload()
    assert not result.ok and "no usable document" in result.error
    assert holder.engine is second  # the old index keeps serving
    assert seen[-1] is second


@pytest.mark.parametrize("question", ["Lavrov", "Raketenangriffe auf die Infrastruktur"])
async def test_reloaded_engine_answers_like_a_fresh_one(question: str) -> None:
    first = load_engine(CORPUS)
    holder = CorpusHolder(first, lambda previous: load_engine(CORPUS, previous=previous))
    await holder.reload()
    fresh = load_engine(CORPUS).engine
    reloaded = await holder.search(question, k=5)
    assert reloaded.hits == fresh.search(question, k=5).hits
