"""The ``.html`` reader: the visible text with block elements as line breaks, and the fields
from the canonical link, the title and the usual meta tags."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from bot.corpus.documents import Document, Skip, make_document
from bot.corpus.fields import clean_url, short_title, take_source_line

__all__ = ["MAX_HTML_DEPTH", "MAX_HTML_DEPTH_WORK", "read_html"]


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


_HTML_DROP = _words("script style noscript template head svg nav footer iframe object canvas math")
_HTML_BLOCK = _words(
    """p div li ul ol dl dt dd h1 h2 h3 h4 h5 h6 tr table thead tbody tfoot section article
    blockquote pre header main aside figure figcaption hr address form fieldset details summary
    caption body html"""
)
_HTML_CELL = frozenset(("td", "th"))
_SPACES_RE = re.compile(r"[^\S\n]+")

#: Deepest nesting read (elements that hold others; real pages stay far below 100). The parser
#: walks its stack of open elements at each block element it opens: 100,000 nested ``<div>``s
#: (1.1 MB) took 23 s, holding ``/reload``.
MAX_HTML_DEPTH = 1000
#: The parser's work bound: the sum, over the elements opened, of the depth each opens at (a
#: page of 50 MB at depth 30 is about a sixth of it; towers of 1000 levels in 5 MB reach it).
MAX_HTML_DEPTH_WORK = 128 * 1024 * 1024
# Elements that never hold others, or that the parser closes by itself when the next one opens
# (``<p>a<p>b`` are siblings): not counted, so unclosed ``<p>``s and ``<li>``s add no depth.
_FLAT = _words(
    """area base br col embed hr img input link meta param source track wbr keygen frame
    p li dt dd option optgroup rb rt rp rtc tr td th thead tbody tfoot colgroup caption
    html head body"""
)
# Their contents are text to the parser, whatever tags they seem to hold.
_RAW_TEXT = _words("script style textarea title xmp iframe noembed noframes noscript plaintext")
# Inside <svg> and <math>, "<x/>" closes itself; one of these ends that foreign content (HTML).
_FOREIGN = frozenset(("svg", "math"))
_BREAKOUT = _words(
    """b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i
    img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u
    ul var font"""
)
# ``[^<>]*`` stops at the next "<": an unclosed tag is never scanned past it again.
_TAG_RE = re.compile(r"<(?:(/?)([A-Za-z][^\s/<>]*)([^<>]*)|!--)")
_RAW_END_RES = {name: re.compile(f"</{name}", re.IGNORECASE) for name in _RAW_TEXT}


def _attr(node: LexborNode | None, name: str) -> str | None:
    if node is None:
        return None
    value = node.attributes.get(name)
    return value.strip() if value and value.strip() else None


def _visible_text(start: LexborNode) -> str:
    """Rendered-ish text: block elements end lines so sentences of different blocks never merge."""
    lines: list[str] = []
    current: list[str] = []

    def end_line(force: bool) -> None:
        joined = "".join(current)
        if force or joined.strip():
            lines.append(joined)
        current.clear()

    # Explicit stack (not recursion): deeply nested markup must not hit the recursion limit.
    # A ``None`` node marks the end of a block element.
    stack: list[tuple[LexborNode | None, bool]] = [(start, False)]
    while stack:
        node, in_pre = stack.pop()
        if node is None:
            end_line(force=False)
            continue
        if node.is_text_node:
            value = node.text_content or ""
            if in_pre:
                for i, piece in enumerate(value.split("\n")):
                    if i:
                        end_line(force=True)
                    current.append(piece)
            else:
                current.append(_SPACES_RE.sub(" ", value.replace("\n", " ")))
            continue
        if not node.is_element_node:
            continue
        tag = (node.tag or "").lower()
        if tag in _HTML_DROP:
            continue
        if tag == "br":
            end_line(force=True)
            continue
        if tag in _HTML_CELL:
            current.append(" ")
        if tag in _HTML_BLOCK:
            end_line(force=False)
            stack.append((None, in_pre))
        child_pre = in_pre or tag == "pre"
        children = list(node.iter(include_text=True))
        stack.extend((child, child_pre) for child in reversed(children))
    end_line(force=False)

    out: list[str] = []
    for line in lines:
        line = _SPACES_RE.sub(" ", line).strip()
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def _check_nesting(text: str) -> None:
    """Refuse markup the parser would need super-linear time for, in one linear pass over the
    tags (counted as opened and closed, an upper bound of the parser's depth)."""
    depth = work = 0
    foreign_at = 0  # depth of the <svg>/<math> around the current tag, 0 outside
    pos = 0
    while (match := _TAG_RE.search(text, pos)) is not None:
        pos = match.end()
        name = match.group(2)
        if name is None:  # a comment: its "tags" are text
            end = text.find("-->", pos)
            pos = len(text) if end < 0 else end + 3
            continue
        name = name.lower()
        if match.group(1):
            if name not in _FLAT or foreign_at:
                depth = max(depth - 1, 0)
                if depth < foreign_at:
                    foreign_at = 0
            continue
        if foreign_at:
            if name in _BREAKOUT:
                foreign_at = 0
            elif match.group(3).rstrip().endswith("/"):
                continue
        if name in _FLAT and not foreign_at:
            continue
        if name in _RAW_TEXT and not foreign_at:
            end_match = _RAW_END_RES[name].search(text, pos)
            pos = len(text) if end_match is None else end_match.end()
            continue
        depth += 1
        work += depth
        if name in _FOREIGN and not foreign_at:
            foreign_at = depth
        if depth > MAX_HTML_DEPTH:
            raise Skip(f"html nested too deeply (more than {MAX_HTML_DEPTH} levels)")
        if work > MAX_HTML_DEPTH_WORK:
            raise Skip("html nested too deeply (too many deeply nested elements)")


def read_html(text: str, rel: str, default_lang: str) -> Document:
    """The document of an HTML file's normalised ``text``."""
    _check_nesting(text)
    tree = LexborHTMLParser(text)
    root = tree.root
    if root is None:
        raise Skip("html without visible text")

    def meta(selector: str) -> str | None:
        return _attr(tree.css_first(selector), "content")

    visible = _visible_text(tree.body or root)
    if not visible:
        raise Skip("html without visible text")
    url = clean_url(_attr(tree.css_first('link[rel~="canonical"]'), "href"))
    url = url or clean_url(meta('meta[property="og:url"]'))
    lines = visible.split("\n")
    if url is None:
        url, lines = take_source_line(lines)
    if url is None:
        raise Skip("no source URL (add <link rel=\"canonical\" href=...> or a 'Quelle: URL' line)")
    body = "\n".join(lines).strip()
    if not body:
        raise Skip("html without visible text")

    title_node = tree.css_first("title")
    h1 = tree.css_first("h1")
    candidates = (
        title_node.text() if title_node is not None else None,
        meta('meta[property="og:title"]'),
        h1.text() if h1 is not None else None,
    )
    title = next((" ".join(c.split()) for c in candidates if c and c.strip()), None)

    raw_date = (
        meta('meta[name="date"]')
        or meta('meta[property="article:published_time"]')
        or meta('meta[name="article:published_time"]')
        or _attr(tree.css_first("time[datetime]"), "datetime")
    )
    return make_document(
        rel,
        rel,
        title=title or short_title(body),
        url=url,
        declared_lang=_attr(root, "lang"),
        raw_date=raw_date,
        text=body,
        default_lang=default_lang,
    )
