"""Issue 17 #13: what a forged client can put where the bot reads numbers back, and a mention
after letters whose lower case is longer (through the real Application and the stand-in)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.chat.offsets import MAX_OFFSET, parse_offset
from bot.texts import text
from tests.support.bot_helpers import BOT, copy_corpus, data_of, make_settings, running_bot
from tests.support.botapi import BotApiStub

pytestmark = pytest.mark.usefixtures("no_handler_errors")

FORGED = ["²", "٣", "１", "9" * 5000, "-1", "+1", "01", " 1", "1 ", "1_0", str(MAX_OFFSET + 1), ""]


@pytest.mark.parametrize("value", ["0", "5", "4096", str(MAX_OFFSET)])
def test_offsets_written_by_the_bot_parse(value: str) -> None:
    assert parse_offset(value) == int(value)


@pytest.mark.parametrize("value", [*FORGED, None])
def test_forged_offsets_are_refused(value: str | None) -> None:
    assert parse_offset(value) is None


async def test_forged_inline_offsets_and_button_data_get_answers_not_tracebacks(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    anna = botapi.user(7001, "Anna", language_code="en")
    async with running_bot(botapi, make_settings(botapi, copy_corpus(tmp_path))):
        first = await botapi.inline_answer(botapi.inline_query(anna, "Putin"))
        for offset in FORGED:
            page = await botapi.inline_answer(botapi.inline_query(anna, "Putin", offset=offset))
            assert [r["id"] for r in page["results"]] == [r["id"] for r in first["results"]]

        botapi.send_private(anna, "Putin")
        reply = await botapi.next_message(anna)
        forward = data_of(reply, "▶")
        prefix, _, order, lang, key = forward.split(":")
        for offset in ["²", "9" * 5000, "-3", str(MAX_OFFSET + 1)]:
            for data in (f"{prefix}:{offset}:{order}:{lang}:{key}", f"more:{offset}:{key}"):
                pressed = botapi.press_button(anna, reply, data, check=False)
                answer = await botapi.callback_answer(pressed)
                assert answer["text"] == text("bot_expired", "en")
        pressed = botapi.press_button(anna, reply, forward)
        assert (await botapi.callback_answer(pressed)).get("text") is None
        edited = await botapi.next_edit(anna)
        assert edited["message_id"] == reply["message_id"]
        assert "<b>Putin</b>" in edited["raw_text"]


async def test_a_mention_after_letters_that_grow_in_lower_case_cuts_the_mention_only(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    anna = botapi.user(7002, "Anna")
    group = -1001700000010
    async with running_bot(botapi, make_settings(botapi, copy_corpus(tmp_path))):
        # "İ".lower() is two characters: each one moved the old cut one place to the right.
        botapi.send_group(anna, group, f"İ İ İ İ İ İ @{BOT} Lavrov")
        reply = await botapi.next_message(group)
        assert "<b>Lavrov</b>" in reply["raw_text"]
        botapi.send_group(anna, group, f"👍🏽 İ İ @{BOT} Lavrov @{BOT}")
        assert "<b>Lavrov</b>" in (await botapi.next_message(group))["raw_text"]
