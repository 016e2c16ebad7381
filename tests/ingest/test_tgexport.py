"""`citebot import-telegram`: Telegram Desktop exports become channel posts in the corpus."""

from __future__ import annotations

import gc
import io
import json
import sys
import tracemalloc
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.corpus import load_corpus
from bot.errors import CitebotError, ExportError, UploadError
from bot.ingest import (
    ChannelPost,
    ImportedPaths,
    ImportReport,
    SkippedChat,
    UploadResult,
    accept_upload,
    import_export,
    read_export,
    staging_path,
)
from tests.support import export_factory as factory
from tests.support.commands import run

POST_2 = """---
title: Scholz telefoniert mit Putin
url: https://www.example.org/2022/12/scholz-putin
post_url: https://t.me/lageticker/2
date: '2022-12-03T10:00:00+00:00'
channel: lageticker
chat_id: -1001234567890
message_id: 2
markup: plain
---
Scholz telefoniert mit Putin
Der Bundeskanzler forderte den Abzug der russischen Truppen aus der Ukraine.
https://www.example.org/2022/12/scholz-putin
"""

POST_3 = """---
title: Grain corridor closed
url: https://www.example.com/grain
post_url: https://t.me/lageticker/3
date: '2022-12-03T10:00:00+00:00'
channel: lageticker
chat_id: -1001234567890
message_id: 3
markup: plain
---
Grain corridor closed
The Black Sea grain corridor closed in July, the ministry said. #Getreide via @agrarnews – more\
 at https://www.example.net/more
"""

IMPORTED = ("2.md", "3.md", "5.md", "6.md", "7.md")


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return factory.write(tmp_path / "result.json", factory.channel_export())


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.md"))}


def _mtimes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*.md")}


def test_channel_export_writes_one_file_per_post_with_text(tmp_path: Path, export: Path) -> None:
    corpus = tmp_path / "corpus"
    report = import_export(export, corpus, channel="@lageticker")
    directory = corpus / "telegram" / "lageticker"
    assert report == ImportReport(
        created=5,
        skipped_service=2,  # create_channel, pin_message
        skipped_empty=3,  # photo without caption, sticker, whitespace only
        chats=1,
        paths=ImportedPaths(directory / name for name in IMPORTED),
    )
    assert sorted(p.name for p in directory.iterdir()) == sorted(IMPORTED)
    assert [p.parent for p in corpus.rglob("*.md")] == [directory] * 5
    assert (directory / "2.md").read_text(encoding="utf-8") == POST_2  # text as a string
    assert (directory / "3.md").read_text(encoding="utf-8") == POST_3  # text as a list


def test_imported_posts_load_with_source_post_link_title_and_date(
    tmp_path: Path, export: Path
) -> None:
    import_export(export, tmp_path, channel="lageticker")
    docs = {doc.id: doc for doc in load_corpus(tmp_path).documents}
    assert sorted(docs) == [f"telegram/lageticker/{name}" for name in IMPORTED]
    expected = {
        "2.md": ("Scholz telefoniert mit Putin", factory.SOURCE, "de"),
        # a signed post (from_id "user…"): the source is the text_link's hidden href
        "3.md": ("Grain corridor closed", "https://www.example.com/grain", "en"),
        # a caption without a link: the post is its own source
        "5.md": ("Bild des Tages: Kiew im Schnee", "https://t.me/lageticker/5", "de"),
        "6.md": (
            "Waffenstillstand: Lawrow lehnt Verhandlungen ab",
            "https://www.example.org/lawrow",
            "de",
        ),
        # forwarded: the first link (a text_link) is the source
        "7.md": (
            "Weitergeleitet: Selenskyj spricht vor dem Parlament in Kyjiw Video",
            "https://video.example.org/v/1",
            "de",
        ),
    }
    for name, (title, url, lang) in expected.items():
        doc = docs[f"telegram/lageticker/{name}"]
        assert (doc.title, doc.url, doc.lang) == (title, url, lang), name
        message_id = name.removesuffix(".md")
        own = f"https://t.me/lageticker/{message_id}"
        assert doc.post_url == (None if url == own else own), name
    assert docs["telegram/lageticker/2.md"].date == "2022-12-03T10:00:00+00:00"
    # edited: the export holds the last text; the date stays the post's (UTC, not local time)
    assert docs["telegram/lageticker/6.md"].date == "2022-12-03T11:00:00+00:00"
    # the source line of a post is its link, not a quote
    assert docs["telegram/lageticker/2.md"].text.endswith("aus der Ukraine.")


def test_a_one_paragraph_post_gets_a_short_title(tmp_path: Path) -> None:
    paragraph = "Die ukrainischen Streitkräfte setzten ihre Gegenoffensive fort " * 8
    export = factory.write(
        tmp_path / "result.json", factory.channel_export([factory.message(2, paragraph)])
    )
    import_export(export, tmp_path / "corpus")
    (doc,) = load_corpus(tmp_path / "corpus").documents
    assert len(doc.title) <= 120 and doc.title.endswith(" setzten ihre…")
    assert doc.text == paragraph.strip()


def test_posts_carry_text_links_and_entities_in_order(export: Path) -> None:
    posts = {post.message_id: post for post in read_export(export)}
    assert sorted(posts) == [2, 3, 5, 6, 7]
    grain = posts[3]
    assert grain == ChannelPost(
        chat_id=-1001234567890,
        username="",
        message_id=3,
        text="Grain corridor closed\nThe Black Sea grain corridor closed in July, the ministry"
        " said. #Getreide via @agrarnews – more at https://www.example.net/more",
        date="2022-12-03T10:00:00+00:00",
        links=("https://www.example.com/grain", "https://www.example.net/more"),
        channel_title="Lage-Ticker",
    )
    assert posts[6].links == ("https://www.example.org/lawrow",)
    assert posts[2].links == ()  # a plain string has no entities


def test_without_channel_the_directory_and_links_are_the_private_ones(
    tmp_path: Path, export: Path
) -> None:
    report = import_export(export, tmp_path)
    assert report.created == 5
    path = tmp_path / "telegram" / "c1234567890" / "2.md"
    doc = next(d for d in load_corpus(tmp_path).documents if d.id == "telegram/c1234567890/2.md")
    assert doc.post_url == "https://t.me/c/1234567890/2"
    assert "channel: Lage-Ticker\n" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "channel", ["LageTicker", "@LageTicker", "https://t.me/LageTicker", "t.me/LageTicker/2"]
)
def test_channel_as_name_or_link(tmp_path: Path, export: Path, channel: str) -> None:
    import_export(export, tmp_path, channel=channel)
    text = (tmp_path / "telegram" / "lageticker" / "5.md").read_text(encoding="utf-8")
    # One spelling whatever the input (t.me is case-insensitive), as the live bot writes it.
    assert "url: https://t.me/lageticker/5\npost_url: https://t.me/lageticker/5\n" in text


@pytest.mark.parametrize("channel", ["t.me/c/1234567890/2", "la ge", "@abc", "https://e.org/x"])
def test_bad_channel_name(tmp_path: Path, export: Path, channel: str) -> None:
    with pytest.raises(ExportError, match="not a public channel username"):
        import_export(export, tmp_path, channel=channel)
    assert not tmp_path.joinpath("telegram").exists()


def test_importing_twice_changes_nothing(tmp_path: Path, export: Path) -> None:
    first = import_export(export, tmp_path, channel="lageticker")
    files, mtimes = _files(tmp_path), _mtimes(tmp_path)
    second = import_export(export, tmp_path, channel="lageticker")
    assert second == ImportReport(unchanged=5, skipped_service=2, skipped_empty=3, chats=1)
    assert first.created == 5
    assert _files(tmp_path) == files
    assert _mtimes(tmp_path) == mtimes


@pytest.mark.parametrize(("first", "second"), [(None, "lageticker"), ("lageticker", None)])
def test_a_re_import_under_another_name_of_the_channel_replaces_the_copies(
    tmp_path: Path, export: Path, first: str | None, second: str | None
) -> None:
    """Without ``--channel`` the posts go to ``c<id>``, with it to the username: the same
    channel (same id), so the second import moves them instead of filing them twice."""
    import_export(export, tmp_path, channel=first)
    report = import_export(export, tmp_path, channel=second)
    old, new = ("c1234567890", "lageticker") if first is None else ("lageticker", "c1234567890")
    assert report.created == 5 and report.replaced == 5
    assert sorted(report.paths) == sorted(
        [tmp_path / "telegram" / new / n for n in IMPORTED]
        + [tmp_path / "telegram" / old / n for n in IMPORTED]
    )
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.md")) == [
        f"telegram/{new}/{name}" for name in IMPORTED
    ]
    docs = load_corpus(tmp_path).documents
    assert len(docs) == 5 and len({d.post_url for d in docs}) == 5
    # The next import under the same name finds nothing to replace.
    again = import_export(export, tmp_path, channel=second)
    assert (again.unchanged, again.replaced, tuple(again.paths)) == (5, 0, ())


def test_another_channel_s_posts_with_the_same_ids_stay(tmp_path: Path, export: Path) -> None:
    other = factory.chat("Andere", 987654321, factory.channel_messages())
    import_export(factory.write(tmp_path / "other.json", other), tmp_path / "corpus")
    import_export(export, tmp_path / "corpus", channel="lageticker")
    report = import_export(export, tmp_path / "corpus")  # now under c1234567890 too
    assert report.replaced == 5
    dirs = sorted(p.name for p in (tmp_path / "corpus" / "telegram").iterdir() if any(p.iterdir()))
    assert dirs == ["c1234567890", "c987654321"]


def test_a_changed_post_is_updated_and_only_it(tmp_path: Path, export: Path) -> None:
    import_export(export, tmp_path, channel="lageticker")
    mtimes = _mtimes(tmp_path)
    messages = factory.channel_messages()
    edited = next(m for m in messages if m["id"] == 5)
    edited["text"] = edited["text_entities"][0]["text"] = "Bild des Tages: Odesa im Schnee"
    messages.append(factory.message(11, "Ein neuer Beitrag"))
    changed = factory.write(tmp_path / "result2.json", factory.channel_export(messages))
    report = import_export(changed, tmp_path, channel="lageticker")
    directory = tmp_path / "telegram" / "lageticker"
    assert (report.created, report.updated, report.unchanged) == (1, 1, 4)
    assert report.paths == (directory / "5.md", directory / "11.md")
    assert "Odesa im Schnee" in (directory / "5.md").read_text(encoding="utf-8")
    after = _mtimes(tmp_path)
    assert {name for name in mtimes if after[name] != mtimes[name]} == {"telegram/lageticker/5.md"}


def test_a_stream_imports_like_a_file(tmp_path: Path, export: Path) -> None:
    import_export(export, tmp_path / "a", channel="lageticker")
    with export.open("rb") as fh:
        report = import_export(fh, tmp_path / "b", channel="lageticker")
    assert report.created == 5
    in_memory = io.BytesIO(export.read_bytes())
    assert import_export(in_memory, tmp_path / "b", channel="lageticker").unchanged == 5
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_account_export_imports_its_channels_and_names_the_other_chats(tmp_path: Path) -> None:
    export = factory.write(tmp_path / "result.json", factory.account_export())
    report = import_export(export, tmp_path / "corpus")
    assert (report.created, report.chats, report.skipped_service) == (3, 3, 0)
    assert report.skipped_chats == (
        SkippedChat("Mama", "personal_chat"),
        SkippedChat("Stammtisch", "private_supergroup"),  # its anonymous admin's post too
    )
    assert sorted(_files(tmp_path / "corpus")) == [
        "telegram/c1333000444/8.md",  # a channel the user left
        "telegram/c1411000222/15.md",
        "telegram/c1999000333/3.md",
    ]
    docs = {d.id: d for d in load_corpus(tmp_path / "corpus").documents}
    kyiv = docs["telegram/c1411000222/15.md"]
    assert (kyiv.title, kyiv.url, kyiv.post_url) == (
        "Zelensky addresses parliament",
        "https://kyivindependent.example/zelensky",
        "https://t.me/c/1411000222/15",
    )
    assert docs["telegram/c1999000333/3.md"].url == "https://t.me/c/1999000333/3"


def test_account_export_with_channel_imports_the_channel_of_that_title(tmp_path: Path) -> None:
    export = factory.write(tmp_path / "result.json", factory.account_export())
    report = import_export(export, tmp_path / "corpus", channel="@KyivIndependent")
    assert report.chats == 1 and report.created == 1
    assert sorted(_files(tmp_path / "corpus")) == ["telegram/kyivindependent/15.md"]
    assert [chat.title for chat in report.skipped_chats] == [
        "Mama",
        "Stammtisch",
        "Interner Kanal",
        "Alter Kanal",
    ]
    with pytest.raises(ExportError) as caught:
        import_export(export, tmp_path / "other", channel="lageticker")
    assert str(caught.value) == (
        "no channel titled like 'lageticker' in the export (its channels: Kyiv Independent,"
        " Interner Kanal, Alter Kanal); export that channel alone (Export chat history) to"
        " import it under this name"
    )
    assert not (tmp_path / "other").exists()


def _one_line_error(source: Path, corpus: Path) -> str:
    with pytest.raises(ExportError) as caught:
        import_export(source, corpus)
    message = str(caught.value)
    assert "\n" not in message and message.strip() == message
    assert isinstance(caught.value, CitebotError)
    return message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty or ends early (cut off?): not a complete export"),
        (b"hello", "not a Telegram export: invalid JSON (lexical error: invalid"),
        (
            b'{"name": "x", "messages": ["\xff"]}',
            "not a Telegram export: invalid JSON (lexical error: invalid bytes in UTF8 string)",
        ),
        (
            b"<html><body>Export</body></html>",
            "not a Telegram export: invalid JSON (",
        ),
        (b"[1, 2, 3]", "not a Telegram export: not a JSON object"),
        (b'{"name": "x"} trailing', "not a Telegram export: invalid JSON (parse"),
        (b'{"about": "x", "list": []}', "not a Telegram Desktop export (no"),
        (
            json.dumps(factory.chat("Stammtisch", 1, [], kind="private_supergroup")).encode(),
            "no channel in the export (chats found: Stammtisch (private_supergroup))",
        ),
        (
            b'{"name": "x", "type": "public_channel", "messages": [], "id": 5}',
            "chat 'x' has no numeric 'id' before its messages: not a Telegram Desktop export",
        ),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, content: bytes, expected: str) -> None:
    source = tmp_path / "result.json"
    source.write_bytes(content)
    assert _one_line_error(source, tmp_path / "corpus").startswith(expected)
    assert not (tmp_path / "corpus").exists()


def test_missing_file(tmp_path: Path) -> None:
    message = _one_line_error(tmp_path / "nothing.json", tmp_path)
    assert message == f"cannot read {tmp_path / 'nothing.json'}: No such file or directory"


def test_unwritable_corpus_is_one_line(tmp_path: Path, export: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.write_text("a file where the corpus directory should be", encoding="utf-8")
    with pytest.raises(ExportError) as caught:
        import_export(export, corpus)
    expected = corpus / "telegram" / "c1234567890" / "2.md"
    assert str(caught.value) == f"cannot write {expected}: Not a directory"


def test_a_cut_off_export_keeps_the_posts_before_the_cut(tmp_path: Path, export: Path) -> None:
    data = export.read_bytes()
    cut = data.index(b"Bild des Tages")  # inside message 5: 2 and 3 come before it
    source = tmp_path / "cut.json"
    source.write_bytes(data[:cut])
    message = _one_line_error(source, tmp_path / "corpus")
    assert message == (
        "the export ends early (cut off?); the 2 post(s) before the cut were imported, export it"
        " again for the rest"
    )
    assert sorted(_files(tmp_path / "corpus")) == [
        "telegram/c1234567890/2.md",
        "telegram/c1234567890/3.md",
    ]
    assert not list((tmp_path / "corpus").rglob(".*.part"))  # no half-written file left


def test_large_export_imports_in_bounded_memory(tmp_path: Path) -> None:
    """A 30 MB export imports with a peak of a few MB: only one message is held at a time."""
    source = tmp_path / "result.json"
    posts = factory.write_large_export(source, 30 * 1024 * 1024)
    size = source.stat().st_size
    tracemalloc.start()
    try:
        report = import_export(source, tmp_path / "corpus", channel="lageticker")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.created == posts > 3000
    assert report.skipped_service > 300 and report.skipped_empty > 300
    assert peak < 6 * 1024 * 1024 < size / 5, f"peak {peak / 2**20:.1f} MB for {size / 2**20} MB"
    first = tmp_path / "corpus" / "telegram" / "lageticker" / "1.md"
    assert first.read_text(encoding="utf-8").startswith("---\ntitle: Lagebericht 1\n")


def _retained(root: object) -> int:
    """Bytes of everything reachable from ``root`` (classes and modules aside)."""
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type | ModuleType):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def test_imported_paths_cost_bytes_not_path_objects(tmp_path: Path) -> None:
    """A first import of a big channel reports every post: 100,000 paths in under 2 MB (as
    Path objects they take about 44 MB)."""
    dirs = [tmp_path / "corpus" / "telegram" / name for name in ("lageticker", "c1234567890")]
    paths = ImportedPaths(dirs[i % 2] / f"{i}.md" for i in range(100_000))
    assert _retained(paths) < 2 * 1024 * 1024
    assert _retained(tuple(paths[:1000])) > 100 * 1000  # what it saves
    assert len(paths) == 100_000
    assert (paths[0], paths[99_999]) == (dirs[0] / "0.md", dirs[1] / "99999.md")
    assert paths[1:3] == (dirs[1] / "1.md", dirs[0] / "2.md")
    assert list(paths)[-1] == paths[-1] and dirs[0] / "50.md" in paths
    assert ImportedPaths(paths[:2]) == paths[:2] != paths[:3]
    with pytest.raises(ValueError):
        ImportedPaths([tmp_path / "notes.txt"])


def test_an_uploaded_export_is_imported_through_the_same_api(tmp_path: Path) -> None:
    """The bot's upload handler (bot/ingest/uploads.py) hands result.json to import_export."""
    corpus = tmp_path / "corpus"

    def upload(export: dict[str, Any]) -> UploadResult:
        staged = staging_path(corpus, "result.json")
        factory.write(staged, export)
        return accept_upload(
            staged,
            "result.json",
            corpus,
            max_file_bytes=10 * 1024 * 1024,
            default_lang="de",
            channel="@lageticker",
        )

    result = upload(factory.channel_export())
    directory = corpus / "telegram" / "lageticker"
    assert (result.export, result.created, result.skipped) == (True, 5, 5)
    assert result.paths == tuple(directory / name for name in IMPORTED)
    assert upload(factory.channel_export()).unchanged == 5
    with pytest.raises(UploadError) as caught:
        upload(factory.chat("Stammtisch", 1, [], kind="private_supergroup"))
    assert caught.value.details["reason"] == (
        "no channel in the export (chats found: Stammtisch (private_supergroup))"
    )
    assert not list((corpus / ".incoming").iterdir())  # staged files are removed either way


def _cli(*args: str, corpus: Path) -> tuple[int, str, str]:
    result = run(*args, "--corpus", str(corpus))
    return result.returncode, result.stdout, result.stderr


def test_cli_imports_and_ask_quotes_the_post(tmp_path: Path, export: Path) -> None:
    corpus = tmp_path / "corpus"
    code, out, err = _cli("import-telegram", str(export), "--channel", "@lageticker", corpus=corpus)
    assert (code, err) == (0, "")
    telegram = corpus / "telegram"
    assert out.splitlines() == [
        f"1 channel imported into {telegram}: 5 new, 0 changed, 0 unchanged; skipped:"
        " 2 service messages, 3 without text",
        "A running bot sees the new posts after /reload (or SIGHUP).",
    ]
    code, out, err = _cli("import-telegram", str(export), "--channel", "@lageticker", corpus=corpus)
    assert code == 0 and "0 new, 0 changed, 5 unchanged" in out and "/reload" not in out
    code, out, err = _cli("import-telegram", str(export), corpus=corpus)  # as c1234567890
    assert code == 0 and out.splitlines()[1:] == [
        "5 earlier copies under another name of the same channel replaced",
        "A running bot sees the new posts after /reload (or SIGHUP).",
    ]
    code, out, err = _cli("import-telegram", str(export), "--channel", "@lageticker", corpus=corpus)
    assert code == 0 and "5 new, 0 changed, 0 unchanged" in out

    code, out, err = _cli("ask", "Was forderte der Bundeskanzler?", "--json", corpus=corpus)
    assert code == 0, err
    hit: dict[str, Any] = json.loads(out)["hits"][0]
    assert hit["document"] == "telegram/lageticker/2.md"
    assert hit["title"] == "Scholz telefoniert mit Putin"
    assert (hit["url"], hit["post_url"]) == (factory.SOURCE, "https://t.me/lageticker/2")
    assert hit["link"].startswith(factory.SOURCE + "#:~:text=")


def test_cli_account_export_names_skipped_chats(tmp_path: Path) -> None:
    export = factory.write(tmp_path / "result.json", factory.account_export())
    code, out, _ = _cli("import-telegram", str(export), corpus=tmp_path / "corpus")
    assert code == 0
    assert out.splitlines()[1] == (
        "2 chats not imported (not channels, or not the one chosen): Mama (personal_chat),"
        " Stammtisch (private_supergroup)"
    )


def test_cli_bad_export_is_one_line_and_exit_2(tmp_path: Path) -> None:
    source = tmp_path / "result.json"
    source.write_text("<!doctype html><p>Export</p>", encoding="utf-8")
    code, out, err = _cli("import-telegram", str(source), corpus=tmp_path / "corpus")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "error: not a Telegram export: invalid JSON (lexical error: invalid char in json text)"
    ]
