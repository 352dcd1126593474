"""Zoho Books' piece of the web page: Connect (datacenter, OAuth consent, organization picker)
and the account and item pickers of Settings.

The OAuth redirect comes back to this server's own callback, ``/plugins/zoho_books/callback``
(register that URI for the client in Zoho's API console). The ``state`` sent to Zoho is kept
in the operator's session and checked on the way back; the grant waits on the server (never
in a cookie) until an organization is chosen, and is revoked when it is not used.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from core.api import (
    AuthorizationFailed,
    Choice,
    ConnectionInfo,
    Host,
    LedgersyncError,
    SettingChoices,
    clock,
    load_connection,
)
from plugins.zoho_books.connecting import (
    OrganizationChoice,
    accounts_server,
    attach_organization,
    organizations,
    reachable,
    revoke_quietly,
)
from plugins.zoho_books.datacenters import DATACENTERS, endpoints_for
from plugins.zoho_books.destination import REQUIRED_TYPES, ZohoBooksDestination
from plugins.zoho_books.oauth import OAuthClient, TokenGrant

__all__ = ["ZohoBooksPages"]

PENDING_LIFETIME = timedelta(minutes=10)
STATE_KEY = "zoho_books_state"
PICK_KEY = "zoho_books_pick"


@dataclass
class _Pending:
    """One connect in progress: from the Connect click to the chosen organization."""

    name: str
    choice: OrganizationChoice
    accounts_url: str
    api_url: str
    started_at: datetime
    oauth: OAuthClient | None = None
    grant: TokenGrant | None = None
    organizations: list[dict[str, Any]] = field(default_factory=list)


def _type_label(account_type: str) -> str:
    return account_type.replace("_", " ").title()


class ZohoBooksPages:
    name: ClassVar[str] = "zoho_books"
    side: ClassVar[str] = "destination"
    title: ClassVar[str] = "Zoho Books"

    def __init__(self, host: Host) -> None:
        self.host = host
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()

    def blueprint(self) -> Blueprint:
        pages = Blueprint("zoho_books", __name__, template_folder="templates")
        pages.add_url_rule("/<name>/connect", view_func=self.start, methods=["POST"])
        pages.add_url_rule("/callback", view_func=self.callback)
        pages.add_url_rule("/organization", view_func=self.organization, methods=["GET", "POST"])
        return pages

    # -- the integration page's pieces ------------------------------------------------------

    def connect_form(self, connection: ConnectionInfo | None) -> str:
        config: dict[str, Any] = {}
        if connection is not None and connection.destination == self.name:
            config = self.host.destination_config(connection.name)
        return render_template(
            "zoho_books/connect.html",
            connection=connection,
            config=config,
            datacenters=DATACENTERS.values(),
            client_id=config.get("client_id") or os.environ.get("ZOHO_CLIENT_ID", ""),
            secret_in_environment=bool(os.environ.get("ZOHO_CLIENT_SECRET")),
        )

    def setting_choices(self, connection: str) -> Sequence[SettingChoices]:
        destination, calls = self.host.open_destination(connection)
        if not isinstance(destination, ZohoBooksDestination):
            return []
        connection_id = load_connection(self.host, connection).id
        try:
            accounts = destination.accounts()
            items = destination.items()
            taxes = destination.taxes()
        finally:
            with self.host.database.session() as db:
                calls.flush(db, connection_id)
        pickers = []
        for setting, (role, needed) in REQUIRED_TYPES.items():
            fitting = [a for a in accounts if a.account_type == needed]
            others = [a for a in accounts if a.account_type != needed]
            choices = tuple(
                Choice(a.account_id, a.account_name, a.account_type, a.is_active)
                for a in fitting + others
            )
            pickers.append(SettingChoices(setting, role.capitalize(), needed, choices))
        item_choices = tuple(Choice(i.item_id, i.name, "", i.is_active) for i in items)
        pickers.append(SettingChoices("item", "Default item", "", item_choices))
        if taxes:  # a tax-registered organization: the tax of every sales and credit line
            tax_choices = tuple(
                Choice(t.tax_id, f"{t.tax_name} {t.tax_percentage}%", "", t.is_active)
                for t in taxes
            )
            no_tax = Choice("none", "None: lines carry no tax", "", True)
            pickers.append(SettingChoices("tax", "Tax", "", (no_tax, *tax_choices)))
        return pickers

    # -- connect: start, callback, organization ---------------------------------------------

    def _sweep(self) -> None:
        """Forget connects left unfinished; revoke the tokens they were granted."""
        now = clock.now()
        with self._lock:
            stale = [k for k, p in self._pending.items() if now - p.started_at > PENDING_LIFETIME]
            dropped = [self._pending.pop(key) for key in stale]
        for pending in dropped:
            if pending.oauth is not None and pending.grant is not None:
                revoke_quietly(pending.oauth, str(pending.grant.refresh_token))

    def _back(self, name: str) -> Any:
        return redirect(url_for("pages.integration", name=name))

    def start(self, name: str) -> Any:
        self._sweep()
        form = request.form
        try:
            info = load_connection(self.host, name)
            client_id = (form.get("client_id") or os.environ.get("ZOHO_CLIENT_ID", "")).strip()
            secret = form.get("client_secret") or os.environ.get("ZOHO_CLIENT_SECRET", "")
            if not secret and info.destination == self.name:  # Reconnect: the stored one
                secret = self.host.vault(info.id).get("client_secret") or ""
            if not client_id or not secret:
                raise AuthorizationFailed(
                    "the Zoho client id and secret are both needed.",
                    "Create a Server-based client in Zoho's API console with this page's "
                    f"callback {url_for('.callback', _external=True)}, then paste both.",
                    side="destination",
                )
            endpoints = endpoints_for(
                form.get("datacenter") or "",
                accounts_url=(form.get("accounts_url") or "").strip() or None,
                api_url=(form.get("api_url") or "").strip() or None,
            )
        except LedgersyncError as error:
            flash(f"Zoho Books was not connected: {error}", "error")
            return self._back(name)
        state = secrets.token_urlsafe(24)
        choice = OrganizationChoice(str(form.get("datacenter")), client_id, secret)
        with self._lock:
            self._pending[state] = _Pending(
                name, choice, endpoints.accounts_url, endpoints.api_url, clock.now()
            )
        session[STATE_KEY] = state
        oauth = OAuthClient(endpoints.accounts_url, client_id, secret, connection_name=name)
        return redirect(oauth.authorize_url(url_for(".callback", _external=True), state))

    def callback(self) -> Any:
        self._sweep()
        state = request.args.get("state", "")
        expected = session.pop(STATE_KEY, None)
        with self._lock:
            pending = self._pending.get(state) if expected else None
        if pending is None or not secrets.compare_digest(state, str(expected)):
            reason = (
                "Zoho's answer carried the wrong state; it was not started by this page "
                "(or it expired). Click Connect again."
            )
            return render_template("zoho_books/refused.html", reason=reason), 400
        if "error" in request.args or "code" not in request.args:
            with self._lock:
                self._pending.pop(state, None)
            error = request.args.get("error", "no code")
            flash(f"Zoho did not grant access ({error}). Click Connect and accept.", "error")
            return self._back(pending.name)
        try:
            self._exchange(pending, request.args["code"], request.args.get("accounts-server"))
        except LedgersyncError as error:
            with self._lock:
                self._pending.pop(state, None)
            if pending.oauth is not None and pending.grant is not None:
                revoke_quietly(pending.oauth, str(pending.grant.refresh_token))
            flash(f"Zoho Books was not connected: {error}", "error")
            return self._back(pending.name)
        session[PICK_KEY] = state
        return redirect(url_for(".organization"))

    def _exchange(self, pending: _Pending, code: str, announced: str | None) -> None:
        server = accounts_server(pending.accounts_url, announced)
        choice = pending.choice
        oauth = OAuthClient(
            server, choice.client_id, choice.client_secret, connection_name=pending.name
        )
        grant = oauth.exchange_code(code, url_for(".callback", _external=True))
        pending.oauth, pending.grant = oauth, grant
        pending.api_url = grant.api_domain or pending.api_url
        pending.organizations = organizations(pending.api_url, grant)
        if not pending.organizations:
            reachable([], "")  # raises: this Zoho account has no Zoho Books organization

    def organization(self) -> Any:
        key = str(session.get(PICK_KEY, ""))
        with self._lock:
            pending = self._pending.get(key)
        if pending is None or pending.grant is None or pending.oauth is None:
            reason = "No Zoho authorization is waiting for an organization. Click Connect again."
            return render_template("zoho_books/refused.html", reason=reason), 400
        if request.method == "GET":
            return render_template("zoho_books/organization.html", pending=pending)
        with self._lock:
            self._pending.pop(key, None)
        session.pop(PICK_KEY, None)
        try:
            chosen = reachable(pending.organizations, request.form.get("organization", ""))
            attach_organization(
                self.host,
                pending.name,
                oauth=pending.oauth,
                grant=pending.grant,
                api_url=pending.api_url,
                organization=chosen,
                choice=pending.choice,
            )
        except LedgersyncError as error:
            revoke_quietly(pending.oauth, str(pending.grant.refresh_token))
            flash(f"Zoho Books was not connected: {error}", "error")
            return self._back(pending.name)
        flash(
            f"Connected {pending.name} to Zoho Books organization {chosen.get('name')} "
            f"({chosen['organization_id']}). Next: map the accounts in Settings.",
            "info",
        )
        return self._back(pending.name)
