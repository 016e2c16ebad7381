"""German and English typography and wording, checked on the exact text: the string table's
formatter (counts, numbers, decimals, percent, quotation marks), the one interface-language
rule, and the replies the real bot sends against the Bot API stand-in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.texts import decimal, number, quoted, templates, text, ui_language
from tests.support.bot_helpers import ADMIN_ID, copy_corpus, make_settings, running_bot
from tests.support.botapi import BotApiStub

NBSP = "\u00a0"


def test_counts_take_the_singular_or_the_plural_never_both() -> None:
    assert text("bot_found", "de", total=1) == "1 passende Stelle gefunden:"
    assert text("bot_found", "de", total=3) == "3 passende Stellen gefunden:"
    assert text("bot_found", "en", total=1) == "Found 1 matching passage:"
    assert text("bot_found", "en", total=3) == "Found 3 matching passages:"
    assert text("skipped_header", "de", count=0) == "0 Dateien übersprungen:"
    assert text("bot_welcome", "de", documents=1, passages=2).startswith(
        "Ich beantworte Fragen mit wörtlichen Zitaten aus 1 Dokument (2 Passagen),"
    )
    assert "aus 12 Dokumenten (1 Passage)" in text("bot_welcome", "de", documents=12, passages=1)


def test_no_template_hedges_a_plural() -> None:
    """No "Stelle(n)", "Dokument(e)", "file(s)" in any string, and no "hier 1–1"."""
    for key, lang, template in templates():
        for hedge in ("(n)", "(e)", "(en)", "(s)", "Kanal/Kanäle", "hier {"):
            assert hedge not in template, (key, lang, hedge)


def test_german_templates_keep_german_typography() -> None:
    """In German: a no-break space before %, s and MB, in "z. B."; „…“, never "…" or “…”."""
    for key, lang, template in templates():
        if lang != "de":
            continue
        assert not re.search(r"[}\d] (%|s\b|MB)", template), key
        assert "z. B." not in template and '"' not in template, key
        assert "“" not in template.replace("„", "").replace("“", "", template.count("„")), key


def test_numbers_decimals_and_percent_follow_the_language() -> None:
    assert number(12345, "de") == "12.345" and number(12345, "en") == "12,345"
    assert number(999, "de") == "999"
    assert decimal(0.0712, "de") == "0,07" and decimal(0.0712, "en") == "0.07"
    assert text("bot_reloaded", "de", documents=2, passages=1234, seconds=0.0712) == (
        f"Neu geladen: 2 Dokumente, 1.234 Passagen in 0,07{NBSP}s."
    )
    assert text("bot_reloaded", "en", documents=1, passages=1, seconds=1.5) == (
        "Reloaded: 1 document, 1 passage in 1.50 s."
    )
    window = {"days": 7, "questions": 17, "unanswered": 3, "percent": 18}
    assert text("bot_stats_window", "de", **window) == (
        f"Fragen der letzten 7 Tage: 17, davon 3 ohne Antwort (18{NBSP}%)"
    )
    assert text("bot_stats_window", "en", **window) == (
        "Questions in the last 7 days: 17, 3 of them without an answer (18%)"
    )


def test_sizes_in_megabytes() -> None:
    assert text("upload_too_large", "de", name="a.pdf", size_mb=25.3, limit_mb=20.0) == (
        f"a.pdf wurde nicht aufgenommen: 25,3{NBSP}MB, erlaubt sind 20{NBSP}MB (MAX_FILE_MB)."
    )
    assert text("upload_too_large", "en", name="a.pdf", size_mb=25.3, limit_mb=20.0) == (
        "a.pdf was not added: 25.3 MB, the limit is 20 MB (MAX_FILE_MB)."
    )


def test_quotation_marks() -> None:
    assert quoted("Zitat", "de") == "„Zitat“"
    assert quoted("quote", "en") == "“quote”"
    assert text("bot_not_a_question", "de", example="Wer?") == (
        f"Bitte stelle deine Frage in Worten, z.{NBSP}B. „Wer?“."
    )


@pytest.mark.parametrize(
    ("code", "default", "lang"),
    [
        ("de", "en", "de"),
        ("de-AT", "en", "de"),
        ("en-GB", "de", "en"),
        ("EN", "de", "en"),
        ("fr", "de", "de"),
        ("pt-br", "en", "en"),
        (None, "de", "de"),
        ("", "en", "en"),
    ],
)
def test_the_interface_language(code: str | None, default: str, lang: str) -> None:
    assert ui_language(code, default) == lang


e2e = pytest.mark.usefixtures("no_handler_errors")


@e2e
async def test_readers_get_their_language_or_the_default(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    """A French reader and one without a language get DEFAULT_LANGUAGE (German here); an /ask
    in a channel too, although an English reader in private gets English."""
    settings = make_settings(botapi, copy_corpus(tmp_path), default_language="de")
    marie = botapi.user(5001, "Marie", language_code="fr")
    nobody = botapi.user(5002, "Nobody", language_code=None)
    bob = botapi.user(5003, "Bob", language_code="en")
    async with running_bot(botapi, settings):
        botapi.send_private(marie, "Wie wird das Wetter morgen?")
        assert (await botapi.next_message(marie))["text"].startswith(
            "Nichts in den Quellen beantwortet diese Frage. Die Sammlung umfasst 1 Dokument,"
        )
        botapi.send_private(nobody, "Lavrov")
        assert " passende Stelle" in (await botapi.next_message(nobody))["text"].split("\n")[0]
        botapi.send_private(bob, "Wie wird das Wetter morgen?")
        assert (await botapi.next_message(bob))["text"].startswith("Nothing in the sources")
        botapi.channel_post(-100901, "/ask")
        usage = await botapi.next_message(-100901)
        assert usage["text"].startswith("So geht’s: /ask gefolgt von deiner Frage")


@e2e
async def test_an_english_default_serves_other_languages_in_english(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    settings = make_settings(botapi, copy_corpus(tmp_path), default_language="en")
    marie = botapi.user(5011, "Marie", language_code="fr")
    anna = botapi.user(5012, "Anna", language_code="de")
    async with running_bot(botapi, settings):
        botapi.send_private(marie, "/ask")
        assert (await botapi.next_message(marie))["text"].startswith("Usage: /ask followed by")
        botapi.send_private(anna, "/ask")
        assert (await botapi.next_message(anna))["text"].startswith("So geht’s: /ask")
        botapi.channel_post(-100902, "/ask")
        assert (await botapi.next_message(-100902))["text"].startswith("Usage: /ask")


@e2e
async def test_stats_wording_in_german(botapi: BotApiStub, tmp_path: Path) -> None:
    settings = make_settings(botapi, copy_corpus(tmp_path))
    admin = botapi.user(ADMIN_ID, "Admin", language_code="de")
    async with running_bot(botapi, settings):
        for question in ("Lavrov", "Wie backe ich Brot?", "Wie wird das Wetter morgen?"):
            botapi.send_private(admin, question)
            await botapi.next_message(admin)
        botapi.send_private(admin, "/stats")
        lines = (await botapi.next_message(admin))["text"].split("\n")
    assert lines[0].startswith("Läuft seit: 00:00:")
    assert lines[1].startswith("Quellen: 1 Dokument, ") and lines[1].endswith(" Passagen")
    assert lines[2:4] == [
        f"Fragen der letzten 7 Tage: 3, davon 2 ohne Antwort (67{NBSP}%)",
        f"Fragen der letzten 30 Tage: 3, davon 2 ohne Antwort (67{NBSP}%)",
    ]
    assert lines[5] == "Häufigste Fragen ohne Antwort der letzten 30 Tage:"


@e2e
async def test_descriptions_are_set_at_start_in_both_languages(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    """Telegram's "What can this bot do?" screen and the profile: German, English, and for
    every other language DEFAULT_LANGUAGE's, within the Bot API's 512 and 120 characters."""
    settings = make_settings(botapi, copy_corpus(tmp_path), default_language="de")
    async with running_bot(botapi, settings):
        assert botapi.description("de") == text("bot_description", "de")
        assert botapi.description("en") == text("bot_description", "en")
        assert botapi.description() == text("bot_description", "de")
        assert botapi.short_description("de") == (
            "Antworten mit wörtlichen Zitaten aus den Quellen, mit Datum und Link."
        )
        assert botapi.short_description("en") == text("bot_short_description", "en")
        assert botapi.short_description() == text("bot_short_description", "de")
        assert botapi.commands()[0]["description"] == "Was dieser Bot kann"
    for lang in ("de", "en"):
        assert 0 < len(text("bot_description", lang)) <= 512
        assert 0 < len(text("bot_short_description", lang)) <= 120
    assert text("bot_description", "de").startswith(
        "Ich beantworte Fragen zu meinen Quellen mit wörtlichen Zitaten"
    )
