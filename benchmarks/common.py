"""What every benchmark shares: a runnable environment from a fresh checkout, the machine it
ran on, and the one JSON line each prints last."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILT_INS = "hitpay,zoho_books,log,email,file_journal"


def prepare() -> None:
    """A throwaway secret key and the built-in plugins only, unless the caller set them; the
    test helpers (the stand-in fleet) importable."""
    from cryptography.fernet import Fernet

    os.environ.setdefault("LEDGERSYNC_SECRET_KEY", Fernet.generate_key().decode())
    os.environ.setdefault("LEDGERSYNC_LOAD_PLUGINS", BUILT_INS)
    for folder in (ROOT, ROOT / "tests"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def emit(benchmark: str, figures: dict[str, Any]) -> None:
    """The benchmark's last line: every figure as JSON, with the date and the machine."""
    line = {
        "benchmark": benchmark,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **figures,
    }
    print(json.dumps(line, default=str), flush=True)
