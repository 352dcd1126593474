"""HitPay's piece of the web page: the Connect HitPay card (API key, sandbox, time zone)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from flask import Blueprint, flash, redirect, render_template, request, url_for

from core.api import (
    ConnectionInfo,
    EventRefused,
    Host,
    LedgersyncError,
    SettingChoices,
    SourceEvent,
)
from plugins.hitpay_source.connecting import api_url_for, connect_business, where
from plugins.hitpay_source.webhooks import API_SALT, SALT, read_event

__all__ = ["HitPayPages"]


class HitPayPages:
    """The Connect HitPay form; the key is checked with a real call, then stored encrypted
    (the page only ever says that one is stored)."""

    name: ClassVar[str] = "hitpay"
    side: ClassVar[str] = "source"
    title: ClassVar[str] = "HitPay"

    def __init__(self, host: Host) -> None:
        self.host = host

    def blueprint(self) -> Blueprint:
        pages = Blueprint("hitpay", __name__, template_folder="templates")
        pages.add_url_rule("/connect", view_func=self.connect, methods=["POST"])
        return pages

    def connect_form(self, connection: ConnectionInfo | None) -> str:
        stored = False
        api_url = ""
        if connection is not None and connection.status != "disconnected":
            stored = self.host.vault(connection.id).get("api_key") is not None
        return render_template(
            "hitpay/connect.html", connection=connection, stored=stored, api_url=api_url
        )

    def setting_choices(self, connection: str) -> Sequence[SettingChoices]:
        return []

    def webhook_secret_stored(self, connection: ConnectionInfo) -> bool:
        return self.host.vault(connection.id).get(SALT) is not None

    def receive_event(
        self, connection: ConnectionInfo, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> SourceEvent:
        vault = self.host.vault(connection.id)
        salt = vault.get(SALT)
        if salt is None:
            raise EventRefused(404, "webhooks are not set up for this connection")
        return read_event(salt, headers, body, now, api_salt=vault.get(API_SALT))

    def connect(self) -> Any:
        form = request.form
        name = (form.get("name") or "").strip()
        back = (
            url_for("pages.integration", name=name)
            if form.get("existing") == "1"
            else url_for("pages.new_connection")
        )
        if not name:
            flash("Give the connection a name, e.g. shop.", "error")
            return redirect(back)
        try:
            url = api_url_for(
                form.get("sandbox") == "on", (form.get("api_url") or "").strip() or None
            )
            connection = connect_business(
                self.host,
                name,
                api_key=form.get("api_key") or "",
                api_url=url,
                timezone=(form.get("timezone") or "").strip() or None,
            )
        except LedgersyncError as error:
            flash(f"HitPay was not connected: {error}", "error")
            return redirect(back)
        flash(
            f"Connected {connection.name} to HitPay ({where(url)}); the key works and is stored "
            f"encrypted. Business time zone: {connection.timezone.key}.",
            "info",
        )
        return redirect(url_for("pages.integration", name=connection.name))
