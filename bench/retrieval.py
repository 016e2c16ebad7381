"""Retrieval quality on a SQuAD-format file (XQuAD-de), through the same code as `citebot ask`.

Levels:
  paragraph  the corpus is the context paragraphs, one passage each; a question's relevant
             passage is its own paragraph.
  passage    the corpus is citebot's own passages of those paragraphs; a passage is relevant if it
             comes from the question's paragraph and contains the answer text.
Both rank with ``Engine.search``, the code behind `citebot ask`, with the no-answer cut-off off
(``--cutoff`` turns it on; a question without an answer then counts as a miss): the ranking and
the cut-off are measured apart.

Beside the ranking, ``user`` is what a user gets with the shipped settings (cut-off on, 3 quotes
per answer) at passage level: a right passage among the quotes, an answer without one, a refusal
although a passage answers, and an answer to a question about an article that is not in the
corpus (index the even-numbered articles and ask the odd ones' questions, then the reverse;
pooled over both halves). The four shares are what docs/BENCHMARKS.md tracks for issue 13.

The documents' language is ``--lang``, else the file's ``"lang"``/``"language"`` field, else the
language code in its name (``xquad.en.dev.json``), else German.

Usage: python bench/retrieval.py --xquad ../shared/data/xquad-de/xquad.de.dev.json [--json]
       [--lang en] [--cutoff] [--set answer_bias=-7 ...] [--questions FILE2]

Cross-language: ``--questions FILE2`` asks FILE2's questions (a parallel file: same question ids)
against the paragraphs of ``--xquad``, whose documents then take the language they are written
in, and the engine translates through the dictionary at ``--dictionary``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.corpus import Document
from bot.engine import Engine, SearchConfig
from bot.engine.bilingual import DEFAULT_DICTIONARY, Lexicon
from bot.engine.config import INDEX_FIELDS
from bot.engine.results import Hit
from bot.languages import SUPPORTED_LANGUAGES, guess_language
from bot.settings import default_cache_dir
from bot.store.lexiconfile import load_lexicon

KS = (1, 3, 5)
MRR_AT = 10
QUOTES = 3  # quotes per answer, as the bot shows them


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    paragraph: str  # document id of its paragraph
    answers: tuple[str, ...]
    id: str = ""


def file_language(path: Path, raw: dict[str, object] | None = None) -> str:
    """The documents' language as the file states it (a ``lang``/``language`` field, or the
    code in its name as XQuAD's files have it), German if neither does."""
    if raw is None:
        raw = json.loads(path.read_text(encoding="utf-8"))
    for key in ("lang", "language"):
        value = raw.get(key)
        if isinstance(value, str) and value in SUPPORTED_LANGUAGES:
            return value
    for code in re.split(r"[._-]", path.name.lower()):
        if code in SUPPORTED_LANGUAGES:
            return code
    return "de"


def load_squad(
    path: Path, lang: str | None = None
) -> tuple[list[Document], list[Question], list[int]]:
    """Documents (one per paragraph), questions, and each document's article number."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    lang = lang or file_language(path, raw)
    data = raw["data"]
    documents: list[Document] = []
    questions: list[Question] = []
    articles: list[int] = []
    for a_no, article in enumerate(data):
        title = str(article.get("title", f"Artikel {a_no}"))
        for p_no, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"a{a_no:03d}/p{p_no:03d}"
            documents.append(
                Document(
                    id=doc_id,
                    title=title,
                    url=f"https://example.org/xquad/{a_no}/{p_no}",
                    lang=lang,
                    date=None,
                    text=paragraph["context"],
                    path=doc_id,
                )
            )
            articles.append(a_no)
            for qa in paragraph["qas"]:
                answers = tuple(a["text"] for a in qa.get("answers", []) if a.get("text"))
                questions.append(Question(qa["question"], doc_id, answers, str(qa.get("id", ""))))
    return documents, questions, articles


def _metrics(ranks: list[int | None]) -> dict[str, float]:
    """Recall@k and MRR@10 from each question's first relevant rank (None: not found)."""
    n = max(len(ranks), 1)
    out = {f"recall@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in KS}
    out[f"mrr@{MRR_AT}"] = sum(1 / r for r in ranks if r is not None and r <= MRR_AT) / n
    return {key: round(value, 4) for key, value in out.items()}


NO_CUTOFF = SearchConfig(min_coverage=0.0, min_passage_coverage=0.0, min_relative_score=0.0)


def evaluate_paragraphs(
    documents: list[Document], questions: list[Question], config: SearchConfig
) -> dict[str, float]:
    config = replace(config, passage_chars=10**9, max_sentences=10**6)
    engine = Engine.build(documents, config, lexicon=LEXICON)
    ranks: list[int | None] = []
    for q in questions:
        answer = engine.search(q.text, k=MRR_AT)
        ranks.append(next((h.rank for h in answer.hits if h.document == q.paragraph), None))
    return _metrics(ranks)


def relevant(hit: Hit, q: Question) -> bool:
    """A passage answers ``q`` if it comes from q's paragraph and contains an answer text."""
    return hit.document == q.paragraph and any(a in hit.text for a in q.answers)


def evaluate_passages(
    documents: list[Document], questions: list[Question], config: SearchConfig
) -> tuple[dict[str, float], Engine]:
    """The passage-level metrics, and the engine (its index serves the user view too)."""
    engine = Engine.build(documents, config, lexicon=LEXICON)
    ranks: list[int | None] = []
    refused = 0
    for q in questions:
        answer = engine.search(q.text, k=MRR_AT)
        refused += not answer.hits
        ranks.append(next((h.rank for h in answer.hits if relevant(h, q)), None))
    return {**_metrics(ranks), "refused": round(refused / max(len(questions), 1), 4)}, engine


@dataclass(frozen=True, slots=True)
class UserView:
    """Shares of questions, what a user gets with ``config``: the first three add up to one."""

    right_in_quotes: float
    answered_wrong: float
    refused_answerable: float
    answered_off_corpus: float
    #: Off-corpus answers with the even articles indexed (odd ones asked), and the reverse.
    off_corpus_even_indexed: float
    off_corpus_odd_indexed: float

    def block(self) -> dict[str, float]:
        """The ``user`` block of ``--json``."""
        return {
            "right_in_quotes": self.right_in_quotes,
            "answered_wrong": self.answered_wrong,
            "refused_answerable": self.refused_answerable,
            "answered_off_corpus": self.answered_off_corpus,
        }


def _share(count: int, total: int) -> float:
    return round(count / max(total, 1), 4)


def user_view(
    documents: list[Document],
    questions: list[Question],
    articles: list[int],
    config: SearchConfig,
    engine: Engine | None = None,
) -> UserView:
    """What a user gets with ``config`` (``engine``: an index of ``documents`` to reuse; the
    cut-off applies at question time, so its settings need no new index)."""
    if engine is None:
        engine = Engine.build(documents, config, lexicon=LEXICON)
    else:
        engine = Engine.from_parts(engine.documents, config, engine.parts).with_lexicon(
            engine.lexicon
        )
    right = wrong = refused = 0
    for q in questions:
        hits = engine.search(q.text, k=QUOTES).hits
        if any(relevant(h, q) for h in hits):
            right += 1
        elif hits:
            wrong += 1
        else:
            refused += 1
    article_of = {d.id: a for d, a in zip(documents, articles, strict=True)}
    answered: list[int] = []
    asked: list[int] = []
    for half in (0, 1):
        inside = Engine.build(
            [d for d in documents if article_of[d.id] % 2 == half], config, lexicon=LEXICON
        )
        outside = [q for q in questions if article_of[q.paragraph] % 2 != half]
        answered.append(sum(1 for q in outside if inside.search(q.text, k=QUOTES).hits))
        asked.append(len(outside))
    n = len(questions)
    return UserView(
        right_in_quotes=_share(right, n),
        answered_wrong=_share(wrong, n),
        refused_answerable=_share(refused, n),
        answered_off_corpus=_share(sum(answered), sum(asked)),
        off_corpus_even_indexed=_share(answered[0], asked[0]),
        off_corpus_odd_indexed=_share(answered[1], asked[1]),
    )


LEXICON: Lexicon | None = None


def swap_questions(
    documents: list[Document], questions: list[Question], path: Path
) -> tuple[list[Document], list[Question]]:
    """The documents in their own language, asked the parallel questions of ``path`` (matched
    by id; each keeps its paragraph and the answers found in the documents' language)."""
    _, others, _ = load_squad(path)
    text = {q.id: q.text for q in others}
    documents = [replace(d, lang=guess_language(d.text, d.lang)) for d in documents]
    return documents, [replace(q, text=text[q.id]) for q in questions if q.id in text]


def run(
    path: Path,
    lang: str | None = None,
    cutoff: bool = False,
    settings: dict[str, float] | None = None,
    questions_path: Path | None = None,
) -> dict[str, object]:
    """Everything the bench reports for one file, as ``--json`` prints it; ``settings``
    replace question-time knobs of the shipped config (to measure the cut-off's);
    ``questions_path`` asks a parallel file's questions instead (cross-language)."""
    lang = lang or file_language(path)
    documents, questions, articles = load_squad(path, lang)
    if questions_path is not None:
        documents, questions = swap_questions(documents, questions, questions_path)
    knobs: dict[str, Any] = dict(settings or {})
    shipped = replace(SearchConfig(default_lang=lang), **knobs)
    config = shipped if cutoff else replace(NO_CUTOFF, default_lang=lang)
    passage, engine = evaluate_passages(documents, questions, config)
    user = user_view(documents, questions, articles, shipped, engine)
    return {
        "lang": lang,
        "paragraphs": len(documents),
        "questions": len(questions),
        "paragraph": evaluate_paragraphs(documents, questions, config),
        "passage": passage,
        "user": user.block(),
        "user_off_corpus_halves": {
            "even_indexed": user.off_corpus_even_indexed,
            "odd_indexed": user.off_corpus_odd_indexed,
        },
    }


def _knob(text: str) -> tuple[str, float]:
    """``name=value`` of a numeric question-time knob of :class:`SearchConfig`."""
    name, _, value = text.partition("=")
    kinds = {f.name: f.type for f in fields(SearchConfig) if f.name not in INDEX_FIELDS}
    if kinds.get(name) not in ("float", "int"):
        raise SystemExit(f"--set {text}: not a numeric question-time knob of SearchConfig")
    return name, int(value) if kinds[name] == "int" else float(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xquad", type=Path, required=True, help="SQuAD-format JSON file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--cutoff", action="store_true", help="rank with the no-answer cut-off")
    parser.add_argument("--lang", choices=SUPPORTED_LANGUAGES, help="the documents' language")
    parser.add_argument("--questions", type=Path, help="parallel file whose questions to ask")
    parser.add_argument("--dictionary", type=Path, default=DEFAULT_DICTIONARY)
    parser.add_argument("--no-dictionary", action="store_true", help="questions untranslated")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KNOB=VALUE",
        help="a question-time knob of the shipped settings, e.g. answer_bias=-7",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.questions and not args.no_dictionary:
        global LEXICON
        LEXICON = load_lexicon(args.dictionary, default_cache_dir())
        if LEXICON is None:
            parser.error(f"no dictionary at {args.dictionary} (apt-get install trans-de-en)")
    result = run(args.xquad, args.lang, args.cutoff, dict(map(_knob, args.set)), args.questions)
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"{args.xquad} ({result['lang']}): {result['paragraphs']} paragraphs, "
        f"{result['questions']} questions"
    )
    for level in ("paragraph", "passage"):
        metrics = result[level]
        assert isinstance(metrics, dict)
        print(f"{level:9}  " + "  ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
    user = result["user"]
    halves = result["user_off_corpus_halves"]
    assert isinstance(user, dict) and isinstance(halves, dict)
    print(f"what a user gets (shipped settings, {QUOTES} quotes per answer):")
    print(f"  a right passage among the quotes        {user['right_in_quotes']:6.1%}")
    print(f"  an answer, but no right passage         {user['answered_wrong']:6.1%}")
    print(f"  refused, although a passage answers     {user['refused_answerable']:6.1%}")
    print(
        f"  answered about an article not indexed   {user['answered_off_corpus']:6.1%}"
        f" (even half indexed {halves['even_indexed']:.1%}, odd half {halves['odd_indexed']:.1%})"
    )
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
