"""The ``.jsonl`` reader: one document per line, streamed (these files can be hundreds of MB),
and a bad line costs only that line."""

from __future__ import annotations

import json
from pathlib import Path

from bot.corpus.documents import Document, Skip, make_document, skipped
from bot.corpus.fields import clean_url, first_field, normalize_text, short_title
from bot.corpus.files import SNIFF_BYTES, decode, too_large
from bot.errors import Skipped

__all__ = ["read_jsonl"]


def read_jsonl(
    path: Path, rel: str, default_lang: str, max_file_bytes: int
) -> tuple[list[Document], list[Skipped]]:
    """Stream line by line: these files can be hundreds of MB, and bad lines only cost a line."""
    documents: list[Document] = []
    skips: list[Skipped] = []
    seen: dict[str, int] = {}
    offset = 0
    with path.open("rb") as fh:
        if b"\x00" in fh.read(SNIFF_BYTES):
            raise Skip("binary file")
        fh.seek(0)
        for lineno, raw in enumerate(fh, start=1):
            line_offset = offset
            offset += len(raw)
            if offset > max_file_bytes:  # grew since stat()
                raise too_large(offset, max_file_bytes)
            if not raw.strip():
                continue
            where = f"{rel}:{lineno}"
            try:
                line = decode(raw, line_offset).strip()
                if not line:  # BOM or Unicode whitespace only
                    continue
                doc = _read_line(line, rel, lineno, default_lang)
                if doc.id in seen:
                    raise Skip(f"duplicate id {doc.id!r} (first on line {seen[doc.id]})")
            except Skip as skip:
                skips.append(skipped(where, skip.reason))
                continue
            seen[doc.id] = lineno
            documents.append(doc)
    if not documents and not skips:
        raise Skip("empty file")
    return documents, skips


def _read_line(line: str, rel: str, lineno: int, default_lang: str) -> Document:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise Skip(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise Skip(f"invalid JSON: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise Skip(f"not a JSON object ({type(data).__name__})")
    raw_text = data.get("text")
    if not isinstance(raw_text, str):
        raise Skip("missing 'text'" if raw_text is None else "'text' is not a string")
    text = normalize_text(raw_text).strip()
    if not text:
        raise Skip("empty 'text'")
    url = clean_url(first_field(data, "url", "source", "link"))
    if url is None:
        raise Skip("no source URL (add a 'url' field with an http(s) link)")

    raw_id = data.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or not str(raw_id).strip():
        doc_id = f"{rel}#L{lineno}"
    else:
        doc_id = f"{rel}#{str(raw_id).strip()}"
    raw_title = data.get("title")
    if isinstance(raw_title, str) and raw_title.strip():
        title = " ".join(normalize_text(raw_title).split())
    else:
        title = short_title(text)
    return make_document(
        rel,
        doc_id,
        title=title,
        url=url,
        declared_lang=first_field(data, "lang", "language"),
        raw_date=data.get("date"),
        text=text,
        default_lang=default_lang,
        post_url=first_field(data, "post_url", "telegram"),
    )
