"""A German–English lexicon for cross-language questions, read from a Ding dictionary file
(Debian's ``trans-de-en``, ``German :: English`` per line).

Both sides are analysed with the engine's own analyzers, so a translation is a term of the
index (the stem the other language's documents were indexed with), and the lexicon maps a
question term of one language to the terms of the other, both ways. Dictionary lines hold
parallel sub-entries (`` | ``) of synonyms (``; ``); a one-word entry of one side is paired
with every translation of its sub-entry that has at most ``_MAX_PHRASE`` content words. Each
term keeps its ``_KEEP`` translations that the dictionary pairs it with most often: the long
tail (rare senses, idioms) adds postings and noise, not answers.

German compounds the dictionary lacks are translated by their parts ("Waffenstillstandsgespräche"
by "Waffenstillstand" and "Gespräch"); a word with no entry at all (a name, a number) is kept as
it is, analysed in the other language (see :meth:`Lexicon.translate`).
"""

from __future__ import annotations

import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.engine.analysis import Analyzer, analyzer_for, fold

__all__ = [
    "DEFAULT_DICTIONARY",
    "PARSE_VERSION",
    "TABLES",
    "Lexicon",
    "Translation",
    "other_language",
]

#: Where Debian's ``trans-de-en`` puts the Ding dictionary.
DEFAULT_DICTIONARY = Path("/usr/share/trans/de-en")

#: The lexicon's tables: by term (a stem, as the index has it) and by word (folded), per language.
TABLES = ("de", "en", "de:word", "en:word")
_KEEP = 15
_MAX_PHRASE = 2
_MIN_COMPOUND_PART = 3
#: Changes whenever parsing would give another lexicon from the same file (caches key on it).
PARSE_VERSION = f"2:{_KEEP}:{_MAX_PHRASE}"
# Linking elements between the parts of a German compound ("Arbeit-s-markt", "Frau-en-bild").
_LINKS = ("", "s", "es", "n", "en", "e", "er")

# Annotations: {m}, [mil.], (climbing), <abbrev>; placeholders jdn./etw./sb./sth.
_ANNOTATION = re.compile(r"\{[^}]*\}|\[[^\]]*\]|\([^)]*\)|<[^>]*>")
_PLACEHOLDER = re.compile(
    r"(?<!\w)(?:jd[nmrs]?|etw|sb|sth|so|sbd)\.(?:[’']s)?(?!\w)|(?<!\w)[’']s(?!\w)", re.I
)
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")


def other_language(lang: str) -> str:
    return "en" if lang == "de" else "de"


@dataclass(frozen=True, slots=True)
class Translation:
    """The other language's terms for one question word, and whether the dictionary had it."""

    terms: tuple[str, ...]
    found: bool


class Lexicon:
    """Term of one language -> terms of the other, for "de" -> "en" and "en" -> "de"; and the
    same from the words themselves ("de:word", "en:word").

    A :meth:`deferred` lexicon reads its tables at its first translation: a process whose
    questions are all in the corpus's language (``citebot ask`` in German on German sources)
    never reads the dictionary."""

    def __init__(
        self,
        path: str,
        entries: dict[str, dict[str, tuple[str, ...]]],
        heads: frozenset[str] = frozenset(),
    ) -> None:
        self.path = path
        self._entries = entries
        #: Folded German one-word heads, for splitting compounds by their parts.
        self._heads = heads
        self._load: Callable[[], Lexicon | None] | None = None
        self._lock = threading.Lock()

    @classmethod
    def deferred(cls, path: str, load: Callable[[], Lexicon | None]) -> Lexicon:
        """The lexicon ``load`` returns, loaded when first used (an empty one if it gives
        None: the file went away or is unreadable, which ``load`` reports)."""
        lexicon = cls(path, {table: {} for table in TABLES})
        lexicon._load = load
        return lexicon

    def __repr__(self) -> str:
        return f"Lexicon({self.path!r})"

    @property
    def entries(self) -> dict[str, dict[str, tuple[str, ...]]]:
        self._ensure()
        return self._entries

    @property
    def heads(self) -> frozenset[str]:
        self._ensure()
        return self._heads

    def _ensure(self) -> None:
        if self._load is None:
            return
        with self._lock:
            load = self._load
            if load is not None:
                loaded = load()
                if loaded is not None:
                    self._entries, self._heads = loaded.entries, loaded.heads
                self._load = None

    def load(self) -> None:
        """Read a deferred lexicon's tables now (a bot warms it at start, off the questions)."""
        self._ensure()

    @classmethod
    def parse(cls, lines: Iterable[str], path: str = "") -> Lexicon:
        de, en = analyzer_for("de"), analyzer_for("en")
        counts: dict[str, dict[str, Counter[str]]] = {t: defaultdict(Counter) for t in TABLES}
        heads: set[str] = set()
        memo: dict[str, dict[str, tuple[str, ...]]] = {"de": {}, "en": {}}
        for line in lines:
            if line.startswith("#") or " :: " not in line:
                continue
            left, _, right = line.partition(" :: ")
            for de_sub, en_sub in zip(left.split(" | "), right.split(" | "), strict=False):
                de_syn = [_content(de, s, memo["de"]) for s in de_sub.split("; ")]
                en_syn = [_content(en, s, memo["en"]) for s in en_sub.split("; ")]
                for terms, raw in de_syn:
                    if len(terms) == 1 and len(raw) == 1:
                        heads.add(fold(raw[0]))
                _pair(de_syn, en_syn, counts["de"], counts["de:word"])
                _pair(en_syn, de_syn, counts["en"], counts["en:word"])
        entries = {table: _best(found) for table, found in counts.items()}
        return cls(path, entries, frozenset(heads))

    @classmethod
    def read(cls, path: str | Path) -> Lexicon:
        """The lexicon of the Ding file at ``path`` (OSError if it cannot be read)."""
        with open(path, encoding="utf-8", errors="replace") as handle:
            return cls.parse(handle, str(path))

    def tables(self) -> dict[str, tuple[list[str], list[str], list[int]]]:
        """Each direction as (terms, their translations one after another, where each term's
        translations end): plain lists for an array file (:mod:`bot.store.lexiconfile`)."""
        out = {}
        for lang, table in self.entries.items():
            ends: list[int] = []
            flat: list[str] = []
            for translations in table.values():
                flat.extend(translations)
                ends.append(len(flat))
            out[lang] = (list(table), flat, ends)
        return out

    @classmethod
    def from_tables(
        cls,
        path: str,
        tables: dict[str, tuple[list[str], list[str], list[int]]],
        heads: Iterable[str],
    ) -> Lexicon:
        """The lexicon of :meth:`tables` and ``heads`` (ValueError if they do not fit)."""
        entries: dict[str, dict[str, tuple[str, ...]]] = {}
        # One string per distinct term (a translation recurs in many entries): a third of the
        # memory of a string per occurrence.
        pool: dict[str, str] = {}
        for lang in TABLES:
            terms, flat, ends = tables[lang]
            flat = [pool.setdefault(term, term) for term in flat]
            if len(terms) != len(ends) or (ends and ends[-1] != len(flat)):
                raise ValueError(f"lexicon table {lang} does not fit together")
            starts = [0, *ends[:-1]]
            if any(b < a for a, b in zip(starts, ends, strict=True)):
                raise ValueError(f"lexicon table {lang} out of order")
            entries[lang] = {
                term: tuple(flat[a:b]) for term, a, b in zip(terms, starts, ends, strict=True)
            }
        return cls(path, entries, frozenset(heads))

    def __len__(self) -> int:
        return sum(len(table) for table in self.entries.values())

    def translate(self, word: str, term: str, lang: str) -> Translation:
        """The other language's terms for the question word ``word`` (raw) whose term in
        ``lang`` is ``term``: its dictionary translations, else those of its compound parts
        (German); and the word itself analysed in the other language (names, numbers)."""
        table = self.entries[lang]
        # The word as the other language would index it: names, numbers and the many words
        # both languages share ("Radio", "Element", "Mausoleum") need no dictionary.
        kept = analyzer_for(other_language(lang)).word_terms(word) if word else ()
        # The word itself first: stems of different words meet ("city" and "kitty" are one
        # term), the words as the dictionary spells them do not.
        found = self.entries[f"{lang}:word"].get(fold(word)) or table.get(term)
        if not found and lang == "de":
            out: dict[str, None] = {}
            for part in self._compound_parts(word):
                out.update(dict.fromkeys(table.get(part, ())))
            found = tuple(out)
        if found:
            return Translation(tuple(dict.fromkeys((*found, *kept))), True)
        return Translation(kept, False)

    def _compound_parts(self, word: str) -> tuple[str, ...]:
        """German terms of the two parts of ``word`` that the dictionary has as words (the
        longest head first), or () if it splits into none."""
        folded = fold(word)
        de = analyzer_for("de")
        table = self.entries["de"]
        for cut in range(len(folded) - _MIN_COMPOUND_PART, _MIN_COMPOUND_PART - 1, -1):
            head, tail = folded[:cut], folded[cut:]
            if tail not in self.heads:
                continue
            tail_term = de.word_terms(tail)
            if not tail_term or tail_term[0] not in table:
                continue
            for link in _LINKS:
                if link and not head.endswith(link):
                    continue
                stem = head[: len(head) - len(link)] if link else head
                if len(stem) >= _MIN_COMPOUND_PART and stem in self.heads:
                    head_term = de.word_terms(stem)
                    if head_term and head_term[0] in table:
                        return (head_term[0], tail_term[0])
        return ()


def _content(
    analyzer: Analyzer, phrase: str, memo: dict[str, tuple[str, ...]]
) -> tuple[tuple[str, ...], list[str]]:
    """The content terms of a dictionary phrase and its raw words, annotations removed. Words
    are analysed through ``memo`` (this parse's own), not the analyzer's caches, which keep what
    highlighting needs and would be filled with the dictionary's 300k words instead."""
    text = _PLACEHOLDER.sub(" ", _ANNOTATION.sub(" ", phrase))
    if analyzer.lang == "en":
        text = re.sub(r"^\s*to\s+", " ", text)
    raw = _WORD.findall(text)
    if len(raw) > _MAX_PHRASE + 2:
        return (), raw  # a phrase or a sentence: neither an entry nor a translation
    terms: list[str] = []
    for word in raw:
        found = memo.get(word)
        if found is None:
            found = memo[word] = analyzer.index_terms(word)
        terms.extend(found)
    return tuple(dict.fromkeys(terms)), raw


def _pair(
    sources: list[tuple[tuple[str, ...], list[str]]],
    targets: list[tuple[tuple[str, ...], list[str]]],
    counts: dict[str, Counter[str]],
    word_counts: dict[str, Counter[str]],
) -> None:
    for source, raw in sources:
        if len(source) != 1:
            continue
        found = counts[source[0]]
        by_word = word_counts[fold(raw[0])] if len(raw) == 1 else None
        for target, _ in targets:
            if 0 < len(target) <= _MAX_PHRASE:
                for term in target:
                    found[term] += 1
                    if by_word is not None:
                        by_word[term] += 1


def _best(counts: dict[str, Counter[str]]) -> dict[str, tuple[str, ...]]:
    return {term: tuple(t for t, _ in found.most_common(_KEEP)) for term, found in counts.items()}
