"""Tests of the Bot API stand-in (tests/support/botapi.py), driven by real python-telegram-bot
objects."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
import socket
import warnings
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
import pytest
import telegram
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from tests.support.botapi import (
    DEFAULT_TOKEN,
    BotApiStub,
    TelegramHtmlError,
    compute_entities,
    parse_telegram_html,
    parse_telegram_html_entities,
    utf16_len,
)

pytestmark = pytest.mark.timeout(30)


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def ptb_bot(stub: BotApiStub, token: str | None = None) -> AsyncIterator[telegram.Bot]:
    bot = telegram.Bot(
        token or stub.token, base_url=stub.base_url, base_file_url=stub.base_file_url
    )
    async with bot:
        yield bot


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seconds(value: int | float | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def retry_after_of(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)  # int vs timedelta, PTB 22.2+
        return seconds(exc.retry_after)


@contextlib.asynccontextmanager
async def running_app(
    stub: BotApiStub,
    handlers: Sequence[BaseHandler[Any, Any, Any]],
    *,
    webhook_port: int | None = None,
) -> AsyncIterator[tuple[Application[Any, Any, Any, Any, Any, Any], list[BaseException]]]:
    """A real PTB Application against the stand-in, polling or (with a port) on a webhook."""
    app = (
        ApplicationBuilder()
        .token(stub.token)
        .base_url(stub.base_url)
        .base_file_url(stub.base_file_url)
        .build()
    )
    errors: list[BaseException] = []

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            errors.append(context.error)

    app.add_handlers(list(handlers))
    app.add_error_handler(on_error)
    updater = app.updater
    assert updater is not None
    await app.initialize()
    try:
        await app.start()
        if webhook_port is None:
            await updater.start_polling(poll_interval=0, timeout=1)
        else:
            await updater.start_webhook(
                listen="127.0.0.1",
                port=webhook_port,
                url_path="hook",
                webhook_url=f"http://127.0.0.1:{webhook_port}/hook",
                secret_token="s3cret",
            )
        yield app, errors
    finally:
        async with asyncio.timeout(15):
            if updater.running:
                await updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(f"echo: {update.message.text}")


async def cite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    args = " ".join(context.args or [])
    await update.message.reply_text(
        f"<b>Zitat</b> für <i>{args}</i> &lt;ok&gt;", parse_mode="HTML", do_quote=True
    )


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Ja", callback_data="yes"),
                InlineKeyboardButton("Nein", callback_data="no"),
            ]
        ]
    )
    await update.message.reply_text("Weiter?", reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"gewählt: {query.data}")
    await query.edit_message_text(f"Antwort: <b>{query.data}</b>", parse_mode="HTML")


async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    assert query is not None
    await query.answer(
        [
            InlineQueryResultArticle(
                id="r1",
                title=f"Zitat zu {query.query}",
                input_message_content=InputTextMessageContent(
                    f"<b>{query.query}</b>", parse_mode="HTML"
                ),
            )
        ],
        cache_time=0,
    )


# ------------------------------------------------------------------------------------------
# the HTML dialect and entities (pure functions)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "plain"),
    [
        ("plain text", "plain text"),
        ("<b>bold <i>both</i></b> <u>u</u> <s>s</s>", "bold both u s"),
        ("<strong>a</strong><em>b</em><ins>c</ins><strike>d</strike><del>e</del>", "abcde"),
        ('<a href="https://example.org/?a=1&amp;b=2">Link</a>', "Link"),
        ("<code>x &lt; y</code>", "x < y"),
        ('<pre><code class="language-python">print(1)</code></pre>', "print(1)"),
        ("<blockquote expandable>lang\nzitiert</blockquote>", "lang\nzitiert"),
        ("<blockquote>kurz</blockquote>", "kurz"),
        ('<tg-spoiler>geheim</tg-spoiler> <span class="tg-spoiler">auch</span>', "geheim auch"),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
        ("&lt;&gt;&amp;&quot; &#65;&#x42; &#128512;", '<>&" AB 😀'),
        ("1 > 0", "1 > 0"),
        ("<B>Groß</B>", "Groß"),
    ],
)
def test_html_valid(html: str, plain: str) -> None:
    assert parse_telegram_html(html) == plain


@pytest.mark.parametrize(
    ("html", "fragment"),
    [
        ("a < b", 'Unsupported start tag ""'),
        ("a <3", 'Unsupported start tag ""'),
        ("Tom & Jerry", 'Character "&"'),
        ("&nbsp;", 'Character "&"'),
        ("&#0;", "numeric"),
        ("<foo>x</foo>", 'Unsupported start tag "foo"'),
        ("<br/>", 'Unsupported start tag "br"'),
        ("<b>x</i>", 'expected "</b>", found "</i>"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("<b>never closed", 'start tag "b"'),
        ("x</b>", "Unexpected end tag"),
        ("<b", "Unclosed start tag"),
        ("<a>no href</a>", 'attribute "href"'),
        ('<span class="x">s</span>', "tg-spoiler"),
        ("<tg-emoji>e</tg-emoji>", "emoji-id"),
        ('<a href="x?a=1&b=2">l</a>', 'Character "&"'),
    ],
)
def test_html_invalid(html: str, fragment: str) -> None:
    with pytest.raises(TelegramHtmlError, match=None) as info:
        parse_telegram_html(html)
    assert fragment.lower() in str(info.value).lower()


def test_html_entities_offsets_in_utf16() -> None:
    text, entities = parse_telegram_html_entities(
        "😀 <b>fett</b> <a href='https://x.org'>l</a><blockquote expandable>q</blockquote>"
    )
    assert text == "😀 fett lq"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "text_link", "offset": 8, "length": 1, "url": "https://x.org"},
        {"type": "expandable_blockquote", "offset": 9, "length": 1},
    ]
    _, pre = parse_telegram_html_entities('<pre><code class="language-py">x</code></pre>')
    assert pre == [{"type": "pre", "offset": 0, "length": 1, "language": "py"}]


def test_compute_entities_like_telegram() -> None:
    text = "😀 /cite@citebot_test_bot frage an @anna_b, mail a@b.de /help"
    entities = compute_entities(text)
    kinds = [
        (
            e["type"],
            text.encode("utf-16-le")[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode(
                "utf-16-le"
            ),
        )
        for e in entities
    ]
    assert kinds == [
        ("bot_command", "/cite@citebot_test_bot"),
        ("mention", "@anna_b"),
        ("bot_command", "/help"),
    ]
    assert entities[0]["offset"] == 3  # the emoji is two UTF-16 code units
    assert compute_entities("a/b and 1/2") == []
    assert utf16_len("😀a") == 3


# ------------------------------------------------------------------------------------------
# raw HTTP: encodings, tokens, methods
# ------------------------------------------------------------------------------------------


@pytest.mark.bad_bot_api_calls
async def test_request_encodings_are_equivalent(botapi: BotApiStub) -> None:
    url = f"{botapi.base_url}{botapi.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    async with aiohttp.ClientSession() as session:
        async with session.post(
            url, json={"chat_id": 7, "text": "json", "reply_markup": markup}
        ) as r:
            assert r.status == 200
            body = await r.json()
            assert body["ok"] is True and body["result"]["reply_markup"] == markup
        form = {"chat_id": "7", "text": "form", "reply_markup": json.dumps(markup)}
        async with session.post(url, data=form) as r:
            assert r.status == 200
        multipart = aiohttp.FormData()
        for key, value in form.items():
            multipart.add_field(key, value)
        multipart.add_field("dummy", b"bytes", filename="d.bin")  # forces multipart/form-data
        async with session.post(url, data=multipart) as r:
            assert r.status == 200
        async with session.get(url.replace("sendMessage", "SENDMESSAGE"), params=form) as r:
            assert r.status == 200
        async with session.get(f"{botapi.base_url}{botapi.token}/noSuchMethod") as r:
            assert r.status == 404
            assert await r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with session.post(f"{botapi.base_url}1:wrong/getMe") as r:
            assert r.status == 401
            assert await r.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
    sends = botapi.calls_of("SendMessage")
    assert [c.params["text"] for c in sends] == ["json", "form", "form", "form"]
    for call in sends:
        assert call.params["chat_id"] == 7
        assert call.params["reply_markup"] == markup
    assert [m["message_id"] for m in botapi.messages_to(7)] == [1, 2, 3, 4]


@pytest.mark.bad_bot_api_calls
async def test_get_me_and_tokens(botapi: BotApiStub) -> None:
    async with ptb_bot(botapi) as bot:
        me = await bot.get_me()
        assert me.is_bot and me.username == "citebot_test_bot" and me.first_name
        assert me.can_join_groups is True
        assert me.can_read_all_group_messages is False
        assert me.supports_inline_queries is True
        assert bot.username == "citebot_test_bot"
        assert await bot.do_api_request("setSomethingNew", api_kwargs={"x": 1}) is True
        assert await bot.close() is True
        assert await bot.log_out() is True
    bad = telegram.Bot("999:bad", base_url=botapi.base_url)
    with pytest.raises(InvalidToken):
        await bad.initialize()
    assert botapi.calls[-1].status == 401
    assert botapi.token == DEFAULT_TOKEN


# ------------------------------------------------------------------------------------------
# sending and editing with telegram.Bot
# ------------------------------------------------------------------------------------------


async def test_send_message_returns_full_message(botapi: BotApiStub) -> None:
    anna = botapi.user(1001, "Anna", username="anna_b")
    incoming = botapi.send_private(anna, "Hallo Bot")["message"]
    async with ptb_bot(botapi) as bot:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Mehr", callback_data="more")]])
        sent = await bot.send_message(
            anna.id,
            "<b>Antwort</b> &amp; mehr",
            parse_mode="HTML",
            reply_markup=keyboard,
            reply_parameters=ReplyParameters(incoming["message_id"]),
        )
        assert sent.text == "Antwort & mehr"
        assert sent.message_id == incoming["message_id"] + 1
        assert sent.chat.type == "private" and sent.chat.first_name == "Anna"
        assert sent.from_user is not None and sent.from_user.username == "citebot_test_bot"
        assert isinstance(sent.date, dtm.datetime)
        assert sent.reply_to_message is not None
        assert sent.reply_to_message.text == "Hallo Bot"
        assert sent.reply_markup == keyboard
        assert sent.entities[0].type == "bold"

        unknown = await bot.send_message(4242, "wer?")
        assert unknown.chat.type == "private" and unknown.message_id == 1
        with pytest.raises(BadRequest, match=r"(?i)replied not found"):
            await bot.send_message(4242, "x", reply_parameters=ReplyParameters(999))

        botapi.send_group(anna, -100555, "hi", title="Lesekreis")
        group_msg = await bot.send_message(-100555, "Gruppe!")
        assert group_msg.chat.type == "supergroup" and group_msg.chat.title == "Lesekreis"
        assert group_msg.message_id == 2

        botapi.channel_post(-100777, "Post")
        channel_msg = await bot.send_message("@kanal", "Kanalpost")
        assert channel_msg.chat.type == "channel"
        assert channel_msg.from_user is None
        assert channel_msg.sender_chat is not None and channel_msg.sender_chat.id == -100777

        await bot.send_chat_action(anna.id, "typing")
        with pytest.raises(BadRequest):
            await bot.send_chat_action(anna.id, "dancing")

    reply = await botapi.next_message(anna)
    assert reply["text"] == "Antwort & mehr"
    assert reply["raw_text"] == "<b>Antwort</b> &amp; mehr"
    assert reply["parse_mode"] == "HTML"
    assert reply["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "more"
    assert isinstance(reply["date"], int)
    assert [m["text"] for m in botapi.messages_to(anna.id)] == ["Antwort & mehr"]


async def test_edit_message_text(botapi: BotApiStub) -> None:
    async with ptb_bot(botapi) as bot:
        sent = await bot.send_message(5, "<i>eins</i>", parse_mode="HTML")
        edited = await bot.edit_message_text("zwei", chat_id=5, message_id=sent.message_id)
        assert isinstance(edited, telegram.Message)
        assert edited.text == "zwei" and edited.edit_date is not None
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text(
                "<b></b>zwei", chat_id=5, message_id=sent.message_id, parse_mode="HTML"
            )
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x")]])
        with_markup = await bot.edit_message_text(
            "zwei", chat_id=5, message_id=sent.message_id, reply_markup=markup
        )
        assert isinstance(with_markup, telegram.Message) and with_markup.reply_markup == markup
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=5, message_id=999)
        assert await bot.edit_message_text("inline", inline_message_id="AAE-1") is True
        with pytest.raises(BadRequest, match=r"(?i)not modified"):
            await bot.edit_message_text("inline", inline_message_id="AAE-1")
        assert await bot.delete_message(5, sent.message_id) is True
        with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
            await bot.delete_message(5, sent.message_id)
    edit = await botapi.next_edit(5)
    assert edit["text"] == "zwei" and edit["raw_text"] == "zwei"


async def test_html_rules_through_bot(botapi: BotApiStub) -> None:
    async with ptb_bot(botapi) as bot:
        ok = await bot.send_message(
            1,
            "<b>a <i>b <u>c</u></i></b> <blockquote expandable>q</blockquote> "
            '<a href="https://x.org/?a=1&amp;b=2">l</a> &#x1F600;',
            parse_mode="HTML",
        )
        assert ok.text == "a b c q l 😀"
        for bad, fragment in [
            ("1 < 2", "can't parse entities"),
            ("Q&A", "can't parse entities"),
            ("<marquee>x</marquee>", "unsupported start tag"),
            ("<b>x</i>", "unmatched end tag"),
        ]:
            with pytest.raises(BadRequest, match=rf"(?i){fragment}"):
                await bot.send_message(1, bad, parse_mode="HTML")
        # without parse_mode the same text is fine
        assert (await bot.send_message(1, "1 < 2 & Q&A")).text == "1 < 2 & Q&A"

        emoji_limit = "😀" * 2048  # 4096 UTF-16 code units
        assert (await bot.send_message(1, f"<b>{emoji_limit}</b>", parse_mode="HTML")).text
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(1, emoji_limit + "😀")
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(1, "x" * 4097)
        assert (await bot.send_message(1, "&amp;" * 4096, parse_mode="HTML")).text == "&" * 4096
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(1, "<b>  </b>\n", parse_mode="HTML")
        stripped = await bot.send_message(1, "  <b>x</b>  ", parse_mode="HTML")
        assert stripped.text == "x" and stripped.entities[0].offset == 0


@pytest.mark.bad_bot_api_calls
async def test_markup_inline_and_command_limits(botapi: BotApiStub) -> None:
    anna = botapi.user(2001)
    async with ptb_bot(botapi) as bot:
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="x" * 65)]])
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await bot.send_message(1, "x", reply_markup=too_long)
        multibyte = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="ä" * 33)]])
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await bot.send_message(1, "x", reply_markup=multibyte)

        def article(i: int, title: str = "t", text: str = "x") -> InlineQueryResultArticle:
            return InlineQueryResultArticle(
                id=str(i),
                title=title,
                input_message_content=InputTextMessageContent(text, parse_mode="HTML"),
            )

        query_id = botapi.inline_query(anna, "frage")["inline_query"]["id"]
        with pytest.raises(BadRequest, match=r"(?i)results_too_much"):
            await bot.answer_inline_query(query_id, [article(i) for i in range(51)])
        with pytest.raises(BadRequest, match=r"(?i)result_title_empty"):
            await bot.answer_inline_query(query_id, [article(1, title="")])
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.answer_inline_query(query_id, [article(1, text="a < b")])
        assert await bot.answer_inline_query(query_id, [article(i) for i in range(50)])
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_inline_query(query_id, [article(1)])
        answer = await botapi.inline_answer(query_id)
        assert len(answer["results"]) == 50 and answer["results"][0]["title"] == "t"

        german = [BotCommand("frage", "Eine Frage stellen"), BotCommand("hilfe", "Hilfe")]
        groups = [BotCommand("zitat", "Zitat suchen")]
        assert await bot.set_my_commands(german, language_code="de")
        assert await bot.set_my_commands(groups, scope=BotCommandScopeAllGroupChats())
        assert await bot.get_my_commands(language_code="de") == tuple(german)
        assert await bot.get_my_commands(scope=BotCommandScopeAllGroupChats()) == tuple(groups)
        assert await bot.get_my_commands() == ()
        assert botapi.commands(language_code="de")[0] == {
            "command": "frage",
            "description": "Eine Frage stellen",
        }
        with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
            await bot.set_my_commands([BotCommand("Frage!", "x")])
        assert await bot.delete_my_commands(language_code="de")
        assert await bot.get_my_commands(language_code="de") == ()


async def test_files(botapi: BotApiStub) -> None:
    anna = botapi.user(3001)
    content = "Kapitel 1\nEs war einmal …\n".encode()
    update = botapi.send_document(anna, "buch.txt", content, "text/plain", caption="mein /buch")
    document = update["message"]["document"]
    assert update["message"]["caption_entities"][0]["type"] == "bot_command"
    async with ptb_bot(botapi) as bot:
        tg_file = await bot.get_file(document["file_id"])
        assert tg_file.file_size == len(content)
        assert tg_file.file_path is not None
        assert tg_file.file_path.startswith(botapi.base_file_url)
        assert bytes(await tg_file.download_as_bytearray()) == content
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await bot.get_file("nope")

        sent = await bot.send_document(
            anna.id,
            b"%PDF-1.4 fake",
            filename="antwort.pdf",
            caption="<b>PDF</b>",
            parse_mode="HTML",
        )
        assert sent.document is not None and sent.document.file_name == "antwort.pdf"
        assert sent.caption == "PDF"
        again = await bot.get_file(sent.document.file_id)
        assert bytes(await again.download_as_bytearray()) == b"%PDF-1.4 fake"
    message = await botapi.next_message(anna)
    assert message["document"]["file_name"] == "antwort.pdf"
    assert message["raw_text"] == "<b>PDF</b>"


async def test_fault_injection(botapi: BotApiStub) -> None:
    async with ptb_bot(botapi) as bot:
        botapi.fail_next("sendMessage", retry_after=7)
        with warnings.catch_warnings(), pytest.raises(RetryAfter) as info:
            # PTB 22.8's own RetryAfter.__init__ emits a PTBDeprecationWarning (int vs timedelta)
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            await bot.send_message(1, "x")
        assert retry_after_of(info.value) == 7
        assert "retry in 7 seconds" in str(info.value).lower()  # PTB rewrites the text

        botapi.fail_next("sendMessage", status=500, count=2)
        for _ in range(2):
            with pytest.raises(NetworkError, match=r"(?i)internal server error"):
                await bot.send_message(1, "x")
        assert (await bot.send_message(1, "jetzt")).text == "jetzt"

        botapi.fail_next("SENDMESSAGE", status=400, description="Bad Request: chat not found")
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(1, "x")

        botapi.fail_next("sendMessage", drop=True)
        with pytest.raises(NetworkError):
            await bot.send_message(1, "x")

        botapi.slow_next("sendMessage", 2.0)
        with pytest.raises(TimedOut):
            await bot.send_message(1, "slow", read_timeout=0.2)

        botapi.slow_next("getMe", 0.2)
        assert (await bot.get_me()).username == botapi.username
        assert (await bot.send_message(1, "normal")).text == "normal"

    outcomes = [(c.status, c.error) for c in botapi.calls if c.method == "sendMessage"]
    assert outcomes[0] == (429, "Too Many Requests: retry after 7")
    assert [s for s, _ in outcomes[:7]] == [429, 500, 500, 200, 400, 0, 0]


# ------------------------------------------------------------------------------------------
# updates, waiting, webhook bookkeeping with telegram.Bot
# ------------------------------------------------------------------------------------------


async def test_get_updates_long_poll_and_offsets(botapi: BotApiStub) -> None:
    anna = botapi.user(4001, username="anna")
    async with ptb_bot(botapi) as bot:
        assert await bot.get_updates(timeout=0) == ()
        loop = asyncio.get_running_loop()
        started = loop.time()
        poll = asyncio.create_task(bot.get_updates(timeout=10))
        botapi.send_private(anna, "hallo @citebot_test_bot")
        updates = await asyncio.wait_for(poll, 5)
        assert loop.time() - started < 5
        assert len(updates) == 1
        message = updates[0].message
        assert message is not None and message.text == "hallo @citebot_test_bot"
        assert message.entities[0].type == "mention"
        first_id = updates[0].update_id

        botapi.send_private(anna, "zwei")
        botapi.send_private(anna, "drei")
        again = await bot.get_updates(timeout=0)
        assert [u.update_id for u in again] == [first_id, first_id + 1, first_id + 2]
        limited = await bot.get_updates(offset=first_id + 1, limit=1, timeout=0)
        assert [u.update_id for u in limited] == [first_id + 1]
        rest = await bot.get_updates(offset=first_id + 2, timeout=0)
        assert [u.update_id for u in rest] == [first_id + 2]
        assert len(botapi.pending_updates) == 1

        # a long poll that times out returns an empty list, after about `timeout`
        started = loop.time()
        assert await bot.get_updates(offset=first_id + 3, timeout=1) == ()
        assert 0.8 < loop.time() - started < 4

        assert await bot.set_webhook("http://127.0.0.1:9/hook")
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        info = await bot.get_webhook_info()
        assert info.url == "http://127.0.0.1:9/hook"
        assert await bot.delete_webhook()
        with pytest.raises(BadRequest, match=r"(?i)bad webhook"):
            await bot.set_webhook("https://example.org/hook")
        assert (await bot.get_webhook_info()).url == ""


async def test_played_updates_are_accepted_by_ptb(botapi: BotApiStub) -> None:
    anna = botapi.user(9001, "Anna", username="anna_b", language_code="en")
    question = botapi.send_group(anna, -100999, "Frage an @citebot_test_bot")["message"]
    botapi.send_group(anna, -100999, "/cite x", reply_to=(-100999, question["message_id"]))
    post = botapi.channel_post(-100888, "Neuer Beitrag")["channel_post"]
    botapi.edited_channel_post(-100888, post["message_id"], "Geändert")
    botapi.edit_message(-100999, question["message_id"], "Frage (korrigiert)")
    botapi.push_update(
        {
            "my_chat_member": {
                "chat": {"id": -100999, "type": "supergroup", "title": "Gruppe"},
                "from": anna.to_dict(),
                "date": 1_700_000_000,
                "old_chat_member": {"status": "left", "user": botapi.bot_user},
                "new_chat_member": {"status": "member", "user": botapi.bot_user},
            }
        }
    )
    async with ptb_bot(botapi) as bot:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("K", callback_data="k")]])
        knopf = await bot.send_message(anna.id, "Knopf", reply_markup=keyboard)
        botapi.press_button(anna, (anna.id, knopf.message_id), "k")
        botapi.press_button(anna, "inline-msg-1", "k", check=False)
        botapi.inline_query(anna, "Kant", offset="10")
        botapi.send_document(anna, "a.pdf", b"%PDF", "application/pdf")

        updates = await bot.get_updates(timeout=0)
        kinds = [next(k for k in u.to_dict() if k != "update_id") for u in updates]
        assert kinds == [
            "message",
            "message",
            "channel_post",
            "edited_channel_post",
            "edited_message",
            "my_chat_member",
            "callback_query",
            "callback_query",
            "inline_query",
            "message",
        ]
        ids = [u.update_id for u in updates]
        assert ids == list(range(ids[0], ids[0] + len(ids)))

        first, command = updates[0].message, updates[1].message
        assert first is not None and first.chat.type == "supergroup"
        assert first.entities[0].type == "mention" and first.entities[0].offset == 9
        assert command is not None and command.entities[0].type == "bot_command"
        assert command.reply_to_message is not None
        assert command.reply_to_message.message_id == question["message_id"]
        channel = updates[2].channel_post
        assert channel is not None and channel.from_user is None
        assert channel.sender_chat is not None and channel.sender_chat.username == "kanal"
        edited_post = updates[3].edited_channel_post
        assert edited_post is not None and edited_post.text == "Geändert"
        edited = updates[4].edited_message
        assert edited is not None and edited.edit_date is not None
        assert edited.text == "Frage (korrigiert)"
        assert updates[5].my_chat_member is not None
        button = updates[6].callback_query
        assert button is not None and button.data == "k" and button.chat_instance
        assert button.message is not None and button.message.message_id == knopf.message_id
        inline_button = updates[7].callback_query
        assert inline_button is not None and inline_button.inline_message_id == "inline-msg-1"
        query = updates[8].inline_query
        assert query is not None and query.offset == "10" and query.chat_type == "sender"
        assert query.from_user.language_code == "en"
        document = updates[9].message
        assert document is not None and document.document is not None
        assert document.document.mime_type == "application/pdf"

        only_messages = await bot.get_updates(
            offset=ids[0] + 1, timeout=0, allowed_updates=["message"]
        )
        assert [u.update_id for u in only_messages] == [ids[1], ids[9]]


async def test_concurrent_long_polls_conflict(botapi: BotApiStub) -> None:
    async with ptb_bot(botapi) as first, ptb_bot(botapi) as second:
        poll = asyncio.create_task(first.get_updates(timeout=10))
        await botapi.wait_polling()
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match=r"(?i)terminated by other getupdates"):
            await asyncio.wait_for(poll, 5)


async def test_context_manager_and_stop_release_a_long_poll() -> None:
    loop = asyncio.get_running_loop()
    async with BotApiStub(username="other_test_bot", bot_id=77) as stub, ptb_bot(stub) as bot:
        assert bot.username == "other_test_bot" and bot.id == 77
        poll = asyncio.create_task(bot.get_updates(timeout=25))
        await stub.wait_polling()
        started = loop.time()
        await stub.stop()
        assert await asyncio.wait_for(poll, 5) == ()
        assert loop.time() - started < 3
    await stub.stop()  # idempotent


async def test_wait_for_is_race_free_and_explains_timeouts(botapi: BotApiStub) -> None:
    async with ptb_bot(botapi) as bot:
        await bot.send_message(10, "vorher")
        # a call made before waiting is still found
        first = await botapi.wait_for("sendMessage")
        assert first.params["text"] == "vorher" and first.ok
        # ...but only once: the next wait needs the next call
        pos = botapi.mark()
        waiter = asyncio.create_task(botapi.wait_for("sendMessage", since=pos, timeout=5))
        await bot.send_message(10, "nachher")
        second = await waiter
        assert second.params["text"] == "nachher" and second.index == pos

        await bot.send_message(10, "a")
        await bot.send_message(11, "b")
        to_11 = await botapi.next_message(11)
        to_10 = await botapi.next_message(10)
        assert (to_10["text"], to_11["text"]) == ("a", "b")

        with pytest.raises(BadRequest):
            await bot.send_message(10, "<x>", parse_mode="HTML")
        with pytest.raises(TimeoutError) as info:
            await botapi.next_message(10, timeout=0.2)
    text = str(info.value)
    assert "sendMessage" in text and "can't parse entities" in text


# ------------------------------------------------------------------------------------------
# a real Application: polling
# ------------------------------------------------------------------------------------------


async def test_application_polling_private_and_group(botapi: BotApiStub) -> None:
    anna = botapi.user(5001, "Anna", username="anna_b")
    handlers: list[BaseHandler[Any, Any, Any]] = [
        CommandHandler("cite", cite),
        MessageHandler(filters.TEXT & ~filters.COMMAND, echo),
    ]
    async with running_app(botapi, handlers) as (_, errors):
        botapi.send_private(anna, "Hallo")
        reply = await botapi.next_message(anna.id)
        assert reply["text"] == "echo: Hallo"

        asked = botapi.send_group(anna, -100123, "/cite@citebot_test_bot Kant Aufklärung")
        answer = await botapi.next_message(-100123)
        assert answer["text"] == "Zitat für Kant Aufklärung <ok>"
        assert answer["raw_text"].startswith("<b>Zitat</b>")
        assert answer["chat"]["type"] == "supergroup"
        assert answer["reply_to_message"]["message_id"] == asked["message"]["message_id"]

        # a command for another bot is ignored, the next message still arrives
        botapi.send_group(anna, -100123, "/cite@other_bot x")
        botapi.send_group(anna, -100123, "/cite Hegel")
        answer = await botapi.next_message(-100123)
        assert "Hegel" in answer["text"]
        assert errors == []
    assert botapi.pending_updates == []  # all confirmed on shutdown


async def test_application_polling_buttons_and_inline(botapi: BotApiStub) -> None:
    anna = botapi.user(6001, "Anna")
    handlers: list[BaseHandler[Any, Any, Any]] = [
        CommandHandler("menu", menu),
        CallbackQueryHandler(on_button),
        InlineQueryHandler(on_inline),
    ]
    async with running_app(botapi, handlers) as (_, errors):
        botapi.send_private(anna, "/menu")
        shown = await botapi.next_message(anna)
        assert shown["text"] == "Weiter?"
        with pytest.raises(ValueError, match="callback_data"):
            botapi.press_button(anna, shown, "vielleicht")

        pressed = botapi.press_button(anna, shown, "yes")
        assert pressed["callback_query"]["chat_instance"]
        answered = await botapi.callback_answer(pressed)
        assert answered["text"] == "gewählt: yes"
        edited = await botapi.next_edit(anna)
        assert edited["text"] == "Antwort: yes"
        assert edited["message_id"] == shown["message_id"]
        assert "reply_markup" not in edited
        assert botapi.message(anna.id, shown["message_id"])["text"] == "Antwort: yes"

        query = botapi.inline_query(anna, "Pflicht")
        answer = await botapi.inline_answer(query)
        assert answer["results"][0]["title"] == "Zitat zu Pflicht"
        content = answer["results"][0]["input_message_content"]
        assert content["message_text"] == "<b>Pflicht</b>"
        assert errors == []


# ------------------------------------------------------------------------------------------
# a real Application: webhook
# ------------------------------------------------------------------------------------------


async def test_application_webhook(botapi: BotApiStub) -> None:
    anna = botapi.user(7001, "Anna")
    port = free_port()
    handlers: list[BaseHandler[Any, Any, Any]] = [
        MessageHandler(filters.TEXT & ~filters.COMMAND, echo)
    ]
    early = botapi.send_private(anna, "vorher")  # queued before the webhook exists
    async with running_app(botapi, handlers, webhook_port=port) as (_, errors):
        assert (await botapi.next_message(anna))["text"] == "echo: vorher"
        assert (await botapi.wait_delivery(early)).ok
        set_call = await botapi.wait_for("setWebhook")
        assert set_call.params["url"] == f"http://127.0.0.1:{port}/hook"
        assert set_call.params["secret_token"] == "s3cret"

        update = botapi.send_private(anna, "per Webhook")
        reply = await botapi.next_message(anna)
        assert reply["text"] == "echo: per Webhook"
        delivery = await botapi.wait_delivery(update)
        assert delivery.status == 200 and delivery.secret_token == "s3cret"

        forged = dict(update, update_id=update["update_id"] + 1000)
        forged["message"] = dict(update["message"], text="gefälscht")
        wrong = await botapi.deliver_webhook(forged, secret_token="wrong")
        assert wrong.status == 403
        missing = await botapi.deliver_webhook(forged, secret_token=None)
        assert missing.status == 403

        botapi.send_private(anna, "danach")
        assert (await botapi.next_message(anna))["text"] == "echo: danach"
        assert all("gefälscht" not in m["text"] for m in botapi.messages_to(anna))

        async with ptb_bot(botapi) as bot:
            info = await bot.get_webhook_info()
            assert info.url == f"http://127.0.0.1:{port}/hook"
            assert info.pending_update_count == 0
            with pytest.raises(Conflict):
                await bot.get_updates(timeout=0)
        assert errors == []
    statuses = [d.status for d in botapi.webhook_deliveries if d.final]
    assert statuses.count(403) == 2 and statuses.count(200) == 3


async def test_webhook_delivery_retries_are_bounded(botapi: BotApiStub) -> None:
    botapi.webhook_attempts = 3
    port = free_port()  # nobody listens here
    async with ptb_bot(botapi) as bot:
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="abc")
        update = botapi.send_private(botapi.user(8001), "ins Leere")
        delivery = await botapi.wait_delivery(update)
        assert not delivery.ok and delivery.status is None and delivery.attempt == 3
        assert len(botapi.webhook_deliveries) == 3
        info = await bot.get_webhook_info()
        assert info.last_error_message
        assert info.pending_update_count == 0
