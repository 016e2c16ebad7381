"""What the stores in a cache directory are keyed by, and how many of them stay.

Both stores (index snapshots, corpus file caches) are named by a :func:`corpus_tag` of the corpus
directory they belong to and checked against a :func:`corpus_hash` of the documents; and both
keep the stores of a few corpus directories only (``citebot ask --corpus`` on many directories
must not fill the disk): :func:`prune`.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from bot.corpus import Document

__all__ = ["MAX_CORPORA", "corpus_hash", "corpus_tag", "prune"]

#: Corpus directories whose stores one cache directory keeps, for each kind of store (the
#: oldest go first); one store per corpus directory.
MAX_CORPORA = 4


def corpus_hash(documents: Sequence[Document]) -> str:
    """A hash of every field of every document, in order."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(len(documents).to_bytes(8, "little"))
    for doc in documents:
        for value in (
            doc.id,
            doc.title,
            doc.url,
            doc.lang,
            doc.date,
            doc.text,
            doc.path,
            doc.post_url,
        ):
            if value is None:
                digest.update(b"\xff" * 8)
                continue
            data = value.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
    return digest.hexdigest()


def corpus_tag(corpus_dir: str | Path) -> str:
    """A short name for a corpus directory, so several corpora can share one cache directory."""
    resolved = str(Path(corpus_dir).resolve())
    return hashlib.blake2b(resolved.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()


def prune(
    stores: Iterable[Path],
    tag: str,
    tag_of: Callable[[Path], str],
    written: Callable[[Path], float],
    keep: Path | None = None,
) -> None:
    """Of ``stores`` (every store of one kind in a cache directory), drop those of the corpus
    directory ``tag`` but ``keep`` (the one just written), then all but the ``MAX_CORPORA - 1``
    newest of the other corpus directories'. What differs between kinds of store is how a
    store's corpus tag is read from it (``tag_of``) and when it was written (``written``)."""
    others = []
    for store in stores:
        if store == keep:
            continue
        if tag_of(store) == tag:
            shutil.rmtree(store, ignore_errors=True)
        else:
            others.append(store)
    others.sort(key=written, reverse=True)
    for old in others[MAX_CORPORA - 1 :]:
        shutil.rmtree(old, ignore_errors=True)
