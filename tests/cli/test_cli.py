"""The command line as people and scripts use it: `citebot ask`, `index`, `python -m bot`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.commands import run
from tests.support.paths import ROOT

HIT_KEYS = {
    "rank",
    "score",
    "text",
    "title",
    "url",
    "link",
    "post_url",
    "document",
    "passage",
    "highlights",
}


def test_ask_json_contract() -> None:
    result = run("ask", "Was fordert Scholz von Putin?", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)  # exactly one JSON object, nothing else on stdout
    assert set(payload) == {"query", "hits"}
    assert payload["query"] == "Was fordert Scholz von Putin?"
    assert payload["hits"]
    for rank, hit in enumerate(payload["hits"], 1):
        assert set(hit) == HIT_KEYS
        assert hit["rank"] == rank
        assert isinstance(hit["score"], float)
        assert hit["url"].startswith("https://www.understandingwar.org/")
        assert hit["link"].startswith(hit["url"] + "#:~:text=")
        assert hit["document"] == "000_e199e51aae9cb937.txt"
        for start, end in hit["highlights"]:
            assert 0 <= start < end <= len(hit["text"])
    first = payload["hits"][0]
    assert "Abzug der russischen Streitkräfte" in first["text"]
    assert {first["text"][s:e] for s, e in first["highlights"]} >= {"Scholz", "forderte"}


def test_ask_json_without_answer() -> None:
    result = run("ask", "Wie wird das Wetter morgen?", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"query": "Wie wird das Wetter morgen?", "hits": []}


def test_ask_top_limits_hits() -> None:
    payload = json.loads(run("ask", "Putin Verhandlungen", "--json", "--top", "1").stdout)
    assert len(payload["hits"]) == 1
    payload = json.loads(run("ask", "Putin Verhandlungen", "--json", "--top", "5").stdout)
    assert len(payload["hits"]) == 5


def test_ask_for_a_person() -> None:
    result = run("ask", "Lavrov")
    assert result.returncode == 0
    assert "Lawrow" in result.stdout
    assert "Quelle: https://www.understandingwar.org/" in result.stdout
    assert "\033[" not in result.stdout  # no terminal colours when piped
    nothing = run("ask", "Wie wird das Wetter morgen?")
    assert nothing.stdout.strip() == "Nichts in den Quellen beantwortet diese Frage."


def test_ask_with_another_corpus(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(
        json.dumps(
            {"text": "The grain corridor closed in July.", "url": "https://e.org/g", "lang": "en"}
        )
        + "\n",
        encoding="utf-8",
    )
    payload = json.loads(
        run("ask", "When did the grain corridor close?", "--json", "--corpus", str(tmp_path)).stdout
    )
    assert [h["url"] for h in payload["hits"]] == ["https://e.org/g"]


def test_index_reports_documents_passages_skipped_and_timings(tmp_path: Path) -> None:
    shutil.copy(ROOT / "corpus" / "000_e199e51aae9cb937.txt", tmp_path)
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00binary")
    (tmp_path / "empty.md").write_text("", encoding="utf-8")
    result = run("index", "--corpus", str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1 documents, ")
    assert "passages (de: 1)" in lines[0] and "loaded in" in lines[0] and "indexed in" in lines[0]
    assert lines[1] == "2 file(s) skipped:"
    assert any(line.startswith("  bad.txt: ") for line in lines)
    assert any(line.startswith("  empty.md: ") for line in lines)


def test_corpus_dir_setting_and_unusable_corpus(tmp_path: Path) -> None:
    result = run("ask", "Putin", env={"CORPUS_DIR": str(tmp_path / "missing")})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().startswith("error: corpus directory not found")
    (tmp_path / "only.txt").write_text("  \n", encoding="utf-8")
    result = run("ask", "Putin", "--corpus", str(tmp_path))
    assert result.returncode == 2
    assert "no usable document" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RESULTS_PER_ANSWER", "lots"),
        ("ADMIN_IDS", "@someone"),
        ("TELEGRAM_API_URL", "api.example"),
        ("MAX_QUESTION_CHARS", "4000"),  # issue 17 #8: one such question held search for seconds
    ],
)
def test_bad_setting_is_one_line_naming_it(name: str, value: str) -> None:
    result = run("ask", "Putin", env={name: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], result.stderr


@pytest.mark.skipif(shutil.which("citebot") is None, reason="console script not installed")
def test_console_script_matches_python_m_bot() -> None:
    script = subprocess.run(
        ["citebot", "ask", "Zugestaendnisse", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert script.returncode == 0
    assert json.loads(script.stdout) == json.loads(run("ask", "Zugestaendnisse", "--json").stdout)
