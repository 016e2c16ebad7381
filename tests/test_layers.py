"""Project rules: which module may import what, and every setting documented."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_only_the_telegram_layer_imports_telegram() -> None:
    modules = {p.name: _imports(p) for p in (ROOT / "bot").glob("*.py")}
    assert {name for name, imports in modules.items() if "telegram" in imports} == {
        "app.py",
        "handlers.py",
    }
    assert {name for name, imports in modules.items() if "pydantic_settings" in imports} == {
        "settings.py"
    }


def test_every_setting_is_documented() -> None:
    names = {name.upper() for name in Settings.model_fields}
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    in_example = set(re.findall(r"^(?:# )?([A-Z_]+)=", example, re.MULTILINE))
    assert in_example == names
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [name for name in sorted(names) if f"`{name}`" not in readme] == []
