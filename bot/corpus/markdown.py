"""The ``.md`` reader: YAML front matter for the fields, the Markdown body as plain text to
quote (``markup: plain`` keeps it exactly, as channel posts need)."""

from __future__ import annotations

import re

import yaml

from bot.corpus.documents import Document, Skip, make_document
from bot.corpus.fields import clean_url, first_field, short_title, take_source_line

__all__ = ["read_markdown"]

_FRONT_END = ("---", "...")
_FENCE_RE = re.compile(r"^\s{0,3}(?:```|~~~)")
# The closing "#"s are only looked for after a non-space: same headings, but linear time on
# a line with a long run of spaces (every regex here must be: a line can be 50 MB long).
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}(?:\s++(.*?))?(?<!\s)(?:\s+#+)?\s*$")
_QUOTE_RE = re.compile(r"^\s{0,3}>\s?")
# Inline markup: no match may scan past the next possible opener ("[", or a delimiter that could
# open), so each character is looked at a bounded number of times.
_IMAGE_RE = re.compile(r"!\[([^\[\]]*)\]\([^)\[]*\)")
_LINK_RE = re.compile(r"\[([^\[\]]*)\]\([^)\[]*\)")
_STRONG_RE = re.compile(r"(\*\*|__)(?=\S)((?:(?!\1).)+?)(?<=\S)\1")
_EM_STAR_RE = re.compile(r"(?<![\w*])\*(?=[^\s*])((?:[^*]|(?<=\w)\*)+?)(?<=[^\s*])\*(?![\w*])")
_EM_UNDER_RE = re.compile(r"(?<![\w_])_(?=[^\s_])((?:[^_]|(?<=[^\W_])_)+?)(?<=[^\s_])_(?![\w_])")


class _NoAliasLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses aliases: front matter needs none, and nine levels of
    ``&a [*b, *b, ...]`` in a few hundred bytes stand for billions of values that any later
    ``str()`` or walk over the mapping would expand."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)


def _split_front_matter(text: str) -> tuple[dict[str, object], str]:
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return {}, text
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in _FRONT_END), None)
    if end is None:
        raise Skip("bad front matter: no closing '---' line")
    block = "\n".join(lines[1:end])
    try:
        data = yaml.load(block, Loader=_NoAliasLoader)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).split("\n", 1)[0]
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise Skip(f"bad front matter: {problem}{where}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise Skip(f"bad front matter: expected key: value pairs, got {type(data).__name__}")
    meta = {str(k).strip().lower(): v for k, v in data.items()}
    return meta, "\n".join(lines[end + 1 :])


def _strip_comments(text: str) -> str:
    """``<!-- ... -->`` removed, as ``re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)`` would,
    in linear time: once one comment is unclosed, no later one can close either."""
    out: list[str] = []
    pos = 0
    while (start := text.find("<!--", pos)) >= 0:
        end = text.find("-->", start + 4)
        if end < 0:
            break
        out.append(text[pos:start])
        pos = end + 3
    out.append(text[pos:])
    return "".join(out)


def _clean_markdown(body: str) -> tuple[str, str | None]:
    """Markdown to plain text for quoting; also returns the first heading as a title candidate."""
    out: list[str] = []
    heading: str | None = None
    in_code = False
    for line in body.split("\n"):
        if _FENCE_RE.match(line):
            in_code = not in_code
            continue
        if in_code:
            out.append(line.rstrip())
            continue
        match = _HEADING_RE.match(line)
        is_heading = match is not None
        if match is not None:
            line = match.group(1) or ""
        line = _QUOTE_RE.sub("", line)
        line = _IMAGE_RE.sub(r"\1", line)
        line = _LINK_RE.sub(r"\1", line)
        line = _STRONG_RE.sub(r"\2", line)
        line = _EM_STAR_RE.sub(r"\1", line)
        line = _EM_UNDER_RE.sub(r"\1", line)
        line = line.rstrip()
        if is_heading and heading is None and line.strip():
            heading = line.strip()
        out.append(line)
    return "\n".join(out).strip("\n").rstrip(), heading


def read_markdown(text: str, rel: str, default_lang: str) -> Document:
    """The document of a Markdown file's normalised ``text``."""
    meta, body = _split_front_matter(text)
    # "markup: plain" (channel posts, see bot.ingest.posts): the body is quoted exactly as written.
    plain = str(meta.get("markup", "")).strip().lower() in ("plain", "text", "none")
    if not plain:
        body = _strip_comments(body)
    url = clean_url(first_field(meta, "url", "source", "link"))
    lines = body.split("\n")
    if url is None or plain:  # a post's closing source line is a link, not a quote
        found, rest = take_source_line(lines)
        if found is not None and (url is None or found == url):
            url, lines = found, rest
    if url is None:
        raise Skip("no source URL (add 'url:' to the front matter or a 'Quelle: URL' line)")
    if plain:
        clean = "\n".join(line.rstrip() for line in lines).strip("\n")
        heading = None
    else:
        clean, heading = _clean_markdown("\n".join(lines))
    if not clean.strip():
        raise Skip("no usable text")
    raw_title = meta.get("title")
    if isinstance(raw_title, (str, int, float)) and str(raw_title).strip():
        title = " ".join(str(raw_title).split())
    else:
        title = heading or short_title(clean)
    return make_document(
        rel,
        rel,
        title=title,
        url=url,
        declared_lang=first_field(meta, "lang", "language"),
        raw_date=meta.get("date"),
        text=clean,
        default_lang=default_lang,
        post_url=first_field(meta, "post_url", "telegram"),
    )
