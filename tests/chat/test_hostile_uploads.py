"""Hostile files uploaded by an admin (issue 17 #4, #11), through the real Application and the
stand-in: refused at once with the reason, nothing written, the bot answers on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.bot_helpers import ADMIN_ID, copy_corpus, make_settings, running_bot
from tests.support.botapi import BotApiStub
from tests.support.hostile import alias_bomb

pytestmark = pytest.mark.usefixtures("no_handler_errors")


async def test_an_alias_bomb_and_a_div_tower_are_refused(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    corpus = copy_corpus(tmp_path)
    admin = botapi.user(ADMIN_ID, "Olga", language_code="en")
    tower = "<div>" * 100_000 + "tief" + "</div>" * 100_000 + "<p>https://e.org/tief</p>"
    async with running_bot(botapi, make_settings(botapi, corpus)):
        botapi.send_document(admin, "bomb.md", alias_bomb(9).encode(), "text/markdown")
        refused = await botapi.next_message(admin, timeout=10)
        assert refused["text"].startswith("bomb.md was not added: bad front matter: aliases")
        botapi.send_document(admin, "tief.html", tower.encode(), "text/html")
        refused = await botapi.next_message(admin, timeout=10)
        assert refused["text"].startswith("tief.html was not added: html nested too deeply")
        assert not (corpus / "uploads").exists()
        botapi.send_private(admin, "Lavrov")
        assert "<b>Lavrov</b>" in (await botapi.next_message(admin))["raw_text"]
