"""End to end: an English question to the bot over German sources gets the German quotes, and
one line in English saying that they are German; a German question gets no such line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.test_bilingual import DING, GERMAN
from tests.support.bot_helpers import make_settings, running_bot
from tests.support.botapi import BotApiStub

pytestmark = pytest.mark.usefixtures("no_handler_errors")


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, text in enumerate(GERMAN):
        (corpus / f"d{i}.md").write_text(
            f"---\ntitle: Bericht {i}\nurl: https://example.org/{i}\nlang: de\n---\n{text}\n",
            encoding="utf-8",
        )
    return corpus


async def test_an_english_question_gets_german_quotes_and_is_told_so(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    ding = tmp_path / "de-en"
    ding.write_text(DING, encoding="utf-8")
    settings = make_settings(botapi, _corpus(tmp_path), dictionary_path=ding)
    emma = botapi.user(2002, "Emma", language_code="en")
    anna = botapi.user(2003, "Anna", language_code="de")
    async with running_bot(botapi, settings):
        botapi.send_private(emma, "Is there bread in the city?")
        reply = await botapi.next_message(emma)
        header, quotes = reply["text"].split("\n", 1)
        assert header == "Found 1 matching passage:"
        assert quotes.startswith("The quotes are in German.\n")
        assert "die Bäckereien sind geschlossen" in quotes
        assert "<b>Brot</b>" in reply["raw_text"] and "<b>Stadt</b>" in reply["raw_text"]

        botapi.send_private(emma, "Was it a good harvest of potatoes?")
        nothing = await botapi.next_message(emma)
        assert "quotes are in" not in nothing["text"]

        botapi.send_private(anna, "Gibt es Brot in der Stadt?")
        german = await botapi.next_message(anna)
        assert "Zitate" not in german["text"] and "<b>Brot</b>" in german["raw_text"]
        botapi.send_private(anna, "Is there bread in the city?")
        told = await botapi.next_message(anna)
        assert "\nDie Zitate sind auf Deutsch.\n" in told["text"]
