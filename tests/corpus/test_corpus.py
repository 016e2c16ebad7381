"""Tests for bot.corpus: every format, the fallbacks, and every way a file can be bad."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.corpus import SUPPORTED_SUFFIXES, CorpusLoad, Document, load_corpus, load_file
from bot.corpus import html as html_reader
from bot.corpus.documents import MAX_DOCUMENT_CHARS
from bot.errors import CitebotError, CorpusError, Skipped
from tests.support.hostile import alias_bomb
from tests.support.paths import REPO_CORPUS

SEED_CORPUS = REPO_CORPUS

GERMAN = (
    "Die Regierung hat am Montag beschlossen, dass die neuen Regeln für alle Bürger gelten "
    "und nicht nur für die Beamten der Stadt."
)
ENGLISH = (
    "The government decided on Monday that the new rules apply to all citizens and not "
    "only to the officials of the city, which was expected."
)


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return path


def load_one(root: Path, rel: str, content: str | bytes, **kwargs: Any) -> Document:
    """Write one file, load it, and insist it produced exactly one document."""
    path = write(root, rel, content)
    docs, skipped = load_file(path, root, **kwargs)
    assert skipped == []
    assert len(docs) == 1
    return docs[0]


def skip_reason(root: Path, rel: str, content: str | bytes, **kwargs: Any) -> str:
    """Write one file, load it, and insist it was skipped; return the reason."""
    path = write(root, rel, content)
    docs, skipped = load_file(path, root, **kwargs)
    assert docs == []
    assert len(skipped) == 1
    assert skipped[0].path == rel
    return skipped[0].reason


def jsonl(*rows: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


# --------------------------------------------------------------------------- seed corpus


def test_seed_corpus_loads_one_german_document() -> None:
    result = load_corpus(SEED_CORPUS)
    assert isinstance(result, CorpusLoad)
    assert result.files == 1
    assert result.skipped == ()
    assert len(result.documents) == 1
    doc = result.documents[0]
    assert doc.id == "000_e199e51aae9cb937.txt"
    assert doc.path == "000_e199e51aae9cb937.txt"
    assert doc.title == (
        "@ISW: Russland versucht, den Wunsch des Westens nach Verhandlungen auszunutzen"
    )
    assert doc.url == (
        "https://www.understandingwar.org/backgrounder/"
        "russian-offensive-campaign-assessment-december-2"
    )
    assert doc.lang == "de"
    assert doc.date is None
    assert doc.text.startswith(doc.title + "\nUm eine Dynamik zu schaffen")
    assert "understandingwar.org" not in doc.text
    assert doc.text.endswith("damit diese präventive Zugeständnisse machen.")


# --------------------------------------------------------------------------- .txt


def test_txt_bare_url_on_last_line(tmp_path: Path) -> None:
    doc = load_one(
        tmp_path,
        "posts/a.txt",
        f"Mein Titel\n{GERMAN}\nZweite Zeile.\n\nhttps://example.org/a?x=1\n\n",
    )
    assert doc == Document(
        id="posts/a.txt",
        title="Mein Titel",
        url="https://example.org/a?x=1",
        lang="de",
        date=None,
        text=f"Mein Titel\n{GERMAN}\nZweite Zeile.",
        path="posts/a.txt",
    )


@pytest.mark.parametrize(
    "line",
    [
        "Quelle: https://example.org/s",
        "Source: https://example.org/s",
        "quelle https://example.org/s",
        "LINK: https://example.org/s",
        "Quelle:   <https://example.org/s>",
        "  Source:https://example.org/s  ",
    ],
)
def test_txt_labeled_source_line_is_used_and_removed(tmp_path: Path, line: str) -> None:
    doc = load_one(tmp_path, "a.txt", f"Titel\nErster Absatz.\n{line}\nNachsatz.\n")
    assert doc.url == "https://example.org/s"
    assert doc.text == "Titel\nErster Absatz.\nNachsatz."


def test_txt_last_labeled_line_wins(tmp_path: Path) -> None:
    content = "Titel\nQuelle: https://old.example/1\nText.\nQuelle: https://new.example/2\nEnde."
    doc = load_one(tmp_path, "a.txt", content)
    assert doc.url == "https://new.example/2"
    assert doc.text == "Titel\nQuelle: https://old.example/1\nText.\nEnde."


def test_txt_bare_url_last_line_beats_earlier_labeled_line(tmp_path: Path) -> None:
    content = "Titel\nQuelle: https://a.example/\nText.\nhttps://b.example/"
    doc = load_one(tmp_path, "a.txt", content)
    assert doc.url == "https://b.example/"
    assert doc.text == "Titel\nQuelle: https://a.example/\nText."


def test_txt_title_and_url_only(tmp_path: Path) -> None:
    doc = load_one(tmp_path, "a.txt", "  Nur ein Titel  \nhttps://example.org/t\n")
    assert doc.title == "Nur ein Titel"
    assert doc.text == "Nur ein Titel"


def test_txt_keeps_body_line_breaks_and_skips_leading_blank_lines(tmp_path: Path) -> None:
    content = "\n\n  Titel  \n\nAbsatz eins\n  eingerückt\n\n\nAbsatz zwei   \n\nhttps://e.org/x\n"
    doc = load_one(tmp_path, "a.txt", content)
    assert doc.title == "Titel"
    assert doc.text == "Titel\n\nAbsatz eins\n  eingerückt\n\n\nAbsatz zwei"


def test_txt_normalizes_newlines_nfc_and_bom(tmp_path: Path) -> None:
    raw = b"\xef\xbb\xbfCafe\xcc\x81 Titel\r\nZeile eins\rZeile zwei\r\nhttps://e.org/c\r\n"
    doc = load_one(tmp_path, "a.txt", raw)
    assert doc.title == "Café Titel"
    assert doc.title == "Caf\u00e9 Titel"  # composed form, not e + combining accent
    assert doc.text == "Caf\u00e9 Titel\nZeile eins\nZeile zwei"


@pytest.mark.parametrize(
    "content",
    [
        "Titel\nText ohne Link.\n",
        "Titel\nftp://example.org/file\n",
        "Titel\nhttps://example.org/mitten-drin\nText danach.\n",
        "Titel\nQuelle: example.org/ohne-schema\n",
        "Titel\nhttps://\n",
    ],
)
def test_txt_without_http_source_is_skipped(tmp_path: Path, content: str) -> None:
    reason = skip_reason(tmp_path, "a.txt", content)
    assert reason == "no source URL (add the link as the last line or as 'Quelle: URL')"


def test_txt_with_only_a_url_is_skipped(tmp_path: Path) -> None:
    reason = skip_reason(tmp_path, "a.txt", "\nhttps://example.org/only\n")
    assert reason == "no usable text (only a source URL)"


# --------------------------------------------------------------------------- .md


def test_md_front_matter(tmp_path: Path) -> None:
    content = (
        "---\n"
        "title: Front Title\n"
        "url: https://example.org/b\n"
        "date: 2024-01-05\n"
        "lang: English\n"
        "id: ignored-id\n"
        "---\n"
        "Ein deutscher Text, der trotzdem als englisch deklariert ist.\n"
    )
    doc = load_one(tmp_path, "notes/b.md", content)
    assert doc == Document(
        id="notes/b.md",
        title="Front Title",
        url="https://example.org/b",
        lang="en",
        date="2024-01-05",
        text="Ein deutscher Text, der trotzdem als englisch deklariert ist.",
        path="notes/b.md",
    )


@pytest.mark.parametrize("url_key", ["source", "link", "URL"])
def test_md_front_matter_url_aliases(tmp_path: Path, url_key: str) -> None:
    content = f"---\n{url_key}: https://example.org/alias\nlanguage: de-DE\n---\nText.\n"
    doc = load_one(tmp_path, "a.md", content)
    assert doc.url == "https://example.org/alias"
    assert doc.lang == "de"
    assert doc.title == "Text."


def test_md_empty_front_matter_and_fallbacks(tmp_path: Path) -> None:
    content = "---\n---\nIntro line\n\n## The *first* heading\nBody.\n\nQuelle: https://e.org/q\n"
    doc = load_one(tmp_path, "a.md", content)
    assert doc.title == "The first heading"
    assert doc.url == "https://e.org/q"
    assert doc.text == "Intro line\n\nThe first heading\nBody."


def test_md_without_front_matter_uses_first_line_and_bare_url(tmp_path: Path) -> None:
    doc = load_one(tmp_path, "a.md", "Plain **first** line\nMore text.\n\nhttps://e.org/bare\n")
    assert doc.title == "Plain first line"
    assert doc.url == "https://e.org/bare"
    assert doc.text == "Plain first line\nMore text."
    assert doc.date is None


def test_md_front_matter_url_wins_and_body_is_untouched(tmp_path: Path) -> None:
    content = "---\nurl: https://e.org/front\n---\nText.\nQuelle: https://e.org/body\n"
    doc = load_one(tmp_path, "a.md", content)
    assert doc.url == "https://e.org/front"
    assert doc.text == "Text.\nQuelle: https://e.org/body"


def test_md_cleanup_to_plain_text(tmp_path: Path) -> None:
    content = (
        "---\n"
        "url: https://e.org/md\n"
        "---\n"
        "# Big *heading* #\n"
        "\n"
        "Some **bold** and __strong__ text with a [link](https://x.y/z) and "
        "![alt text](img.png), plus snake_case_name and 2*3*4.\n"
        "<!-- a comment\n"
        "over lines -->Visible after comment.\n"
        "```python\n"
        "x = **not** touched  # [keep](this)\n"
        "```\n"
        "> quoted _em_ text\n"
        "* list item\n"
        "#hashtag is no heading\n"
    )
    doc = load_one(tmp_path, "a.md", content)
    assert doc.title == "Big heading"
    assert doc.text == (
        "Big heading\n"
        "\n"
        "Some bold and strong text with a link and alt text, plus snake_case_name and 2*3*4.\n"
        "Visible after comment.\n"
        "x = **not** touched  # [keep](this)\n"
        "quoted em text\n"
        "* list item\n"
        "#hashtag is no heading"
    )


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("title: [unclosed\n", "bad front matter: "),
        ("- a\n- b\n", "bad front matter: expected key: value pairs, got list"),
        ("just a string\n", "bad front matter: expected key: value pairs, got str"),
    ],
)
def test_md_bad_front_matter(tmp_path: Path, front: str, expected: str) -> None:
    reason = skip_reason(tmp_path, "a.md", f"---\n{front}---\nBody.\nhttps://e.org/x\n")
    assert reason.startswith(expected)
    assert len(reason) > len("bad front matter: ")


@pytest.mark.parametrize("levels", [2, 9])
def test_md_yaml_aliases_are_refused(tmp_path: Path, levels: int) -> None:
    bomb = alias_bomb(levels)
    assert levels < 9 or len(bomb.encode()) < 542
    reason = skip_reason(tmp_path, "bomb.md", bomb)
    assert reason == "bad front matter: aliases (*name) are not allowed (line 5)"


def test_md_yaml_anchor_without_alias_loads(tmp_path: Path) -> None:
    doc = load_one(tmp_path, "a.md", "---\ntitle: &t Titel\nurl: https://e.org/a\n---\nText.\n")
    assert (doc.title, doc.url) == ("Titel", "https://e.org/a")


def test_md_unclosed_front_matter(tmp_path: Path) -> None:
    reason = skip_reason(tmp_path, "a.md", "---\ntitle: x\nBody.\nhttps://e.org/x\n")
    assert reason == "bad front matter: no closing '---' line"


def test_md_without_url_or_text_is_skipped(tmp_path: Path) -> None:
    assert skip_reason(tmp_path, "a.md", "# Title\nBody.\n") == (
        "no source URL (add 'url:' to the front matter or a 'Quelle: URL' line)"
    )
    assert skip_reason(tmp_path, "b.md", "---\nurl: https://e.org/\n---\n\n<!-- x -->\n") == (
        "no usable text"
    )


# --------------------------------------------------------------------------- .jsonl


def test_jsonl_ids_titles_and_line_numbers(tmp_path: Path) -> None:
    long_text = "word " * 30 + "end. Second line follows.\nNext line."
    content = jsonl(
        {"id": "abc", "text": "First doc.\nBody.", "url": "https://e.org/1", "title": " T  1 "},
        "",
        {"id": 7, "text": long_text, "url": "https://e.org/2"},
        {"text": "No id here.", "url": "https://e.org/3", "date": "2023-12-31", "lang": "en"},
        {"id": True, "text": "Bool id.", "url": "https://e.org/4"},
        {"id": "  ", "text": "Blank id.", "url": "https://e.org/5"},
    )
    docs, skipped = load_file(write(tmp_path, "data/x.jsonl", content), tmp_path)
    assert skipped == []
    assert [d.id for d in docs] == [
        "data/x.jsonl#abc",
        "data/x.jsonl#7",
        "data/x.jsonl#L4",
        "data/x.jsonl#L5",
        "data/x.jsonl#L6",
    ]
    assert all(d.path == "data/x.jsonl" for d in docs)
    assert docs[0].title == "T 1"
    assert docs[0].text == "First doc.\nBody."
    # 24 words fit in 119 characters; the 25th would cross the limit.
    assert docs[1].title == ("word " * 24).rstrip() + "…"
    assert len(docs[1].title) <= 120
    assert docs[2].title == "No id here."
    assert docs[2].date == "2023-12-31"
    assert docs[2].lang == "en"


def test_jsonl_title_cut_without_spaces(tmp_path: Path) -> None:
    doc = load_one(tmp_path, "x.jsonl", jsonl({"text": "x" * 300, "url": "https://e.org/"}))
    assert doc.title == "x" * 119 + "…"


def test_jsonl_bad_lines_are_skipped_and_the_rest_loads(tmp_path: Path) -> None:
    content = jsonl(
        {"text": "Good one.", "url": "https://e.org/1", "id": "dup"},
        "{not json",
        "[1, 2]",
        {"url": "https://e.org/3"},
        {"text": "   ", "url": "https://e.org/4"},
        {"text": 42, "url": "https://e.org/5"},
        {"text": "No link."},
        {"text": "Bad link.", "url": "ftp://e.org/7"},
        {"text": "Same id.", "url": "https://e.org/8", "id": "dup"},
        {"text": "Good two.", "url": "http://e.org/9"},
        "[" * 100_000,
    )
    docs, skipped = load_file(write(tmp_path, "x.jsonl", content), tmp_path)
    assert [d.id for d in docs] == ["x.jsonl#dup", "x.jsonl#L10"]
    assert [d.url for d in docs] == ["https://e.org/1", "http://e.org/9"]
    reasons = {s.path: s.reason for s in skipped}
    assert reasons["x.jsonl:2"].startswith("invalid JSON: ")
    assert reasons["x.jsonl:3"] == "not a JSON object (list)"
    assert reasons["x.jsonl:4"] == "missing 'text'"
    assert reasons["x.jsonl:5"] == "empty 'text'"
    assert reasons["x.jsonl:6"] == "'text' is not a string"
    assert reasons["x.jsonl:7"] == "no source URL (add a 'url' field with an http(s) link)"
    assert reasons["x.jsonl:8"] == "no source URL (add a 'url' field with an http(s) link)"
    assert reasons["x.jsonl:9"] == "duplicate id 'x.jsonl#dup' (first on line 1)"
    assert reasons["x.jsonl:11"].startswith("invalid JSON")
    assert len(skipped) == 9


def test_jsonl_invalid_utf8_line_only_skips_that_line(tmp_path: Path) -> None:
    good = json.dumps({"text": "Fine.", "url": "https://e.org/"}).encode() + b"\n"
    bad = b'{"text": "bad \xff byte", "url": "https://e.org/"}\n'
    docs, skipped = load_file(write(tmp_path, "x.jsonl", good + bad + good), tmp_path)
    assert [d.id for d in docs] == ["x.jsonl#L1", "x.jsonl#L3"]
    offset = len(good) + bad.index(b"\xff")
    assert skipped == [Skipped("x.jsonl:2", f"not valid UTF-8 (byte 0xff at offset {offset})")]


def test_jsonl_bom_crlf_and_newlines_in_text(tmp_path: Path) -> None:
    row = json.dumps({"text": "Zeile 1\r\nZeile 2\rZeile 3", "url": "https://e.org/"})
    doc = load_one(tmp_path, "x.jsonl", b"\xef\xbb\xbf" + row.encode() + b"\r\n\r\n")
    assert doc.id == "x.jsonl#L1"
    assert doc.text == "Zeile 1\nZeile 2\nZeile 3"
    assert doc.title == "Zeile 1"


def test_jsonl_with_only_blank_lines_is_empty(tmp_path: Path) -> None:
    assert skip_reason(tmp_path, "x.jsonl", "\n  \n\n") == "empty file"


def test_jsonl_large_file_streams(tmp_path: Path) -> None:
    rows = 20_000
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(rows):
            text = f"Document number {i} says that the answer is {i * 7} and that is all."
            fh.write(json.dumps({"id": i, "text": text, "url": f"https://e.org/{i}"}) + "\n")
    result = load_corpus(tmp_path)
    assert result.files == 1
    assert result.skipped == ()
    assert len(result.documents) == rows
    assert len({d.id for d in result.documents}) == rows
    by_id = {d.id: d for d in result.documents}
    assert by_id["big.jsonl#19999"].url == "https://e.org/19999"
    assert by_id["big.jsonl#0"].lang == "en"
    assert [d.id for d in result.documents] == sorted(by_id)


def test_a_one_line_document_is_read_in_bounded_parts(tmp_path: Path) -> None:
    """Issue 17 #7: one 40 MB line was one document of 108,570 passages, and every question
    scoring it paid for all of them."""
    sentence = "Die Regierung hat am Montag neue Regeln beschlossen. "
    text = sentence * (3 * MAX_DOCUMENT_CHARS // len(sentence) + 10)
    row = {"id": "gross", "url": "https://e.org/g", "title": "Groß", "text": text}
    other = {"id": "gross#2", "url": "https://e.org/x", "text": "Kurz."}
    docs, skipped = load_file(write(tmp_path, "big.jsonl", jsonl(row, other)), tmp_path)
    assert skipped == []
    assert [d.id for d in docs] == [
        "big.jsonl#gross",  # the first part keeps the document's id
        "big.jsonl#gross#2+",  # "#2" is another line's id
        "big.jsonl#gross#3",
        "big.jsonl#gross#4",
        "big.jsonl#gross#2",
    ]
    parts = docs[:4]
    assert all(0 < len(d.text) <= MAX_DOCUMENT_CHARS for d in parts)
    assert all(d.text.startswith("Die") and d.text.endswith("beschlossen.") for d in parts)
    assert " ".join(d.text for d in parts) == text.strip()
    assert {(d.title, d.url, d.lang, d.path) for d in parts} == {
        ("Groß", "https://e.org/g", "de", "big.jsonl")
    }


@pytest.mark.parametrize(
    ("text", "last_word"),
    [
        (("Absatz eins. " * 700 + "\n\n") * 20, "eins."),  # paragraphs first
        (("Zeile " * 1500 + "\n") * 20, "Zeile"),
        ("Wort " * 60_000, "Wort"),
        ("x" * 250_000, "x"),  # no break at all: cut at the limit
    ],
    ids=["paragraphs", "lines", "words", "one word"],
)
def test_long_texts_are_cut_at_the_best_break(tmp_path: Path, text: str, last_word: str) -> None:
    row = {"id": "a", "url": "https://e.org/a", "text": text}
    docs, _ = load_file(write(tmp_path, "a.jsonl", jsonl(row)), tmp_path)
    assert [d.id for d in docs] == ["a.jsonl#a"] + [
        f"a.jsonl#a#{n}" for n in range(2, len(docs) + 1)
    ]
    assert all(0 < len(d.text) <= MAX_DOCUMENT_CHARS for d in docs)
    assert all(d.text.split()[-1].endswith(last_word) for d in docs)
    assert "".join("".join(d.text for d in docs).split()) == "".join(text.split())
    if last_word == "eins.":  # each part is whole paragraphs
        assert all(len(d.text.split("\n\n")[-1]) == len("Absatz eins. " * 700) - 1 for d in docs)
    if last_word == "x":
        assert [len(d.text) for d in docs] == [MAX_DOCUMENT_CHARS, MAX_DOCUMENT_CHARS, 50_000]


# --------------------------------------------------------------------------- .html

FULL_HTML = """<!doctype html>
<html lang="en-US"><head><title>  My   Page </title>
<link rel="canonical" href="https://example.org/page">
<meta property="og:url" content="https://example.org/og">
<meta name="date" content="2024-03-05">
<style>body { color: red }</style></head>
<body><nav>Menu Home</nav><h1>Heading</h1><p>First   sentence.</p><p>Second <b>bold</b> one.</p>
<script>var secret = "do not show";</script><noscript>enable js</noscript>
<div>Line one<br>Line two</div><ul><li>alpha</li><li>beta</li></ul>
<table><tr><td>c1</td><td>c2</td></tr></table>
<svg><text>svg text</text></svg><template><p>tpl</p></template>
<section>Sec<article>Art</article>tail</section>
<!-- hidden comment --><footer>Footer text</footer></body></html>
"""


def test_html_full_page(tmp_path: Path) -> None:
    doc = load_one(tmp_path, "site/page.html", FULL_HTML)
    assert doc == Document(
        id="site/page.html",
        title="My Page",
        url="https://example.org/page",
        lang="en",
        date="2024-03-05",
        text=(
            "Heading\nFirst sentence.\nSecond bold one.\nLine one\nLine two\nalpha\nbeta\n"
            "c1 c2\nSec\nArt\ntail"
        ),
        path="site/page.html",
    )
    for hidden in ("secret", "color", "Menu", "Footer", "svg text", "tpl", "comment", "js"):
        assert hidden not in doc.text


def test_html_blank_lines_collapse_to_one(tmp_path: Path) -> None:
    html = (
        '<html><head><link rel="canonical" href="https://e.org/h"></head><body>'
        "<p>One</p><br><br><br><br><p>Two</p><pre>a   b\n  c</pre></body></html>"
    )
    doc = load_one(tmp_path, "a.htm", html)
    assert doc.text == "One\n\nTwo\na b\nc"
    assert doc.title == "One"


def test_html_fallbacks_og_title_og_url(tmp_path: Path) -> None:
    html = (
        "<html><head>"
        '<meta property="og:title" content="OG Title">'
        '<meta property="og:url" content="https://e.org/og">'
        '<meta property="article:published_time" content="2024-05-06T07:08:09+02:00">'
        f"</head><body><h1>H1 Title</h1><p>{ENGLISH}</p></body></html>"
    )
    doc = load_one(tmp_path, "a.html", html)
    assert doc.title == "OG Title"
    assert doc.url == "https://e.org/og"
    assert doc.date == "2024-05-06T07:08:09+02:00"
    assert doc.lang == "en"


def test_html_fallbacks_h1_and_quelle_line(tmp_path: Path) -> None:
    html = (
        '<html lang="fr"><body><h1>H1  Title</h1><p>Text <time datetime="2022-12-02">heute</time>'
        f"</p><p>{GERMAN}</p><p>Quelle: https://e.org/q</p></body></html>"
    )
    doc = load_one(tmp_path, "a.HTML", html)
    assert doc.title == "H1 Title"
    assert doc.url == "https://e.org/q"
    assert doc.date == "2022-12-02"
    assert doc.lang == "de"  # "fr" is unsupported, so the text decides
    assert doc.text == f"H1 Title\nText heute\n{GERMAN}"


def test_html_title_falls_back_to_first_line(tmp_path: Path) -> None:
    html = "<div>First visible line</div><div>Second</div><p>https://e.org/bare</p>"
    doc = load_one(tmp_path, "a.html", html)
    assert doc.title == "First visible line"
    assert doc.url == "https://e.org/bare"
    assert doc.text == "First visible line\nSecond"


def test_html_without_visible_text_or_url_is_skipped(tmp_path: Path) -> None:
    no_text = (
        '<html><head><title>T</title><link rel="canonical" href="https://e.org/"></head>'
        "<body><script>x()</script><style>p{}</style>  </body></html>"
    )
    assert skip_reason(tmp_path, "a.html", no_text) == "html without visible text"
    no_url = "<html><head><title>T</title></head><body><p>Text only.</p></body></html>"
    assert skip_reason(tmp_path, "b.html", no_url).startswith("no source URL (add <link")


def test_html_deep_nesting_does_not_crash(tmp_path: Path) -> None:
    depth = html_reader.MAX_HTML_DEPTH
    html = "<div>" * depth + "deep text" + "</div>" * depth + "<p>https://e.org/deep</p>"
    doc = load_one(tmp_path, "a.html", html)
    assert doc.text == "deep text"


TOO_DEEP = "html nested too deeply (more than 1000 levels)"


@pytest.mark.parametrize(
    "html",
    [
        "<div>" * 100_000 + "x" + "</div>" * 100_000,  # issue 17: 1.1 MB, 23 s to parse
        "<div>" * 1001 + "x",
        "<ul><li>" * 1001 + "x",
        "<div/>" * 1001 + "x",  # HTML ignores the slash: each opens
        "<svg>" + "<div/>" * 1001 + "x",  # <div> leaves the svg, then the same
        "<DIV class='a>b'>" * 1001 + "x",
        "<!-- a --><script>x</script>" + "<span>" * 1001 + "x",
    ],
    ids=["100k-divs", "1001-divs", "ul-li", "self-closing-div", "svg-breakout", "attrs", "inline"],
)
def test_html_nested_too_deeply_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, html: str
) -> None:
    def parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(html_reader, "LexborHTMLParser", parse)
    assert skip_reason(tmp_path, "a.html", html + "<p>https://e.org/tief</p>") == TOO_DEEP


def test_html_many_deep_towers_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_reader, "MAX_HTML_DEPTH_WORK", 10 * 500_500)
    tower = "<div>" * 1000 + "x" + "</div>" * 1000
    assert load_one(tmp_path, "ok.html", tower * 10 + "<p>https://e.org/</p>").text == "\n".join(
        ["x"] * 10
    )
    assert skip_reason(tmp_path, "a.html", tower * 11 + "<p>https://e.org/</p>") == (
        "html nested too deeply (too many deeply nested elements)"
    )


@pytest.mark.parametrize(
    "filler",
    [
        "<p>Satz." * 5000,  # unclosed paragraphs are siblings
        "<ul>" + "<li>Punkt" * 5000 + "</ul>",
        "<table>" + "<tr><td>a<td>b" * 5000 + "</table>",
        "<svg>" + '<path d="M0 0"/>' * 5000 + "</svg><p>Satz.",
        "<script>" + "s += '<div>';" * 5000 + "</script><p>Satz.",
        "<!--" + "<div>" * 5000 + "--><p>Satz.",
        "<br><img src=x><hr>" * 5000 + "<p>Satz.",
        "<div>Satz.</div>" * 5000,
    ],
    ids=["p", "li", "td", "svg-paths", "script", "comment", "void", "siblings"],
)
def test_html_flat_markup_in_quantity_loads(tmp_path: Path, filler: str) -> None:
    doc = load_one(tmp_path, "a.html", f"<html><body>{filler}<p>https://e.org/flach</p>")
    assert doc.url == "https://e.org/flach"
    assert "Satz." in doc.text or "Punkt" in doc.text or "a b" in doc.text


def test_html_parser_crash_becomes_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(html_reader, "LexborHTMLParser", explode)
    reason = skip_reason(tmp_path, "a.html", "<p>x</p><p>https://e.org/</p>")
    assert reason == "could not parse: RuntimeError: boom"


# --------------------------------------------------------------------------- language


def test_language_guessed_for_german_and_english(tmp_path: Path) -> None:
    write(tmp_path, "de.txt", f"Titel\n{GERMAN}\nhttps://e.org/de\n")
    write(tmp_path, "en.txt", f"Title\n{ENGLISH}\nhttps://e.org/en\n")
    by_id = {d.id: d for d in load_corpus(tmp_path, default_lang="en").documents}
    assert by_id["de.txt"].lang == "de"
    by_id = {d.id: d for d in load_corpus(tmp_path, default_lang="de").documents}
    assert by_id["en.txt"].lang == "en"


@pytest.mark.parametrize("default_lang", ["de", "en"])
def test_language_default_when_too_short_to_tell(tmp_path: Path, default_lang: str) -> None:
    doc = load_one(tmp_path, "a.txt", "Hallo\nhttps://e.org/\n", default_lang=default_lang)
    assert doc.lang == default_lang


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("de", "de"),
        ("de-DE", "de"),
        ("DE_at", "de"),
        ("german", "de"),
        ("Deutsch", "de"),
        ("en", "en"),
        ("en-GB", "en"),
        ("English", "en"),
        ("eng", "en"),
        ("fr", "de"),  # unsupported: guessed from the German text
        ("", "de"),
        (5, "de"),
    ],
)
def test_language_declared_is_normalized(tmp_path: Path, declared: object, expected: str) -> None:
    row = {"text": GERMAN, "url": "https://e.org/", "lang": declared}
    doc = load_one(tmp_path, "x.jsonl", jsonl(row), default_lang="en")
    assert doc.lang == expected


def test_bad_default_lang_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "T\nhttps://e.org/\n")
    with pytest.raises(ValueError, match="default_lang"):
        load_corpus(tmp_path, default_lang="fr")
    assert load_corpus(tmp_path, default_lang="English").documents[0].lang == "en"


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-05", "2024-01-05"),
        ("  2024-01-05 ", "2024-01-05"),
        ("20240105", "2024-01-05"),
        ("2024-01-05T10:20:30", "2024-01-05T10:20:30"),
        ("2024-01-05T10:20:30+02:00", "2024-01-05T10:20:30+02:00"),
        ("2024-01-05T10:20:30Z", "2024-01-05T10:20:30Z"),
        ("2024-02-30", None),
        ("05.01.2024", None),
        ("5. Januar 2024", None),
        ("", None),
        (20240105, None),
        (None, None),
    ],
)
def test_date_parsing(tmp_path: Path, raw: object, expected: str | None) -> None:
    row = {"text": "Text.", "url": "https://e.org/", "date": raw}
    assert load_one(tmp_path, "x.jsonl", jsonl(row)).date == expected


def test_yaml_date_and_datetime_values(tmp_path: Path) -> None:
    front = "---\nurl: https://e.org/\ndate: 2024-01-05 10:20:30\n---\nText.\n"
    assert load_one(tmp_path, "a.md", front).date == "2024-01-05T10:20:30"
    front = "---\nurl: https://e.org/\ndate: '2024-01-05'\n---\nText.\n"
    assert load_one(tmp_path, "b.md", front).date == "2024-01-05"
    front = "---\nurl: https://e.org/\ndate: [2024]\n---\nText.\n"
    assert load_one(tmp_path, "c.md", front).date is None


# --------------------------------------------------------------------------- bad input


def test_invalid_utf8_names_byte_and_offset(tmp_path: Path) -> None:
    assert skip_reason(tmp_path, "a.txt", b"Title\n\xff\nhttps://e.org/\n") == (
        "not valid UTF-8 (byte 0xff at offset 6)"
    )
    # The offset counts from the start of the file, BOM included.
    assert skip_reason(tmp_path, "b.md", b"\xef\xbb\xbfTitle\n\xfe\nhttps://e.org/\n") == (
        "not valid UTF-8 (byte 0xfe at offset 9)"
    )
    assert skip_reason(tmp_path, "c.html", "Stra\u00dfe".encode("latin-1")) == (
        "not valid UTF-8 (byte 0xdf at offset 4)"
    )


def test_bom_is_accepted_and_stripped(tmp_path: Path) -> None:
    doc = load_one(tmp_path, "a.txt", b"\xef\xbb\xbfTitel\nhttps://e.org/\n")
    assert doc.title == "Titel"
    assert not doc.text.startswith("\ufeff")


@pytest.mark.parametrize("suffix", SUPPORTED_SUFFIXES)
def test_binary_file_is_skipped(tmp_path: Path, suffix: str) -> None:
    content = b"Title\n\x00\x01\x02 data\nhttps://e.org/\n"
    assert skip_reason(tmp_path, f"a{suffix}", content) == "binary file"


@pytest.mark.parametrize("suffix", SUPPORTED_SUFFIXES)
@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n ", b"\xef\xbb\xbf\n"])
def test_empty_file_is_skipped(tmp_path: Path, suffix: str, content: bytes) -> None:
    assert skip_reason(tmp_path, f"a{suffix}", content) == "empty file"


def test_too_large_is_skipped_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:  # sparse: no real disk use
        fh.truncate(210 * 1024 * 1024)
    small = write(tmp_path, "small.jsonl", jsonl({"text": "x" * 50, "url": "https://e.org/"}))
    real_open = Path.open

    def guarded_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name in ("big.txt", "small.jsonl"):
            raise AssertionError("a too-large file must not be opened")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded_open)
    docs, skipped = load_file(big, tmp_path)
    assert docs == []
    assert skipped == [Skipped("big.txt", "too large (210 MB > 50 MB limit)")]
    size = small.stat().st_size
    assert size > 20
    docs, skipped = load_file(small, tmp_path, max_file_bytes=20)
    assert skipped == [Skipped("small.jsonl", f"too large ({size} bytes > 20 bytes limit)")]


def test_file_at_the_size_limit_loads(tmp_path: Path) -> None:
    content = b"T\nhttps://e.org/\n"
    doc = load_one(tmp_path, "a.txt", content, max_file_bytes=len(content))
    assert doc.title == "T"
    assert skip_reason(tmp_path, "b.txt", content, max_file_bytes=len(content) - 1) == (
        f"too large ({len(content)} bytes > {len(content) - 1} bytes limit)"
    )


def test_dangling_symlink_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing-target.txt")
    write(tmp_path, "ok.txt", "T\nhttps://e.org/\n")
    result = load_corpus(tmp_path)
    assert result.files == 2
    assert [d.id for d in result.documents] == ["ok.txt"]
    assert result.skipped == (Skipped("gone.txt", "unreadable: No such file or directory"),)


def test_file_vanished_between_listing_and_reading(tmp_path: Path) -> None:
    docs, skipped = load_file(tmp_path / "vanished.md", tmp_path)
    assert docs == []
    assert skipped == [Skipped("vanished.md", "unreadable: No such file or directory")]


@pytest.mark.parametrize("suffix", SUPPORTED_SUFFIXES)
def test_permission_error_while_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """Tests run as root, where chmod 000 does not block reading, so fake the error."""
    locked = write(tmp_path, f"locked{suffix}", "T\nhttps://e.org/\n")
    real_open = Path.open

    def denying_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == locked.name:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denying_open)
    docs, skipped = load_file(locked, tmp_path)
    assert docs == []
    assert skipped == [Skipped(locked.name, "unreadable: Permission denied")]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="chmod 000 does not block reading for root (covered by the monkeypatched test)",
)
def test_chmod_000_file_is_unreadable(tmp_path: Path) -> None:
    locked = write(tmp_path, "locked.txt", "T\nhttps://e.org/\n")
    write(tmp_path, "ok.txt", "T\nhttps://e.org/\n")
    locked.chmod(0)
    try:
        result = load_corpus(tmp_path)
    finally:
        locked.chmod(0o644)
    assert [d.id for d in result.documents] == ["ok.txt"]
    assert result.skipped == (Skipped("locked.txt", "unreadable: Permission denied"),)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_is_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")  # opening it for reading would block forever
    write(tmp_path, "ok.txt", "T\nhttps://e.org/\n")
    result = load_corpus(tmp_path)
    assert result.skipped == (Skipped("pipe.txt", "not a regular file"),)
    assert [d.id for d in result.documents] == ["ok.txt"]


def test_unsupported_suffix_via_load_file(tmp_path: Path) -> None:
    assert skip_reason(tmp_path, "a.pdf", b"%PDF") == "unsupported file type '.pdf'"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    content=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
    suffix=st.sampled_from(SUPPORTED_SUFFIXES),
)
def test_load_file_never_raises_on_arbitrary_bytes(
    tmp_path: Path, content: bytes, suffix: str
) -> None:
    path = write(tmp_path, f"fuzz{suffix}", content)
    docs, skipped = load_file(path, tmp_path)
    assert len(docs) + len(skipped) >= 1
    for doc in docs:
        assert doc.url.startswith(("http://", "https://"))
        assert doc.lang in ("de", "en")
        assert doc.text.strip()
        assert doc.path == f"fuzz{suffix}"
    for skip in skipped:
        assert skip.reason


# --------------------------------------------------------------------------- tree walking


def test_tree_walk_ignores_hidden_and_unsupported_files(tmp_path: Path) -> None:
    good = "T\nhttps://e.org/\n"
    write(tmp_path, "a.txt", good)
    write(tmp_path, "deep/er/b.md", "---\nurl: https://e.org/b\n---\nB.\n")
    write(tmp_path, "UPPER.TXT", good)
    write(tmp_path, ".hidden.txt", good)
    write(tmp_path, ".git/c.txt", good)
    write(tmp_path, "sub/.cache/d.txt", good)
    write(tmp_path, "notes.pdf", b"%PDF-1.4")
    write(tmp_path, "README", good)
    write(tmp_path, "image.png", b"\x89PNG\x00\x00")
    result = load_corpus(tmp_path)
    assert result.files == 3
    assert result.skipped == ()
    assert [d.id for d in result.documents] == ["UPPER.TXT", "a.txt", "deep/er/b.md"]


def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    write(tmp_path, "real/a.txt", "T\nhttps://e.org/a\n")
    (tmp_path / "real" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "real" / "self").symlink_to(tmp_path / "real" / "self")
    (tmp_path / "self.txt").symlink_to(tmp_path / "self.txt")
    (tmp_path / "linked.txt").symlink_to(tmp_path / "real" / "a.txt")
    result = load_corpus(tmp_path)
    assert [d.id for d in result.documents] == ["linked.txt", "real/a.txt"]
    assert result.documents[0].url == "https://e.org/a"
    assert result.files == 3
    assert len(result.skipped) == 1
    assert result.skipped[0].path == "self.txt"
    assert result.skipped[0].reason.startswith("unreadable: ")


def test_symlinks_out_of_the_corpus_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.txt", "Geheim\nDas Passwort ist Schwertfisch.\nhttps://e.org/geheim\n")
    write(outside, "dir/more.md", "---\nurl: https://e.org/mehr\n---\nAuch geheim.\n")
    root = tmp_path / "corpus"
    write(root, "real/a.txt", "T\nhttps://e.org/a\n")
    (root / "leak.txt").symlink_to(outside / "secret.txt")
    (root / "real" / "hop.txt").symlink_to(root / "leak.txt")  # inside, then out
    (root / "linked-dir").symlink_to(outside / "dir", target_is_directory=True)
    (root / "up.md").symlink_to("../outside/secret.txt")
    (root / "image.png").symlink_to(outside / "secret.txt")  # not a corpus file anyway
    (root / "inside.txt").symlink_to(root / "real" / "a.txt")
    (root / "inside-dir").symlink_to(root / "real", target_is_directory=True)
    result = load_corpus(root)
    assert [d.id for d in result.documents] == ["inside.txt", "real/a.txt"]
    assert result.skipped == (
        Skipped("leak.txt", "symlink out of the corpus directory: not read"),
        Skipped("linked-dir", "symlink out of the corpus directory: not followed"),
        Skipped("real/hop.txt", "symlink out of the corpus directory: not read"),
        Skipped("up.md", "symlink out of the corpus directory: not read"),
    )


def test_a_corpus_directory_reached_by_a_symlink_loads(tmp_path: Path) -> None:
    write(tmp_path, "real/a.txt", "T\nhttps://e.org/a\n")
    (tmp_path / "real" / "b.txt").symlink_to(tmp_path / "real" / "a.txt")
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    result = load_corpus(tmp_path / "link")
    assert [d.id for d in result.documents] == ["a.txt", "b.txt"]
    assert result.skipped == ()


def test_order_is_deterministic(tmp_path: Path) -> None:
    names = ["m.txt", "b/z.md", "a.html", "b/a.txt", "c.jsonl", "0.txt", "bad2.txt", "bad1.md"]
    for name in names:
        if name.startswith("bad"):
            write(tmp_path, name, "no link\n")
        elif name.endswith(".md"):
            write(tmp_path, name, "Text.\nhttps://e.org/\n")
        elif name.endswith(".html"):
            write(tmp_path, name, "<p>Text.</p><p>https://e.org/</p>")
        elif name.endswith(".jsonl"):
            write(tmp_path, name, jsonl({"text": "A", "url": "https://e.org/"}, "oops", "{}"))
        else:
            write(tmp_path, name, "Text.\nhttps://e.org/\n")
    first = load_corpus(tmp_path)
    second = load_corpus(str(tmp_path))
    assert first == second
    assert [d.id for d in first.documents] == [
        "0.txt",
        "a.html",
        "b/a.txt",
        "b/z.md",
        "c.jsonl#L1",
        "m.txt",
    ]
    assert [s.path for s in first.skipped] == ["bad1.md", "bad2.txt", "c.jsonl:2", "c.jsonl:3"]
    assert first.files == 8


# --------------------------------------------------------------------------- corpus errors


def test_missing_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="corpus directory not found: ") as info:
        load_corpus(tmp_path / "nope")
    assert isinstance(info.value, CitebotError)
    file_root = write(tmp_path, "file.txt", "T\nhttps://e.org/\n")
    with pytest.raises(CorpusError, match=r"corpus directory not found: .*not a directory"):
        load_corpus(file_root)


def test_only_bad_files_raises_with_reasons(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "")
    write(tmp_path, "b.txt", b"\x00\x00")
    write(tmp_path, "c.md", "no url at all\n")
    write(tmp_path, "d.jsonl", "{bad\n")
    with pytest.raises(CorpusError) as info:
        load_corpus(tmp_path)
    message = str(info.value)
    assert message.startswith(f"no usable document in {tmp_path} (4 files skipped: ")
    assert "a.txt: empty file" in message
    assert "b.txt: binary file" in message
    assert "and 1 more" in message


def test_empty_directory_raises(tmp_path: Path) -> None:
    write(tmp_path, "ignored.pdf", b"%PDF")
    with pytest.raises(CorpusError, match=r"no usable document in .* \(0 files skipped"):
        load_corpus(tmp_path)


def test_a_nul_past_the_binary_sniff_never_reaches_a_quote(tmp_path: Path) -> None:
    (tmp_path / "spaet.txt").write_bytes(
        b"Titel\n" + b"Ein Satz. " * 1000 + b"Mit\x00Null.\nhttps://example.org/n\n"
    )
    (tmp_path / "zeilen.jsonl").write_text(
        '{"text": "Vor\\u0000her", "url": "https://example.org/j"}\n', encoding="utf-8"
    )
    docs = load_corpus(tmp_path).documents
    assert [d.id for d in docs] == ["spaet.txt", "zeilen.jsonl#L1"]
    assert all("\x00" not in d.text for d in docs)
    assert docs[0].text.endswith("MitNull.") and docs[1].text == "Vorher"
