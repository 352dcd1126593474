"""How the Books API stand-in speaks HTTP: the JSON envelope, refusals, request bodies."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from plugins.zoho_books.jsonnum import dumps, loads
from plugins.zoho_books.testing.standin.errors import ApiError

__all__ = ["Dropped", "Limited", "json_answer", "refusal", "request_body"]


class Dropped(ConnectionAbortedError):
    """Raised inside the app to close the connection without an answer."""


class Limited(ApiError):
    """Code 44, the per-minute limit, answered with the quota headers."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(
            429, 44, "You have made too many requests. Please try again after some time."
        )
        self.headers = headers


def json_answer(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    return Response(dumps(body), status=status, headers=headers, mimetype="application/json")


def numeric_ids(node: Any) -> Any:
    """The answer with every all-digit ``*_id`` value as a JSON number, as some of Zoho's
    examples show them (zoho.ids.strings)."""
    if isinstance(node, dict):
        return {
            key: int(value)
            if key.endswith("_id") and isinstance(value, str) and value.isdigit()
            else numeric_ids(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [numeric_ids(value) for value in node]
    return node


def refusal(error: ApiError) -> Response:
    """Zoho's error envelope: ``{"code": N, "message": "..."}`` with the HTTP status."""
    headers = error.headers if isinstance(error, Limited) else None
    return json_answer(error.status, {"code": error.code, "message": error.message}, headers)


def request_body(request: Request) -> Any:
    """The JSON body, sent raw or as a form's ``JSONString``; None when there is none."""
    raw = request.get_data()
    if not raw:
        return None
    if request.mimetype == "application/x-www-form-urlencoded":
        text = request.form.get("JSONString")
        raw = text.encode() if text else b""
        if not raw:
            return None
    try:
        return loads(raw)
    except ValueError:
        raise ApiError(400, 4, "Invalid value passed for JSONString") from None
