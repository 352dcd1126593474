"""JSON with exact numbers: Decimal in, Decimal out, never float.

``json.dumps`` cannot write a Decimal as a number without passing through float, so this
module writes JSON itself for the plain shapes requests carry (dict, list, str, int, bool,
None, Decimal).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from json.encoder import encode_basestring_ascii
from typing import Any

__all__ = ["dumps", "loads"]


# What ``json.dumps`` writes a str with (``ensure_ascii``), without its per-call set-up.
_string: Callable[[str], str] = encode_basestring_ascii


def _number(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} cannot be written as a JSON number")
    text = format(value, "f")
    return "0" if text in ("-0", "0") else text


def dumps(value: Any) -> str:
    """``value`` as JSON; Decimal amounts are written digit for digit."""
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, float):
        raise TypeError("float is not allowed in a request: use Decimal")
    if value is None or isinstance(value, bool | int):
        return json.dumps(value)
    if isinstance(value, dict):
        items = (f"{_string(str(key))}:{dumps(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def loads(text: str | bytes) -> Any:
    """Parse JSON with every non-integer number as Decimal."""
    return json.loads(text, parse_float=Decimal)
