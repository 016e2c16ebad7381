"""Text analysis: one analyzer turns passages and questions into the terms the index scores.

A word's term is the *variant key* of its Snowball stem: stop words removed, case, accents and
umlauts folded ("ae/oe/ue/ss" typed for "ä/ö/ü/ß" give the same stem), then spelled so that the
transliteration variants of names agree (Lawrow/Lavrov, Selenskyj/Zelensky, Kiew/Kyjiw). Two term
streams come out of the same tokens:

* ``terms``: one term per content word. Precise; the main BM25 field.
* ``grams``: character 3- and 4-grams of each term, word boundaries marked, so compounds stay
  findable by their parts ("Kampagne" in "Raketenangriffskampagne"). Fuzzy; a second BM25 field
  with a smaller weight.

``Analyzer.match`` defines whether a passage word answers a question word (the same term, or a
compound part). The search applies it through the vocabulary once per question word, and the
highlights and the no-answer cut-off use that same result, so what is bold is what was matched.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import Stemmer

from bot.engine._stopwords import BY_LANGUAGE
from bot.engine.termcache import TermCache
from bot.languages import SUPPORTED_LANGUAGES

__all__ = [
    "ANALYZER_VERSION",
    "CLOSED_COMPOUNDS",
    "GRAM_SIZES",
    "MAX_WORD_CHARS",
    "MIN_PART",
    "Analyzer",
    "Token",
    "analyzer_for",
    "clear_caches",
    "fold",
    "gram_set",
    "grams_of_term",
    "grams_of_vocabulary",
    "raw_words",
    "variant_key",
]

# Covers the passage splitting too (bot.engine.passages): a snapshot built by another version
# has other passages and is rebuilt. 2: sentence rules and headlines of issue 13; 3: words read
# as their first MAX_WORD_CHARS letters (issue 17).
ANALYZER_VERSION = "3"
GRAM_SIZES = (3, 4)  # measured on XQuAD-de: 3+4 beats 3, 4 or 5 alone
MIN_PART = 4  # shortest term that may be found inside a compound
#: A longer word is read as its first this many characters. German's longest real compounds
#: stay below (Donaudampfschifffahrts... has 80), and what a term costs grows with its length:
#: its compound parts are looked up among all its substrings (a 4000-letter word took 6.5 s).
MAX_WORD_CHARS = 100
#: Languages that write compounds as one word ("Inflationsrate"): there a word that begins or
#: ends another is its modifier or head. In English it is more often a clipped stem
#: ("capit", of "capital", begins "Kapitulation").
CLOSED_COMPOUNDS = frozenset({"de"})
_MIB = 1024 * 1024
_PREFILL = 100_000  # words a build leaves in the highlighting cache, as far as its budget goes

# A word: letters/digits, optionally joined by hyphens or apostrophes ("US-Präsident", "Scholz’").
# A leading # or @ marks hashtags and mentions.
_TOKEN_RE = re.compile(r"[#@]?[^\W_]+(?:[-‐‑'’][^\W_]+)*")
_FINDALL = _TOKEN_RE.findall
_PART_RE = re.compile(r"[^\W_]+")
_CAMEL_RE = re.compile(r"[A-ZÄÖÜ]?[a-zäöüß]+|[A-ZÄÖÜ]+(?![a-zäöüß])|\d+")


def raw_words(text: str) -> list[str]:
    r"""``_TOKEN_RE.findall(text)``, found about twice as fast.

    No word holds whitespace, so the words of a text are those of its whitespace-separated
    pieces, in order; and a piece that is all letters and digits is one word ([^\W_] is exactly
    ``str.isalnum``), so only the other pieces (punctuation, hyphens, tags) need the regex."""
    out: list[str] = []
    add = out.append
    for piece in text.split():
        if piece.isalnum():
            add(piece)
        else:
            out.extend(_FINDALL(piece))
    return out


def _strip_accents(text: str) -> str:
    if text.isascii():  # nothing to decompose, nothing combining
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fold(word: str) -> str:
    word = _strip_accents(unicodedata.normalize("NFKC", word).casefold())
    return word.replace("ae", "a").replace("oe", "o").replace("ue", "u")


_FOLDS: TermCache[str] = TermCache(1 * _MIB)


def fold(word: str) -> str:
    """Case, accents, ß and typed umlauts ("ae", "oe", "ue") folded: the form stop words use."""
    return _FOLDS.get(word, _fold)


# Transliteration folding, applied in order to a stem. General spelling rules of Russian and
# Ukrainian names in German and English, not a list of names. Each rule comes with the letters
# its pattern needs (one of them): a stem without any skips the (slower) regex.
_VARIANT_RULES: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = tuple(
    (needs, re.compile(pattern), replacement)
    for needs, pattern, replacement in (
        # genitive: Lawrows, Teslas, Marconis
        (("s",), r"(?<=[wv])s$|(?<=[iy]j)s$|(?<=...[aio])s$", ""),
        (("h",), r"tsch|tch|tsh", "k"),  # ч: Tschernihiw/Chernihiv
        (("h",), r"sch|sh|zh", "s"),  # ш and ж: Schoigu/Shoigu, Schukow/Zhukov
        (("ch", "kh"), r"ch|kh", "k"),  # х: Charkiw/Kharkiv
        (("w",), r"w", "v"),
        (("ph",), r"ph", "f"),
        (("ck",), r"ck", "k"),
        (("c",), r"c", "k"),
        (("x",), r"x", "ks"),
        (("z", "ts"), r"tz|ts|z", "s"),
        (("y", "j"), r"[yj]", "i"),
        (("ie",), r"ie", "i"),
        (("",), r"(.)\1+", r"\1"),  # "" is in every stem
    )
)


def _variant_key(stem: str) -> str:
    key = stem
    for needs, pattern, replacement in _VARIANT_RULES:
        for letters in needs:
            if letters in key:
                key = pattern.sub(replacement, key)
                break
    return key


_VARIANT_KEYS: TermCache[str] = TermCache(1 * _MIB)


def variant_key(stem: str) -> str:
    """A spelling-insensitive key: Lawrow/Lavrov, Selenskyj/Zelensky and Kiew/Kyjiw agree."""
    return _VARIANT_KEYS.get(stem, _variant_key)


@dataclass(frozen=True, slots=True)
class Token:
    """A content word: its term (the variant key of its stem) and where it stands in the text."""

    term: str
    start: int
    end: int


class Analyzer:
    """Turns text of one language into tokens, BM25 terms and n-grams."""

    def __init__(self, lang: str) -> None:
        if lang not in SUPPORTED_LANGUAGES:
            raise ValueError(f"unsupported language: {lang!r}")
        self.lang = lang
        self._stemmer = Stemmer.Stemmer("german" if lang == "de" else "english")
        self._stop = frozenset(fold(w) for w in BY_LANGUAGE[lang])
        # Analysis is per word and words repeat (Zipf): cache each word's term ("" = stop word)
        # and each raw match's terms. Bounded in bytes, so a stream of junk cannot grow them.
        self._term_cache: TermCache[str] = TermCache(3 * _MIB)
        self._match_cache: TermCache[tuple[str, ...]] = TermCache(6 * _MIB)
        self._span_cache: TermCache[tuple[tuple[str, int, int], ...]] = TermCache(3 * _MIB)
        for cache in (self._term_cache, self._match_cache, self._span_cache):
            _ALL_CACHES.add(cache)

    def _term(self, word: str) -> str:
        """The term of one word, or "" for a stop word."""
        term = self._term_cache.peek(word)
        if term is None:
            term = self._term_of(word, fold, variant_key)
            self._term_cache.put(word, term)
        return term

    def _term_uncached(self, word: str) -> str:
        """:meth:`_term` without its caches (the build's, for words it sees once)."""
        return self._term_of(word, _fold, _variant_key)

    def _term_of(
        self, word: str, fold_word: Callable[[str], str], key: Callable[[str], str]
    ) -> str:
        word = word[:MAX_WORD_CHARS]
        if fold_word(word) in self._stop or (len(word) == 1 and word.isalpha()):
            return ""  # a stop word, or a lone letter (an initial, "b" of a typed tag)
        folded = unicodedata.normalize("NFKC", word).casefold()
        stem = _strip_accents(self._stemmer.stemWord(folded))
        # Cut again: NFKC and case folding can make a word longer ("ﷺ" is 18 letters).
        return key(stem)[:MAX_WORD_CHARS] if stem else ""

    def is_stop_word(self, word: str) -> bool:
        return fold(word) in self._stop

    def tokens(self, text: str) -> list[Token]:
        """Content words of ``text`` in order, with hyphen parts and hashtag parts split out."""
        out: list[Token] = []
        cache = self._span_cache
        for match in _TOKEN_RE.finditer(text):
            raw = match.group()
            parts = cache.peek(raw)
            if parts is None:
                parts = tuple((t, s, e) for t, s, e in self._parts(raw, 0) if t)
                cache.put(raw, parts)
            offset = match.start()
            out.extend(Token(term, offset + start, offset + end) for term, start, end in parts)
        return out

    def spans(self, text: str, wanted: Container[str]) -> list[tuple[int, int]]:
        """[start, end) of the words of ``text`` whose term is in ``wanted``: the spans of the
        matching ``tokens``, without a Token per word."""
        out: list[tuple[int, int]] = []
        cache = self._span_cache
        terms = self._match_cache
        for match in _TOKEN_RE.finditer(text):
            raw = match.group()
            parts = cache.peek(raw)
            if parts is None:
                known = terms.peek(raw)
                if known is not None and raw.isalnum():
                    # One plain word ([^\W_] is isalnum): its term, as indexing found it.
                    parts = ((known[0], 0, len(raw)),) if known else ()
                else:
                    parts = tuple((t, s, e) for t, s, e in self._parts(raw, 0) if t)
                cache.put(raw, parts)
            for term, start, end in parts:
                if term in wanted:
                    offset = match.start()
                    out.append((offset + start, offset + end))
        return out

    def _parts(
        self, raw: str, start: int, term_of: Callable[[str], str] | None = None
    ) -> list[tuple[str, int, int]]:
        """(term, start, end) of each word in one regex match ("" terms are stop words)."""
        term = term_of or self._term
        if raw.isalnum():  # one plain word ([^\W_] is exactly isalnum): no regex
            return [(term(raw), start, start + len(raw))]
        if raw[0] in "#@":
            raw, start = raw[1:], start + 1
            parts = [(m.group(), start + m.start()) for m in _CAMEL_RE.finditer(raw)]
            if len(parts) > 1:
                whole = (term(raw.replace("-", "")), start, start + len(raw))
                return [whole] + [(term(w), s, s + len(w)) for w, s in parts]
        return [
            (term(m.group()), start + m.start(), start + m.end()) for m in _PART_RE.finditer(raw)
        ]

    def words(self, text: str) -> list[str]:
        """The raw words of ``text`` (regex matches) whose :meth:`word_terms` make its terms."""
        return raw_words(text)

    def word_terms(self, raw: str) -> tuple[str, ...]:
        """The terms of one raw word of :meth:`words`, as :meth:`terms` finds them."""
        terms = self._match_cache.peek(raw)
        if terms is None:
            terms = tuple(term for term, _, _ in self._parts(raw, 0) if term)
            self._match_cache.put(raw, terms)
        return terms

    def index_terms(self, raw: str) -> tuple[str, ...]:
        """:meth:`word_terms` for a build, which meets each distinct word once (its word table
        numbers it): through no cache, so the build leaves no corpus-sized caches behind, nor
        its words scattered over the heap. Only the first ``_PREFILL`` words a build meets (the
        frequent ones, in a Zipf-shaped vocabulary) go into the cache that highlighting reads,
        so the first answers need not analyse their passages' common words again."""
        terms = tuple(term for term, _, _ in self._parts(raw, 0, self._term_uncached) if term)
        cache = self._match_cache
        if len(cache) < _PREFILL and cache.room() > cache.budget // 4:
            cache.put(raw, terms)
        return terms

    def terms(self, text: str) -> list[str]:
        """The terms of ``text``, as ``tokens`` finds them but without spans: the fast path
        for indexing, one cache lookup per word."""
        out: list[str] = []
        cache = self._match_cache
        for raw in raw_words(text):
            terms = cache.peek(raw)
            if terms is None:
                terms = tuple(term for term, _, _ in self._parts(raw, 0) if term)
                cache.put(raw, terms)
            out.extend(terms)
        return out

    @staticmethod
    def grams_of(terms: Iterable[str]) -> list[str]:
        """The n-gram field's terms: 3- and 4-grams of each term, word boundaries marked."""
        grams: list[str] = []
        for term in terms:
            grams.extend(_grams(term))
        return grams

    @staticmethod
    def match(q: str, w: str, compounds: bool = True) -> float:
        """How well passage term ``w`` answers question term ``q``: 1 for the same word (or name
        variant), and for a compound that ``q`` begins or ends, its modifier or head
        ("Inflation" in "Inflationsrate", "Satz" in "Fundamentalsatz": a kind of it, or about
        it). Any other part match counts the share of the longer word that the shorter spells:
        "Angriff" inside "Raketenangriffskampagne" (7/22 of its key), "Abkommen" for a question
        about "Friedensabkommen" (the passage names a broader thing). Else 0.

        A key shorter than ``MIN_PART`` ("Satz" folds to "sas") matches only as a compound's
        head, in a word at least ``MIN_PART`` longer. Without ``compounds`` (a question in a
        language of :data:`CLOSED_COMPOUNDS`'s complement) no part earns full credit. Measured
        on XQuAD-de (docs/BENCHMARKS.md): full credit both ways, or half credit for every part,
        answered fewer questions right.
        """
        if q == w:
            return 1.0
        if q in w and (len(q) >= MIN_PART or _short_head(q, w)):
            if compounds and (w.startswith(q) or w.endswith(q)):
                return 1.0
            return len(q) / len(w)
        if len(w) >= MIN_PART + 1 and w in q:
            return len(w) / len(q)
        return 0.0


def _short_head(q: str, w: str) -> bool:
    """``q``, a key one letter under ``MIN_PART``, heads the compound ``w``."""
    return len(q) == MIN_PART - 1 and w.endswith(q) and len(w) >= len(q) + MIN_PART


def _make_grams(term: str) -> tuple[str, ...]:
    padded = f"^{term}$"
    grams: list[str] = []
    for size in GRAM_SIZES:
        if len(padded) <= size:
            grams.append(padded)
        else:
            grams.extend(padded[i : i + size] for i in range(len(padded) - size + 1))
    return tuple(grams)


# Question terms repeat: their grams are cached. Indexing reads each vocabulary term once and
# goes around the cache (filling it with a whole vocabulary kept ~90 MB per 100k passages).
_GRAMS: TermCache[tuple[str, ...]] = TermCache(3 * _MIB)
_GRAM_SETS: TermCache[frozenset[str]] = TermCache(3 * _MIB)


def _grams(term: str) -> tuple[str, ...]:
    return _GRAMS.get(term, _make_grams)


def grams_of_term(term: str) -> tuple[str, ...]:
    """The n-grams of one term, repeats included (the n-gram field's tokens for it)."""
    return _grams(term)


def grams_of_vocabulary(terms: Iterable[str]) -> Iterator[tuple[str, ...]]:
    """:func:`grams_of_term` of each term, in order, without caching them."""
    return map(_make_grams, terms)


def gram_set(term: str) -> frozenset[str]:
    """The distinct n-grams of one term."""
    found = _GRAM_SETS.peek(term)
    if found is None:
        found = frozenset(_grams(term))
        _GRAM_SETS.put(term, found)
    return found


#: Every analysis cache, module-level and the analyzers': :func:`clear_caches` empties them.
_ALL_CACHES: weakref.WeakSet[TermCache[Any]] = weakref.WeakSet(
    (_FOLDS, _VARIANT_KEYS, _GRAMS, _GRAM_SETS)
)


def clear_caches() -> None:
    """Forget every analysed word: called when a new index is made, so what questions to the
    one before put here goes with it (the new build then fills the highlighting cache with its
    own frequent words)."""
    for cache in list(_ALL_CACHES):
        cache.clear()


_ANALYZERS: dict[str, Analyzer] = {}


def analyzer_for(lang: str) -> Analyzer:
    """One shared analyzer per language (stemmers and caches are worth reusing)."""
    analyzer = _ANALYZERS.get(lang)
    if analyzer is None:
        analyzer = _ANALYZERS[lang] = Analyzer(lang)
    return analyzer
