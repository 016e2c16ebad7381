"""Passage splitting: short, sentence-aligned pieces of a document that can be quoted on their own.

German punctuation is ambiguous: "am 2. Dezember", "z. B.", "Dr. Müller" and "Joe R. Biden" contain
periods that do not end a sentence, and posts copied from Telegram break lines in the middle of a
sentence. The splitter first finds sentence boundaries, then groups 1 to 3 sentences per passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.engine._stopwords import ENGLISH, GERMAN

__all__ = [
    "ABBREVIATIONS",
    "MONTHS",
    "SENTENCE_END",
    "Passage",
    "Sentence",
    "passage_text",
    "split_passages",
    "split_sentences",
    "title_end",
]


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Passage:
    """A quotable piece of a document; ``start``/``end`` index the document text."""

    index: int
    start: int
    end: int
    text: str


MONTHS = frozenset(
    """
januar jänner februar märz maerz april mai juni juli august september oktober november
dezember jan feb mär apr jun jul aug sep sept okt nov dez january february march may june
july october december
""".split()
)

# Abbreviations that are followed by a period but do not end a sentence (compared in lower case,
# without the final period).
ABBREVIATIONS = frozenset(
    """
abs abt allg anm art aufl bd bzw ca chr co corp dipl dr ebd etc evtl exkl fa ff fr frl gebr
gem ggf ggü hg hrsg hr hl inc inkl insb jh jhd jr kap kfz kl lt ltd max mio mind min mr mrs
ms mrd nr o.ä orig pkt prof sen sog spp st std str sr tel tsd usw uvm vgl vs zb zt ziff zzgl
bspw bzgl dgl einschl erg gegr ggfs inzw jun lfd mwst röm sek stellv u.a u.u z.b z.t d.h i.e
e.g etc no vol gen adm brig col capt lt sgt maj cpl med kath evang ev phil jur rer nat ing mag
dt engl frz ital russ ukr amerik brit europ ehem urspr
""".split()
)

# Words after which a line break cannot end a sentence: articles, prepositions, conjunctions.
_CONTINUES = frozenset(
    """
der die das den dem des ein eine einen einem einer eines und oder aber sondern denn doch
sowie bzw als wie wenn weil dass ob da damit für von mit nach bei zu zum zur auf aus in im
an am um über unter vor hinter neben zwischen durch gegen ohne seit bis während wegen trotz
the a an and or but of to in on at by for with from as that which who than
""".split()
)

_OPENING_QUOTES = "„‚"
# Guillemets open or close by where they stand: »Zitat« in German, «Zitat» in Swiss and French.
_GUILLEMETS = "«»‹›"
_CLOSING_QUOTES = "”’" + _GUILLEMETS
_URL_RE = re.compile(r"(?:https?://|www\.)\S*[^\s.,;:!?)\]”“\"'»]", re.IGNORECASE)
_END_RE = re.compile(r"[.!?…]+")
_NEXT_WORD_RE = re.compile(r"\s*(\S+)")
_INTERESTING_RE = re.compile(r"[.!?…„«‹‚»”›’“\"\n]")
_LOOK_BEHIND = 100
#: Marks a sentence (not a heading line) ends with.
SENTENCE_END = ".!?…:;”“\"«»‹›)]'’"
_AFTER_END = _CLOSING_QUOTES + '“")]'  # marks that belong to the sentence a period ends
_LINE_END_RE = re.compile(r"[^\S\n]*\n")
_DOTTED_RE = re.compile(r"(?:\w\.)+\w")
_MAX_QUOTE = 600  # a quotation longer than this is treated as a stray quote mark
_WORD_EDGES = ",.;:!?()[]{}\"'„“”‚‘’«»‹›"
_BULLETS = "•·▪‣◦*-–—"
# Words a sentence opens with after a number that ended the previous one (compared in lower
# case): articles, pronouns, conjunctions and the adverbs that link sentences.
_OPENERS = (
    GERMAN
    | ENGLISH
    | frozenset(
        """
danach dabei damals daher darauf darum davor dazu demnach deshalb deswegen dennoch ebenso
außerdem zudem zuvor zuletzt zunächst später trotzdem inzwischen jedoch laut nachdem seitdem
sodass somit stattdessen allerdings anschließend bisher gleichzeitig insgesamt mittlerweile
""".split()
    )
)


def _protected_spans(text: str) -> list[tuple[int, int]]:
    # Every URL the pattern finds holds "://" or a "www." in some case: a text with neither
    # (most of them) skips the slower case-insensitive scan.
    if "://" not in text and "www." not in text.lower():
        return []
    return [m.span() for m in _URL_RE.finditer(text)]


def _is_abbreviation(word: str) -> bool:
    """``word`` is the token before a period, without that period."""
    bare = word.lstrip("(\"'„“«‚‹[").lower()
    if not bare:
        return False
    if bare in ABBREVIATIONS or bare.replace(".", "") in ABBREVIATIONS:
        return True
    # Initials ("R." in "Joe R. Biden") and dotted abbreviations ("z.B", "u.a").
    if len(bare) == 1 and bare.isalpha():
        return True
    return "." in bare and _DOTTED_RE.fullmatch(bare) is not None


def _ordinal_continues(number: str, next_word: str) -> bool:
    """ "am 2. Dezember", "die 58. Armee", "im 19. Jahrhundert": a number with a period that is an
    ordinal. An ordinal stands before a noun, a month, a year or a lower-case adjective; a
    sentence after a number that ends one opens with a function word ("Die", "Er", "Danach")."""
    # str.isdecimal is exactly the regex class \d (Unicode category Nd), without a regex call.
    if not (0 < len(number) <= 3 and number.isdecimal()):
        return False
    if not next_word:
        return False
    nxt = next_word.lower().strip(_WORD_EDGES)
    if nxt in MONTHS or (0 < len(nxt) <= 4 and nxt.isdecimal()):
        return True
    first = next_word[0]
    if first.islower() or (first in "-–" and next_word[1:2].isdecimal()):  # "1. -3. Jh."
        return True
    if not first.isalpha():
        return False  # a quote, a bracket, a digit: a new sentence
    return nxt not in _OPENERS


def _is_list_number(window: str, at_text_start: bool) -> bool:
    """ "1. Dies ist eine Punkteliste.", "• 3. Seien Sie achtsam": a number that opens a line
    (after a bullet, if any) numbers a list item; ``window`` ends with the number."""
    line_start = window.rfind("\n")
    if line_start < 0 and not at_text_start:
        return False
    lead = window[line_start + 1 :].rstrip("0123456789")
    return not lead.strip(_BULLETS + " \t")


def _line_break_joins(line: str, next_line: str) -> bool:
    """A line broken in the middle of a sentence continues on the next line."""
    stripped = line.rstrip()
    if not stripped or not next_line.strip():
        return False
    last = stripped[-1]
    if last in ".!?…" or last in _CLOSING_QUOTES or last in '“"':
        return False
    first = next_line.lstrip()[0]
    if first.islower() or last in ",;:-–(":
        return True
    last_word = stripped.split()[-1].lower()
    return last_word in _CONTINUES


def _hard_breaks(text: str) -> list[int]:
    """Positions of line breaks that end a sentence (headings, lines that stand on their own)."""
    breaks = []
    pos = 0
    lines = text.split("\n")
    for i, line in enumerate(lines[:-1]):
        pos += len(line)
        nxt = lines[i + 1]
        if line.strip() and nxt.strip() and not _line_break_joins(line, nxt):
            breaks.append(pos)
        elif not line.strip() or not nxt.strip():
            breaks.append(pos)  # a blank line is a paragraph break
        pos += 1
    return breaks


def split_sentences(text: str) -> list[Sentence]:
    """Sentence spans of ``text``, whitespace trimmed, in order."""
    protected = _protected_spans(text)
    boundaries: set[int] = set(_hard_breaks(text))
    depth = 0
    quote_start = -1
    n = len(text)
    skip_to = 0
    # Only quotes, sentence punctuation and line breaks change the state: jump between them.
    for found in _INTERESTING_RE.finditer(text):
        i = found.start()
        if i < skip_to:
            continue
        ch = text[i]
        if depth > 0 and i - quote_start > _MAX_QUOTE:
            depth = 0  # a stray quote mark, not a quotation
        if (
            ch in _OPENING_QUOTES
            or (ch in _GUILLEMETS and _opens_quote(text, i))
            or (ch in '“"' and depth == 0 and _opens_quote(text, i))
        ):
            depth += 1
            quote_start = i
            continue
        if ch in _CLOSING_QUOTES or ch in '“"':
            depth = max(depth - 1, 0)
            continue
        if ch not in ".!?…":
            continue
        m = _END_RE.match(text, i)
        assert m is not None
        end = m.end()
        if depth == 0:
            while end < n and text[end] in _AFTER_END:
                end += 1
            if _ends_sentence(text, i, end, protected):
                boundaries.add(end)
        elif end < n and (text[end] in _CLOSING_QUOTES or text[end] in '“"'):
            # "Er sagte: „Wir kommen.“ Dann ..." ends after the closing quote.
            depth -= 1
            end += 1
            if _ends_sentence(text, i, end, protected):
                boundaries.add(end)
        skip_to = max(end, i + 1)
    return _spans(text, sorted(boundaries))


def _opens_quote(text: str, i: int) -> bool:
    """A straight or English quote opens a quotation when it stands before a word."""
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return (before.isspace() or before in "([„:") and not after.isspace()


def _ends_sentence(text: str, dot: int, end: int, protected: list[tuple[int, int]]) -> bool:
    n = len(text)
    if end < n and not text[end].isspace():
        return False  # "3.5", "z.B.", "Kap.3", a URL
    if protected and any(s <= dot < e for s, e in protected):
        return False
    following = _NEXT_WORD_RE.match(text, end)
    next_word = following.group(1) if following else ""
    if not next_word:
        return True
    # A comma never opens a sentence (",,Das weiß ich" after a quotation: ",," typed for „).
    if next_word[0] == ",":
        return False
    if text[dot] != ".":
        return True
    if end - dot > 1:  # "..." or ".." ellipsis
        return True
    # Look only at the words around the period: slicing or searching from the start of the
    # text here would make splitting quadratic in the document's length.
    window = text[max(0, dot - _LOOK_BEHIND) : dot]
    before = window.rsplit(None, 1) if window and not window[-1].isspace() else []
    word = before[-1] if before else ""
    if _is_abbreviation(word):
        return False
    # "1.–3. Juli", "1. -3. Jahrhundert": the number after a range dash.
    number = word.rsplit("–", 1)[-1].rsplit("-", 1)[-1] if "-" in word or "–" in word else word
    if number.isdecimal():
        if _ordinal_continues(number, next_word):
            return False
        if number is word and _is_list_number(window, dot <= _LOOK_BEHIND):
            return False
    # A new sentence starts with an upper-case letter, a digit, a quote or a bracket.
    return not next_word[0].islower()


def _spans(text: str, boundaries: list[int]) -> list[Sentence]:
    sentences = []
    start = 0
    for b in [*boundaries, len(text)]:
        if b <= start:
            continue
        s, e = start, b
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            sentences.append(Sentence(s, e))
        start = b
    return sentences


def _clean(text: str) -> str:
    """Passage text: line breaks become spaces (same length, so spans stay valid)."""
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ")


def passage_text(text: str, start: int, end: int) -> str:
    """The text of the passage at ``start:end`` of a document's ``text``, as quoted."""
    return _clean(text[start:end])


def title_end(text: str, title: str) -> int:
    """Where the title line of ``text`` ends (0 if the text does not open with ``title``): a
    post's first line is its headline, shown as the title rather than quoted."""
    if not title:
        return 0
    nl = text.find("\n")
    first = text if nl < 0 else text[:nl]
    return len(first) if first.strip() == title else 0


def split_passages(
    text: str, *, target_chars: int = 300, max_sentences: int = 3, title_lines: int = 0
) -> list[Passage]:
    """Group sentences into passages of up to ``max_sentences`` and about ``target_chars``.

    ``title_lines`` first lines are the title (each line one sentence). A title, like a heading
    (a line without end punctuation), opens the passage after it, so its words count for the
    text it heads: a headline never becomes an answer of its own when its body answers. The
    title is not quoted (the hit shows it as the title), so it counts for neither limit.
    """
    offset = 0
    head: list[Sentence] = []
    if title_lines:
        for _ in range(title_lines):
            nl = text.find("\n", offset)
            head.extend(
                Sentence(offset + s.start, offset + s.end)
                for s in _spans(text[offset : len(text) if nl < 0 else nl], [])
            )
            offset = len(text) if nl < 0 else nl + 1
    body = [Sentence(offset + s.start, offset + s.end) for s in split_sentences(text[offset:])]
    passages: list[Passage] = []
    group: list[Sentence] = []
    titled = 0  # title sentences opening the group: shown as the title, so not counted
    opened_by_headings = True  # the group holds headings only (or nothing)
    for sentence in [*head, *body]:
        title = sentence in head
        heading = title or _is_heading(text, sentence)
        if len(group) > titled:
            length = sentence.end - group[titled].start
            gap = text[group[-1].end : sentence.start]
            paragraph_break = gap.count("\n") >= 2  # a passage never spans paragraphs
            if (
                len(group) - titled >= max_sentences
                or length > target_chars
                or (not opened_by_headings and (heading or paragraph_break))
            ):
                passages.append(_passage(text, group, len(passages)))
                group = []
                titled = 0
                opened_by_headings = True
        group.append(sentence)
        titled += title
        opened_by_headings = opened_by_headings and heading
    if group:
        passages.append(_passage(text, group, len(passages)))
    return passages


def _is_heading(text: str, sentence: Sentence) -> bool:
    """A line of its own without end punctuation: "Peskov: Die Operation wird fortgesetzt"."""
    if text[sentence.end - 1] in SENTENCE_END:
        return False
    # Only the blanks after the sentence are read: a search for the next line break could read
    # the rest of the text for every sentence.
    return _LINE_END_RE.match(text, sentence.end) is not None


def _passage(text: str, group: list[Sentence], index: int) -> Passage:
    start, end = group[0].start, group[-1].end
    return Passage(index, start, end, _clean(text[start:end]))
