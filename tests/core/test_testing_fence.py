"""Test tooling stays fenced off: nothing outside a ``testing`` package imports one.

Each plugin's stand-in, kit and conformance harness live in its ``testing`` subpackage (behind
the ``standins`` extra), and the conformance suites in ``core.testing``. The product reaches a
plugin's stand-ins only through the ``register_standins`` hook (the demo), which imports them
when it is called.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("core", "plugins", "notifications")
ALLOWED_FUNCTIONS = {"register_standins"}


def is_testing(module: str) -> bool:
    return "testing" in module.split(".")


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def fence_breaches(source: str) -> list[tuple[int, str]]:
    """(line, module) of each import of a testing package, but inside the allowed hooks."""
    breaches: list[tuple[int, str]] = []

    def visit(node: ast.AST, inside_allowed: bool) -> None:
        for child in ast.iter_child_nodes(node):
            allowed = inside_allowed or (
                isinstance(child, ast.FunctionDef) and child.name in ALLOWED_FUNCTIONS
            )
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.module:
                names = [child.module] + [f"{child.module}.{a.name}" for a in child.names]
            if not allowed and any(is_testing(name) for name in names):
                breaches.append((child.lineno, names[0]))
            visit(child, allowed)

    visit(ast.parse(source), False)
    return breaches


def test_the_fence_check_sees_a_breach_and_the_allowed_hook() -> None:
    source = (
        "from plugins.x.testing.kit import Kit\n"
        "def register_standins(register):\n    from plugins.x.testing.kit import Kit\n"
        "def other():\n    import core.testing\n"
    )
    assert fence_breaches(source) == [(1, "plugins.x.testing.kit"), (5, "core.testing")]


def test_nothing_outside_a_testing_package_imports_one() -> None:
    found: list[str] = []
    checked = 0
    for folder in PRODUCT:
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = module_of(path)
            if is_testing(module):
                continue
            checked += 1
            for line, name in fence_breaches(path.read_text(encoding="utf-8")):
                found.append(f"{module}:{line} imports {name}")
    assert checked > 80
    assert not found, "\n".join(found)
