"""Raw payloads as the store keeps them: JSON-safe values, and their canonical text.

A source's raw payload may hold Decimals, dates, tuples or mappings that are not dicts; the
store keeps it as JSON, so it is made JSON-safe once, on its way in (:func:`json_safe`). Text
the store keeps holds no NUL character (:func:`storable`). Quarantine entries keep a payload
as text (:func:`payload_text`): sorted keys, so the same payload always reads the same and
entries without a source id can be told apart by it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from core.records import Fetched, Quarantined

__all__ = ["json_safe", "payload_text", "storable"]

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


_TEXT_FIELDS = ("source_id", "charge_id", "channel", "raw_channel", "description", "reason")


_TEXT_OF: dict[type[Any], Callable[[Any], tuple[Any, ...]]] = {}


def _text_of(cls: type[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """A getter of the values of the text fields a class of item has (found once)."""
    getter = _TEXT_OF.get(cls)
    if getter is None:
        fields = {field.name for field in dataclasses.fields(cls)}
        names = [name for name in _TEXT_FIELDS if name in fields]
        getter = _TEXT_OF[cls] = attrgetter(*names, "kind", "kind")
    return getter


def storable(item: Fetched | Quarantined) -> Fetched | Quarantined:
    """``item`` with NUL characters in its text replaced by U+FFFD: PostgreSQL text cannot
    hold NUL, and one hostile payload must not fail the whole run (on every store alike)."""
    for value in _text_of(item.__class__)(item):
        if value.__class__ is str and "\x00" in value:
            break
    else:
        return item  # the common case: no NUL anywhere, nothing to copy
    changes = {
        name: value.replace("\x00", "\ufffd")
        for name in _TEXT_FIELDS
        if isinstance(value := getattr(item, name, None), str) and "\x00" in value
    }
    return dataclasses.replace(item, **changes) if changes else item  # type: ignore[arg-type]
