"""The Bot API conformance check (tests/support/botapi_conformance.py) finds what Telegram's
published parameter lists rule out, and the stand-in records it for every call; every e2e test
of the bot (``running_bot``) then expects none."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tests.support.botapi import BotApiStub
from tests.support.botapi_conformance import (
    DEFAULT_SPEC,
    VENDORED_SPEC,
    extract,
    load_spec,
    spec_path,
    violations,
)


def test_a_bare_clone_checks_against_the_vendored_extract(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without ../shared the calls are still checked: against the extract in the repository."""
    monkeypatch.delenv("BOTAPI_SPEC", raising=False)
    monkeypatch.setattr("tests.support.botapi_conformance.DEFAULT_SPEC", DEFAULT_SPEC / "absent")
    assert spec_path() == VENDORED_SPEC
    assert violations("frobnicate", {}) == ["frobnicate: no such method"]
    assert violations("sendMessage", {"chat_id": 1, "text": "x"}) == []


def test_the_vendored_extract_is_the_published_spec_cut_to_the_bot() -> None:
    if not DEFAULT_SPEC.is_file():
        pytest.skip(f"no published spec at {DEFAULT_SPEC} to compare the extract with")
    vendored = json.loads(VENDORED_SPEC.read_text(encoding="utf-8"))
    assert vendored == extract(load_spec(DEFAULT_SPEC), sorted(vendored["methods"]))


def test_unknown_missing_and_mistyped_parameters() -> None:
    assert violations("editMessageReplyMarkup", {"chat_id": 1, "message_id": 2}) == []
    assert violations(
        "editMessageReplyMarkup", {"chat_id": 1, "message_id": 2, "parse_mode": "HTML"}
    ) == ["editMessageReplyMarkup: unknown parameter 'parse_mode'"]
    assert violations("sendMessage", {"chat_id": "-100123"}) == [
        "sendMessage: required parameter 'text' missing"
    ]
    assert violations("sendMessage", {"chat_id": "1", "text": "x", "disable_notification": "x"})
    assert violations("frobnicate", {}) == ["frobnicate: no such method"]
    # form fields arrive as text: numbers and booleans written out are what Telegram takes
    assert violations("answerCallbackQuery", {"callback_query_id": "7", "show_alert": "true"}) == []


def test_objects_are_checked_field_by_field() -> None:
    long_data = {"inline_keyboard": [[{"text": "▶", "callback_data": "x" * 65}]]}
    assert violations("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": long_data}) == [
        "sendMessage.reply_markup.inline_keyboard[0][0].callback_data: 65 bytes, not 1-64"
    ]
    result = {
        "type": "article",
        "id": "r1",
        "title": "t",
        "input_message_content": {"message_text": "x", "parse_mode": "HTML", "bogus": 1},
    }
    assert violations("answerInlineQuery", {"inline_query_id": "1", "results": [result]}) == [
        "answerInlineQuery.results[0].input_message_content:"
        " InputTextMessageContent has no field 'bogus'"
    ]
    button = {"text": "Hilfe", "start_parameter": "help"}
    good = {"inline_query_id": "1", "results": json.dumps([]), "button": button}
    assert violations("answerInlineQuery", good) == []
    many = [
        dict(result, id=f"r{i}", input_message_content={"message_text": "x"}) for i in range(51)
    ]
    assert violations("answerInlineQuery", {"inline_query_id": "1", "results": many}) == [
        "answerInlineQuery.results: 51 > 50 results"
    ]
    assert violations("answerCallbackQuery", {"callback_query_id": "1", "text": "x" * 201})


@pytest.mark.bad_bot_api_calls
async def test_the_stand_in_records_every_departure(botapi: BotApiStub) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{botapi.base_url}{botapi.token}/setMyDescription"
        async with session.post(url, data={"description": "Hallo", "colour": "blau"}) as response:
            assert response.status == 400  # the stand-in refuses what Telegram would not take
    assert botapi.violations() == ["#0 setMyDescription: unknown parameter 'colour'"]
