"""Hypothesis budgets of the expensive properties: small on a laptop, raised in CI.

CI sets ``HYPOTHESIS_PROFILE=ci`` (derived from Hypothesis's own ``ci`` profile: derandomized,
no example database, reproduction blobs printed). Properties whose every example runs whole
syncs through a real store choose their example counts here rather than inheriting the
profile's 500.
"""

from __future__ import annotations

import os

__all__ = ["IN_CI", "examples"]

IN_CI = os.environ.get("HYPOTHESIS_PROFILE") == "ci"


def examples(dev: int, ci: int) -> int:
    """``ci`` examples under the CI profile, else ``dev``."""
    return ci if IN_CI else dev
