"""The kit's packaging: core never pulls in pytest; core.testing's harnesses do not need it."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import core, core.cli.main, core.host, core.plugins
assert "pytest" not in sys.modules, "importing core imported pytest"
assert "core.testing" not in sys.modules, "core imports its own test kit"
import core.testing
assert "pytest" not in sys.modules, "core.testing's harnesses imported pytest"
from core.testing import DestinationConformance
assert "pytest" in sys.modules
print("ok")
"""


def test_core_and_the_harnesses_import_without_pytest() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"
