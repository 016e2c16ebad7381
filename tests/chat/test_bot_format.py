"""Telegram HTML rendering: escaping, shortening, the length limit."""

from __future__ import annotations

import dataclasses

import pytest

from bot.chat.html import (
    by_document,
    domain_of,
    escape,
    fit_html,
    focused_text,
    hit_html,
    render_answer_html,
    shorten,
    utf16_len,
)
from bot.engine import Answer, Hit
from bot.loader import load_engine
from tests.support.botapi import parse_telegram_html
from tests.support.paths import SEED_POST
from tests.support.phone import SCREEN_LINES, phone_lines


def _hit(text: str, highlights: tuple[tuple[int, int], ...] = (), rank: int = 1) -> Hit:
    return Hit(
        rank=rank,
        score=1.0,
        text=text,
        title="Titel <&>",
        url="https://example.org/a?b=1&c=2",
        link="https://example.org/a?b=1&c=2#:~:text=x",
        document="d",
        passage="d:p0",
        highlights=highlights,
    )


def test_escape_and_shorten() -> None:
    assert escape("<b>\"&'") == "&lt;b&gt;&quot;&amp;&#x27;"
    sentence = "Erster Satz hier. Zweiter Satz ist deutlich länger als der erste"
    assert shorten(sentence, 200) == sentence
    assert shorten(sentence, 30) == "Erster Satz hier. …"
    assert shorten(sentence, 40) == "Erster Satz hier. Zweiter Satz ist…"
    cut = shorten("wort " * 30, 33)
    assert cut.endswith("…") and len(cut) <= 33 and "wor…" not in cut
    assert shorten("x" * 50, 10) == "x" * 8 + "…"
    assert shorten("abc", 0) == ""


def test_hit_html_marks_and_escapes() -> None:
    hit = _hit("Putin & <Scholz> reden.", ((0, 5), (9, 15)))
    html = hit_html(hit, "de")
    assert html == (
        "<b>Titel &lt;&amp;&gt;</b>\n"
        '<a href="https://example.org/a?b=1&amp;c=2">example.org</a>\n'
        "<blockquote><b>Putin</b> &amp; &lt;<b>Scholz</b>&gt; reden.</blockquote>"
    )
    parse_telegram_html(html)  # Telegram would accept it


def test_shortened_hit_keeps_only_whole_marks() -> None:
    text = "Wort & Wort " * 100
    hit = _hit(text, tuple((i * 12, i * 12 + 4) for i in range(100)))
    html = hit_html(hit, "en", passage_limit=50)
    plain = parse_telegram_html(html)
    assert "…" in plain and len(plain) < 150
    assert html.count("<b>") == html.count("</b>")


def test_a_long_quote_is_cut_around_its_first_highlight() -> None:
    before = "Ein Satz ohne das Wort, der lang ist und nichts sagt. " * 6
    text = before + "Hier steht Ölpreis im Satz. Danach kommt noch viel mehr Text. " * 5
    start = text.index("Ölpreis")
    hit = _hit(text, ((start, start + 7),))
    assert (
        focused_text(hit, 100)
        == "… Hier steht Ölpreis im Satz. Danach kommt noch viel mehr Text. Hier steht Ölpreis"
        " im Satz. …"
    )
    assert len(focused_text(hit, 100)) <= 100
    html = hit_html(hit, "de", passage_limit=100)
    assert "<blockquote>… Hier steht <b>Ölpreis</b> im Satz." in html
    parse_telegram_html(html)


def test_answer_always_fits() -> None:
    text = "Ölpreis & <x> 😀 " * 600
    hits = tuple(
        dataclasses.replace(_hit(text, ((0, 7),), rank=i + 1), document=f"d{i}") for i in range(10)
    )
    answer = Answer("Ölpreis", hits, total=12, offset=0, lang="de")
    html = render_answer_html(answer, "de")
    assert utf16_len(html) <= 4096
    plain = parse_telegram_html(html)
    assert plain.startswith("12 passende Stellen gefunden:")
    assert plain.count("Titel <&>") == 10
    short = dataclasses.replace(answer, hits=hits[:1])
    assert utf16_len(render_answer_html(short, "en")) <= 4096


def test_fit_html_falls_back_safely() -> None:
    huge = "<b>" + escape("x" * 9000) + "</b>"
    fitted = fit_html(lambda _: huge, 0)
    assert utf16_len(fitted) <= 4096
    parse_telegram_html(fitted)


def test_a_channel_post_shows_its_date_its_source_and_its_own_link() -> None:
    hit = dataclasses.replace(
        _hit("Ein Satz."),
        post_url="https://t.me/isw_de/42?x=1&y=2",
        date="2022-12-02T08:15:00+00:00",
    )
    rendered = hit_html(hit, "de")
    assert rendered.split("\n")[1] == (
        '2. Dezember 2022 · <a href="https://example.org/a?b=1&amp;c=2">example.org</a>'
        ' · <a href="https://t.me/isw_de/42?x=1&amp;y=2">t.me/isw_de/42?x=1&amp;y=2</a>'
    )
    parse_telegram_html(rendered)  # raises on anything Telegram would refuse
    assert "\n2 December 2022 · " in hit_html(hit, "en")
    # a post without an outside link: its url is the post, linked once
    own = dataclasses.replace(hit, url=hit.post_url or "")
    assert hit_html(own, "de").count("<a ") == 1
    # undated, without links: no line at all rather than an empty or a wrong one
    bare = dataclasses.replace(_hit("Ein Satz."), url="", link="")
    assert hit_html(bare, "de") == "<b>Titel &lt;&amp;&gt;</b>\n<blockquote>Ein Satz.</blockquote>"


def test_quotes_are_grouped_by_document_title_and_links_once() -> None:
    a1 = dataclasses.replace(_hit("Erstes aus A.", rank=1), document="a", title="A")
    b1 = dataclasses.replace(
        _hit("Erstes aus B.", rank=2), document="b", title="B", date="2024-01-05"
    )
    a2 = dataclasses.replace(_hit("Zweites aus A.", rank=3), document="a", title="A")
    answer = Answer("q", (a1, b1, a2), total=3, lang="de")
    plain = parse_telegram_html(render_answer_html(answer, "de"))
    assert plain == (
        "3 passende Stellen gefunden:\n\n"
        "A\nexample.org\nErstes aus A.\nZweites aus A.\n\n"
        "B\n5. Januar 2024 · example.org\nErstes aus B."
    )
    assert by_document((a1, b1, a2)) == [[a1, a2], [b1]]
    newest = dataclasses.replace(answer, hits=(b1, a1, a2), newest=True)
    assert parse_telegram_html(render_answer_html(newest, "en")).startswith(
        "Found 3 matching passages, newest first:\n\nB\n5 January 2024 · example.org\n"
    )


def test_domains() -> None:
    assert domain_of("https://www.understandingwar.org/backgrounder/x?y=1#:~:text=a") == (
        "understandingwar.org"
    )
    assert domain_of("http://Example.COM:8080/a") == "example.com"
    assert domain_of("not a url") == "not a url"


@pytest.mark.parametrize("question", ["Putin Scholz", "Peskov", "Lavrov", "Ukraine Russland"])
def test_three_quotes_from_one_document_fit_one_phone_screen(question: str) -> None:
    """The yardstick of tests/support/phone.py: with a date and both links (the longest
    document line) and two rows of buttons (pages, order), one screen."""
    engine = load_engine(SEED_POST.parent).engine
    answer = engine.search(question, k=3)
    assert len(answer.hits) == 3 and len({hit.document for hit in answer.hits}) == 1
    dated = tuple(
        dataclasses.replace(hit, date="2022-12-02", post_url="https://t.me/isw_de/1234")
        for hit in answer.hits
    )
    shown = parse_telegram_html(render_answer_html(dataclasses.replace(answer, hits=dated), "de"))
    assert shown.count("@ISW: Russland versucht") == 1
    assert phone_lines(shown, button_rows=2) <= SCREEN_LINES
