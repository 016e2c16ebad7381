"""Load the document corpus: every supported file becomes documents or a reason it was skipped.

One bad file must never take the whole corpus down, so every content problem ends up as a
``Skipped`` entry with a reason a person can act on; only "no corpus at all" raises.

One reader per format (:mod:`~bot.corpus.txt`, :mod:`~bot.corpus.markdown`,
:mod:`~bot.corpus.html`, :mod:`~bot.corpus.jsonl`) on top of the shared field rules
(:mod:`~bot.corpus.fields`) and the safe reading of a file's bytes (:mod:`~bot.corpus.files`);
:mod:`~bot.corpus.load` walks the directory and picks the reader. This surface is what the rest
of citebot uses.
"""

from bot.corpus.documents import CorpusLoad, Document, FileLoader
from bot.corpus.fields import short_title
from bot.corpus.load import (
    DEFAULT_MAX_FILE_BYTES,
    OUTSIDE_LINK,
    READER_VERSION,
    SUPPORTED_SUFFIXES,
    leads_outside,
    load_corpus,
    load_file,
)

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "OUTSIDE_LINK",
    "READER_VERSION",
    "SUPPORTED_SUFFIXES",
    "CorpusLoad",
    "Document",
    "FileLoader",
    "leads_outside",
    "load_corpus",
    "load_file",
    "short_title",
]
