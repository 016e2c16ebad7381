"""Generated corpora, the same for a seed: the benchmark corpus (German news-like documents, and
questions drawn from their passages: tests and benchmarks measure on the same text), and token
lists for the index and n-gram fields."""

from __future__ import annotations

import random

import numpy as np

from bot.corpus import Document
from bot.engine.analysis import analyzer_for
from bot.engine.index import ForwardIndex

__all__ = [
    "FUNCTION_WORDS",
    "PASSAGES_PER_DOC",
    "QUESTION_STARTS",
    "REAL_WORDS",
    "SEED",
    "WORDS",
    "forward_of",
    "make_corpus",
    "make_questions",
    "random_corpus",
    "term_corpus",
]

SEED = 20261128
PASSAGES_PER_DOC = 5
REAL_WORDS = (
    "Russland Ukraine Kreml Putin Selenskyj Verhandlungen Waffenstillstand Offensive Front "
    "Artillerie Drohnen Raketen Angriffe Infrastruktur Energie Stromnetz Charkiw Cherson Kiew "
    "Donezk Luhansk Saporischschja Bachmut Awdijiwka Truppen Soldaten Brigade Verteidigung "
    "Gegenoffensive Sanktionen Munition Lieferungen Panzer Flugabwehr Zugeständnisse Annexion "
    "Mobilisierung Rekrutierung Schwarzmeerflotte Krim Brücke Getreide Hafen Odessa Nato Europa "
    "Washington Berlin Scholz Biden Macron Lawrow Peskow Schoigu Gerassimow Wagner Prigoschin "
    "Stellungen Vorstoß Rückzug Verluste Bericht Einschätzung Beamte Regierung Minister"
).split()
FUNCTION_WORDS = (
    "der die das und in den von zu mit sich des auf für ist im dem nicht ein eine als auch es an "
    "werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum "
    "war haben nur oder aber vor zur bis mehr durch man sein wurde sei"
).split()
QUESTION_STARTS = ("Was ist mit", "Was geschah bei", "Gibt es", "Wie steht es um", "")


def _made_up_words(rng: random.Random, count: int) -> list[str]:
    syllables = "ka ro mi tel sa ber un ge ver lan stra dor fin hei mut wal zen ko pri ast".split()
    words: set[str] = set()
    while len(words) < count:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        words.add(word.capitalize() if rng.random() < 0.4 else word)
    return sorted(words)


def make_corpus(passages: int, seed: int = SEED) -> tuple[list[Document], list[str]]:
    """Documents of ~5 passages each, and the passage texts questions are drawn from."""
    rng = random.Random(seed)
    vocabulary = _made_up_words(rng, max(2_000, min(passages // 2, 200_000))) + REAL_WORDS * 3
    rng.shuffle(vocabulary)
    weights = [1.0 / (rank + 1) ** 1.07 for rank in range(len(vocabulary))]
    cumulative = list(np.cumsum(weights))

    def sentence() -> str:
        content = rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(6, 10))
        glue = rng.choices(FUNCTION_WORDS, k=len(content))
        words = [w for pair in zip(glue, content, strict=True) for w in pair]
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    documents: list[Document] = []
    texts: list[str] = []
    made = 0
    doc_no = 0
    while made < passages:
        n = min(PASSAGES_PER_DOC, passages - made)
        paragraphs = [" ".join(sentence() for _ in range(2)) for _ in range(n)]
        texts.extend(paragraphs)
        made += n
        documents.append(
            Document(
                id=f"doc{doc_no:07d}.txt",
                title=f"Lagebericht {doc_no}",
                url=f"https://example.org/report/{doc_no}",
                lang="de",
                date=None,
                text="\n\n".join(paragraphs),
                path=f"doc{doc_no:07d}.txt",
            )
        )
        doc_no += 1
    return documents, texts


def make_questions(texts: list[str], count: int, seed: int = SEED + 1) -> list[str]:
    rng = random.Random(seed)
    analyzer = analyzer_for("de")
    questions: list[str] = []
    while len(questions) < count:
        words = [w.strip(".") for w in rng.choice(texts).split()]
        content = [w for w in words if not analyzer.is_stop_word(w)]
        picked = rng.sample(content, min(len(content), rng.randint(2, 4)))
        questions.append(f"{rng.choice(QUESTION_STARTS)} {' '.join(picked)}?".strip())
    return questions


def random_corpus(rng: random.Random, docs: int, vocab: int) -> list[list[str]]:
    """Token lists over ``vocab`` words, Zipf-like, some of them empty."""
    words = [f"w{i}" for i in range(vocab)]
    weights = [1 / (i + 1) for i in range(vocab)]  # Zipf-like: some terms in most documents
    return [rng.choices(words, weights, k=rng.randint(0, 40)) for _ in range(docs)]


WORDS = (
    "Raketenangriffskampagne Kampagne Raketen Angriff Angriffe Infrastruktur Lawrow Lavrov "
    "Peskow Verhandlungen Verhandlung Zugeständnisse Waffenstillstand Kreml Putin Ukraine "
    "Stromnetz Energie Energieversorgung Donezk Donetsk Front Frontlinie banana ananas"
).split()


def term_corpus(seed: int, units: int) -> list[list[str]]:
    """Units of analysed terms from a small vocabulary of compounds and name variants."""
    rng = random.Random(seed)
    de = analyzer_for("de")
    return [de.terms(" ".join(rng.choices(WORDS, k=rng.randint(0, 12)))) for _ in range(units)]


def forward_of(docs: list[list[str]]) -> tuple[ForwardIndex, list[str]]:
    """The forward index of term lists, numbered by first occurrence, built the plain way."""
    vocabulary: dict[str, int] = {}
    indptr: list[int] = [0]
    terms: list[int] = []
    tfs: list[int] = []
    for doc in docs:
        counts: dict[int, int] = {}
        for term in doc:
            tid = vocabulary.setdefault(term, len(vocabulary))
            counts[tid] = counts.get(tid, 0) + 1
        terms.extend(counts)
        tfs.extend(counts.values())
        indptr.append(len(terms))
    forward = ForwardIndex(
        np.asarray(indptr, np.int64), np.asarray(terms, np.int32), np.asarray(tfs, np.int32)
    )
    return forward, list(vocabulary)
