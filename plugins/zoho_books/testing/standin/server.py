"""A Zoho Books stand-in: the accounts server and the ``/books/v3`` API over real HTTP.

Two werkzeug servers on 127.0.0.1 (any free port), each in a thread: ``accounts_url`` (OAuth)
and ``api_url`` (Books). Use it as a context manager::

    with ZohoBooksStandIn() as zoho:
        org = zoho.default            # a ready organization with its account ids
        tokens = zoho.tokens()        # a refresh + access token, as a Self Client would give
        ...
        zoho.books(org.organization_id)   # everything created, normalized

Time is the stand-in's own: frozen at ``start`` (or real time) plus :meth:`advance`.
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from core import clock
from plugins.zoho_books.jsonnum import dumps, loads
from plugins.zoho_books.testing.standin import banking, deletes
from plugins.zoho_books.testing.standin.errors import ApiError
from plugins.zoho_books.testing.standin.faults import Faults
from plugins.zoho_books.testing.standin.oauth import OAuthServer
from plugins.zoho_books.testing.standin.state import Organization
from plugins.zoho_books.testing.standin.state import _date as checked_date
from plugins.zoho_books.testing.standin.state import _reference as checked_reference

__all__ = [
    "ALL_SCOPES",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "RecordedRequest",
    "SeededOrganization",
    "ZohoBooksStandIn",
]

DEFAULT_CLIENT_ID = "1000.STANDIN0CLIENT0ID"
DEFAULT_CLIENT_SECRET = "standin-client-secret"
ALL_SCOPES = ("ZohoBooks.fullaccess.all",)
PLAN_DAILY_LIMITS = {
    "free": 1000,
    "standard": 2000,
    "professional": 5000,
    "premium": 10000,
    "elite": 10000,
    "ultimate": 10000,
}
CURRENCY_PRECISION = {"JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3}
FOREIGN_RATES = {
    "SGD": Decimal("1"),
    "USD": Decimal("1.35"),
    "EUR": Decimal("1.45"),
    "JPY": Decimal("0.0091"),
    "KWD": Decimal("4.39"),
}

# path prefix -> (scope module); the operation comes from the method
MODULES = {
    "organizations": "settings",
    "items": "settings",
    "settings": "settings",
    "chartofaccounts": "accountants",
    "contacts": "contacts",
    "invoices": "invoices",
    "customerpayments": "customerpayments",
    "expenses": "expenses",
    "creditnotes": "creditnotes",
    "bankaccounts": "banking",
    "banktransactions": "banking",
    "journals": "accountants",
}
OPERATIONS = {"GET": "READ", "POST": "CREATE", "PUT": "UPDATE", "DELETE": "DELETE"}


@dataclass(frozen=True, slots=True)
class SeededOrganization:
    """A ready organization and the ids a connection maps its roles to."""

    organization_id: str
    name: str
    currency: str
    sales_account: str  # income "Sales"
    fee_account: str  # expense "Payment Gateway Fees"
    refund_account: str  # other_current_liability "Refunds Payable"
    bank_account: str  # bank "HitPay Clearing"
    item: str  # active item "Sales"
    other_bank_account: str  # bank "Operating Account"
    wrong_type_accounts: dict[str, str]  # name -> id: receivable, equity, a second expense
    inactive_accounts: dict[str, str]  # type -> id of an inactive account of that type
    inactive_item: str
    currencies: dict[str, str] = field(default_factory=dict)  # code -> currency_id
    adjustment_account: str = ""  # equity "Payout Adjustments"
    taxes: dict[str, str] = field(default_factory=dict)  # name -> tax_id (tax-registered)

    def account_settings(self) -> Any:
        """The ids as core's AccountSettings (sales, fee, refund, bank, item; payouts into the
        operating account, their unbooked parts to Payout Adjustments)."""
        from core.contracts import AccountSettings

        return AccountSettings(
            sales_account=self.sales_account,
            fee_account=self.fee_account,
            refund_account=self.refund_account,
            bank_account=self.bank_account,
            item=self.item,
            payout_account=self.other_bank_account,
            adjustment_account=self.adjustment_account or None,
        )


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    number: int
    method: str
    path: str  # below /books/v3
    query: dict[str, str]
    headers: dict[str, str]  # Authorization redacted
    body: Any
    organization_id: str | None
    at: datetime  # the stand-in's clock when it arrived


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def log(self, type: str, message: str, *args: Any) -> None:
        return None


class _Drop(ConnectionAbortedError):
    """Raised inside the app to close the connection without an answer."""


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status=status, headers=headers, mimetype="application/json")


def _error(error: ApiError, headers: dict[str, str] | None = None) -> Response:
    return _json(error.status, {"code": error.code, "message": error.message}, headers)


def _page(rows: list[dict[str, Any]], args: dict[str, str], key: str) -> dict[str, Any]:
    try:
        page = int(args.get("page", "1"))
        per_page = int(args.get("per_page", "200"))
    except ValueError:
        raise ApiError(400, 2, "Invalid value passed for page or per_page.") from None
    if page < 1 or not 1 <= per_page <= 200:
        raise ApiError(400, 2, "Invalid value passed for page or per_page (at most 200).")
    start = (page - 1) * per_page
    return {
        "code": 0,
        "message": "success",
        key: rows[start : start + per_page],
        "page_context": {
            "page": page,
            "per_page": per_page,
            "has_more_page": start + per_page < len(rows),
            "report_name": key,
            "sort_column": "created_time",
            "sort_order": "A",
        },
    }


def _contains_text(value: str, wanted: str | None) -> bool:
    return wanted is None or wanted.lower() in value.lower()


PAYMENT_LIST_KEYS = ("customerpayments", "customer_payments")
REFERENCE_FILTERS = ("exact", "contains", "ignored")
UPSERT_FIELD_FROM = ("body", "header", "none")


def reference_matcher(mode: str) -> Callable[[str, str | None], bool]:
    """How ``?reference_number=`` filters a list; the evidence leaves it open
    (zoho.filter.reference_number_semantics), so each reading is a setting of the stand-in:
    ``exact``, ``contains`` (case-insensitive substring, the default: a client that trusts the
    filter fails it) or ``ignored`` (every row comes back)."""
    if mode not in REFERENCE_FILTERS:
        raise ValueError(f"reference_filter must be one of {REFERENCE_FILTERS}, not {mode!r}")

    def matches(value: str, wanted: str | None) -> bool:
        if wanted is None or mode == "ignored":
            return True
        if mode == "exact":
            return value == wanted
        return wanted.lower() in value.lower()

    return matches


class ZohoBooksStandIn(deletes.DeleteHandlers):
    """The accounts server and the Books API of one datacenter, with several organizations."""

    def __init__(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        redirect_uris: set[str] | None = None,
        start: datetime | None = None,
        per_minute: int = 100,
        hold_seconds: float = 5.0,
        seed: bool = True,
        organization_base: int | None = None,
        payments_list_key: str = "customerpayments",
        reference_filter: str = "contains",
        upsert_field_from: str = "body",
    ) -> None:
        """``payments_list_key`` and ``reference_filter`` pick the variant of behaviours the
        public evidence leaves open: the list key of customer payments (the live API's
        ``customerpayments`` or the OpenAPI document's ``customer_payments``) and how the
        ``reference_number`` filter matches (see :func:`reference_matcher`)."""
        if payments_list_key not in PAYMENT_LIST_KEYS:
            raise ValueError(f"payments_list_key must be one of {PAYMENT_LIST_KEYS}")
        self.payments_list_key = payments_list_key
        self.reference_filter = reference_filter
        if upsert_field_from not in UPSERT_FIELD_FROM:
            raise ValueError(f"upsert_field_from must be one of {UPSERT_FIELD_FROM}")
        self.upsert_field_from = upsert_field_from
        self._contains = reference_matcher(reference_filter)
        self.lock = threading.RLock()
        # Organization ids differ between stand-ins (one organization per business is enforced
        # across connections), unless a test asks for fixed ones.
        self._org_base = (
            organization_base
            if organization_base is not None
            else 700_000_000 + secrets.randbelow(99_999) * 1000
        )
        self._start = start
        self._offset = timedelta(0)
        self.per_minute = per_minute
        self.send_rate_limit_headers = True
        self.quota_reset_seconds: int | None = None  # X-Rate-Limit-Reset; None: to UTC midnight
        self.hold_seconds = hold_seconds
        self.faults = Faults()
        self.organizations: dict[str, Organization] = {}
        self.requests: list[RecordedRequest] = []
        self.accounts_requests: list[tuple[str, str, dict[str, str]]] = []
        self.answers: dict[int, tuple[int, int | None]] = {}  # request number -> (HTTP, code)
        self._numbers = itertools.count(1)
        self._minute: dict[tuple[str, int], int] = {}
        self._daily: dict[tuple[str, str], int] = {}
        self._in_flight: dict[str, int] = {}
        self._stopping = threading.Event()
        self._servers: list[tuple[BaseWSGIServer, threading.Thread]] = []
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uris = redirect_uris
        self.oauth = OAuthServer("", "")
        self.default: SeededOrganization | None = None
        self.seeded: dict[str, SeededOrganization] = {}
        if seed:
            self.default = self.create_organization("Acme Trading Pte Ltd", "SGD")
            self.create_organization("Acme Inc", "USD", plan="free")
            self.create_organization("Acme GmbH", "EUR", plan="professional")

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> ZohoBooksStandIn:
        accounts = self._serve(self._accounts_app)
        api = self._serve(self._api_app)
        self.accounts_url = f"http://127.0.0.1:{accounts.server_port}"
        self.api_url = f"http://127.0.0.1:{api.server_port}"
        self.oauth.accounts_url = self.accounts_url
        self.oauth.api_domain = self.api_url
        self.oauth.add_client(self._client_id, self._client_secret, self._redirect_uris)
        return self

    def _serve(self, app: Callable[..., Any]) -> BaseWSGIServer:
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="zoho-standin",
            daemon=True,
        )
        thread.start()
        self._servers.append((server, thread))
        return server

    def stop(self) -> None:
        self._stopping.set()
        self.faults.release()
        for server, thread in self._servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        self._servers.clear()

    def __enter__(self) -> ZohoBooksStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- time --------------------------------------------------------------------------

    def now(self) -> datetime:
        base = self._start or clock.now()
        return base + self._offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self._offset += timedelta(seconds=seconds)

    # -- set-up helpers ------------------------------------------------------------------

    def create_organization(
        self,
        name: str,
        currency: str = "SGD",
        *,
        plan: str = "standard",
        foreign: tuple[str, ...] = ("USD", "EUR", "JPY", "KWD"),
        time_zone: str = "Asia/Singapore",
        unique_fields: tuple[str, ...] = ("cf_sync_key",),
        daily_limit: int | None = None,
        concurrency_limit: int | None = None,
        tax_registered: bool = False,
    ) -> SeededOrganization:
        """A new organization with a full chart of accounts, items and currencies.

        MYR is never enabled (a currency the organization does not have). A tax-registered
        one (Singapore GST) has ``GST9 [SR]`` 9 % (the default tax of the item "Sales"),
        ``GST0 [ZR]`` 0 % and an inactive ``GST7 [SR] (old)``."""
        with self.lock:
            number = len(self.organizations) + 1
            org = Organization(
                organization_id=str(self._org_base + number),
                name=name,
                number=number,
                currency_code=currency,
                time_zone=time_zone,
                plan_name=plan,
                daily_limit=daily_limit or PLAN_DAILY_LIMITS[plan],
                concurrency_limit=concurrency_limit or (5 if plan == "free" else 10),
                unique_fields=set(unique_fields),
            )
            currencies = {
                currency: org.add_currency(currency, self._precision(currency), base=True)
            }
            for code in foreign:
                if code != currency:
                    rate = FOREIGN_RATES.get(code, Decimal(1)) / FOREIGN_RATES.get(
                        currency, Decimal(1)
                    )
                    currencies[code] = org.add_currency(
                        code, self._precision(code), rate=rate.quantize(Decimal("0.000001"))
                    )
            sales = org.add_account("Sales", "income")
            fee = org.add_account("Payment Gateway Fees", "expense")
            refund = org.add_account("Refunds Payable", "other_current_liability")
            bank = org.add_account("HitPay Clearing", "bank")
            other_bank = org.add_account("Operating Account", "bank")
            wrong = {
                "Accounts Receivable": org.add_account(
                    "Accounts Receivable", "accounts_receivable"
                ),
                "Owner's Equity": org.add_account("Owner's Equity", "equity"),
                "Office Supplies": org.add_account("Office Supplies", "expense"),
                "Interest Income": org.add_account("Interest Income", "other_income"),
                "Petty Cash": org.add_account("Petty Cash", "cash"),
            }
            inactive = {
                "income": org.add_account("Old Sales", "income", active=False),
                "expense": org.add_account("Old Fees", "expense", active=False),
                "other_current_liability": org.add_account(
                    "Old Refunds", "other_current_liability", active=False
                ),
                "bank": org.add_account("Closed Clearing", "bank", active=False),
            }
            item = org.add_item("Sales", sales)
            inactive_item = org.add_item("Discontinued", sales, active=False)
            taxes: dict[str, str] = {}
            if tax_registered:
                taxes = {
                    "GST9 [SR]": org.add_tax("GST9 [SR]", "9", default=True),
                    "GST0 [ZR]": org.add_tax("GST0 [ZR]", "0", default=True),
                    "GST7 [SR] (old)": org.add_tax("GST7 [SR] (old)", "7", active=False),
                }
                org.items[item].tax_id = taxes["GST9 [SR]"]
            adjustments = org.add_account("Payout Adjustments", "equity")
            self.organizations[org.organization_id] = org
            seeded = SeededOrganization(
                organization_id=org.organization_id,
                name=name,
                currency=currency,
                sales_account=sales,
                fee_account=fee,
                refund_account=refund,
                bank_account=bank,
                item=item,
                other_bank_account=other_bank,
                wrong_type_accounts=wrong,
                inactive_accounts=inactive,
                inactive_item=inactive_item,
                currencies=currencies,
                adjustment_account=adjustments,
                taxes=taxes,
            )
            self.seeded[org.organization_id] = seeded
            return seeded

    @staticmethod
    def _precision(code: str) -> int:
        return CURRENCY_PRECISION.get(code, 2)

    def organization(self, organization_id: str) -> Organization:
        return self.organizations[organization_id]

    def issue_grant_code(
        self, scope: tuple[str, ...] = ALL_SCOPES, client_id: str | None = None
    ) -> str:
        """A grant code as Zoho's API console Self Client makes it (no redirect URI)."""
        with self.lock:
            return self.oauth.issue_grant(client_id or self._client_id, scope, self.now(), None)

    def tokens(self, scope: tuple[str, ...] = ALL_SCOPES) -> dict[str, Any]:
        """A fresh refresh + access token pair (the token endpoint's answer)."""
        code = self.issue_grant_code(scope)
        form = {
            "grant_type": "authorization_code",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "code": code,
        }
        with self.lock:
            status, body = self.oauth.token(form, self.now())
        assert status == 200 and "refresh_token" in body, body
        return body

    def revoke(self, token: str) -> None:
        with self.lock:
            self.oauth.revoke(token)

    def books(self, organization_id: str) -> dict[str, Any]:
        """Everything created in the organization, normalized (see Organization.books)."""
        with self.lock:
            return self.organizations[organization_id].books()

    def usage(self, organization_id: str) -> int:
        """API requests the organization has been charged for today."""
        with self.lock:
            day = self.now().date().isoformat()
            return self._daily.get((organization_id, day), 0)

    def spend(self, organization_id: str, calls: int) -> None:
        """The organization's other apps spend ``calls`` of today's quota (shared by all)."""
        with self.lock:
            day = (organization_id, self.now().date().isoformat())
            self._daily[day] = self._daily.get(day, 0) + calls

    def codes(self) -> list[int | None]:
        """Zoho's result code of every answered API request, in order."""
        with self.lock:
            return [self.answers[n][1] for n in sorted(self.answers)]

    def api_requests(
        self, method: str | None = None, path: str | None = None
    ) -> list[RecordedRequest]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    # -- the accounts server -----------------------------------------------------------

    def _accounts_app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        form = {k: v for k, v in request.form.items()}
        self.accounts_requests.append((request.method, request.path, dict(request.args)))
        now = self.now()
        if request.path == "/oauth/v2/auth" and request.method == "GET":
            try:
                with self.lock:
                    location = self.oauth.authorize(dict(request.args), now)
            except ApiError as error:
                response = Response(error.message, status=400, mimetype="text/plain")
            else:
                response = Response("", status=302, headers={"Location": location})
        elif request.path == "/oauth/v2/token" and request.method == "POST":
            with self.lock:
                status, body = self.oauth.token(form, now)
            response = _json(status, body)
        elif request.path == "/oauth/v2/token/revoke" and request.method == "POST":
            with self.lock:
                status, body = self.oauth.revoke_answer(request.args.get("token", ""))
            response = _json(status, body)
        else:
            response = Response("Not Found", status=404, mimetype="text/plain")
        return response(environ, start_response)

    # -- the Books API -------------------------------------------------------------------

    def _api_app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self._api(request, environ)
        except _Drop:
            raise
        except ApiError as error:
            response = _error(error, getattr(error, "headers", None))
        if "standin.number" in environ:
            code = loads(response.get_data()).get("code") if response.is_json else None
            with self.lock:
                self.answers[environ["standin.number"]] = (response.status_code, code)
        return response(environ, start_response)

    def _drop(self, environ: dict[str, Any]) -> None:
        sock: socket.socket = environ["werkzeug.socket"]
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        raise _Drop("stand-in dropped the connection")

    def _api(self, request: Request, environ: dict[str, Any]) -> Response:
        path = request.path.removeprefix("/books/v3")
        query = {k: v for k, v in request.args.items()}
        body = self._body(request)
        organization_id = query.get("organization_id")
        with self.lock:
            number = next(self._numbers)
            headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
            self.requests.append(
                RecordedRequest(
                    number, request.method, path, query, headers, body, organization_id, self.now()
                )
            )
        environ["standin.number"] = number
        fault = self.faults.take(number, request.method, path)
        if fault == "error":
            return _json(500, {"code": 1000, "message": "Internal Error"})
        if fault and fault.startswith("throttle:"):
            code = fault.removeprefix("throttle:")
            if not code:
                return Response(b"", status=429)
            message = "You have made too many requests. Please try again after some time."
            return _json(429, {"code": int(code), "message": message})
        if fault == "timeout":
            self._stopping.wait(self.hold_seconds)
            self._drop(environ)
        adapter = _ROUTES.bind("stand-in")
        try:
            endpoint, values = adapter.match(path, method=request.method)
        except MethodNotAllowed:
            raise ApiError(405, 37, "The HTTP method is not allowed for this resource.") from None
        except (NotFound, HTTPException):
            raise ApiError(404, 5, "Invalid URL Passed") from None
        module = MODULES.get(path.strip("/").split("/")[0], "settings")
        with self.lock:
            now = self.now()
            self.oauth.check(
                request.headers.get("Authorization"), now, module, OPERATIONS[request.method]
            )
            org = None
            if not endpoint.startswith("organization"):
                org = self.organizations.get(organization_id or "")
                if org is None:
                    raise ApiError(
                        400,
                        6041,
                        "This user is not associated with the CompanyID/CompanyName:"
                        f"{organization_id or ''}.",
                    )
                self._admit(org, now)
                quota = self._quota_headers(org, now)
        try:
            if fault == "hold":
                self.faults.holding.release()
                self.faults.released.wait(self.hold_seconds)
            handler: Callable[..., Response] = getattr(self, f"_do_{endpoint}")
            with self.lock:
                response = handler(org, query, body, request.headers, **values)
        finally:
            if org is not None:
                with self.lock:
                    self._in_flight[org.organization_id] -= 1
        if fault == "drop":
            self._drop(environ)
        if org is not None:
            response.headers.update(quota)
        return response

    def _quota_headers(self, org: Organization, now: datetime) -> dict[str, str]:
        """zoho.rate_limit.headers_daily: the daily quota on every answer (unless switched
        off): the plan's limit, what is left today, seconds until the next UTC day."""
        if not self.send_rate_limit_headers:
            return {}
        used = self._daily.get((org.organization_id, now.date().isoformat()), 0)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
        return {
            "X-Rate-Limit-Limit": str(org.daily_limit),
            "X-Rate-Limit-Remaining": str(max(0, org.daily_limit - used)),
            "X-Rate-Limit-Reset": str(
                self.quota_reset_seconds
                if self.quota_reset_seconds is not None
                else max(1, int((midnight - now).total_seconds()))
            ),
        }

    def _admit(self, org: Organization, now: datetime) -> None:
        """Daily, per-minute and concurrency limits; the caller holds the lock."""
        org_id = org.organization_id
        day = (org_id, now.date().isoformat())
        if self._daily.get(day, 0) >= org.daily_limit:
            raise ApiError(
                429,
                45,
                f"You have exceeded the maximum call rate limit of {org.daily_limit}. "
                "Please try again later.",
            )
        minute_index = int(now.timestamp() // 60)
        minute = (org_id, minute_index)
        if self._minute.get(minute, 0) >= self.per_minute:
            raise _Limited(self._quota_headers(org, now))
        if self._in_flight.get(org_id, 0) >= org.concurrency_limit:
            raise ApiError(429, 1070, "Too many concurrent requests. Please try again later.")
        self._daily[day] = self._daily.get(day, 0) + 1
        self._minute[minute] = self._minute.get(minute, 0) + 1
        self._in_flight[org_id] = self._in_flight.get(org_id, 0) + 1

    @staticmethod
    def _body(request: Request) -> Any:
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

    # -- handlers: settings ------------------------------------------------------------

    def _do_organizations(
        self, org: None, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        rows = [o.to_json() for o in self.organizations.values()]
        return _json(200, {"code": 0, "message": "success", "organizations": rows})

    def _do_organization(
        self, org: None, query: dict[str, str], body: Any, headers: Any, organization_id: str
    ) -> Response:
        found = self.organizations.get(organization_id)
        if found is None:
            raise ApiError(404, 1002, "Organization does not exist.")
        return _json(200, {"code": 0, "message": "success", "organization": found.to_json()})

    def _do_accounts(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        wanted = query.get("filter_by", "AccountType.All")
        groups: dict[str, Callable[[Any], bool]] = {
            "AccountType.All": lambda a: True,
            "AccountType.Active": lambda a: a.is_active,
            "AccountType.Inactive": lambda a: not a.is_active,
            "AccountType.Asset": lambda a: (
                a.account_type
                in {"bank", "cash", "other_current_asset", "fixed_asset", "accounts_receivable"}
            ),
            "AccountType.Liability": lambda a: (
                a.account_type
                in {"other_current_liability", "accounts_payable", "long_term_liability"}
            ),
            "AccountType.Equity": lambda a: a.account_type == "equity",
            "AccountType.Income": lambda a: a.account_type in {"income", "other_income"},
            "AccountType.Expense": lambda a: (
                a.account_type in {"expense", "cost_of_goods_sold", "other_expense"}
            ),
        }
        keep = groups.get(wanted)
        if keep is None:
            raise ApiError(400, 2, "Invalid value passed for filter_by.")
        rows = [a.to_json() for a in org.accounts.values() if keep(a)]
        answer = _page(rows, query, "chartofaccounts")
        return _json(200, answer)

    # zoho.items.fields_and_active_default: Zoho's document calls the list "all active items";
    # True lists inactive items only under filter_by=Status.All or Status.Inactive.
    items_active_only_by_default = False

    def _do_items(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        wanted = query.get("filter_by") or (
            "Status.Active" if self.items_active_only_by_default else "Status.All"
        )
        statuses = {
            "Status.All": {"active", "inactive"},
            "Status.Active": {"active"},
            "Status.Inactive": {"inactive"},
        }.get(wanted)
        if statuses is None:
            raise ApiError(400, 2, "Invalid value passed for filter_by.")
        rows = [i.to_json() for i in org.items.values() if i.to_json().get("status") in statuses]
        return _json(200, _page(rows, query, "items"))

    def _do_currencies(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        rows = [c.to_json() for c in org.currencies.values()]
        return _json(200, _page(rows, query, "currencies"))

    def _do_taxes(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        rows = [t.to_json() for t in org.taxes.values()]
        return _json(200, _page(rows, query, "taxes"))

    # -- handlers: contacts ------------------------------------------------------------

    def _do_contacts(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        rows = [
            c.to_json(org)
            for c in org.contacts.values()
            if _contains_text(c.contact_name, query.get("contact_name"))
            and query.get("contact_type") in (None, c.contact_type)
        ]
        return _json(200, _page(rows, query, "contacts"))

    def _do_create_contact(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        contact = org.create_contact(_object(body))
        return _json(
            201,
            {"code": 0, "message": "The contact has been added.", "contact": contact.to_json(org)},
        )

    def _do_contact(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        contact = org._get(org.contacts, record_id, "Contact")
        return _json(200, {"code": 0, "message": "success", "contact": contact.to_json(org)})

    def _do_update_contact(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        contact = org.update_contact(record_id, _object(body))
        return _json(
            200,
            {"code": 0, "message": "Contact has been updated.", "contact": contact.to_json(org)},
        )

    # -- handlers: invoices ------------------------------------------------------------

    def _do_invoices(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        rows = [
            org.invoice_json(i)
            for i in org.invoices.values()
            if self._contains(i.reference_number, query.get("reference_number"))
            and query.get("status") in (None, i.status)
            and query.get("customer_id") in (None, i.customer_id)
        ]
        return _json(200, _page(rows, query, "invoices"))

    def _do_create_invoice(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        invoice = org.create_invoice(_object(body), send=query.get("send") == "true")
        return _json(
            201,
            {
                "code": 0,
                "message": "The invoice has been created.",
                "invoice": org.invoice_json(invoice),
            },
        )

    def _do_upsert_invoice(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        data = _object(body)
        record, created = self._upsert(
            org, org.invoices, headers, lambda: org.create_invoice(data), data
        )
        return _json(
            201 if created else 200,
            {"code": 0, "message": "success", "invoice": org.invoice_json(record)},
        )

    def _do_invoice(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        invoice = org.invoice(record_id)
        return _json(200, {"code": 0, "message": "success", "invoice": org.invoice_json(invoice)})

    def _do_mark_sent(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        org.mark_sent(record_id)
        return _json(200, {"code": 0, "message": "Invoice status has been changed to Sent."})

    def _do_invoice_payments(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        """zoho.list_key.invoice_payments: the payments applied to one invoice."""
        invoice = org.invoice(record_id)
        rows = [
            {
                "payment_id": p.payment_id,
                "invoice_payment_id": f"{p.payment_id}{n:02d}",
                "invoice_id": invoice.invoice_id,
                "payment_mode": p.payment_mode,
                "description": p.description,
                "date": p.date,
                "reference_number": p.reference_number,
                "exchange_rate": 1,
                "amount": share,
            }
            for p in org.payments.values()
            for n, (applied_to, share) in enumerate(p.applied)
            if applied_to == invoice.invoice_id
        ]
        return _json(200, {"code": 0, "message": "success", "payments": rows})

    def _do_invoice_credits(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        """zoho.list_key.invoice_credits_applied: the credits applied to one invoice."""
        invoice = org.invoice(record_id)
        rows = [
            {
                "creditnote_id": a.creditnote_id,
                "creditnotes_invoice_id": a.creditnote_invoice_id,
                "creditnotes_number": org.creditnotes[a.creditnote_id].creditnote_number,
                "credited_date": a.date,
                "amount_applied": a.amount,
            }
            for a in org.credits_applied.values()
            if a.invoice_id == invoice.invoice_id
        ]
        return _json(200, {"code": 0, "message": "success", "credits": rows})

    def _do_apply_credits_to_invoice(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        """zoho.credit.apply_via_invoice: ``{"apply_creditnotes": [{creditnote_id,
        amount_applied}]}``, answered with ``use_credits.apply_creditnotes[]``."""
        org.invoice(record_id)
        rows = _object(body).get("apply_creditnotes")
        if not isinstance(rows, list) or not rows:
            raise ApiError(400, 4, "apply_creditnotes is mandatory.")
        done = []
        for row in rows:
            if not isinstance(row, dict) or "creditnote_id" not in row:
                raise ApiError(400, 4, "creditnote_id is mandatory.")
            share = {"invoice_id": record_id, "amount_applied": row.get("amount_applied")}
            applied = org.apply_credit(str(row["creditnote_id"]), {"invoices": [share]})
            done.extend(applied)
        answer = [
            {
                "amount_applied": a.amount,
                "creditnote_id": a.creditnote_id,
                "creditnotes_invoice_id": a.creditnote_invoice_id,
                "date": a.date,
                "invoice_id": a.invoice_id,
            }
            for a in done
        ]
        return _json(
            200,
            {
                "code": 0,
                "message": "Credits have been applied to the invoice(s).",
                "use_credits": {"apply_creditnotes": answer, "invoice_payments": []},
            },
        )

    # -- handlers: customer payments -----------------------------------------------------

    def _do_payments(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        rows = [
            org.payment_json(p)
            for p in org.payments.values()
            if self._contains(p.reference_number, query.get("reference_number"))
            and query.get("customer_id") in (None, p.customer_id)
        ]
        return _json(200, _page(rows, query, self.payments_list_key))

    def _do_create_payment(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        payment = org.create_payment(_object(body))
        return _json(
            201,
            {
                "code": 0,
                "message": "The payment has been created.",
                "payment": org.payment_json(payment),
            },
        )

    def _do_upsert_payment(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        data = _object(body)
        record, created = self._upsert(
            org, org.payments, headers, lambda: org.create_payment(data), data
        )
        return _json(
            201 if created else 200,
            {"code": 0, "message": "success", "payment": org.payment_json(record)},
        )

    def _do_payment(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        payment = org._get(org.payments, record_id, "Payment")
        return _json(200, {"code": 0, "message": "success", "payment": org.payment_json(payment)})

    # -- handlers: expenses --------------------------------------------------------------

    def _do_expenses(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        rows = [
            org.expense_json(e)
            for e in org.expenses.values()
            if self._contains(e.reference_number, query.get("reference_number"))
        ]
        return _json(200, _page(rows, query, "expenses"))

    def _do_create_expense(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        expense = org.create_expense(_object(body))
        return _json(
            201,
            {
                "code": 0,
                "message": "The expense has been recorded.",
                "expense": org.expense_json(expense),
            },
        )

    def _do_upsert_expense(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        data = _object(body)
        record, created = self._upsert(
            org, org.expenses, headers, lambda: org.create_expense(data), data
        )
        return _json(
            201 if created else 200,
            {"code": 0, "message": "success", "expense": org.expense_json(record)},
        )

    def _do_expense(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        expense = org._get(org.expenses, record_id, "Expense")
        return _json(200, {"code": 0, "message": "success", "expense": org.expense_json(expense)})

    # -- handlers: banking (banking.py) ----------------------------------------------------

    def _do_banktransactions(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        account = query.get("account_id")
        rows = [
            banking.transfer_json(org, t)
            for t in org.banktransactions.values()
            if self._contains(t.reference_number, query.get("reference_number"))
            and (account is None or account in (t.from_account_id, t.to_account_id))
        ]
        return _json(200, _page(rows, query, "banktransactions"))

    def _do_create_banktransaction(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        made = banking.create_transfer(org, _object(body))
        return _json(
            201,
            {
                "code": 0,
                "message": "The transaction has been created.",
                "banktransaction": banking.transfer_json(org, made),
            },
        )

    def _do_journals(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        rows = [
            banking.journal_json(org, j)
            for j in org.journals.values()
            if self._contains(j.reference_number, query.get("reference_number"))
        ]
        return _json(200, _page(rows, query, "journals"))

    def _do_create_journal(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        made = banking.create_journal(org, _object(body))
        return _json(
            201,
            {
                "code": 0,
                "message": "The journal entry has been created.",
                "journal": banking.journal_json(org, made),
            },
        )

    def _do_bankaccount(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        account = banking.bank_account_json(org, record_id)
        return _json(200, {"code": 0, "message": "success", "bankaccount": account})

    # -- handlers: credit notes ------------------------------------------------------------

    def _do_creditnotes(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        rows = [
            org.creditnote_json(n)
            for n in org.creditnotes.values()
            if self._contains(n.reference_number, query.get("reference_number"))
            and query.get("status") in (None, n.status)
            and query.get("customer_id") in (None, n.customer_id)
        ]
        return _json(200, _page(rows, query, "creditnotes"))

    def _create_creditnote(
        self, org: Organization, query: dict[str, str], data: dict[str, Any]
    ) -> Any:
        return org.create_creditnote(
            data,
            invoice_id=query.get("invoice_id"),
            own_number=query.get("ignore_auto_number_generation") == "true",
        )

    def _do_create_creditnote(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        note = self._create_creditnote(org, query, _object(body))
        return _json(
            201,
            {
                "code": 0,
                "message": "The credit note has been created.",
                "creditnote": org.creditnote_json(note),
            },
        )

    def _do_upsert_creditnote(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any
    ) -> Response:
        data = _object(body)
        record, created = self._upsert(
            org, org.creditnotes, headers, lambda: self._create_creditnote(org, query, data), data
        )
        return _json(
            201 if created else 200,
            {"code": 0, "message": "success", "creditnote": org.creditnote_json(record)},
        )

    def _do_creditnote(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        note = org.creditnote(record_id)
        return _json(
            200, {"code": 0, "message": "success", "creditnote": org.creditnote_json(note)}
        )

    def _do_credited(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        org.creditnote(record_id)
        rows = [
            org.applied_json(a)
            for a in org.credits_applied.values()
            if a.creditnote_id == record_id
        ]
        return _json(200, {"code": 0, "message": "success", "invoices_credited": rows})

    def _do_apply_credit(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        done = org.apply_credit(record_id, _object(body))
        return _json(
            200,
            {
                "code": 0,
                "message": "Credits have been applied to the invoice(s).",
                "apply_to_invoices": {
                    "invoices": [
                        {"invoice_id": a.invoice_id, "amount_applied": a.amount} for a in done
                    ]
                },
            },
        )

    def _do_refunds(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        org.creditnote(record_id)
        rows = [org.refund_json(r) for r in org.refunds.values() if r.creditnote_id == record_id]
        return _json(200, _page(rows, query, "creditnote_refunds"))

    def _do_refund(
        self, org: Organization, query: dict[str, str], body: Any, headers: Any, record_id: str
    ) -> Response:
        refund = org.refund_creditnote(record_id, _object(body))
        return _json(
            201,
            {
                "code": 0,
                "message": "The credit note amount is refunded successfully.",
                "creditnote_refund": org.refund_json(refund),
            },
        )

    # -- upsert --------------------------------------------------------------------------

    def _upsert(
        self,
        org: Organization,
        table: dict[str, Any],
        headers: Any,
        create: Callable[[], Any],
        data: dict[str, Any],
    ) -> tuple[Any, bool]:
        key = headers.get("X-Unique-Identifier-Key")
        value = headers.get("X-Unique-Identifier-Value")
        if not key or not value:
            raise ApiError(400, 2, "Invalid value passed for X-Unique-Identifier-Key/Value.")
        upsert = str(headers.get("X-Upsert", "")).lower() == "true"

        def update(record: Any) -> None:
            # Only descriptive fields change; amounts of a recorded document stay as they are.
            if "date" in data:
                record.date = checked_date(data["date"])
            if "reference_number" in data:
                record.reference_number = checked_reference(data)

        fields = {
            str(row.get("api_name") or row.get("label")): str(row.get("value"))
            for row in data.get("custom_fields") or []
            if isinstance(row, dict) and (row.get("api_name") or row.get("label"))
        }
        return org.upsert(
            table,
            key,
            value,
            create if upsert else None,
            update,
            body_fields=fields,
            written_from=self.upsert_field_from,
        )


class _Limited(ApiError):
    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(
            429, 44, "You have made too many requests. Please try again after some time."
        )
        self.headers = headers


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, 4, "Invalid value passed for JSONString")
    return body


def _rules() -> Iterator[Rule]:
    def rule(path: str, endpoint: str, *methods: str) -> Rule:
        return Rule(path, endpoint=endpoint, methods=list(methods))

    yield rule("/organizations", "organizations", "GET")
    yield rule("/organizations/<organization_id>", "organization", "GET")
    yield rule("/chartofaccounts", "accounts", "GET")
    yield rule("/items", "items", "GET")
    yield rule("/settings/currencies", "currencies", "GET")
    yield rule("/settings/taxes", "taxes", "GET")
    yield rule("/contacts", "contacts", "GET")
    yield rule("/contacts", "create_contact", "POST")
    yield rule("/contacts/<record_id>", "contact", "GET")
    yield rule("/contacts/<record_id>", "update_contact", "PUT")
    for collection, one, kind in (
        ("invoices", "invoice", "invoice"),
        ("customerpayments", "payment", "payment"),
        ("expenses", "expense", "expense"),
        ("creditnotes", "creditnote", "creditnote"),
    ):
        listing = "payments" if collection == "customerpayments" else collection
        yield rule(f"/{collection}", listing, "GET")
        yield rule(f"/{collection}", f"create_{kind}", "POST")
        yield rule(f"/{collection}", f"upsert_{kind}", "PUT")
        yield rule(f"/{collection}/<record_id>", one, "GET")
    yield rule("/invoices/<record_id>/status/sent", "mark_sent", "POST")
    yield rule("/invoices/<record_id>/payments", "invoice_payments", "GET")
    yield rule("/invoices/<record_id>/creditsapplied", "invoice_credits", "GET")
    yield rule("/invoices/<record_id>/credits", "apply_credits_to_invoice", "POST")
    yield rule("/creditnotes/<record_id>/invoices", "credited", "GET")
    yield rule("/creditnotes/<record_id>/invoices", "apply_credit", "POST")
    yield rule("/creditnotes/<record_id>/refunds", "refunds", "GET")
    yield rule("/creditnotes/<record_id>/refunds", "refund", "POST")
    yield rule("/banktransactions", "banktransactions", "GET")
    yield rule("/banktransactions", "create_banktransaction", "POST")
    yield rule("/journals", "journals", "GET")
    yield rule("/journals", "create_journal", "POST")
    yield rule("/bankaccounts/<record_id>", "bankaccount", "GET")
    yield from deletes.rules(rule)


_ROUTES = Map(list(_rules()), strict_slashes=False)
