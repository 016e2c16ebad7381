"""One file's bytes, safely: what may be opened at all, reading within the size limit, and
decoding UTF-8 with a reason a person can act on when it is not."""

from __future__ import annotations

import stat
from pathlib import Path

from bot.corpus.documents import Skip
from bot.corpus.fields import normalize_text

__all__ = ["SNIFF_BYTES", "check_file", "decode", "read_text", "too_large"]

#: A NUL in this many first bytes makes a file binary.
SNIFF_BYTES = 8192
_BOM = b"\xef\xbb\xbf"
_MIB = 1024 * 1024


def _size(n: int) -> str:
    if n >= _MIB:
        return f"{n / _MIB:.1f}".removesuffix(".0") + " MB"
    if n >= 1024:
        return f"{n / 1024:.1f}".removesuffix(".0") + " kB"
    return f"{n} bytes"


def too_large(size: int, limit: int) -> Skip:
    """The reason for a file over the limit, sizes as a person reads them."""
    return Skip(f"too large ({_size(size)} > {_size(limit)} limit)")


def check_file(path: Path, max_file_bytes: int) -> int:
    """Reject what must not be opened (FIFOs would block) or read (too large) before reading."""
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise Skip("not a regular file")
    if st.st_size > max_file_bytes:
        raise too_large(st.st_size, max_file_bytes)
    if st.st_size == 0:
        raise Skip("empty file")
    return st.st_size


def read_text(path: Path, max_file_bytes: int, size: int) -> str:
    """The whole file as normalised text (``size`` is what :func:`check_file` saw)."""
    with path.open("rb") as fh:
        raw = fh.read(max_file_bytes + 1)
    if len(raw) > max_file_bytes:  # grew since stat()
        raise too_large(max(len(raw), size), max_file_bytes)
    if b"\x00" in raw[:SNIFF_BYTES]:
        raise Skip("binary file")
    text = decode(raw, 0)
    if not text.strip():
        raise Skip("empty file")
    return normalize_text(text)


def decode(raw: bytes, base_offset: int) -> str:
    """Decode UTF-8 (BOM allowed), naming the first bad byte so the file can be fixed."""
    skip = len(_BOM) if raw.startswith(_BOM) else 0
    try:
        return raw[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = base_offset + skip + exc.start
        bad = raw[skip + exc.start]
        raise Skip(f"not valid UTF-8 (byte 0x{bad:02x} at offset {offset})") from None
