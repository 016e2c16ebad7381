"""Access: only ADMIN_IDS run admin commands or upload, whoever they pretend to be; webhooks need
the secret; the token never reaches a log; an upload's name never leads out of CORPUS_DIR."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.errors import UploadError
from bot.ingest import UPLOAD_DIR, accept_upload, check_upload, safe_file_name
from tests.support.bot_helpers import (
    ADMIN_ID,
    BOT,
    Lines,
    copy_corpus,
    free_port,
    kill_if_running,
    make_settings,
    running_bot,
    start_run,
    stop_run,
)
from tests.support.botapi import BotApiStub, TgUser, compute_entities

REFUSED_EN = "Only the operators of this bot may do that."
REFUSED_UPLOAD_EN = "Only the operators of this bot may add documents."
GROUP = -100200300
GROUP_ANONYMOUS_BOT = 1087968824  # what Telegram puts in "from" for anonymous group admins


def _forwarded(botapi: BotApiStub, by: TgUser, original_sender: TgUser, text: str) -> None:
    """``by`` forwards a message that ``original_sender`` wrote (Telegram keeps the entities)."""
    message: dict[str, Any] = {
        "message_id": 9000 + by.id % 1000,
        "from": by.to_dict(),
        "chat": by.private_chat(),
        "date": 1_700_000_000,
        "text": text,
        "entities": compute_entities(text),
        "forward_origin": {
            "type": "user",
            "sender_user": original_sender.to_dict(),
            "date": 1_699_999_000,
        },
    }
    botapi.push_update({"message": message})


async def test_admin_commands_and_uploads_need_the_admins_numeric_id(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    admin = botapi.user(ADMIN_ID, "Olga", username="olga", language_code="en")
    namesake = botapi.user(5001, "Olga", username="olga", language_code="en")
    mallory = botapi.user(5002, "Mallory", language_code="en")
    corpus = copy_corpus(tmp_path)
    note = b"Titel\nEin Text.\nhttps://example.org/n"
    async with running_bot(botapi, make_settings(botapi, corpus)):
        # Same name and username as the admin, another id: refused, in private ...
        for command in ("/reload", "/stats"):
            botapi.send_private(namesake, command)
            assert (await botapi.next_message(namesake))["text"] == REFUSED_EN
        botapi.send_document(namesake, "n.txt", note)
        assert (await botapi.next_message(namesake))["text"] == REFUSED_UPLOAD_EN
        # ... and in a group, with or without the bot's name.
        for command in ("/reload", f"/reload@{BOT}", f"/stats@{BOT}"):
            botapi.send_group(mallory, GROUP, command)
            assert (await botapi.next_message(GROUP))["text"] == REFUSED_EN
        # Anonymous group admins write as the group: no user id, no admin rights here.
        anonymous = botapi.user(
            GROUP_ANONYMOUS_BOT, "Group", username="GroupAnonymousBot", language_code="en"
        )
        botapi.send_group(anonymous, GROUP, f"/reload@{BOT}")
        assert (await botapi.next_message(GROUP))["text"] == REFUSED_EN
        # The admin's own /reload, forwarded by someone else, is that someone's message.
        _forwarded(botapi, mallory, admin, "/reload")
        assert (await botapi.next_message(mallory))["text"] == REFUSED_EN
        assert not (corpus / "uploads").exists()
        assert botapi.calls_of("getFile") == []

        # The admin, by id, in private and in a group.
        botapi.send_private(admin, "/stats")
        assert (await botapi.next_message(admin))["text"].startswith("Running for:")
        botapi.send_group(admin, GROUP, f"/reload@{BOT}")
        assert (await botapi.next_message(GROUP, timeout=20))["text"].startswith("Reloaded:")
        botapi.send_document(admin, "n.txt", note)
        assert (await botapi.next_message(admin, timeout=20))["text"].startswith("n.txt added:")


async def test_webhook_updates_without_the_secret_are_refused(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    anna = botapi.user(5003, "Anna")
    port = free_port()
    settings_ = make_settings(botapi, copy_corpus(tmp_path))
    async with running_bot(botapi, settings_, webhook_port=port):
        update = botapi.send_private(anna, "Lavrov")
        await botapi.next_message(anna)
        url = f"http://127.0.0.1:{port}/hook"
        forged = dict(update, update_id=update["update_id"] + 1000)
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with session.post(url, json=forged, headers=headers) as response:
                    assert response.status == 403
        assert (await botapi.deliver_webhook(forged, secret_token="s3cret")).status == 200
        await botapi.next_message(anna)  # the genuine delivery of the same update is answered
        assert len(botapi.messages_to(anna)) == 2


async def test_the_token_never_reaches_the_logs_even_when_things_fail(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    """DEBUG logging with failing calls whose exceptions and tracebacks could carry request
    URLs, which hold the token (httpx, which logs every URL, is held at WARNING)."""
    corpus = copy_corpus(tmp_path)
    proc = await start_run(
        botapi,
        tmp_path,
        CORPUS_DIR=str(corpus),
        CACHE_DIR="",
        LOG_LEVEL="DEBUG",
        ADMIN_IDS=str(ADMIN_ID),
    )
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    anna = botapi.user(5004, "Anna")
    try:
        await err.wait_for("ready as @", timeout=60)
        await botapi.wait_polling(timeout=30)
        botapi.fail_next("sendMessage", status=502, description="Bad Gateway")
        botapi.fail_next("getUpdates", drop=True)
        botapi.send_private(anna, "Lavrov")
        await botapi.next_message(anna, timeout=20)
        botapi.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
        botapi.send_private(anna, "Putin")  # ends in the error handler, with a traceback
        await err.wait_for("error while handling an update", timeout=20)
        botapi.send_document(anna, "x.txt", b"x")  # refused upload
        await botapi.next_message(anna, timeout=20)
        code = await stop_run(proc, out, err, signal.SIGTERM)
    finally:
        await kill_if_running(proc)
    output = out.text + err.text
    assert code == 0, output
    assert "Traceback" in output and "DEBUG telegram" in output  # the logs are really verbose
    secret = botapi.token.split(":", 1)[1]
    assert botapi.token not in output and secret not in output


# --------------------------------------------------------------------------- upload names


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
@example("../../../etc/passwd.md")
@example("..\\..\\windows\\system32.txt")
@example("/absolute/path.jsonl")
@example(".hidden.md")
@example("..")
@example("a/../../b.md")
@example("\u202etxt.exe.md")
@example("con\x00.txt")
@example("x" * 1000 + ".md")
def test_a_cleaned_name_is_one_plain_file_name(raw: str) -> None:
    name = safe_file_name(raw)
    assert name and len(name) <= 100
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith(".")  # never hidden, never "." or ".."
    root = Path("/srv/corpus")
    target = (root / UPLOAD_DIR / name).resolve()
    assert target.parent == root / UPLOAD_DIR


def test_uploads_never_write_outside_the_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    outside = tmp_path / "outside"
    corpus.mkdir()
    outside.mkdir()
    staged = corpus / ".incoming" / "u.txt"
    staged.parent.mkdir()
    staged.write_bytes(b"Titel\nText.\nhttps://example.org/u")
    os.symlink(outside, corpus / UPLOAD_DIR)  # someone linked uploads/ elsewhere
    with pytest.raises(UploadError) as refused:
        accept_upload(staged, "../u.txt", corpus, max_file_bytes=1 << 20, default_lang="de")
    assert refused.value.details["reason"] == "unsafe target path"
    assert list(outside.iterdir()) == [] and not staged.exists()
    with pytest.raises(UploadError) as bad_type:
        check_upload("evil.sh", 10, 1 << 20)
    assert bad_type.value.code == "upload_bad_type"
