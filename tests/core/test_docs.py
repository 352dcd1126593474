"""docs/plugin_hooks.md stays true: every hook has a heading with its exact signature."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugin_hooks.md"


def _hooks() -> list[str]:
    return sorted(
        name
        for name, value in vars(hookspecs).items()
        if inspect.isfunction(value) and hasattr(value, "ledgersync_spec")
    )


def _documented_signature(name: str) -> str:
    text = DOC.read_text()
    match = re.search(rf"^## {name}\n+```python\n(.+?)\n```", text, flags=re.M | re.S)
    assert match, f"hook {name} has no '## {name}' heading followed by its signature"
    return match.group(1).strip()


def test_there_are_hooks_to_document() -> None:
    assert "register_sources" in _hooks()
    assert len(_hooks()) >= 9


@pytest.mark.parametrize("name", _hooks())
def test_plugin_hook_is_documented(name: str) -> None:
    function = getattr(hookspecs, name)
    signature = inspect.signature(function, eval_str=False)
    expected = f"{name}{signature}".replace("'", "")
    assert _documented_signature(name) == expected


def test_no_heading_for_a_hook_that_does_not_exist() -> None:
    headings = re.findall(r"^## (\w+)$", DOC.read_text(), flags=re.M)
    assert sorted(headings) == _hooks()


README = DOC.parents[1] / "README.md"


def _command_paths() -> list[str]:
    """Every command a user can type: top-level commands and each group's subcommands."""
    import click

    from core.cli.main import build_cli

    paths: list[str] = []
    for name, command in sorted(build_cli().commands.items()):
        if isinstance(command, click.Group):
            paths.extend(f"{name} {sub}" for sub in sorted(command.commands))
        else:
            paths.append(name)
    return paths


def test_the_readme_command_table_lists_every_command() -> None:
    text = README.read_text()
    table = text[text.index("## The command line") :].split("\n\n")[1]
    missing = [path for path in _command_paths() if f"`ledgersync {path}" not in table]
    assert not missing, f"README's command table lacks: {', '.join(missing)}"
    assert len(_command_paths()) >= 20


def test_shell_completion_is_documented_and_works() -> None:
    import os
    import subprocess
    import sys

    assert "_LEDGERSYNC_COMPLETE=bash_source" in README.read_text()
    program = str(Path(sys.executable).parent / "ledgersync")
    env = os.environ | {
        "_LEDGERSYNC_COMPLETE": "bash_complete",
        "COMP_WORDS": "ledgersync stat",
        "COMP_CWORD": "1",
    }
    done = subprocess.run([program], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["plain,status"], done.stderr


def test_the_pre_commit_hooks_are_the_checks_ci_makes() -> None:
    """Each check .ci/run makes before the tests (ruff, ruff format, mypy) is a pre-commit hook,
    and no hook checks something CI does not."""
    root = DOC.parents[1]
    ci = (root / ".ci" / "run").read_text()
    checks = {
        line.split("#")[0].strip() for line in ci.splitlines() if line.startswith(("ruff ", "mypy"))
    }
    hooks = set(re.findall(r"name: (.+)", (root / ".pre-commit-config.yaml").read_text()))
    named = {hook.split(" (")[0] for hook in hooks}
    assert {check.removesuffix(" .") for check in checks} == named
