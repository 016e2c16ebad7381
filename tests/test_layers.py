"""The floor plan, checked: which module may import what, what each module exports, which names
tests patch, and every setting documented.

The wings of ``bot/``, bottom to top. A module imports only from its own wing and the wings below
it; two wings on one level (store and ingest) do not import each other.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.support.paths import ROOT

WINGS: tuple[tuple[str, ...], ...] = (
    ("bot", "bot.errors", "bot.languages", "bot.texts", "bot.tme", "bot.settings"),
    ("bot.corpus",),
    ("bot.engine",),
    ("bot.store", "bot.ingest"),
    ("bot.loader",),
    ("bot.serving",),
    ("bot.chat",),
    ("bot.cli",),
    ("bot.__main__",),
)
# Top-level names no importer is meant to take, so no ``__all__`` lists them.
NOT_EXPORTED = frozenset({"logger"})


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, ast.Module]:
    """Every module of ``bot/`` by dotted name, parsed."""
    return {
        _module_name(path): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "bot").rglob("*.py"))
    }


def _imports(tree: ast.Module) -> Iterator[tuple[str, tuple[str, ...], int]]:
    """(module, names taken from it, line) of every import anywhere in a module, inside
    functions and under TYPE_CHECKING too: an import moved out of sight is still an edge."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, (), node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, tuple(alias.name for alias in node.names), node.lineno


def _edges() -> dict[str, set[str]]:
    """Which bot modules each bot module imports (``from bot.x import y`` counts bot.x.y when y
    is a module)."""
    modules = _modules()
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, tree in modules.items():
        for target, names, _ in _imports(tree):
            if target not in modules:
                continue
            edges[name].add(target)
            edges[name].update(f"{target}.{n}" for n in names if f"{target}.{n}" in modules)
        # A module that imports itself (a ``__main__`` block taking its own classes) is no cycle.
        edges[name] -= {name}
    return edges


def _wing(module: str) -> tuple[int, str]:
    """(level, wing) of a bot module: the longest wing name it falls under."""
    best: tuple[int, str] | None = None
    for level, wings in enumerate(WINGS):
        for wing in wings:
            inside = module == wing or module.startswith(wing + ".")
            if inside and (best is None or len(wing) > len(best[1])):
                best = (level, wing)
    assert best is not None, f"{module} is in no wing: add it to WINGS"
    # The shared basics are one wing: settings may raise the project's errors.
    return (0, "bot") if best[0] == 0 else best


def test_the_wings_cover_every_module() -> None:
    for module in _modules():
        _wing(module)


def test_no_import_cycles() -> None:
    edges = _edges()
    state: dict[str, int] = {}  # 1 on the path, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_imports_follow_the_wings() -> None:
    wrong = []
    for module, tree in _modules().items():
        level, wing = _wing(module)
        for target, _, line in _imports(tree):
            if target != "bot" and not target.startswith("bot."):
                continue
            target_level, target_wing = _wing(target)
            if target_level > level or (target_level == level and target_wing != wing):
                wrong.append(f"{module}:{line} imports {target}")
    assert wrong == []


def test_only_the_telegram_layer_talks_to_telegram() -> None:
    def importers(package: str) -> set[str]:
        return {
            module
            for module, tree in _modules().items()
            if any(target.split(".")[0] == package for target, _, _ in _imports(tree))
        }

    for package in ("telegram", "httpx"):
        outside = {m for m in importers(package) if not m.startswith("bot.chat")}
        assert outside == set(), package
    assert importers("telegram"), "the Telegram layer is gone"
    assert importers("pydantic_settings") == {"bot.settings"}


def _private_imports(tree: ast.Module, importer: str) -> list[str]:
    found = []
    package = importer if importer in _packages() else importer.rpartition(".")[0]
    for target, names, line in _imports(tree):
        if target.split(".")[0] not in ("bot", "bench"):
            continue
        last = target.rsplit(".", 1)[-1]
        private_module = last.startswith("_") and not last.startswith("__")
        # A private module belongs to its package.
        if private_module and target.rpartition(".")[0] != package:
            found.append(f"{importer}:{line} imports the private module {target}")
        found.extend(
            f"{importer}:{line} imports {target}.{name}"
            for name in names
            if name.startswith("_") and not name.startswith("__")
        )
    return found


@cache
def _packages() -> frozenset[str]:
    return frozenset(
        _module_name(p.parent / "__init__.py") for p in (ROOT / "bot").rglob("__init__.py")
    )


def test_no_private_name_crosses_a_module() -> None:
    found = [f for m, tree in _modules().items() for f in _private_imports(tree, m)]
    for path in sorted((ROOT / "bench").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += _private_imports(tree, _module_name(path))
    assert found == []


def _defined_names(tree: ast.Module, package: bool) -> set[str]:
    """Public top-level names a module defines (a package's ``__init__`` defines what it
    imports: that is its surface)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif package and isinstance(node, ast.ImportFrom) and node.module != "__future__":
            names.update(alias.asname or alias.name for alias in node.names)
    return {n for n in names if not n.startswith("_") and n not in NOT_EXPORTED}


def _declared_all(tree: ast.Module) -> list[str] | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list | tuple)
            return [str(v) for v in value]
    return None


@pytest.mark.parametrize("module", sorted(m for m in _modules() if m != "bot.__main__"))
def test_all_lists_exactly_the_public_names(module: str) -> None:
    tree = _modules()[module]
    declared = _declared_all(tree)
    defined = _defined_names(tree, module in _packages())
    if declared is None:
        assert defined == set(), f"{module} has public names but no __all__"
        return
    assert sorted(declared) == sorted(set(declared)), "listed twice"
    assert set(declared) == defined
    imported = importlib.import_module(module)
    assert [name for name in declared if not hasattr(imported, name)] == []


def _patched_names() -> Iterator[tuple[str, str, str]]:
    """(test file, module, name) of every ``monkeypatch.setattr`` on a bot module."""
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bot"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    if full in _modules():
                        aliases[alias.asname or alias.name] = full
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("bot") and alias.asname:
                        aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "setattr"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "monkeypatch"
                and node.args
            ):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                module, _, name = first.value.rpartition(".")
            elif len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                module = aliases.get(ast.unparse(first), ast.unparse(first))
                name = str(node.args[1].value)
            else:
                continue
            if module in _modules():
                yield path.relative_to(ROOT).as_posix(), module, name


def _module_aliases(tree: ast.Module) -> dict[str, str]:
    """Names under which a module refers to other bot modules (``from bot import loader``)."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in _modules():
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in _modules() and alias.asname:
                    aliases[alias.asname] = alias.name
    return aliases


@cache
def _lookups() -> frozenset[tuple[str, str]]:
    """(module, name) of every name bot code looks up at call time: a module's own globals,
    and ``module.name`` read through a module from elsewhere."""
    found: set[tuple[str, str]] = set()
    for module, tree in _modules().items():
        aliases = _module_aliases(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                found.add((module, node.id))
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                found.add((aliases[node.value.id], node.attr))
    return frozenset(found)


def test_patches_hit_names_their_module_looks_up() -> None:
    """A test that patches ``module.name`` tests nothing unless code looks ``name`` up in
    ``module`` when it runs (after a move, the patch would land on a name nobody reads)."""
    patched = list(_patched_names())
    assert patched, "no patch found: the scan is broken"
    missed = [
        f"{test} patches {module}.{name}, which no code looks up there"
        for test, module, name in patched
        if (module, name) not in _lookups()
    ]
    assert missed == []


def test_every_setting_is_documented() -> None:
    names = {name.upper() for name in Settings.model_fields}
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    in_example = set(re.findall(r"^(?:# )?([A-Z_]+)=", example, re.MULTILINE))
    assert in_example == names
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [name for name in sorted(names) if f"`{name}`" not in readme] == []
