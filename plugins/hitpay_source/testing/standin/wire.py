"""JSON as HitPay's PHP backend writes it: amounts are JSON numbers (``70.56``, ``100``).

Amounts are held as Decimal and written with their exact digits, never through float.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["to_json"]


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if value.is_finite() else json.dumps(str(value))


def to_json(value: Any) -> str:
    """Serialize ``value``; Decimal becomes a JSON number with its exact digits."""
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k))}:{to_json(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_json(item) for item in value) + "]"
    return json.dumps(value)
