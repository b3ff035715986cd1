"""The import rules `lint-imports` cannot express: no module uses another module's private names.

A name that starts with one underscore is its module's own business. Widgets and shared packages
share helpers by making them public in one place (docs/architecture.md, "Layers and what may import
what"); the layering itself is checked by the import-linter contracts in ``.importlinter``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("plugin", "sandbox")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(source: str, module: str) -> list[str]:
    """Where ``source`` (the text of ``module``) uses a private name of another of our modules:
    ``from other import _name`` or ``other._name`` on a module it imported."""
    tree = ast.parse(source)
    found: list[str] = []
    modules: dict[str, str] = {}  # local name -> our module it stands for
    package = module if _is_module(module + ".__init__") else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES and alias.asname:
                    modules[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            origin = node.module or ""
            if node.level:  # relative import
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                origin = ".".join([*base, origin] if origin else base)
            if origin.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                if _private(alias.name) and origin != module:
                    found.append(f"line {node.lineno}: from {origin} import {alias.name}")
                elif _is_module(f"{origin}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{origin}.{alias.name}"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and modules[node.value.id] != module
            and _private(node.attr)
        ):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_the_rule_catches_both_forms() -> None:
    source = (
        "from plugin.social import boards\n"
        "from plugin.web import _settings\n"
        "from plugin.web import launch_url\n"
        "x = boards._encode([1])\n"
        "y = boards.list_threads\n"
    )
    assert private_uses(source, "plugin.example") == [
        "line 2: from plugin.web import _settings",
        "line 4: boards._encode",
    ]
    # a module's own private names are its own
    assert private_uses("from plugin.web import _settings\n", "plugin.web") == []


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_uses_another_modules_private_names(path: Path) -> None:
    assert private_uses(path.read_text(encoding="utf-8"), _module_name(path)) == []
