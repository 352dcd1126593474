"""A third-party plugin, installed by pip into its own virtual environment, joins the host.

The throwaway distribution has a pyproject with an entry point in group ``ledgersync`` and a
module with hook implementations (a notifier and a command). It is packed as a wheel by the
few lines below (no build backend, nothing downloaded) and installed with pip. The virtual
environment sees this project through a ``.pth`` file that adds the test interpreter's
site-packages.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import venv
import zipfile
from pathlib import Path
from typing import Any

import pytest

PLUGIN_PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "ledgersync-greeter"
version = "1.2.3"
requires-python = ">=3.11"

[project.entry-points.ledgersync]
greeter = "ledgersync_greeter"

[tool.setuptools]
py-modules = ["ledgersync_greeter"]
"""

PLUGIN_MODULE = '''
"""Greets: a notifier that prints notices and a `ledgersync greet` command."""

import click

from core import Manifest, hookimpl

MANIFEST = Manifest(
    name="greeter", version="1.2.3", summary="Greets people.", provides=("notifier:greeter",)
)


class GreeterNotifier:
    name = "greeter"

    def send(self, notice):
        click.echo(f"greeter heard: {notice.subject}")


@hookimpl
def register_notifiers(register):
    register(GreeterNotifier)


@hookimpl
def register_commands(cli):
    @cli.command("greet")
    @click.argument("name")
    def greet(name):
        """Say hello."""
        click.echo(f"Hello, {name}, from a third-party plugin.")
'''

CLI = "import sys; from core.cli.main import main; main(sys.argv[1:])"


def build_wheel(distribution: Path, into: Path) -> Path:
    """A pure-Python wheel of ``distribution`` from its pyproject (name, version, modules,
    entry points): what a build backend would make of it."""
    project = tomllib.loads((distribution / "pyproject.toml").read_text())["project"]
    name, version = project["name"].replace("-", "_"), project["version"]
    info = f"{name}-{version}.dist-info"
    entry_points = "".join(
        f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in points.items())
        for group, points in project["entry-points"].items()
    )
    files = {path.name: path.read_bytes() for path in distribution.glob("*.py")}
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {version}\n"
    ).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: ledgersync-tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = entry_points.encode()
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    wheel = into / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def _python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment holding the throwaway plugin, seeing this project."""
    root = tmp_path_factory.mktemp("third_party")
    distribution = root / "ledgersync-greeter"
    distribution.mkdir()
    (distribution / "pyproject.toml").write_text(PLUGIN_PYPROJECT)
    (distribution / "ledgersync_greeter.py").write_text(textwrap.dedent(PLUGIN_MODULE))

    environment = root / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = _python(environment)
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    host_site = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "ledgersync-host.pth").write_text(
        f"import site; site.addsitedir({host_site!r})\n"
    )
    wheel = build_wheel(distribution, root)
    install = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    subprocess.run(
        [*install, "--disable-pip-version-check", str(wheel)],
        check=True,
        capture_output=True,
        text=True,
    )
    return environment


def _run(environment: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERSYNC_")}
    env.update(extra_env)
    return subprocess.run(
        [_python(environment), "-c", CLI, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=environment,
        timeout=120,
    )


def _listed(environment: Path, **extra_env: str) -> dict[str, dict[str, Any]]:
    result = _run(environment, "plugins", "--json", **extra_env)
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_the_installed_plugin_is_listed_with_its_manifest_and_hooks(plugin_venv: Path) -> None:
    rows = _listed(plugin_venv)
    assert rows["greeter"]["version"] == "1.2.3"
    assert rows["greeter"]["summary"] == "Greets people."
    assert rows["greeter"]["hooks"] == ["register_commands", "register_notifiers"]
    assert "file_journal" in rows  # the built-ins come the same way


def test_the_installed_plugin_works(plugin_venv: Path) -> None:
    result = _run(plugin_venv, "greet", "Ada")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello, Ada, from a third-party plugin.\n"
    notifiers = _run_python(
        plugin_venv,
        "from core.plugins import get_plugins; print([n.name for n in get_plugins().notifiers()])",
    )
    assert "'greeter'" in notifiers


def test_disable_plugins_switches_it_off(plugin_venv: Path) -> None:
    rows = _listed(plugin_venv, LEDGERSYNC_DISABLE_PLUGINS="greeter")
    assert "greeter" not in rows
    assert "file_journal" in rows
    result = _run(plugin_venv, "greet", "Ada", LEDGERSYNC_DISABLE_PLUGINS="greeter")
    assert result.returncode != 0
    assert "No such command 'greet'" in result.stderr


def test_the_plugin_is_not_seen_outside_its_environment() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CLI, "plugins", "--json"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("LEDGERSYNC_")},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "greeter" not in {row["name"] for row in json.loads(result.stdout)}


def _run_python(environment: Path, code: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERSYNC_")}
    result = subprocess.run(
        [_python(environment), "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
