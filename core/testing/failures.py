"""The error every conformance check raises: an AssertionError that says what the contract wants."""

from __future__ import annotations

__all__ = ["ConformanceFailure"]


class ConformanceFailure(AssertionError):
    """A plugin broke its contract; the message names the rule and what was seen."""
