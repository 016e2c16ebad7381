"""The README's screenshots, drawn from real replies: the real bot (build_application) answers
against the Bot API stand-in, and each reply is drawn as Telegram shows it on a phone (its text
and entities as the stand-in parsed them: bold, links, quotes; its buttons), with Pillow and the
DejaVu fonts matplotlib ships. The corpus is the shipped ISW post, dated and with its channel
post link as an import would give it.

Writes docs/img/answer.png (an answer), docs/img/paged.png (its second page, after ▶) and
docs/img/inline.png (inline mode).

Usage: python bench/screenshots.py [--out docs/img]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import matplotlib
from PIL import Image, ImageDraw, ImageFont

from tests.support.bot_helpers import data_of, make_settings, running_bot
from tests.support.botapi import BotApiStub
from tests.support.paths import ROOT, SEED_POST

QUESTION = "Was fordert Scholz von Putin?"
WIDTH = 720  # 360 dp at 2 px a dp: a small phone, so the picture errs on the long side
SCALE = 2
_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
_BG = (204, 219, 232)
_BUBBLE = (255, 255, 255)
_TEXT = (0, 0, 0)
_LINK = (22, 110, 190)
_QUOTE_BAR = (58, 141, 220)
_QUOTE_BG = (232, 241, 250)
_GREY = (112, 117, 121)
_BUTTON = (120, 150, 175)


@dataclass(frozen=True)
class _Style:
    bold: bool = False
    link: bool = False
    #: Which quote (blockquote entity) the character is in: 0 for none.
    quote: int = 0


def _font(bold: bool, size: int = 15) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(_FONTS / name), size * SCALE)


def _styles(text: str, entities: list[dict[str, Any]]) -> list[_Style]:
    """The style of every character (entity offsets are UTF-16 code units)."""
    units: list[int] = []
    for index, char in enumerate(text):
        units += [index] * (2 if ord(char) > 0xFFFF else 1)
    flags: list[dict[str, Any]] = [dict(bold=False, link=False, quote=0) for _ in text]
    kinds = {"bold": "bold", "text_link": "link", "url": "link", "blockquote": "quote"}
    for number, entity in enumerate(entities, start=1):
        kind = kinds.get(entity["type"])
        if kind is None:
            continue
        for unit in range(entity["offset"], entity["offset"] + entity["length"]):
            if unit < len(units):
                flags[units[unit]][kind] = number if kind == "quote" else True
    return [_Style(**f) for f in flags]


_Line = tuple[int, list[tuple[str, _Style]]]


def _lines(text: str, styles: list[_Style], width: int) -> list[_Line]:
    """The text wrapped at word boundaries into lines of (piece, style) runs, each line with
    the quote it is in (0 for none: quotes are narrower, with a bar)."""
    out: list[_Line] = []
    start = 0
    for paragraph in text.split("\n"):
        para_styles = styles[start : start + len(paragraph)]
        start += len(paragraph) + 1
        quote = para_styles[0].quote if para_styles else 0
        room = width - (28 * SCALE if quote else 0)
        words: list[list[tuple[str, _Style]]] = []
        pos = 0
        for word in paragraph.split(" "):
            runs: list[tuple[str, _Style]] = []
            for offset, char in enumerate(word):
                style = para_styles[pos + offset]
                if runs and runs[-1][1] == style:
                    runs[-1] = (runs[-1][0] + char, style)
                else:
                    runs.append((char, style))
            words.append(runs)
            pos += len(word) + 1
        line: list[tuple[str, _Style]] = []
        used = 0.0
        for runs in words:
            size = sum(_font(st.bold).getlength(piece) for piece, st in runs)
            size += _font(False).getlength(" ")
            if line and used + size > room:
                out.append((quote, line))
                line, used = [], 0.0
            line += [*runs, (" ", _Style())]
            used += size
        out.append((quote, line))
    return out


def _draw_message(message: dict[str, Any], path: Path) -> None:
    """One bot message in a chat: the bubble with its text, the buttons beneath."""
    pad = 12 * SCALE
    inner = WIDTH - 4 * pad
    lines = _lines(message["text"], _styles(message["text"], message.get("entities", [])), inner)
    line_height = 21 * SCALE
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    button_height = 40 * SCALE
    height = 2 * pad + len(lines) * line_height + 2 * pad + len(rows) * (button_height + 6) + pad
    image = Image.new("RGB", (WIDTH, height), _BG)
    draw = ImageDraw.Draw(image)
    bubble_bottom = pad + len(lines) * line_height + 2 * pad
    draw.rounded_rectangle((pad, pad, WIDTH - pad, bubble_bottom), 14 * SCALE, fill=_BUBBLE)
    y = 2 * pad
    for index, (quote, runs) in enumerate(lines):
        x = 2.0 * pad
        if quote:
            same = index > 0 and lines[index - 1][0] == quote  # the same quote goes on
            top = y if same else y + 2 * SCALE
            draw.rectangle((x, top, WIDTH - 2 * pad, y + line_height), fill=_QUOTE_BG)
            draw.rectangle((x, top, x + 3 * SCALE, y + line_height), fill=_QUOTE_BAR)
            x += 14 * SCALE
        for piece, style in runs:
            font = _font(style.bold)
            colour = _LINK if style.link else _TEXT
            draw.text((x, y), piece, font=font, fill=colour)
            x += font.getlength(piece)
        y += line_height
    y = bubble_bottom + 6 * SCALE
    for row in rows:
        cell = (WIDTH - 2 * pad - 6 * SCALE * (len(row) - 1)) / len(row)
        for column, button in enumerate(row):
            left = pad + column * (cell + 6 * SCALE)
            box = (left, y, left + cell, y + button_height)
            draw.rounded_rectangle(box, 8 * SCALE, fill=_BUTTON)
            font = _font(True, 14)
            label = button["text"]
            draw.text(
                (left + (cell - font.getlength(label)) / 2, y + 10 * SCALE),
                label,
                font=font,
                fill=(255, 255, 255),
            )
        y += button_height + 6 * SCALE
    image.save(path)


def _draw_inline(query: str, answer: dict[str, Any], path: Path) -> None:
    """The inline results as the client lists them above the input field."""
    pad = 12 * SCALE
    results = answer["results"][:4]
    item = 64 * SCALE
    height = pad + len(results) * item + 56 * SCALE
    image = Image.new("RGB", (WIDTH, height), _BUBBLE)
    draw = ImageDraw.Draw(image)
    y = pad
    for result in results:
        title = _fit(result["title"], _font(True), WIDTH - 2 * pad)
        draw.text((pad, y), title, font=_font(True), fill=_TEXT)
        description = _fit(result.get("description", ""), _font(False, 14), WIDTH - 2 * pad)
        draw.text((pad, y + 24 * SCALE), description, font=_font(False, 14), fill=_GREY)
        y += item
        draw.line((pad, y - 6 * SCALE, WIDTH, y - 6 * SCALE), fill=(225, 225, 225))
    draw.rounded_rectangle(
        (pad, y + 4 * SCALE, WIDTH - pad, y + 44 * SCALE), 18 * SCALE, fill=(240, 240, 240)
    )
    draw.text((2 * pad, y + 13 * SCALE), query, font=_font(False), fill=_TEXT)
    image.save(path)


def _fit(value: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """``value`` cut with "…" to one line of ``width`` pixels, as a client shows it."""
    if font.getlength(value) <= width:
        return value
    while value and font.getlength(value + "…") > width:
        value = value[:-1]
    return value.rstrip() + "…"


def _corpus(root: Path) -> Path:
    """The shipped post as an import of it: dated, its source URL and its channel post link."""
    body = SEED_POST.read_text(encoding="utf-8").split("\n")
    title = body[0]
    url = next(line for line in body if line.startswith("https://"))
    text = "\n".join(line for line in body[1:] if not line.startswith("https://"))
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "isw.md").write_text(
        f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\nurl: {url}\npost_url: https://t.me/isw_de/1500\n"
        f"date: 2022-12-03\nlang: de\n---\n{text}\n",
        encoding="utf-8",
    )
    return corpus


async def capture(out: Path) -> None:
    """Ask, page and query inline against the real bot; draw the three pictures into ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        async with BotApiStub() as botapi:
            settings = make_settings(botapi, _corpus(root), cache_dir="", state_dir="")
            anna = botapi.user(1, "Anna", language_code="de")
            async with running_bot(botapi, settings):
                botapi.send_private(anna, QUESTION)
                first = await botapi.next_message(anna)
                _draw_message(first, out / "answer.png")
                botapi.press_button(anna, first, data_of(first, "▶"))
                _draw_message(await botapi.next_edit(anna), out / "paged.png")
                query = f"@{botapi.username} Scholz Putin"
                answer = await botapi.inline_answer(botapi.inline_query(anna, "Scholz Putin"))
                _draw_inline(query, answer, out / "inline.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(capture(args.out))
    for name in ("answer.png", "paged.png", "inline.png"):
        print(args.out / name)


if __name__ == "__main__":
    main()
