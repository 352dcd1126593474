"""A Zoho Books stand-in: the accounts server and the ``/books/v3`` API over real HTTP.

Two werkzeug servers on 127.0.0.1 (any free port), each in a thread: ``accounts_url`` (OAuth)
and ``api_url`` (Books). Use it as a context manager::

    with ZohoBooksStandIn() as zoho:
        org = zoho.default            # a ready organization with its account ids
        tokens = zoho.tokens()        # a refresh + access token, as a Self Client would give
        ...
        zoho.books(org.organization_id)   # everything created, normalized

Time is the stand-in's own: frozen at ``start`` (or real time) plus :meth:`advance`. A request
goes through :meth:`_api`: recorded, faults, the route table (``routes.py``), the scope, the
organization and its limits (``limits.py``), then the route's handler (``resources/``).
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.serving import BaseWSGIServer
from werkzeug.wrappers import Request, Response

from plugins.zoho_books.jsonnum import loads
from plugins.zoho_books.testing.standin.controls import ALL_SCOPES, StandInControls
from plugins.zoho_books.testing.standin.envelope import (
    Dropped,
    json_answer,
    numeric_ids,
    refusal,
    request_body,
)
from plugins.zoho_books.testing.standin.errors import ApiError
from plugins.zoho_books.testing.standin.faults import Faults
from plugins.zoho_books.testing.standin.limits import Quota
from plugins.zoho_books.testing.standin.listing import (
    DATE_FILTERS,
    DEFAULT_DATE_FILTER,
    PAYMENT_LIST_KEYS,
    REFERENCE_FILTERS,
    ListFilters,
    reference_matcher,
)
from plugins.zoho_books.testing.standin.oauth import OAuthServer
from plugins.zoho_books.testing.standin.resources.deletes import DeleteRules
from plugins.zoho_books.testing.standin.routes import ROUTE_MAP, ROUTES
from plugins.zoho_books.testing.standin.routing import Call
from plugins.zoho_books.testing.standin.seeding import (
    PLAN_DAILY_LIMITS,
    SeededOrganization,
    seed_organization,
)
from plugins.zoho_books.testing.standin.serving import (
    RecordedRequest,
    accounts_response,
    drop_connection,
    fault_answer,
    serve_in_thread,
)
from plugins.zoho_books.testing.standin.state import Organization

__all__ = [
    "ALL_SCOPES",
    "DATE_FILTERS",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "PAYMENT_LIST_KEYS",
    "REFERENCE_FILTERS",
    "RecordedRequest",
    "SeededOrganization",
    "ZohoBooksStandIn",
    "reference_matcher",
]

DEFAULT_CLIENT_ID = "1000.STANDIN0CLIENT0ID"
DEFAULT_CLIENT_SECRET = "standin-client-secret"
UPSERT_FIELD_FROM = ("body", "header", "none")


class ZohoBooksStandIn(StandInControls):
    """The accounts server and the Books API of one datacenter, with several organizations."""

    # zoho.items.fields_and_active_default: True lists inactive items only when asked
    items_active_only_by_default = False

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
        date_filter: str = DEFAULT_DATE_FILTER,
        upsert_field_from: str = "body",
        contact_list_notes: bool = True,
    ) -> None:
        """``payments_list_key``, ``reference_filter`` and ``date_filter`` pick the variant of
        behaviours the public evidence leaves open: the list key of customer payments (the live
        API's ``customerpayments`` or the OpenAPI document's ``customer_payments``), how the
        ``reference_number`` filter matches and how ``date_start``/``date_end`` bound a list
        (see ``listing.py``); ``contact_list_notes`` whether a contact's list row carries its
        ``notes`` (undocumented: without them a client must read the contact itself)."""
        if payments_list_key not in PAYMENT_LIST_KEYS:
            raise ValueError(f"payments_list_key must be one of {PAYMENT_LIST_KEYS}")
        if upsert_field_from not in UPSERT_FIELD_FROM:
            raise ValueError(f"upsert_field_from must be one of {UPSERT_FIELD_FROM}")
        ListFilters(reference_filter, date_filter)  # refuses an unknown variant
        self.payments_list_key = payments_list_key
        self.reference_filter = reference_filter
        self.date_filter = date_filter
        self.upsert_field_from = upsert_field_from
        self.contact_list_notes = contact_list_notes
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
        # zoho.envelope.error_http_status_varies: a business refusal (HTTP 400 here) may come
        # with HTTP 200 and the same body; set 200 to answer so.
        self.refusal_status = 400
        # zoho.http.create_status: Zoho's documents give 201 for some creates and 200 for others
        self.create_status = 201
        # zoho.ids.strings: ids are strings, but some of Zoho's examples show numbers
        self.ids_as_numbers = False
        self.quota_reset_seconds: int | None = None  # X-Rate-Limit-Reset; None: to UTC midnight
        self.hold_seconds = hold_seconds
        self.faults = Faults()
        self.organizations: dict[str, Organization] = {}
        self._delete_rules: dict[str, DeleteRules] = {}
        self.requests: list[RecordedRequest] = []
        self.accounts_requests: list[tuple[str, str, dict[str, str]]] = []
        self.answers: dict[int, tuple[int, int | None]] = {}  # request number -> (HTTP, code)
        self._numbers = itertools.count(1)
        self.quota = Quota()
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

    @property
    def list_filters(self) -> ListFilters:
        return ListFilters(self.reference_filter, self.date_filter)

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
        server, thread = serve_in_thread(app)
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
        """A new organization with a full chart of accounts, items and currencies (see
        ``seeding.py``)."""
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
            seeded = seed_organization(org, foreign, tax_registered)
            self.organizations[org.organization_id] = org
            self.seeded[org.organization_id] = seeded
            return seeded

    # -- the accounts server -----------------------------------------------------------

    def _accounts_app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.accounts_requests.append((request.method, request.path, dict(request.args)))
        response = accounts_response(self.oauth, request, self.now(), self.lock)
        return response(environ, start_response)

    # -- the Books API -------------------------------------------------------------------

    def _api_app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self._api(request, environ)
        except Dropped:
            raise
        except ApiError as error:
            if error.status == 400 and self.refusal_status != 400:
                error = ApiError(self.refusal_status, error.code, error.message)
            response = refusal(error)
        if "standin.number" in environ:
            code = loads(response.get_data()).get("code") if response.is_json else None
            with self.lock:
                self.answers[environ["standin.number"]] = (response.status_code, code)
        return response(environ, start_response)

    def _record(self, request: Request, path: str, query: dict[str, str], body: Any) -> int:
        with self.lock:
            number = next(self._numbers)
            headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
            self.requests.append(
                RecordedRequest(
                    number,
                    request.method,
                    path,
                    query,
                    headers,
                    body,
                    query.get("organization_id"),
                    self.now(),
                )
            )
        return number

    def _admitted(self, organization_id: str | None, now: datetime) -> Organization:
        """The organization the request names, its limits counted; the caller holds the
        lock."""
        org = self.organizations.get(organization_id or "")
        if org is None:
            raise ApiError(
                400,
                6041,
                "This user is not associated with the CompanyID/CompanyName:"
                f"{organization_id or ''}.",
            )
        self.quota.admit(org, now, self.per_minute, self._quota_headers(org, now))
        return org

    def _quota_headers(self, org: Organization, now: datetime) -> dict[str, str]:
        return self.quota.headers(
            org, now, self.quota_reset_seconds, sent=self.send_rate_limit_headers
        )

    def _api(self, request: Request, environ: dict[str, Any]) -> Response:
        path = request.path.removeprefix("/books/v3")
        query = {k: v for k, v in request.args.items()}
        body = request_body(request)
        number = self._record(request, path, query, body)
        environ["standin.number"] = number
        fault = self.faults.take(number, request.method, path)
        faulted = fault_answer(fault, environ, self._stopping, self.hold_seconds)
        if faulted is not None:
            return faulted
        try:
            index, values = ROUTE_MAP.bind("stand-in").match(path, method=request.method)
        except MethodNotAllowed:
            raise ApiError(405, 37, "The HTTP method is not allowed for this resource.") from None
        except (NotFound, HTTPException):
            raise ApiError(404, 5, "Invalid URL Passed") from None
        route = ROUTES[index]
        org: Organization | None = None
        with self.lock:
            now = self.now()
            authorization = request.headers.get("Authorization")
            self.oauth.check(authorization, now, route.scope, route.operation)
            if route.organization:
                org = self._admitted(query.get("organization_id"), now)
                quota = self._quota_headers(org, now)
        call = Call(self, route, org, query, body, request.headers, dict(values))
        try:
            if fault == "hold":
                self.faults.holding.release()
                self.faults.released.wait(self.hold_seconds)
            with self.lock:
                status, answer = route.handler(call)
        finally:
            if org is not None:
                with self.lock:
                    self.quota.done(org.organization_id)
        if self.ids_as_numbers:
            answer = numeric_ids(answer)
        response = json_answer(status, answer)
        if fault == "drop":
            drop_connection(environ)
        if org is not None:
            response.headers.update(quota)
        return response
