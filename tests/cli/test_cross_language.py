"""Cross-language answers as the command line shows them: on with a dictionary, off (and how to
turn them on) without one; the quotes in their own language, said in the question's."""

from __future__ import annotations

from pathlib import Path

from tests.engine.test_bilingual import DING, GERMAN
from tests.support.commands import run


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, text in enumerate(GERMAN):
        (corpus / f"d{i}.md").write_text(
            f"---\ntitle: Bericht {i}\nurl: https://example.org/{i}\nlang: de\n---\n{text}\n",
            encoding="utf-8",
        )
    return corpus


def test_index_says_cross_language_answers_are_off_and_how_to_turn_them_on(
    tmp_path: Path,
) -> None:
    corpus = _corpus(tmp_path)
    missing = tmp_path / "no-dictionary"
    off = run("index", "--corpus", str(corpus), env={"DICTIONARY_PATH": str(missing)})
    assert off.returncode == 0, off.stderr
    assert off.stdout.splitlines()[-1] == (
        f"cross-language answers off: no dictionary at {missing} (turn them on with "
        "`apt-get install trans-de-en`, or point DICTIONARY_PATH at a Ding file)"
    )
    disabled = run("index", "--corpus", str(corpus), env={"DICTIONARY_PATH": ""})
    assert disabled.stdout.splitlines()[-1] == (
        "cross-language answers off (DICTIONARY_PATH is empty)"
    )
    # Without the dictionary, same-language questions are answered as ever.
    plain = run("ask", "Brot in der Stadt", "--corpus", str(corpus), env={"DICTIONARY_PATH": ""})
    assert GERMAN[1] in plain.stdout
    english = run("ask", "Is there bread in the city?", "--corpus", str(corpus))
    assert english.stdout.strip() == "Nothing in the sources answers this question."


def test_an_english_question_quotes_german_and_says_so(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    ding = tmp_path / "de-en"
    ding.write_text(DING, encoding="utf-8")
    env = {"DICTIONARY_PATH": str(ding)}
    on = run("index", "--corpus", str(corpus), env=env)
    assert on.stdout.splitlines()[-1] == (
        "cross-language answers on: questions in English or German find sources in either "
        f"(dictionary {ding})"
    )
    answer = run("ask", "Is there bread in the city?", "--corpus", str(corpus), env=env)
    assert answer.returncode == 0, answer.stderr
    lines = answer.stdout.splitlines()
    assert lines[0] == "Found 1 matching passage:"
    assert lines[1] == "The quotes are in German."
    assert lines[3] == f"[1] “{GERMAN[1]}”"
    german = run("ask", "Gibt es Brot in der Stadt?", "--corpus", str(corpus), env=env)
    assert "Die Zitate" not in german.stdout and GERMAN[1] in german.stdout
