"""Load the document corpus: every supported file becomes documents or a reason it was skipped.

One bad file must never take the whole corpus down, so every content problem ends up as a
``Skipped`` entry with a reason a person can act on; only "no corpus at all" raises.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from selectolax.lexbor import LexborHTMLParser, LexborNode

from bot.errors import CorpusError, Skipped
from bot.languages import SUPPORTED_LANGUAGES, guess_language

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".jsonl", ".html", ".htm")
#: Bump whenever a file would be read into different documents or skip reasons: the corpus
#: file cache (:mod:`bot.store.filecache`) keeps what files were read into under this version.
READER_VERSION = 1
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024

_SNIFF_BYTES = 8192
_TITLE_MAX = 120
_BOM = b"\xef\xbb\xbf"
_MIB = 1024 * 1024
# JSON and YAML "\ud800" escapes decode to lone surrogates, which no UTF-8 request can carry.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
#: Exactly the characters ``str.isspace`` accepts (both use Py_UNICODE_ISSPACE).
_SPACE_RE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class Document:
    """One citable unit; ``id`` stays stable across reloads so citations stay valid."""

    id: str
    title: str
    url: str
    lang: str
    date: str | None
    text: str
    path: str
    #: The post's own t.me link when the document is a channel post (``url`` is its source).
    post_url: str | None = None


@dataclass(frozen=True, slots=True)
class CorpusLoad:
    """Everything a load produced, so callers can report what was left out."""

    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...]
    files: int


#: Reads one file into documents and skipped entries; called with the file's full path and
#: its path relative to the corpus root (the one documents name it by).
FileLoader = Callable[[str, str], tuple[list[Document], list[Skipped]]]


class _Skip(Exception):
    """Internal: aborts parsing one file (or line) with a human reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- public API


def load_corpus(
    root: Path | str,
    *,
    default_lang: str = "de",
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    loader: FileLoader | None = None,
) -> CorpusLoad:
    """Load every supported file under ``root``; raise only when nothing usable is there.

    ``loader`` reads each file instead of :func:`load_file` (:mod:`bot.store.filecache` answers from
    what it remembers of files that did not change)."""
    root_path = Path(root)
    if not root_path.is_dir():
        what = "not a directory" if root_path.exists() else "does not exist"
        raise CorpusError(f"corpus directory not found: {root_path} ({what})")
    lang = _check_default_lang(default_lang)
    if loader is None:

        def loader(path: str, rel: str) -> tuple[list[Document], list[Skipped]]:
            return load_file(
                Path(path), root_path, default_lang=lang, max_file_bytes=max_file_bytes
            )

    documents: list[Document] = []
    skipped: list[Skipped] = []
    files = 0
    for path, rel in _walk(root_path, skipped):
        files += 1
        docs, skips = loader(path, rel)
        documents.extend(docs)
        skipped.extend(skips)

    documents.sort(key=lambda d: d.id)
    skipped.sort(key=lambda s: s.path)
    if not documents:
        if skipped:
            first = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:3])
            more = f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""
            detail = f"{files} files skipped: {first}{more}"
        else:
            detail = f"{files} files skipped: no {', '.join(SUPPORTED_SUFFIXES)} file found"
        raise CorpusError(f"no usable document in {root_path} ({detail})", tuple(skipped))
    logger.debug(
        "corpus %s: %d documents, %d skipped, %d files",
        root_path,
        len(documents),
        len(skipped),
        files,
    )
    return CorpusLoad(documents=tuple(documents), skipped=tuple(skipped), files=files)


def load_file(
    path: Path,
    root: Path,
    *,
    default_lang: str = "de",
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> tuple[list[Document], list[Skipped]]:
    """Load one file; content problems come back as ``Skipped`` so one file can't stop a load."""
    lang = _check_default_lang(default_lang)
    rel = _relative(path, root)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return [], [_skipped(rel, f"unsupported file type {suffix or '(no extension)'!r}")]
    try:
        size = _check_file(path, max_file_bytes)
        if suffix == ".jsonl":
            return _load_jsonl(path, rel, lang, max_file_bytes)
        text = _read_text(path, max_file_bytes, size)
        if suffix == ".txt":
            doc = _parse_txt(text, rel, lang)
        elif suffix == ".md":
            doc = _parse_md(text, rel, lang)
        else:
            doc = _parse_html(text, rel, lang)
    except _Skip as skip:
        return [], [_skipped(rel, skip.reason)]
    except OSError as exc:
        return [], [_skipped(rel, _unreadable(exc))]
    except Exception as exc:  # a parser bug on odd input must not stop the load
        logger.debug("unexpected error while loading %s", rel, exc_info=True)
        return [], [_skipped(rel, f"could not parse: {type(exc).__name__}: {exc}")]
    return [doc], []


# --------------------------------------------------------------------------- files


def _walk(root: Path, skipped: list[Skipped]) -> Iterator[tuple[str, str]]:
    """Yield supported files (full and relative path) in a stable order; never follows
    directory symlinks (no loops). Plain strings: a Path per file cost more than a cached
    file's whole load."""

    def on_error(exc: OSError) -> None:
        where = _relative(Path(exc.filename), root) if exc.filename else "."
        skipped.append(_skipped(where, f"unreadable directory: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=on_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        where = Path(os.path.relpath(dirpath, root)).as_posix()
        prefix = "" if where == "." else where + "/"
        base = os.path.join(dirpath, "")
        for name in sorted(filenames):
            dot = name.rfind(".")  # os.path.splitext's suffix, for names not starting with "."
            if dot > 0 and name[0] != "." and name[dot:].lower() in SUPPORTED_SUFFIXES:
                yield base + name, prefix + name


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _skipped(rel: str, reason: str) -> Skipped:
    logger.debug("skipped %s: %s", rel, reason)
    return Skipped(path=rel, reason=reason)


def _unreadable(exc: OSError) -> str:
    return f"unreadable: {exc.strerror or type(exc).__name__}"


def _check_default_lang(value: str) -> str:
    lang = _normalize_lang(value)
    if lang is None:
        raise ValueError(f"default_lang must be one of {SUPPORTED_LANGUAGES}, got {value!r}")
    return lang


def _size(n: int) -> str:
    if n >= _MIB:
        return f"{n / _MIB:.1f}".removesuffix(".0") + " MB"
    if n >= 1024:
        return f"{n / 1024:.1f}".removesuffix(".0") + " kB"
    return f"{n} bytes"


def _too_large(size: int, limit: int) -> _Skip:
    return _Skip(f"too large ({_size(size)} > {_size(limit)} limit)")


def _check_file(path: Path, max_file_bytes: int) -> int:
    """Reject what must not be opened (FIFOs would block) or read (too large) before reading."""
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise _Skip("not a regular file")
    if st.st_size > max_file_bytes:
        raise _too_large(st.st_size, max_file_bytes)
    if st.st_size == 0:
        raise _Skip("empty file")
    return st.st_size


def _read_text(path: Path, max_file_bytes: int, size: int) -> str:
    with path.open("rb") as fh:
        raw = fh.read(max_file_bytes + 1)
    if len(raw) > max_file_bytes:  # grew since stat()
        raise _too_large(max(len(raw), size), max_file_bytes)
    if b"\x00" in raw[:_SNIFF_BYTES]:
        raise _Skip("binary file")
    text = _decode(raw, 0)
    if not text.strip():
        raise _Skip("empty file")
    return _normalize(text)


def _decode(raw: bytes, base_offset: int) -> str:
    """Decode UTF-8 (BOM allowed), naming the first bad byte so the file can be fixed."""
    skip = len(_BOM) if raw.startswith(_BOM) else 0
    try:
        return raw[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = base_offset + skip + exc.start
        bad = raw[skip + exc.start]
        raise _Skip(f"not valid UTF-8 (byte 0x{bad:02x} at offset {offset})") from None


def _normalize(text: str) -> str:
    """NFC, one kind of line break, no NUL: a NUL past the binary sniff would reach a quote
    (and a Telegram message) otherwise."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text.replace("\x00", ""))


# --------------------------------------------------------------------------- field helpers

_LANG_ALIASES = {
    "de": "de",
    "deu": "de",
    "ger": "de",
    "german": "de",
    "deutsch": "de",
    "en": "en",
    "eng": "en",
    "english": "en",
    "englisch": "en",
}


def _normalize_lang(value: object) -> str | None:
    """Map "de-DE", "German", "eng"... to a supported code; None means "guess instead"."""
    if not isinstance(value, str):
        return None
    primary = re.split(r"[-_\s]", value.strip().lower(), maxsplit=1)[0]
    lang = _LANG_ALIASES.get(primary)
    return lang if lang in SUPPORTED_LANGUAGES else None


def _resolve_lang(declared: object, text: str, default_lang: str) -> str:
    return _normalize_lang(declared) or guess_language(text, default_lang)


def _parse_date(value: object) -> str | None:
    """Keep dates comparable: plain dates become YYYY-MM-DD, datetimes stay as written."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > 64:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return None
    return value


def _clean_url(value: object) -> str | None:
    """Only http(s) links can be shown to users as a source."""
    if not isinstance(value, str):
        return None
    url = value.strip().removeprefix("<").removesuffix(">").strip()
    if not url or _SPACE_RE.search(url) or _SURROGATE_RE.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def _short_title(text: str) -> str:
    """First line of the text, cut at a word boundary so titles fit in a reply."""
    line = next((ln.strip() for ln in text.split("\n") if ln.strip()), "")
    if len(line) <= _TITLE_MAX:
        return line
    cut = line[: _TITLE_MAX - 1]
    if not line[_TITLE_MAX - 1].isspace():
        space = cut.rfind(" ")
        if space > 0:
            cut = cut[:space]
    return cut.rstrip() + "…"


def _text_field(mapping: Mapping[str, object], *keys: str) -> object:
    for key in keys:
        value = mapping.get(key)
        if value is not None:
            return value
    return None


# Possessive: the URL never gives characters back to the trailing "[\s*_]*" (same matches,
# but a long line of "_" no longer costs quadratic time).
_URL_CHARS = r"[^\s<>*]++"
_BARE_URL_RE = re.compile(rf"^[\s<]*(https?://{_URL_CHARS})>?\s*$", re.IGNORECASE)
_LABELED_URL_RE = re.compile(
    rf"^[\s*_>]*(?:quelle|source|link|url)[\s*_:]+<?(https?://{_URL_CHARS})>?[\s*_]*$",
    re.IGNORECASE,
)


def _take_source_line(lines: list[str]) -> tuple[str | None, list[str]]:
    """Find the source link line (bare URL last, or "Quelle: URL"), and drop it from the text."""
    last = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), None)
    if last is not None:
        match = _BARE_URL_RE.match(lines[last]) or _LABELED_URL_RE.match(lines[last])
        url = _clean_url(match.group(1)) if match else None
        if url:
            return url, lines[:last] + lines[last + 1 :]
    for i in range(len(lines) - 1, -1, -1):
        match = _LABELED_URL_RE.match(lines[i])
        url = _clean_url(match.group(1)) if match else None
        if url:
            return url, lines[:i] + lines[i + 1 :]
    return None, lines


def _document(
    rel: str,
    doc_id: str,
    *,
    title: str,
    url: str,
    declared_lang: object,
    raw_date: object,
    text: str,
    default_lang: str,
    post_url: object = None,
) -> Document:
    post = _clean_url(post_url)
    # Lone surrogates become U+FFFD (same length, so passage spans stay valid): a quote or a
    # title that Telegram cannot be sent would fail the whole reply.
    text = _SURROGATE_RE.sub("\ufffd", text)
    return Document(
        id=_SURROGATE_RE.sub("\ufffd", doc_id),
        title=_SURROGATE_RE.sub("\ufffd", title),
        url=url,
        lang=_resolve_lang(declared_lang, text, default_lang),
        date=_parse_date(raw_date),
        text=text,
        path=rel,
        post_url=post if post != url else None,
    )


# --------------------------------------------------------------------------- .txt


def _parse_txt(text: str, rel: str, default_lang: str) -> Document:
    url, lines = _take_source_line(text.split("\n"))
    if url is None:
        raise _Skip("no source URL (add the link as the last line or as 'Quelle: URL')")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise _Skip("no usable text (only a source URL)")
    title = lines[first].strip()
    body = "\n".join(lines[first + 1 :]).rstrip()
    full = f"{title}\n{body}" if body.strip() else title
    return _document(
        rel,
        rel,
        title=title,
        url=url,
        declared_lang=None,
        raw_date=None,
        text=full,
        default_lang=default_lang,
    )


# --------------------------------------------------------------------------- .md

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


def _split_front_matter(text: str) -> tuple[dict[str, object], str]:
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return {}, text
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in _FRONT_END), None)
    if end is None:
        raise _Skip("bad front matter: no closing '---' line")
    block = "\n".join(lines[1:end])
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).split("\n", 1)[0]
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise _Skip(f"bad front matter: {problem}{where}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _Skip(f"bad front matter: expected key: value pairs, got {type(data).__name__}")
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


def _parse_md(text: str, rel: str, default_lang: str) -> Document:
    meta, body = _split_front_matter(text)
    # "markup: plain" (channel posts, see bot.ingest.posts): the body is quoted exactly as written.
    plain = str(meta.get("markup", "")).strip().lower() in ("plain", "text", "none")
    if not plain:
        body = _strip_comments(body)
    url = _clean_url(_text_field(meta, "url", "source", "link"))
    lines = body.split("\n")
    if url is None or plain:  # a post's closing source line is a link, not a quote
        found, rest = _take_source_line(lines)
        if found is not None and (url is None or found == url):
            url, lines = found, rest
    if url is None:
        raise _Skip("no source URL (add 'url:' to the front matter or a 'Quelle: URL' line)")
    if plain:
        clean = "\n".join(line.rstrip() for line in lines).strip("\n")
        heading = None
    else:
        clean, heading = _clean_markdown("\n".join(lines))
    if not clean.strip():
        raise _Skip("no usable text")
    raw_title = meta.get("title")
    if isinstance(raw_title, (str, int, float)) and str(raw_title).strip():
        title = " ".join(str(raw_title).split())
    else:
        title = heading or _short_title(clean)
    return _document(
        rel,
        rel,
        title=title,
        url=url,
        declared_lang=_text_field(meta, "lang", "language"),
        raw_date=meta.get("date"),
        text=clean,
        default_lang=default_lang,
        post_url=_text_field(meta, "post_url", "telegram"),
    )


# --------------------------------------------------------------------------- .html


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


def _parse_html(text: str, rel: str, default_lang: str) -> Document:
    tree = LexborHTMLParser(text)
    root = tree.root
    if root is None:
        raise _Skip("html without visible text")

    def meta(selector: str) -> str | None:
        return _attr(tree.css_first(selector), "content")

    visible = _visible_text(tree.body or root)
    if not visible:
        raise _Skip("html without visible text")
    url = _clean_url(_attr(tree.css_first('link[rel~="canonical"]'), "href"))
    url = url or _clean_url(meta('meta[property="og:url"]'))
    lines = visible.split("\n")
    if url is None:
        url, lines = _take_source_line(lines)
    if url is None:
        raise _Skip("no source URL (add <link rel=\"canonical\" href=...> or a 'Quelle: URL' line)")
    body = "\n".join(lines).strip()
    if not body:
        raise _Skip("html without visible text")

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
    return _document(
        rel,
        rel,
        title=title or _short_title(body),
        url=url,
        declared_lang=_attr(root, "lang"),
        raw_date=raw_date,
        text=body,
        default_lang=default_lang,
    )


# --------------------------------------------------------------------------- .jsonl


def _load_jsonl(
    path: Path, rel: str, default_lang: str, max_file_bytes: int
) -> tuple[list[Document], list[Skipped]]:
    """Stream line by line: these files can be hundreds of MB, and bad lines only cost a line."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    seen: dict[str, int] = {}
    offset = 0
    with path.open("rb") as fh:
        if b"\x00" in fh.read(_SNIFF_BYTES):
            raise _Skip("binary file")
        fh.seek(0)
        for lineno, raw in enumerate(fh, start=1):
            line_offset = offset
            offset += len(raw)
            if offset > max_file_bytes:  # grew since stat()
                raise _too_large(offset, max_file_bytes)
            if not raw.strip():
                continue
            where = f"{rel}:{lineno}"
            try:
                line = _decode(raw, line_offset).strip()
                if not line:  # BOM or Unicode whitespace only
                    continue
                doc = _parse_jsonl_line(line, rel, lineno, default_lang)
                if doc.id in seen:
                    raise _Skip(f"duplicate id {doc.id!r} (first on line {seen[doc.id]})")
            except _Skip as skip:
                skipped.append(_skipped(where, skip.reason))
                continue
            seen[doc.id] = lineno
            documents.append(doc)
    if not documents and not skipped:
        raise _Skip("empty file")
    return documents, skipped


def _parse_jsonl_line(line: str, rel: str, lineno: int, default_lang: str) -> Document:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _Skip(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise _Skip(f"invalid JSON: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise _Skip(f"not a JSON object ({type(data).__name__})")
    raw_text = data.get("text")
    if not isinstance(raw_text, str):
        raise _Skip("missing 'text'" if raw_text is None else "'text' is not a string")
    text = _normalize(raw_text).strip()
    if not text:
        raise _Skip("empty 'text'")
    url = _clean_url(_text_field(data, "url", "source", "link"))
    if url is None:
        raise _Skip("no source URL (add a 'url' field with an http(s) link)")

    raw_id = data.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or not str(raw_id).strip():
        doc_id = f"{rel}#L{lineno}"
    else:
        doc_id = f"{rel}#{str(raw_id).strip()}"
    raw_title = data.get("title")
    if isinstance(raw_title, str) and raw_title.strip():
        title = " ".join(_normalize(raw_title).split())
    else:
        title = _short_title(text)
    return _document(
        rel,
        doc_id,
        title=title,
        url=url,
        declared_lang=_text_field(data, "lang", "language"),
        raw_date=data.get("date"),
        text=text,
        default_lang=default_lang,
        post_url=_text_field(data, "post_url", "telegram"),
    )
