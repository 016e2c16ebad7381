"""The package's declarations are honest: the runtime needs exactly what ``bot/`` imports, and
the version is written once."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata

import bot
from tests.support.paths import ROOT

# Distribution name (as pyproject spells it, normalised) -> the top-level module it provides.
IMPORT_NAMES = {
    "python-telegram-bot": "telegram",
    "httpx": "httpx",
    "pydantic": "pydantic",
    "pydantic-settings": "pydantic_settings",
    "pystemmer": "Stemmer",
    "numpy": "numpy",
    "pyyaml": "yaml",
    "selectolax": "selectolax",
    "ijson": "ijson",
    "redis": "redis",
    "tornado": "tornado",
    "wordfreq": "wordfreq",
    "watchfiles": "watchfiles",
}


def _project() -> dict[str, object]:
    with open(ROOT / "pyproject.toml", "rb") as file:
        project = tomllib.load(file)["project"]
    assert isinstance(project, dict)
    return project


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group()).lower()


def _third_party_imports() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return {name for name in found if name != "bot" and name not in sys.stdlib_module_names}


def test_runtime_dependencies_are_what_bot_imports() -> None:
    dependencies = _project()["dependencies"]
    assert isinstance(dependencies, list)
    declared = {_name(str(requirement)) for requirement in dependencies}
    assert set(IMPORT_NAMES) == declared, "a dependency without an import name here"
    assert {IMPORT_NAMES[name] for name in declared} == _third_party_imports()


def test_the_reference_implementation_is_for_tests_and_benchmarks_only() -> None:
    extras = _project()["optional-dependencies"]
    assert isinstance(extras, dict)
    for extra in ("test", "bench"):
        assert "rank-bm25" in {_name(str(r)) for r in extras[extra]}


def test_one_version_source() -> None:
    project = _project()
    assert "version" not in project and project["dynamic"] == ["version"]
    assert metadata.version("citebot") == bot.__version__


def test_the_quickstart_is_two_commands_after_clone_and_venv() -> None:
    """Someone with only the repository's URL gets from nothing to an answer and a test run."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    before, quickstart = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    assert before.splitlines()[0].startswith("git clone ")
    assert "python3 -m venv .venv && . .venv/bin/activate" in before
    assert quickstart.splitlines() == [
        'pip install . && citebot ask "Was fordert Scholz von Putin?"',
        'pip install ".[test]" && python -m pytest',
    ]
