"""Raw payloads as the store keeps them: JSON-safe values, and their canonical text.

A source's raw payload may hold Decimals, dates, tuples or mappings that are not dicts; the
store keeps it as JSON, so it is made JSON-safe once, on its way in (:func:`json_safe`).
Quarantine entries keep a payload as text (:func:`payload_text`): sorted keys, so the same
payload always reads the same and entries without a source id can be told apart by it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["json_safe", "payload_text"]

_PLAIN = frozenset({str, int, bool, type(None)})  # JSON as they are


def json_safe(value: Any) -> Any:
    """``value`` as JSON: Decimals and dates become strings, mappings dicts, tuples lists."""
    cls = value.__class__
    if cls in _PLAIN:
        return value
    if cls is dict:  # the common case first: a parsed payload, mostly plain values
        return {
            key if key.__class__ is str else str(key): (
                item if item.__class__ in _PLAIN else json_safe(item)
            )
            for key, item in value.items()
        }
    if cls is list:
        return [item if item.__class__ in _PLAIN else json_safe(item) for item in value]
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)  # floats included: kept as their text, never as a number


def payload_text(payload: Mapping[str, Any]) -> str:
    """The payload as the quarantine keeps it: JSON-safe, keys sorted, not ASCII-escaped."""
    return json.dumps(json_safe(payload), sort_keys=True, ensure_ascii=False)
