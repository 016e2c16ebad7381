"""The command line as people and scripts use it: `citebot ask`, `index`, `python -m bot`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ingest import ChannelPost, write_post
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
    "date",
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
        assert hit["date"] is None  # a .txt file has no date
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
    assert lines[0].startswith("1 document, 15 passages")  # the headline opens the first
    assert "passages (de: 1)" in lines[0] and "loaded in" in lines[0] and "indexed in" in lines[0]
    assert lines[1] == "2 files skipped:"
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


_POSTS = [
    # (channel, message id, date, text)
    ("lageticker", 10, "2022-12-02T09:15:00+01:00", "Die Inflation stieg im Dezember auf 10 %."),
    ("lageticker", 11, "2023-01-16", "Die Inflation sank im Januar leicht, sagt das Amt."),
    ("wirtschaft", 5, "2022-11-20", "Ökonomen erwarten, dass die Inflation hoch bleibt."),
    ("wirtschaft", 6, None, "Ein Rückblick: die Inflation und die Preise."),
]


@pytest.fixture(scope="module")
def posts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Channel posts filed as the bot and the importer file them, plus one unrelated text."""
    root = tmp_path_factory.mktemp("posts")
    for channel, message_id, date, body in _POSTS:
        post = ChannelPost(-1001000000000 - message_id, channel, message_id, body, date)
        write_post(root, post)
    (root / "wetter.txt").write_text("Das Wetter bleibt kalt und trocken.\n", encoding="utf-8")
    return root


def _ask(corpus: Path, *args: str) -> list[tuple[str, str | None]]:
    result = run("ask", *args, "--json", "--top", "10", "--corpus", str(corpus))
    assert result.returncode == 0, result.stderr
    return [(hit["document"], hit["date"]) for hit in json.loads(result.stdout)["hits"]]


def test_ask_filter_flags_and_newest(posts: Path) -> None:
    every = _ask(posts, "Inflation")
    assert len(every) == 4
    assert _ask(posts, "Inflation", "--newest") == [
        ("telegram/lageticker/11.md", "2023-01-16"),
        ("telegram/lageticker/10.md", "2022-12-02T09:15:00+01:00"),
        ("telegram/wirtschaft/5.md", "2022-11-20"),
        ("telegram/wirtschaft/6.md", None),  # undated last
    ]
    assert [d for d, _ in _ask(posts, "Inflation", "--channel", "@LageTicker", "--newest")] == [
        "telegram/lageticker/11.md",
        "telegram/lageticker/10.md",
    ]
    in_december = _ask(posts, "Inflation", "--since", "2022-12", "--until", "2022-12")
    assert in_december == [("telegram/lageticker/10.md", "2022-12-02T09:15:00+01:00")]
    # The same filters typed into the question; flags and tokens narrow each other.
    assert _ask(posts, "Inflation 2022-12") == in_december
    assert _ask(posts, "Inflation seit:2022-12-01 bis:31.12.2022") == in_december
    assert _ask(posts, "Inflation seit:2022-11", "--until", "2022-11-30") == [
        ("telegram/wirtschaft/5.md", "2022-11-20")
    ]
    assert _ask(posts, "Inflation kanal:wirtschaft", "--since", "2022") == [
        ("telegram/wirtschaft/5.md", "2022-11-20")
    ]


def test_ask_shows_each_quotes_date_in_the_answers_language(posts: Path) -> None:
    german = run("ask", "Inflation im Dezember", "--channel", "lageticker", "--corpus", str(posts))
    assert german.returncode == 0, german.stderr
    assert "    — Die Inflation stieg im Dezember auf 10 %., 2. Dezember 2022" in (
        german.stdout.splitlines()
    )
    english = run("ask", "What about the inflation?", "--until", "2022-11", "--corpus", str(posts))
    assert english.returncode == 0, english.stderr
    assert any(line.endswith(", 20 November 2022") for line in english.stdout.splitlines())
    undated = run("ask", "Rückblick Inflation", "--corpus", str(posts), "--top", "1")
    assert "Rückblick" in undated.stdout
    title = [line for line in undated.stdout.splitlines() if line.startswith("    — ")]
    assert title == ["    — Ein Rückblick: die Inflation und die Preise."]  # no date, no comma


def test_ask_says_when_a_filter_leaves_nothing(posts: Path) -> None:
    nothing = run("ask", "Inflation", "--since", "2024-01-01", "--corpus", str(posts))
    assert nothing.returncode == 0, nothing.stderr
    assert nothing.stdout.strip() == (
        "Mit diesen Filtern (Zeitraum, Kanal) beantwortet nichts in den Quellen diese Frage."
    )
    unknown = run("ask", "Inflation @unbekannt", "--json", "--corpus", str(posts))
    assert json.loads(unknown.stdout) == {"query": "Inflation @unbekannt", "hits": []}
    plain = run("ask", "Wie wird das Wetter morgen?", "--corpus", str(posts))
    assert plain.stdout.strip() == "Nichts in den Quellen beantwortet diese Frage."


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--since", "gestern", "not a date: 'gestern'"),
        ("--until", "2024-02-30", "not a date: '2024-02-30'"),
        ("--channel", "a b", "not a channel: 'a b'"),
    ],
)
def test_ask_rejects_a_bad_filter_flag(flag: str, value: str, message: str) -> None:
    result = run("ask", "Inflation", flag, value)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_ask_into_a_reader_that_stops_early_ends_quietly() -> None:
    """``citebot ask … | head -1``: the reader may close the pipe before the answer is out;
    then citebot ends with 0 and no traceback (here the pipe is closed before it writes)."""
    child = (
        "import os, sys\n"
        "r, w = os.pipe(); os.close(r); os.dup2(w, 1)\n"
        "from bot.cli import main\n"
        "sys.exit(main(['ask', 'Was fordert Scholz von Putin?']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        env={**os.environ, "CORPUS_DIR": str(ROOT / "corpus"), "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
