"""Retrieval quality on a SQuAD-format file (XQuAD-de), through the same code as `citebot ask`.

Levels:
  paragraph  the corpus is the context paragraphs, one passage each; a question's relevant
             passage is its own paragraph.
  passage    the corpus is citebot's own passages of those paragraphs; a passage is relevant if it
             comes from the question's paragraph and contains the answer text.
Both rank with ``Engine.search``, the code behind `citebot ask`, with the no-answer cut-off off
(``--cutoff`` turns it on; a question without an answer then counts as a miss): the ranking and
the cut-off are measured apart.

The human report adds the abstention check: index half of the articles, ask the other half's
questions, and count how many wrongly get an answer.

Usage: python bench/retrieval.py --xquad ../shared/data/xquad-de/xquad.de.dev.json [--json]

Cross-language: ``--questions FILE2`` asks FILE2's questions (a parallel file: same question ids)
against the paragraphs of ``--xquad``, whose documents then take the language they are written
in, and the engine translates through the dictionary at ``--dictionary``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.corpus import Document
from bot.engine import Engine, SearchConfig
from bot.engine.bilingual import DEFAULT_DICTIONARY, Lexicon
from bot.languages import guess_language
from bot.settings import default_cache_dir
from bot.store.lexiconfile import load_lexicon

KS = (1, 3, 5)
MRR_AT = 10


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    paragraph: str  # document id of its paragraph
    answers: tuple[str, ...]
    id: str = ""


def load_squad(path: Path) -> tuple[list[Document], list[Question], list[int]]:
    """Documents (one per paragraph), questions, and each document's article number."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
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
                    lang="de",
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


NO_CUTOFF = SearchConfig(min_coverage=0.0, min_relative_score=0.0)
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


def evaluate_passages(
    documents: list[Document], questions: list[Question], config: SearchConfig
) -> dict[str, float]:
    engine = Engine.build(documents, config, lexicon=LEXICON)
    ranks: list[int | None] = []
    refused = 0
    for q in questions:
        answer = engine.search(q.text, k=MRR_AT)
        refused += not answer.hits
        ranks.append(
            next(
                (
                    h.rank
                    for h in answer.hits
                    if h.document == q.paragraph and any(a in h.text for a in q.answers)
                ),
                None,
            )
        )
    return {**_metrics(ranks), "refused": round(refused / max(len(questions), 1), 4)}


def abstention(
    documents: list[Document], questions: list[Question], articles: list[int]
) -> dict[str, float]:
    """Index the even articles; the odd articles' questions should find nothing."""
    article_of = {d.id: a for d, a in zip(documents, articles, strict=True)}
    inside = [d for d in documents if article_of[d.id] % 2 == 0]
    engine = Engine.build(inside, lexicon=LEXICON)
    asked_in = [q for q in questions if article_of[q.paragraph] % 2 == 0]
    asked_out = [q for q in questions if article_of[q.paragraph] % 2 == 1]
    answered_in = sum(1 for q in asked_in if engine.search(q.text, k=1).hits)
    answered_out = sum(1 for q in asked_out if engine.search(q.text, k=1).hits)
    return {
        "answered_in_corpus": round(answered_in / max(len(asked_in), 1), 4),
        "answered_off_corpus": round(answered_out / max(len(asked_out), 1), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xquad", type=Path, required=True, help="SQuAD-format JSON file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--cutoff", action="store_true", help="apply the no-answer cut-off")
    parser.add_argument("--questions", type=Path, help="parallel file whose questions to ask")
    parser.add_argument("--dictionary", type=Path, default=DEFAULT_DICTIONARY)
    parser.add_argument("--no-dictionary", action="store_true", help="questions untranslated")
    args = parser.parse_args(argv)
    documents, questions, articles = load_squad(args.xquad)
    if args.questions:
        global LEXICON
        if not args.no_dictionary:
            LEXICON = load_lexicon(args.dictionary, default_cache_dir())
            if LEXICON is None:
                parser.error(f"no dictionary at {args.dictionary} (apt-get install trans-de-en)")
        documents, questions = swap_questions(documents, questions, args.questions)
    config = SearchConfig() if args.cutoff else NO_CUTOFF
    started = time.perf_counter()
    result = {
        "paragraph": evaluate_paragraphs(documents, questions, config),
        "passage": evaluate_passages(documents, questions, config),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.xquad}: {len(documents)} paragraphs, {len(questions)} questions")
    for level, metrics in result.items():
        print(f"{level:9}  " + "  ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
    abst = abstention(documents, questions, articles)
    print(
        f"abstention: answered {abst['answered_in_corpus']:.1%} of questions about indexed "
        f"articles, {abst['answered_off_corpus']:.1%} of questions about other articles"
    )
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
