"""Checksummed arrays on disk: the storage under index snapshots and the corpus file cache.

A store is a directory of ``.npy`` files (written with ``np.save``, read back without pickle:
loading never runs code from the file) and a JSON manifest naming each array's file, dtype,
shape and CRC-32. It is written into a temporary directory, fsynced and renamed into place, so
a reader never sees half of one. Whatever is wrong with a store raises :class:`CacheError`.
"""

from __future__ import annotations

import errno
import io
import itertools
import json
import os
import shutil
import tempfile
import time
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.errors import CacheError

__all__ = [
    "FREE_SPACE_RESERVE",
    "STALE_TMP_SECONDS",
    "fsync_dir",
    "load_array",
    "pack_strings",
    "read_manifest",
    "unpack_strings",
    "write_store",
]


def pack_strings(strings: Sequence[str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """UTF-8 bytes of the joined strings and the character offsets of each one."""
    joined = "".join(strings)
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, strings), np.int64, len(strings)), out=offsets[1:])
    blob = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    return blob, offsets


def unpack_strings(blob: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64]) -> list[str]:
    try:
        joined = blob.tobytes().decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise CacheError(f"string blob is not UTF-8: {exc}") from None
    if len(offsets) == 0 or offsets[0] != 0 or offsets[-1] != len(joined):
        raise CacheError("string offsets do not cover the blob")
    if np.any(np.diff(offsets) < 0):
        raise CacheError("string offsets decrease")
    bounds = offsets.tolist()
    return [joined[a:b] for a, b in itertools.pairwise(bounds)]


class _HashingWriter:
    """A write-only file object that checksums what passes through (np.save writes in chunks).

    CRC-32 finds the damage a cache file suffers (truncation, flipped bytes) at ~4x the speed
    of blake2b, which matters when a restart reads half a gigabyte; which corpus a snapshot
    belongs to is the key's job, and that is a cryptographic hash."""

    def __init__(self, file: Any) -> None:
        self._file = file
        self.crc = 0

    def write(self, data: bytes) -> int:
        self.crc = zlib.crc32(data, self.crc)
        self._file.write(data)
        return len(data)


#: A temporary store older than this was left by a process that died while writing it (a
#: write takes seconds): removed by the next write into the same directory.
STALE_TMP_SECONDS = 3600.0


#: Space a store must leave free on its volume: CORPUS_DIR (channel posts, uploads) often shares
#: it, and a post is worth more than a cache.
FREE_SPACE_RESERVE = 64 * 1024 * 1024


def write_store(
    parent: Path, arrays: Mapping[str, np.ndarray[Any, Any]], manifest: dict[str, Any], name: str
) -> Path:
    """Write ``arrays`` and ``manifest`` (as file ``name``, with an "arrays" entry added) into a
    new temporary directory in ``parent``, all fsynced; the caller renames it into place.

    A store the volume cannot hold (with :data:`FREE_SPACE_RESERVE` to spare) is not begun,
    and a write that fails anyway (``ENOSPC``) removes its partial directory at once: left
    there, it kept the disk full until the next write an hour later."""
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(parent)
    needed = sum(int(array.nbytes) for array in arrays.values())
    free = shutil.disk_usage(parent).free
    if needed + FREE_SPACE_RESERVE > free:
        raise OSError(
            errno.ENOSPC,
            f"no room for {needed / 1e6:.1f} MB with {FREE_SPACE_RESERVE // 2**20} MB to spare"
            f" ({free / 1e6:.1f} MB free)",
        )
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=parent))
    try:
        _write_into(tmp, arrays, manifest, name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _write_into(
    tmp: Path, arrays: Mapping[str, np.ndarray[Any, Any]], manifest: dict[str, Any], name: str
) -> None:
    described: dict[str, Any] = {}
    for number, (key, array) in enumerate(arrays.items()):
        file_name = f"{number:02d}.npy"
        with open(tmp / file_name, "wb") as raw:
            writer = _HashingWriter(raw)
            np.save(writer, np.ascontiguousarray(array), allow_pickle=False)
            raw.flush()
            os.fsync(raw.fileno())
        described[key] = {
            "file": file_name,
            "dtype": np.dtype(array.dtype).str,
            "shape": list(array.shape),
            "crc32": writer.crc,
        }
    with open(tmp / name, "w", encoding="utf-8") as out:
        json.dump({**manifest, "arrays": described}, out, indent=1)
        out.flush()
        os.fsync(out.fileno())
    fsync_dir(tmp)


def _remove_stale_temporaries(parent: Path) -> None:
    """Half-written stores of processes that were killed (or ended at shutdown while a build
    ran): at a million passages each is hundreds of megabytes. Young ones may be another
    process's write in progress and stay."""
    limit = time.time() - STALE_TMP_SECONDS
    try:
        entries = [entry for entry in parent.iterdir() if entry.name.startswith(".tmp-")]
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir() and entry.stat().st_mtime < limit:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CacheError(f"manifest unreadable: {exc}") from None
    if not isinstance(manifest, dict):
        raise CacheError("manifest is not an object")
    return manifest


def _array_from_npy(data: bytes, file_name: str) -> np.ndarray[Any, Any]:
    """The array in the bytes of an .npy file, without copying them (read-only). Only plain
    1-D arrays of numbers: an object dtype (which would need pickle) is refused."""
    header = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(header)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(header)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(header)
        else:
            raise ValueError(f"format version {version}")
    except ValueError as exc:
        raise CacheError(f"{file_name}: not an .npy file ({exc})") from None
    if dtype.hasobject or fortran or len(shape) != 1:
        raise CacheError(f"{file_name}: not a plain 1-D array")
    count = int(shape[0])
    offset = header.tell()
    if len(data) - offset != count * dtype.itemsize:
        raise CacheError(f"{file_name}: truncated")
    return np.frombuffer(data, dtype=dtype, count=count, offset=offset)


def load_array(path: Path, described: Mapping[str, Any], dtype: type) -> np.ndarray[Any, Any]:
    """The array the manifest entry ``described`` names in the store at ``path``, checked."""
    file_name = str(described["file"])
    if "/" in file_name or "\\" in file_name or file_name.startswith("."):
        raise CacheError(f"bad file name {file_name!r}")
    if np.dtype(described["dtype"]) != np.dtype(dtype):
        raise CacheError(f"{file_name}: dtype {described['dtype']} in the manifest")
    with open(path / file_name, "rb") as file:
        data = file.read()  # read once: checksum it, then use the bytes as the array
    if zlib.crc32(data) != described["crc32"]:
        raise CacheError(f"{file_name}: checksum mismatch")
    array = _array_from_npy(data, file_name)
    if not isinstance(array, np.ndarray) or array.dtype != np.dtype(dtype):
        raise CacheError(f"{file_name}: wrong dtype")
    if list(array.shape) != list(described["shape"]) or array.ndim != 1:
        raise CacheError(f"{file_name}: wrong shape")
    return array
