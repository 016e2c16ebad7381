"""Telegram faults, injected by the Bot API stand-in, against the real Application.

429 with retry_after, 5xx bursts, client-side timeouts, connections dropped before and after
Telegram carried a request out, slow answers, webhook bursts and redeliveries, and failures of
the webhook calls at start. Every question must get exactly one answer where the bot can know
(no duplicates after retries, none lost), the documented choice where it cannot (an unknown
outcome of a sendMessage is not repeated: see "Telegram faults" in docs/RELIABILITY.md), and
the bot must go on answering without a restart.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes

import bot.chat.app
from tests.support.bot_helpers import (
    Lines,
    LogLines,
    copy_corpus,
    data_of,
    free_port,
    kill_if_running,
    labels,
    make_settings,
    running_bot,
    start_run,
    stop_run,
)
from tests.support.botapi import BotApiStub, TgUser

READ_TIMEOUT = 1.5  # PTB's read timeout in these tests (the default is 5 s)
POLL_TIMEOUT = 1.0  # running_bot's long-poll timeout; getUpdates may take both
SORRY_DE = "Entschuldigung, da ist etwas schiefgegangen. Bitte versuche es noch einmal."
SORRY_EN = "Sorry, something went wrong. Please try again."

Mode = str  # "polling" or "webhook"


class _QuickTimeouts(ApplicationBuilder):  # type: ignore[type-arg]
    """build_application's builder with a short read timeout, so a timeout costs little time."""

    def build(self) -> Any:
        self.read_timeout(READ_TIMEOUT).get_updates_read_timeout(READ_TIMEOUT)
        return super().build()


@pytest.fixture(autouse=True)
def _quick_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.chat.app, "ApplicationBuilder", _QuickTimeouts)


class _ErrorsHandled:
    """The updates the bot's error handler has finished with: this handler is added after it,
    and PTB runs error handlers one after the other."""

    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self.update_ids: list[int] = []
        self._changed = asyncio.Condition()
        app.add_error_handler(self._on_error)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        async with self._changed:
            self.update_ids.append(update.update_id if isinstance(update, Update) else -1)
            self._changed.notify_all()

    async def wait(self, update: dict[str, Any], timeout: float = 10) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: update["update_id"] in self.update_ids)


@asynccontextmanager
async def _bot(
    botapi: BotApiStub, tmp_path: Path, mode: Mode
) -> AsyncIterator[tuple[Application[Any, Any, Any, Any, Any, Any], _ErrorsHandled]]:
    settings = make_settings(botapi, copy_corpus(tmp_path), questions_per_minute=1000)
    port = free_port() if mode == "webhook" else None
    async with running_bot(botapi, settings, webhook_port=port) as app:
        yield app, _ErrorsHandled(app)


def _statuses(botapi: BotApiStub, method: str, since: int, **params: Any) -> list[int]:
    """HTTP statuses of the calls of ``method`` since ``since`` whose params match."""
    return [
        c.status
        for c in botapi.calls[since:]
        if c.method == method and all(c.params.get(k) == v for k, v in params.items())
    ]


def _is_answer(message: dict[str, Any]) -> bool:
    return "<b>" in str(message["raw_text"])  # quotes mark the matched words in bold


async def _all_answer_once(botapi: BotApiStub, users: list[TgUser], before: dict[int, int]) -> None:
    """Every user asks once more at the same time: each gets exactly one more message (and
    ``before`` says how many each had): the bot works on without a restart."""
    for user in users:
        botapi.send_private(user, "Putin")
    for user in users:
        assert _is_answer(await botapi.next_message(user, timeout=10))
    for user in users:
        assert len(botapi.messages_to(user)) == before[user.id] + 1, user


# -------------------------------------------------------------------------- sendMessage

# fault on the answer's sendMessage -> the sendMessage statuses seen for that question
RETRIED: list[tuple[dict[str, Any], list[int]]] = [
    ({"status": 429, "retry_after": 1}, [429, 200]),
    ({"status": 500, "count": 3}, [500, 500, 500, 200]),  # a burst: 0.25 + 0.5 + 1 s back-off
    ({"status": 502, "count": 2}, [502, 502, 200]),
    ({"status": None, "delay": 0.4}, [200]),  # slow, but within the read timeout
]
# Telegram carried it out, the bot cannot know: not repeated, so the one answer stays one.
SENT_UNKNOWN: list[dict[str, Any]] = [
    {"status": None, "drop_after": True},
    {"status": None, "delay_after": READ_TIMEOUT + 1.0},
]
# Telegram did not carry it out, but the bot sees the same as above: the documented loss.
LOST_UNKNOWN: list[dict[str, Any]] = [
    {"status": None, "drop": True},
    {"status": None, "delay": READ_TIMEOUT + 0.5},
]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_send_message_faults_answer_once(
    botapi: BotApiStub, tmp_path: Path, mode: Mode, bot_log: LogLines
) -> None:
    users: list[TgUser] = []
    async with _bot(botapi, tmp_path, mode) as (_, handled):
        for fault, statuses in RETRIED:
            user = botapi.user(5000 + len(users), "Anna", language_code="de")
            users.append(user)
            botapi.fail_next("sendMessage", **fault)
            start = botapi.mark()
            botapi.send_private(user, "Lavrov")
            assert _is_answer(await botapi.next_message(user, timeout=15)), fault
            assert _statuses(botapi, "sendMessage", start, chat_id=user.id) == statuses, fault

        for fault in SENT_UNKNOWN + LOST_UNKNOWN:
            user = botapi.user(5000 + len(users), "Anna", language_code="de")
            users.append(user)
            botapi.fail_next("sendMessage", **fault)
            start = botapi.mark()
            update = botapi.send_private(user, "Lavrov")
            await handled.wait(update)  # the bot gave up on it: nothing more will be sent
            await botapi.wait_for(  # the stand-in has recorded how the request ended
                "sendMessage", lambda c, u=user: c.params.get("chat_id") == u.id, since=start
            )
            calls = _statuses(botapi, "sendMessage", start, chat_id=user.id)
            sent = botapi.messages_to(user)
            if fault in SENT_UNKNOWN:
                assert calls == [200], fault  # carried out once, never repeated
                assert len(sent) == 1 and _is_answer(sent[0]), fault
            else:
                assert calls == [0], fault  # the request never got through: not repeated
                assert sent == [], fault
            assert all(m["text"] != SORRY_DE for m in sent)  # no apology after an answer
        assert bot_log.count("outcome unknown") == len(SENT_UNKNOWN + LOST_UNKNOWN)

        expected_before = {u.id: len(botapi.messages_to(u)) for u in users}
        await _all_answer_once(botapi, users, expected_before)


async def test_send_message_gives_up_after_a_long_burst_and_recovers(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    anna = botapi.user(5100, "Anna", language_code="de")
    async with _bot(botapi, tmp_path, "polling") as (_, handled):
        # Six 502s exhaust the six tries (7.75 s of back-off); the apology gets through.
        botapi.fail_next("sendMessage", status=502, count=6)
        start = botapi.mark()
        update = botapi.send_private(anna, "Lavrov")
        await handled.wait(update, timeout=20)
        assert (await botapi.next_message(anna))["text"] == SORRY_DE
        assert _statuses(botapi, "sendMessage", start, chat_id=anna.id) == [502] * 6 + [200]
        await _all_answer_once(botapi, [anna], {anna.id: 1})


# -------------------------------------------------------------------------- queries


async def test_inline_and_button_answers_survive_faults(
    botapi: BotApiStub, tmp_path: Path, bot_log: LogLines
) -> None:
    anna = botapi.user(5200, "Anna", language_code="de")
    async with _bot(botapi, tmp_path, "polling") as (_, handled):
        # Telegram takes one answer per query: every failure is retried, and a refusal of the
        # retry ("query is too old") means the first answer arrived.
        inline_cases: list[tuple[dict[str, Any], list[int]]] = [
            ({"status": None, "drop": True}, [0, 200]),
            ({"status": 502}, [502, 200]),
            ({"status": 429, "retry_after": 1}, [429, 200]),
            ({"status": None, "drop_after": True}, [200, 400]),
            ({"status": None, "delay_after": READ_TIMEOUT + 1.0}, [200, 400]),
            ({"status": None, "delay": 0.4}, [200]),
        ]
        for fault, statuses in inline_cases:
            botapi.fail_next("answerInlineQuery", **fault)
            start = botapi.mark()
            query = botapi.inline_query(anna, "Lavrov")
            qid = query["inline_query"]["id"]
            answer = await botapi.inline_answer(query, timeout=10)
            assert "<b>La" in answer["results"][0]["input_message_content"]["message_text"]
            if statuses[-1] == 400:  # wait for the refused retry
                await botapi.wait_for(
                    "answerInlineQuery",
                    lambda c, qid=qid: c.status == 400 and c.params["inline_query_id"] == qid,
                    since=start,
                    timeout=10,
                )
            got = _statuses(botapi, "answerInlineQuery", start, inline_query_id=qid)
            assert got == statuses, fault

        # A page button: the message shows the next page (one edit took effect, nothing new
        # was sent) whatever happens to the callback answer or to the edit.
        button_cases: list[tuple[str, dict[str, Any]]] = [
            ("answerCallbackQuery", {"status": None, "drop": True}),
            ("answerCallbackQuery", {"status": 500}),
            ("answerCallbackQuery", {"status": None, "drop_after": True}),
            ("editMessageText", {"status": None, "drop": True}),
            ("editMessageText", {"status": 502}),
            ("editMessageText", {"status": None, "drop_after": True}),
            ("editMessageText", {"status": None, "delay_after": READ_TIMEOUT + 1.0}),
        ]
        for method, fault in button_cases:
            botapi.send_private(anna, "Putin")
            page = await botapi.next_message(anna)
            botapi.fail_next(method, **fault)
            before = len(botapi.messages_to(anna))
            start = botapi.mark()
            botapi.press_button(anna, page, data_of(page, "▶"))
            edited = await botapi.next_edit(anna, timeout=10)
            assert edited["message_id"] == page["message_id"], (method, fault)
            shown = botapi.message(anna.id, page["message_id"])
            assert labels(shown)[0][:2] == ["◀", labels(edited)[0][1]], (method, fault)
            assert labels(shown)[0][1].startswith("2/"), (method, fault)
            assert len(botapi.messages_to(anna)) == before, (method, fault)
            assert _statuses(botapi, method, start).count(200) == 1, (method, fault)
        assert handled.update_ids == []  # no update failed: nobody got an apology
        assert bot_log.errors() == []
        assert all(m["text"] != SORRY_DE for m in botapi.messages_to(anna))
        await _all_answer_once(botapi, [anna], {anna.id: len(botapi.messages_to(anna))})


# -------------------------------------------------------------------------- getUpdates


async def _next_poll_faulted(botapi: BotApiStub, **fault: Any) -> None:
    """Put ``fault`` on the next getUpdates and return once that call waits in its long poll
    (updates pushed now go out through it)."""
    botapi.fail_next("getUpdates", **fault)
    start = botapi.mark()
    await botapi.wait_for("getUpdates", since=start, timeout=5)  # the running poll ends
    await botapi.wait_polling(timeout=5)  # the faulted one waits


async def test_get_updates_faults_lose_and_double_nothing(
    botapi: BotApiStub, tmp_path: Path, bot_log: LogLines
) -> None:
    users: list[TgUser] = []

    def ask() -> TgUser:
        user = botapi.user(5300 + len(users), "Anna", language_code="de")
        users.append(user)
        botapi.send_private(user, "Lavrov")
        return user

    async with _bot(botapi, tmp_path, "polling"):
        # Updates handed out, but the answer never reaches the bot: the next getUpdates (same
        # offset) hands them out again, and the bot sees them once.
        await _next_poll_faulted(botapi, status=None, drop_after=True)
        first = ask()
        assert _is_answer(await botapi.next_message(first, timeout=10))
        await _next_poll_faulted(botapi, status=None, delay_after=READ_TIMEOUT + POLL_TIMEOUT + 1)
        late = ask()
        assert _is_answer(await botapi.next_message(late, timeout=15))
        handed = [
            c
            for c in botapi.calls_of("getUpdates")
            if c.ok and any(u["message"]["chat"]["id"] == late.id for u in c.result)
        ]
        assert len(handed) == 2  # the late answer, then again: PTB saw only the second

        # Errors and flood control on getUpdates: PTB's polling loop waits and goes on.
        for fault in ({"status": 502, "count": 2}, {"status": 429, "retry_after": 1}):
            start = botapi.mark()
            botapi.fail_next("getUpdates", **fault)
            failing = fault.get("count", 1)
            for _ in range(failing):
                await botapi.wait_for(
                    "getUpdates",
                    lambda c, f=fault: c.status == f["status"],
                    since=start,
                    timeout=10,
                )
            user = ask()
            assert _is_answer(await botapi.next_message(user, timeout=15)), fault

        # Telegram hands the same update out again (an offset confirmation it never got):
        # answered once.
        again = botapi.user(5399, "Anna", language_code="de")
        update = botapi.send_private(again, "Lavrov")
        assert _is_answer(await botapi.next_message(again))
        botapi.push_update(update)  # same update_id
        await bot_log.wait_count("delivered again", 1)
        users.append(again)
        await _all_answer_once(botapi, users, {u.id: 1 for u in users})


# -------------------------------------------------------------------------- webhook


async def test_webhook_redelivery_and_a_concurrent_burst_answer_once(
    botapi: BotApiStub, tmp_path: Path, bot_log: LogLines
) -> None:
    async with _bot(botapi, tmp_path, "webhook"):
        # The bot's 200 is lost on the way back: Telegram POSTs the update again.
        anna = botapi.user(5400, "Anna", language_code="de")
        botapi.lose_webhook_answers(2)
        update = botapi.send_private(anna, "Lavrov")
        assert _is_answer(await botapi.next_message(anna))
        assert (await botapi.wait_delivery(update)).attempt == 3
        await bot_log.wait_count("delivered again", 2)
        assert len(botapi.messages_to(anna)) == 1

        # A burst: hundreds of updates POSTed at once, each of them twice (a redelivery racing
        # the first delivery): private questions, group /ask, mentions and inline queries.
        people = [botapi.user(6000 + i, f"User{i}", language_code="de") for i in range(200)]
        groups = [-1_000_000_000_100 - i for i in range(60)]
        with botapi.held_updates() as held:
            for person in people[:120]:
                botapi.send_private(person, "Lavrov")
            for i, group in enumerate(groups[:30]):
                botapi.send_group(people[120 + i], group, "/ask Lavrov")
            for i, group in enumerate(groups[30:]):
                botapi.send_group(people[150 + i], group, "@citebot_test_bot Lavrov")
            inline = [botapi.inline_query(p, "Lavrov") for p in people[180:]]
        assert len(held) == 200
        seen = bot_log.count("delivered again")
        deliveries = await asyncio.gather(*(botapi.deliver_webhook(u) for u in held + held))
        assert all(d.status == 200 for d in deliveries)
        for person in people[:120]:
            assert _is_answer(await botapi.next_message(person, timeout=30))
        for group in groups:
            assert _is_answer(await botapi.next_message(group, timeout=30))
        for query in inline:
            await botapi.inline_answer(query, timeout=30)
        await bot_log.wait_count("delivered again", seen + 200, timeout=30)
        assert all(len(botapi.messages_to(p)) == 1 for p in people[:120])
        assert all(len(botapi.messages_to(g)) == 1 for g in groups)
        for query in inline:
            qid = query["inline_query"]["id"]
            assert _statuses(botapi, "answerInlineQuery", 0, inline_query_id=qid) == [200]
        assert bot_log.errors() == []
        await _all_answer_once(botapi, [anna, *people[:3]], {u.id: 1 for u in [anna, *people[:3]]})


# -------------------------------------------------------------------------- start


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_faults_at_start_are_waited_out(
    botapi: BotApiStub, tmp_path: Path, mode: Mode
) -> None:
    """`citebot run`: setWebhook/deleteWebhook and the command menu fail at first; the bot
    retries them and starts (it used to exit on the first failure)."""
    env = {"CORPUS_DIR": str(copy_corpus(tmp_path)), "LOG_LEVEL": "INFO"}
    if mode == "webhook":
        port = free_port()
        env |= {
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
            "WEBHOOK_SECRET": "s3cret",
        }
        botapi.fail_next("setWebhook", status=502, count=2)
        botapi.fail_next("setWebhook", status=429, retry_after=1)
    else:
        botapi.fail_next("deleteWebhook", status=500, count=2)
        botapi.fail_next("deleteWebhook", status=None, drop=True)
    botapi.fail_next("setMyCommands", status=502)
    proc = await start_run(botapi, tmp_path, **env)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        await err.wait_for("webhook on port" if mode == "webhook" else "long polling", 30)
        anna = botapi.user(5500, "Anna", language_code="en")
        botapi.send_private(anna, "Lavrov")
        assert _is_answer(await botapi.next_message(anna, timeout=10))
        code = await stop_run(proc, out, err, signal.SIGTERM)
    finally:
        await kill_if_running(proc)
    method = "setWebhook" if mode == "webhook" else "deleteWebhook"
    expected = [502, 502, 429, 200] if mode == "webhook" else [500, 500, 0, 200]
    assert [c.status for c in botapi.calls_of(method)][:4] == expected
    assert [c.status for c in botapi.calls_of("setMyCommands")][:2] == [502, 200]
    assert code == 0, out.text + err.text
    assert len(botapi.messages_to(anna)) == 1
