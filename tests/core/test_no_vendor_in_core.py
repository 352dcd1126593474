"""The host knows no vendor: nothing under core/ names one (architecture's one-way rule)."""

from __future__ import annotations

import re
from pathlib import Path

import core

CORE = Path(core.__file__).parent
VENDORS = re.compile(r"hit[\s_-]?pay|zoho", re.IGNORECASE)


def core_files() -> list[Path]:
    return sorted(
        path
        for path in CORE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


def test_core_names_no_vendor() -> None:
    files = core_files()
    assert any(path.name == "hookspecs.py" for path in files)  # the walk sees core
    found = [
        f"{path.relative_to(CORE.parent)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text("utf-8", "replace").splitlines(), 1)
        if VENDORS.search(line)
    ]
    assert not found, "core/ names a vendor:\n" + "\n".join(found)


def test_the_check_would_see_a_vendor_name() -> None:
    assert VENDORS.search("from plugins.hitpay_source import x")
    assert VENDORS.search("Zoho Books") and VENDORS.search("Hit-Pay")
