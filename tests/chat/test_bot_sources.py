"""End to end: the corpus kept current from Telegram — source channels' posts and admin uploads —
through the real Application and the Bot API stand-in."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.corpus import load_corpus
from bot.serving import CorpusHolder
from bot.texts import format_date
from tests.support import export_factory
from tests.support.bot_helpers import ADMIN_ID, copy_corpus, make_settings, running_bot
from tests.support.botapi import BotApiStub, TgUser

SOURCE = -1001500000001
OTHER = -1001500000002
PRIVATE_SOURCE = -1001500000003
REPORT = (
    "Pontonbrücke bei Cherson zerstört\n"
    "Ukrainische Einheiten haben am 2. Dezember die Pontonbrücke bei Cherson zerstört.\n"
    "Die Versorgung der russischen Truppen am Ostufer ist unterbrochen.\n"
    "https://www.understandingwar.org/backgrounder/kherson-bridge"
)


pytestmark = pytest.mark.usefixtures("no_handler_errors")


def _holder(app: Any) -> CorpusHolder:
    holder = app.bot_data.services.holder
    assert isinstance(holder, CorpusHolder)
    return holder


async def _swapped(holder: CorpusHolder, generation: int) -> None:
    async with asyncio.timeout(20):
        await holder.wait_generation(generation)


@pytest.fixture
async def bot_with_sources(botapi: BotApiStub, tmp_path: Path) -> AsyncIterator[tuple[Any, Path]]:
    corpus = copy_corpus(tmp_path)
    settings = make_settings(
        botapi,
        corpus,
        source_channels=f"@frontnews, {PRIVATE_SOURCE}",
        cache_dir=str(tmp_path / "cache"),
    )
    async with running_bot(botapi, settings) as app:
        yield app, corpus


async def _ask(botapi: BotApiStub, user: TgUser, question: str) -> dict[str, Any]:
    botapi.send_private(user, question)
    return await botapi.next_message(user, timeout=10)


async def test_a_source_channel_post_is_answered_from_with_both_links(
    botapi: BotApiStub, bot_with_sources: tuple[Any, Path]
) -> None:
    app, corpus = bot_with_sources
    holder = _holder(app)
    anna = botapi.user(2001, "Anna")
    assert "Nichts in den Quellen" in (await _ask(botapi, anna, "Pontonbrücke Cherson"))["text"]

    generation = holder.generation
    post = botapi.channel_post(SOURCE, REPORT, username="frontnews", title="Front News")
    await _swapped(holder, generation + 1)
    message_id = post["channel_post"]["message_id"]
    path = corpus / "telegram" / "frontnews" / f"{message_id}.md"
    assert path.is_file()
    doc = next(
        d for d in load_corpus(corpus).documents if d.id == path.relative_to(corpus).as_posix()
    )
    assert doc.title == "Pontonbrücke bei Cherson zerstört"
    assert doc.url == "https://www.understandingwar.org/backgrounder/kherson-bridge"
    assert doc.post_url == f"https://t.me/frontnews/{message_id}"

    reply = await _ask(botapi, anna, "Wer hat die Pontonbrücke bei Cherson zerstört?")
    raw = reply["raw_text"]
    today = format_date(dtm.datetime.now(dtm.UTC).date().isoformat(), "de")
    lines = reply["text"].split("\n")
    assert lines[2:4] == [
        "Pontonbrücke bei Cherson zerstört",
        f"{today} · understandingwar.org · t.me/frontnews/{message_id}",
    ]
    assert "<b>Pontonbrücke</b>" in raw
    assert '<a href="https://www.understandingwar.org/backgrounder/kherson-bridge">' in raw
    assert f'<a href="https://t.me/frontnews/{message_id}">t.me/frontnews/{message_id}</a>' in raw
    assert botapi.messages_to(SOURCE) == []  # nothing is ever posted into a source channel


async def test_an_edited_post_replaces_its_document(
    botapi: BotApiStub, bot_with_sources: tuple[Any, Path]
) -> None:
    app, corpus = bot_with_sources
    holder = _holder(app)
    anna = botapi.user(2002, "Anna", language_code="en")
    generation = holder.generation
    post = botapi.channel_post(SOURCE, REPORT, username="frontnews")
    await _swapped(holder, generation + 1)
    message_id = post["channel_post"]["message_id"]
    edited = REPORT.replace("zerstört.", "beschädigt.").replace("unterbrochen", "eingeschränkt")
    botapi.edited_channel_post(SOURCE, message_id, edited)
    await _swapped(holder, generation + 2)
    files = list((corpus / "telegram" / "frontnews").iterdir())
    assert [f.name for f in files] == [f"{message_id}.md"]
    assert "eingeschränkt" in files[0].read_text(encoding="utf-8")
    reply = await _ask(botapi, anna, "Versorgung eingeschränkt")
    assert "<b>eingeschränkt</b>" in reply["raw_text"]
    assert "unterbrochen" not in (await _ask(botapi, anna, "Versorgung unterbrochen"))["raw_text"]


async def test_captions_hidden_links_private_channels_and_what_is_left_out(
    botapi: BotApiStub, bot_with_sources: tuple[Any, Path]
) -> None:
    app, corpus = bot_with_sources
    holder = _holder(app)
    generation = holder.generation
    caption = "Lagekarte Bachmut\nDie Kämpfe um Bachmut dauern an, siehe Bericht."
    hidden = "https://www.understandingwar.org/backgrounder/bakhmut"
    start = caption.index("Bericht")
    # Not indexed: a photo without caption, a post in another channel, a question in a source.
    botapi.channel_post(SOURCE, None, username="frontnews", photo=True)
    botapi.channel_post(OTHER, "Bachmut in einem anderen Kanal", username="elsewhere")
    botapi.channel_post(SOURCE, "/ask Bachmut", username="frontnews")  # never answered there
    post = botapi.channel_post(
        PRIVATE_SOURCE,
        None,
        username=None,
        title="Privater Kanal",
        photo=True,
        caption=caption,
        entities=[{"type": "text_link", "offset": start, "length": 7, "url": hidden}],
    )
    await _swapped(holder, generation + 1)
    message_id = post["channel_post"]["message_id"]
    assert sorted(
        p.relative_to(corpus).as_posix() for p in (corpus / "telegram").rglob("*.md")
    ) == [f"telegram/c1500000003/{message_id}.md"]
    hit = holder.engine.search("Kämpfe um Bachmut").hits[0]
    assert (hit.url, hit.post_url) == (hidden, f"https://t.me/c/1500000003/{message_id}")
    assert hit.title == "Lagekarte Bachmut"
    assert botapi.messages_to(SOURCE) == []


async def test_admins_upload_documents_and_others_are_refused(
    botapi: BotApiStub, bot_with_sources: tuple[Any, Path]
) -> None:
    app, corpus = bot_with_sources
    holder = _holder(app)
    admin = botapi.user(ADMIN_ID, "Olga")
    mallory = botapi.user(2003, "Mallory", username="olga_admin")
    note = (
        b"---\ntitle: Lage an der Front\nurl: https://example.org/lage\n---\n"
        b"Bei Awdijiwka wurden neue Stellungen errichtet.\n"
    )

    botapi.send_document(mallory, "lage.md", note, "text/markdown")
    refused = await botapi.next_message(mallory)
    assert refused["text"] == "Dokumente hinzufügen dürfen nur die Betreiber dieses Bots."
    assert not (corpus / "uploads").exists()
    assert botapi.calls_of("getFile") == []

    generation = holder.generation
    botapi.send_document(admin, "../../../etc/lage.md", note, "text/markdown")
    added = await botapi.next_message(admin, timeout=15)
    stats = holder.engine.stats
    assert added["text"] == (
        f"lage.md aufgenommen: 1 Dokument. Die Quellen umfassen jetzt {stats.documents}"
        f" Dokumente, {stats.passages} Passagen."
    )
    assert holder.generation == generation + 1
    assert (corpus / "uploads" / "lage.md").read_bytes() == note
    hit = holder.engine.search("Stellungen bei Awdijiwka").hits[0]
    assert (hit.document, hit.url) == ("uploads/lage.md", "https://example.org/lage")

    botapi.send_document(admin, "lage.md", note.replace(b"neue", b"weitere"), "text/markdown")
    replaced = await botapi.next_message(admin, timeout=15)
    assert replaced["text"].startswith("lage.md ersetzt: 1 Dokument.")
    assert holder.engine.stats.documents == stats.documents

    # Leftovers: nothing staged stays behind, nothing outside CORPUS_DIR was written.
    assert list((corpus / ".incoming").iterdir()) == []
    assert sorted(p.name for p in (corpus / "uploads").iterdir()) == ["lage.md"]


async def test_uploads_with_the_wrong_type_size_or_content_are_rejected(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    corpus = copy_corpus(tmp_path)
    admin = botapi.user(ADMIN_ID, "Olga", language_code="en")
    settings = make_settings(botapi, corpus, max_file_mb=1)
    async with running_bot(botapi, settings) as app:
        holder = _holder(app)
        generation = holder.generation
        cases = [
            ("bild.png", b"\x89PNG\r\n", "bild.png was not added: I do not know this format."),
            (
                "gross.txt",
                b"x" * (1024 * 1024 + 1),
                "gross.txt was not added: 1 MB, the limit is 1 MB",
            ),
            (
                "ohne.txt",
                b"Titel\nText ohne Quelle.",
                "ohne.txt was not added: no source URL",
            ),
            (
                "kaputt.txt",
                b"Titel\n\xff\xfe kaputt\nhttps://example.org",
                "kaputt.txt was not added: not valid UTF-8",
            ),
        ]
        for name, content, start in cases:
            botapi.send_document(admin, name, content)
            reply = await botapi.next_message(admin, timeout=10)
            assert reply["text"].startswith(start), reply["text"]
        assert holder.generation == generation
        assert not (corpus / "uploads").exists()
        # Type and size are refused before anything is downloaded.
        assert len(botapi.calls_of("getFile")) == 2

        botapi.max_download_bytes = 10  # the cloud Bot API hands out at most 20 MB
        botapi.send_document(admin, "lang.txt", b"Titel\nText.\nhttps://example.org/x")
        reply = await botapi.next_message(admin, timeout=10)
        assert reply["text"].startswith(
            "lang.txt was not added: Telegram does not hand files over 20 MB to bots."
        )
        assert list((corpus / ".incoming").iterdir()) == []


async def test_an_admin_uploads_a_channel_export(
    botapi: BotApiStub, bot_with_sources: tuple[Any, Path]
) -> None:
    app, corpus = bot_with_sources
    holder = _holder(app)
    admin = botapi.user(ADMIN_ID, "Olga")
    export = json.dumps(export_factory.channel_export(), ensure_ascii=False).encode()

    botapi.send_document(admin, "result.json", export, "application/json", caption="@lageticker")
    imported = await botapi.next_message(admin, timeout=20)
    stats = holder.engine.stats
    assert imported["text"] == (
        "Export result.json eingelesen: 5 neue, 0 geänderte, 0 unveränderte Beiträge;"
        " 5 ohne Text oder Dienstnachricht übersprungen. Die Quellen umfassen jetzt"
        f" {stats.documents} Dokumente, {stats.passages} Passagen."
    )
    hit = holder.engine.search("Was forderte der Bundeskanzler von Putin?").hits[0]
    assert (hit.url, hit.post_url) == (export_factory.SOURCE, "https://t.me/lageticker/2")
    anna = botapi.user(2004, "Anna")
    reply = await _ask(botapi, anna, "When did the grain corridor close?")
    assert '<a href="https://t.me/lageticker/3">t.me/lageticker/3</a>' in reply["raw_text"]

    generation = holder.generation
    botapi.send_document(admin, "result.json", export, "application/json", caption="@lageticker")
    again = await botapi.next_message(admin, timeout=20)
    assert again["text"].startswith(
        "Export result.json eingelesen: 0 neue, 0 geänderte, 5 unveränderte Beiträge;"
    )
    assert holder.generation == generation  # nothing changed, nothing rebuilt

    botapi.send_document(admin, "result.json", b'{"messages": [', "application/json")
    broken = await botapi.next_message(admin, timeout=20)
    assert broken["text"].startswith("result.json wurde nicht aufgenommen: ")
    assert list((corpus / ".incoming").iterdir()) == []


def test_a_post_seen_live_and_then_imported_is_the_same_file(tmp_path: Path) -> None:
    """The live bot writes Telegram's spelling of the username; an import the admin's; and the
    dates come from different fields. The file must not change between the two."""
    from bot.ingest import ChannelPost, import_export, write_post

    live = ChannelPost(
        chat_id=-1001234567890,
        username="LageTicker",
        message_id=2,
        text=export_factory.channel_messages()[1]["text"],
        date="2022-12-03T10:00:00+00:00",
    )
    outcome, path = write_post(tmp_path, live)
    assert outcome == "created"
    before = path.read_bytes()
    export = export_factory.write(tmp_path / "result.json", export_factory.channel_export())
    report = import_export(export, tmp_path, channel="lageticker")
    assert path.read_bytes() == before and report.unchanged >= 1


async def test_an_unwritable_corpus_is_named_in_the_reply(
    botapi: BotApiStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only corpus volume (root ignores chmod, so the mkdir is made to fail)."""
    corpus = copy_corpus(tmp_path)
    admin = botapi.user(ADMIN_ID, "Olga", language_code="en")
    real_mkdir = Path.mkdir

    def read_only(self: Path, *args: Any, **kwargs: Any) -> None:
        if self.is_relative_to(corpus):
            raise PermissionError(30, "Read-only file system")
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    async with running_bot(botapi, make_settings(botapi, corpus)):
        botapi.send_document(admin, "n.txt", b"Titel\nText.\nhttps://example.org/n")
        reply = await botapi.next_message(admin, timeout=10)
    assert (
        reply["text"] == "n.txt was not added: CORPUS_DIR is not writable (Read-only file system)."
    )
    assert botapi.calls_of("getFile") == []


async def test_a_live_post_replaces_its_copy_imported_under_the_channel_id(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    """An export imported without --channel files posts under c<id>; when the channel's posts
    then arrive live (with the username), each replaces its copy instead of doubling it."""
    from bot.ingest import import_export

    corpus = copy_corpus(tmp_path)
    bare = str(-PRIVATE_SOURCE - 1_000_000_000_000)
    posts = export_factory.messages_of([(1, f"Bericht 1\n{REPORT}"), (2, f"Bericht 2\n{REPORT}")])
    export = export_factory.write(
        tmp_path / "result.json", export_factory.chat("Geheim", int(bare), posts)
    )
    import_export(export, corpus)
    imported = corpus / "telegram" / f"c{bare}"
    assert sorted(p.name for p in imported.iterdir()) == ["1.md", "2.md"]
    settings = make_settings(botapi, corpus, source_channels=str(PRIVATE_SOURCE))
    async with running_bot(botapi, settings) as app:
        holder = _holder(app)
        before = len(holder.engine.documents)
        generation = holder.generation
        # The channel went public: its first post (message 1) arrives with a username.
        botapi.channel_post(PRIVATE_SOURCE, f"Bericht 1\n{REPORT}", username="geheimnews")
        await _swapped(holder, generation + 1)
        assert sorted(p.name for p in imported.iterdir()) == ["2.md"]
        assert (corpus / "telegram" / "geheimnews" / "1.md").is_file()
        ids = [d.id for d in holder.engine.documents]
        assert len(ids) == before and f"telegram/c{bare}/1.md" not in ids
