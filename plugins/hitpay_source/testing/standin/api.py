"""The stand-in's HTTP API: HitPay's routes, authentication, validation and errors.

401 for a missing or wrong ``X-BUSINESS-API-KEY``; 422 ``{"message", "errors"}`` for bad
parameters; 404 ``{"message": "No query results ..."}`` for unknown ids; faults first.
"""

from __future__ import annotations

import hmac
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from plugins.hitpay_source.testing.standin.faults import MALFORMED_BODIES, Fault, FaultQueue
from plugins.hitpay_source.testing.standin.ledger import (
    ChargeQuery,
    Ledger,
    Unprocessable,
    decode_cursor,
)
from plugins.hitpay_source.testing.standin.payouts import PayoutBook, page_of
from plugins.hitpay_source.testing.standin.wire import to_json

__all__ = ["STATUSES_FILTER", "STATUS_FILTER", "HitPayApi", "RecordedRequest"]

STATUS_FILTER = frozenset({"succeeded", "failed", "refunded"})
STATUSES_FILTER = frozenset(
    {
        "success",
        "succeeded_manually",
        "pending",
        "failed",
        "refunded",
        "cancelled",
        "partially_refunded",
        "void",
        "succeeded",
    }  # "succeeded" appears in HitPay's own links
)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STATUSES_KEY = re.compile(r"^statuses\[\d*\]$")
_RATE_LIMIT = "Too Many Attempts."


@dataclass(frozen=True)
class RecordedRequest:
    """What a client asked (never the key): method, path, query pairs and the status sent."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    status: int

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.query if key == name), None)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(to_json(body), status=status, headers=headers, mimetype="application/json")


class HitPayApi:
    """A WSGI application over one :class:`Ledger`."""

    def __init__(self, ledger: Ledger, faults: FaultQueue, api_key: str, max_per_page: int):
        self.ledger = ledger
        self.payouts = PayoutBook(ledger)
        self.faults = faults
        self.api_key = api_key
        self.max_per_page = max_per_page
        self.root = ""
        self.requests: list[RecordedRequest] = []
        self._log_lock = threading.Lock()
        self.routes = Map(
            [
                Rule("/v1/charges", endpoint="charges", methods=["GET"]),
                Rule("/v1/charges/<charge_id>", endpoint="charge", methods=["GET"]),
                Rule("/v1/refund", endpoint="create_refund", methods=["POST"]),
                Rule("/v1/refund/<refund_id>", endpoint="refund", methods=["GET"]),
                Rule("/v1/account-status", endpoint="account_status", methods=["GET"]),
                Rule("/v1/payouts", endpoint="payouts", methods=["GET"]),
                Rule("/v1/payouts/<payout_id>", endpoint="payout", methods=["GET"]),
                Rule("/v1/payouts/<payout_id>/charges", endpoint="payout_charges", methods=["GET"]),
                Rule("/v1/balances", endpoint="balances", methods=["GET"]),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.respond(request)
        with self._log_lock:
            self.requests.append(
                RecordedRequest(
                    request.method,
                    request.path,
                    tuple(request.args.items(multi=True)),
                    response.status_code,
                )
            )
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        fault = self.faults.take(request.path)
        if fault is not None:
            early = self._fault(fault)
            if early is not None:
                return early
        if not hmac.compare_digest(
            request.headers.get("X-BUSINESS-API-KEY", "").encode(), self.api_key.encode()
        ):
            return _json({"message": "Unauthenticated."}, 401)
        try:
            endpoint, values = self.routes.bind_to_environ(request.environ).match()
            return getattr(self, f"_{endpoint}")(request, **values)  # type: ignore[no-any-return]
        except Unprocessable as error:
            return _json({"message": error.message, "errors": error.errors}, 422)
        except MethodNotAllowed:
            return _json({"message": f"The {request.method} method is not supported."}, 405)
        except NotFound:
            return _json(
                {"message": f"The route {request.path.lstrip('/')} could not be found."}, 404
            )
        except HTTPException as error:
            return _json({"message": error.description or "Error"}, error.code or 500)

    def _fault(self, fault: Fault) -> Response | None:
        if fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            message = _RATE_LIMIT if fault.status == 429 else "Server Error"
            return _json({"message": message}, fault.status, headers)
        if fault.kind == "malformed":
            body, mimetype = MALFORMED_BODIES[fault.body]
            return Response(body, status=fault.status, mimetype=mimetype)
        fault.released.wait(fault.delay)  # slow: answer normally, late
        return None

    # -- routes --------------------------------------------------------------------------

    def _charges(self, request: Request) -> Response:
        query = self._query(request.args)
        path = f"{self.root}/v1/charges"
        kept = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
        with self.ledger.lock:
            rows, cursor = self.ledger.page(query)
            next_url = f"{path}?{urlencode([*kept, ('cursor', cursor)])}" if cursor else None
            links = {"first": None, "last": None, "prev": None, "next": next_url}
            meta = {
                "path": path,
                "per_page": query.per_page,
                "next_cursor": cursor,
                "prev_cursor": None,
            }
            return _json({"data": rows, "links": links, "meta": meta})

    def _charge(self, request: Request, charge_id: str) -> Response:
        entry = self.ledger.find(charge_id)
        if entry is None:
            return _json(
                {"message": f"No query results for model [App\\Business\\Charge] {charge_id}"}, 404
            )
        with self.ledger.lock:
            return _json(entry.payload)

    def _create_refund(self, request: Request) -> Response:
        body = self._body(request)
        errors: dict[str, list[str]] = {}
        payment_id = body.get("payment_id")
        if not payment_id:
            errors["payment_id"] = ["The payment id field is required."]
        elif not isinstance(payment_id, str) or not _UUID.match(payment_id):
            errors["payment_id"] = ["The payment id must be a valid UUID."]
        amount = body.get("amount")
        if amount is None or amount == "":
            errors["amount"] = ["The amount field is required."]
        elif isinstance(amount, bool) or not isinstance(amount, int | str | Decimal):
            errors["amount"] = ["The amount must be a number."]
        if errors:
            raise Unprocessable(errors)
        return _json(self.ledger.refund(str(payment_id), amount))

    def _refund(self, request: Request, refund_id: str) -> Response:
        refund = self.ledger.refund_by_id(refund_id)
        if refund is None:
            return _json({"message": f"No query results for model [App\\Refund] {refund_id}"}, 404)
        return _json(refund)

    def _listing(self, request: Request, rows: list[Any]) -> Response:
        errors: dict[str, list[str]] = {}
        per_page = self._per_page(request.args.get("per_page"), errors)
        if errors:
            raise Unprocessable(errors)
        page, cursor = page_of(rows, per_page, request.args.get("cursor"))
        path = f"{self.root}{request.path}"
        kept = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
        next_url = f"{path}?{urlencode([*kept, ('cursor', cursor)])}" if cursor else None
        links = {"first": None, "last": None, "prev": None, "next": next_url}
        meta = {"path": path, "per_page": per_page, "next_cursor": cursor, "prev_cursor": None}
        with self.ledger.lock:
            return _json({"data": page, "links": links, "meta": meta})

    def _payouts(self, request: Request) -> Response:
        rows = self.payouts.listing()
        status = request.args.get("status")
        if status:
            rows = [row for row in rows if row.get("status") == status]
        if self.payouts.listing_shape == "bare":
            return _json(rows)
        if self.payouts.listing_shape == "pages":
            errors: dict[str, list[str]] = {}
            per_page = self._per_page(request.args.get("per_page"), errors)
            if errors:
                raise Unprocessable(errors)
            number = int(request.args.get("page", "1") or 1)
            last = max(1, -(-len(rows) // per_page))
            page = rows[(number - 1) * per_page : number * per_page]
            meta = {"current_page": number, "last_page": last, "per_page": per_page}
            return _json({"data": page, "meta": meta})
        return self._listing(request, rows)

    def _payout(self, request: Request, payout_id: str) -> Response:
        payout = self.payouts.payout(payout_id)
        if payout is None:
            return _json(
                {"message": f"No query results for model [App\\Transfer] {payout_id}"}, 404
            )
        return _json(payout)

    def _payout_charges(self, request: Request, payout_id: str) -> Response:
        rows = self.payouts.charges_of(payout_id)
        if rows is None:
            return _json(
                {"message": f"No query results for model [App\\Transfer] {payout_id}"}, 404
            )
        return self._listing(request, rows)

    def _balances(self, request: Request) -> Response:
        rows = self.payouts.balances(self.ledger.clock())
        return _json({"data": rows} if self.payouts.balances_wrapped else rows)

    def _account_status(self, request: Request) -> Response:
        return _json(
            {
                "bank_account_status": "completed",
                "verification": {
                    "overall_status": "completed",
                    "owner_verification": "not_required",
                    "business_verification": "completed",
                },
                "payment_providers": {"stripe_sg": {"setup_status": "completed"}},
            }
        )

    # -- parameters ----------------------------------------------------------------------

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        if request.mimetype == "application/json":
            try:
                body = json.loads(request.get_data(as_text=True) or "{}", parse_float=Decimal)
            except ValueError:
                raise Unprocessable({"body": ["The body is not valid JSON."]}) from None
            return body if isinstance(body, dict) else {}
        return dict(request.form.items())

    def _query(self, args: MultiDict[str, str]) -> ChargeQuery:
        errors: dict[str, list[str]] = {}
        per_page = self._per_page(args.get("per_page"), errors)
        statuses: set[str] = set()
        status = args.get("status")
        if status is not None:
            if status in STATUS_FILTER:
                statuses.add(status)
            else:
                errors["status"] = ["The selected status is invalid."]
        listed = [(k, v) for k, v in args.items(multi=True) if _STATUSES_KEY.match(k)]
        for index, (_, value) in enumerate(listed):
            if value in STATUSES_FILTER:
                statuses.add("succeeded" if value == "success" else value)
            else:
                errors[f"statuses.{index}"] = [f"The selected statuses.{index} is invalid."]
        date_from = _date(args.get("date_from"), "date_from", errors)
        date_to = _date(args.get("date_to"), "date_to", errors)
        if date_from and date_to and date_to < date_from:
            errors["date_to"] = ["The date to must be a date after or equal to date from."]
        after = decode_cursor(args["cursor"]) if args.get("cursor") else None
        if errors:
            raise Unprocessable(errors)
        equals = tuple(
            (name, args[name]) for name in ("payment_request_id", "customer_id") if args.get(name)
        )
        return ChargeQuery(per_page, after, frozenset(statuses), date_from, date_to, equals)

    def _per_page(self, raw: str | None, errors: dict[str, list[str]]) -> int:
        if raw is None:
            return 25
        if not raw.isdigit():
            errors["per_page"] = ["The per page must be an integer."]
        elif int(raw) < 1:
            errors["per_page"] = ["The per page must be at least 1."]
        elif int(raw) > self.max_per_page:
            errors["per_page"] = [f"The per page must not be greater than {self.max_per_page}."]
        else:
            return int(raw)
        return 25


def _date(raw: str | None, name: str, errors: dict[str, list[str]]) -> date | None:
    if raw is None or raw == "":
        return None
    try:
        if not _DATE.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = [f"The {name.replace('_', ' ')} does not match the format Y-m-d."]
        return None
