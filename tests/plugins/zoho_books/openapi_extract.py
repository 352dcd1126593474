"""The parts of Zoho's OpenAPI documents the plugin uses, kept in the repository.

``extract(folder)`` takes from Zoho's per-module YAML files the operations the plugin calls and
every component they reference; ``reference/zoho-books-openapi-used.json`` is its output, so
the schema test runs where the originals are absent and fails when they change.
Regenerate from ``tests/plugins/``:
``python -m zoho_books.openapi_extract /path/to/zoho-books-openapi``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

REFERENCE = Path(__file__).parent / "reference" / "zoho-books-openapi-used.json"
ORIGINALS = Path("/work/shared/reference/zoho-books-openapi")

USED: dict[str, dict[str, tuple[str, ...]]] = {
    "organizations.yml": {"/organizations": ("get",)},
    "chart-of-accounts.yml": {"/chartofaccounts": ("get",)},
    "items.yml": {"/items": ("get",)},
    "currency.yml": {"/settings/currencies": ("get",)},
    "contacts.yml": {"/contacts": ("get", "post")},
    "invoices.yml": {
        "/invoices": ("get", "post", "put"),
        "/invoices/{invoice_id}": ("get", "put"),
        "/invoices/{invoice_id}/status/sent": ("post",),
        "/invoices/{invoice_id}/payments": ("get",),
        "/invoices/{invoice_id}/creditsapplied": ("get",),
        "/invoices/{invoice_id}/credits": ("post",),
    },
    "customer-payments.yml": {"/customerpayments": ("get", "post", "put")},
    "expenses.yml": {"/expenses": ("get", "post", "put")},
    "credit-notes.yml": {
        "/creditnotes": ("get", "post", "put"),
        "/creditnotes/{creditnote_id}": ("get",),
        "/creditnotes/{creditnote_id}/invoices": ("get", "post"),
        "/creditnotes/{creditnote_id}/refunds": ("get", "post"),
    },
}


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _module(document: dict[str, Any], paths: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    kept_paths: dict[str, Any] = {}
    for path, methods in paths.items():
        item = document["paths"][path]
        kept_paths[path] = {k: v for k, v in item.items() if k in methods or k == "parameters"}
    components: dict[str, dict[str, Any]] = {}
    pending = _refs(kept_paths)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        value = document["components"][section][name]
        components.setdefault(section, {})[name] = value
        pending |= _refs(value)
    return {"paths": kept_paths, "components": components}


def extract(folder: Path) -> dict[str, Any]:
    """The used parts as plain JSON values (YAML's dates in examples become strings)."""
    raw = {
        name: _module(yaml.safe_load((folder / name).read_text()), paths)
        for name, paths in USED.items()
    }
    return json.loads(json.dumps(raw, default=str))  # type: ignore[no-any-return]


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ORIGINALS
    REFERENCE.write_text(json.dumps(extract(source), indent=1, sort_keys=True) + "\n")
