"""Telegram HTML rendering: escaping, shortening, the length limit."""

from __future__ import annotations

import dataclasses

from bot.chat.html import (
    escape,
    fit_html,
    hit_html,
    render_answer_html,
    shorten,
    utf16_len,
)
from bot.engine import Answer, Hit
from tests.support.botapi import parse_telegram_html


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
    assert html.startswith("<blockquote><b>Putin</b> &amp; &lt;<b>Scholz</b>&gt; reden.")
    assert '<a href="https://example.org/a?b=1&amp;c=2#:~:text=x">Quelle</a>' in html
    assert "— Titel &lt;&amp;&gt;" in html
    parse_telegram_html(html)  # Telegram would accept it


def test_shortened_hit_keeps_only_whole_marks() -> None:
    text = "Wort & Wort " * 100
    hit = _hit(text, tuple((i * 12, i * 12 + 4) for i in range(100)))
    html = hit_html(hit, "en", passage_limit=50)
    plain = parse_telegram_html(html)
    assert "…" in plain and len(plain) < 150
    assert html.count("<b>") == html.count("</b>")


def test_answer_always_fits() -> None:
    text = "Ölpreis & <x> 😀 " * 600
    hits = tuple(_hit(text, ((0, 7),), rank=i + 1) for i in range(10))
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


def test_a_channel_post_shows_its_source_and_its_own_link() -> None:
    hit = dataclasses.replace(_hit("Ein Satz."), post_url="https://t.me/isw_de/42?x=1&y=2")
    rendered = hit_html(hit, "de")
    assert rendered.endswith(
        '— Titel &lt;&amp;&gt; · <a href="https://example.org/a?b=1&amp;c=2#:~:text=x">Quelle</a>'
        ' · <a href="https://t.me/isw_de/42?x=1&amp;y=2">Beitrag</a>'
    )
    parse_telegram_html(rendered)  # raises on anything Telegram would refuse
    assert "Post</a>" in hit_html(hit, "en")
    assert "Beitrag" not in hit_html(_hit("Ein Satz."), "de")  # documents without a post link
