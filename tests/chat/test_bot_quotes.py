"""End to end: what a reader sees of a post's headline and of a quote widened to its answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.bot_helpers import copy_corpus, make_settings, running_bot
from tests.support.botapi import BotApiStub

pytestmark = pytest.mark.usefixtures("no_handler_errors")

BAHN = (
    "Bahnstreik ab Montag\n"
    "Die GDL ruft von Montag an zu einem Streik von 48 Stunden auf. Fernzüge fallen aus.\n"
    "https://example.org/bahn\n"
)
TESLA = (
    "Nikola Tesla in Amerika\n"
    "Tesla zog 1884 nach New York, wo er zunächst für Thomas Edison arbeitete und dessen "
    "Gleichstrommaschinen verbessern sollte, bevor er sich nach einem Streit über eine "
    "versprochene Prämie von ihm trennte und eine eigene Firma gründete.\n\n"
    "Die Jahre danach waren unruhig. Sein Labor brannte 1895 ab. In den folgenden Jahren "
    "meldete er viele Patente an, die ihm Geld einbrachten.\n"
    "Er erfand den Wechselstrommotor, der die Stromversorgung der Städte veränderte.\n"
    "https://example.org/tesla\n"
)


async def test_a_headline_is_the_title_and_the_quote_is_its_body(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    corpus = copy_corpus(tmp_path)
    (corpus / "bahn.txt").write_text(BAHN, encoding="utf-8")
    anna = botapi.user(1001, "Anna", language_code="de")
    async with running_bot(botapi, make_settings(botapi, corpus)):
        botapi.send_private(anna, "Gibt es einen Bahnstreik?")
        reply = await botapi.next_message(anna)
    raw = reply["raw_text"]
    quote = raw.split("<blockquote>", 1)[1].split("</blockquote>", 1)[0]
    # The headline's words found the post; the body's share of them is bold.
    assert quote == (
        "Die GDL ruft von Montag an zu einem <b>Streik</b> von 48 Stunden auf. Fernzüge fallen aus."
    )
    # The headline is the document's title above its quotes, linked by its domain.
    assert raw.startswith("1 passende Stelle gefunden:\n\n<b>Bahnstreik ab Montag</b>\n")
    assert '<a href="https://example.org/bahn">example.org</a>\n<blockquote>' in raw


async def test_the_quote_holds_the_answer_of_the_next_sentence(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    corpus = copy_corpus(tmp_path)
    (corpus / "tesla.txt").write_text(TESLA, encoding="utf-8")
    anna = botapi.user(1001, "Anna", language_code="de")
    async with running_bot(botapi, make_settings(botapi, corpus)):
        botapi.send_private(anna, "Wofür meldete Tesla Patente an?")
        reply = await botapi.next_message(anna)
    raw = reply["raw_text"]
    quote = raw.split("<blockquote>", 1)[1].split("</blockquote>", 1)[0]
    # The passage (three sentences) matches "Patente"; the sentence after it, the next
    # passage's, points back with "Er" and is the answer: it joins the quote in place of the
    # passage's first sentence, which holds no word of the question. The matched words are
    # bold in the text shown.
    assert quote == (
        "Sein Labor brannte 1895 ab. In den folgenden Jahren <b>meldete</b> er viele "
        "<b>Patente</b> an, die ihm Geld einbrachten. "
        "Er erfand den Wechselstrommotor, der die Stromversorgung der Städte veränderte."
    )
