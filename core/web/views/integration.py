"""A connection's integration page: both sides' Connect cards, Settings, Sync Now, Disconnect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from markupsafe import Markup

from core import clock
from core.connections.lifecycle import disable, disconnect, enable
from core.connections.settings import SettingsChange, SettingsRejected, change_settings
from core.contracts import ConnectionInfo
from core.errors import ConfigurationError, LedgersyncError
from core.pages import PluginPages, SettingChoices
from core.reports.status import status_rows
from core.states import ConnectionStatus
from core.store.repository import get_connection
from core.web.views.common import (
    app_host,
    clock_time,
    connection_or_404,
    form_value,
    local,
    pages,
    plugin_pages,
    runner,
    split_addresses,
)

ACCOUNT_LABELS = {
    "sales_account": "Sales Account",
    "fee_account": "Fee Account",
    "refund_account": "Refund Account",
    "bank_account": "Bank Account",
    "item": "Default Item",
}


def _card(piece: PluginPages, info: ConnectionInfo) -> tuple[str, Markup]:
    try:
        form = Markup(piece.connect_form(info))
    except LedgersyncError as error:  # e.g. credentials stored with another secret key
        form = Markup('<p class="problem">{}</p>').format(str(error))
    return f"Connect {piece.title}", form


def _connect_cards(info: ConnectionInfo) -> list[tuple[str, Markup]]:
    pieces = plugin_pages()
    cards: list[tuple[str, Markup]] = []
    source = pieces.get(info.source)
    if source is not None:
        cards.append(_card(source, info))
    for piece in pieces.values():
        if piece.side != "destination":
            continue
        if info.destination and piece.name != info.destination:
            continue
        cards.append(_card(piece, info))
    return cards


def _pickers(info: ConnectionInfo) -> tuple[Sequence[SettingChoices], str]:
    """The destination's account pickers, or none (plain id fields) and why."""
    if not info.destination or info.status == ConnectionStatus.DISCONNECTED:
        return [], ""
    piece: PluginPages | None = plugin_pages().get(info.destination)
    if piece is None:
        return [], ""
    try:
        return piece.setting_choices(info.name), ""
    except LedgersyncError as error:
        return [], f"The account lists could not be read: {error}"


def _values(info: ConnectionInfo, sync_time: str | None) -> dict[str, Any]:
    return {
        **{role: getattr(info.settings, role) or "" for role in ACCOUNT_LABELS},
        "tax": info.settings.extra.get("tax", ""),
        "mode": info.mode,
        "channels": list(info.channels or []),
        "all_channels": info.channels is None,
        "timezone": info.timezone.key,
        "sync_time": sync_time or "02:00",
        "notify_email": ", ".join(info.notify_emails),
        "enabled": info.enabled,
    }


def _submitted(form: Any) -> dict[str, Any]:
    return {
        **{role: form.get(role, "") for role in ACCOUNT_LABELS},
        "tax": form.get("tax", ""),
        "mode": form.get("mode", "bulk"),
        "channels": form.getlist("channels"),
        "all_channels": bool(form.get("all_channels")) or not form.getlist("channels"),
        "timezone": form.get("timezone", ""),
        "sync_time": form.get("sync_time", ""),
        "notify_email": form.get("notify_email", ""),
        "enabled": form.get("enabled") == "on",
    }


def render_integration(
    name: str, *, submitted: Any = None, problems: Sequence[str] = (), status_code: int = 200
) -> Any:
    host = app_host()
    info = connection_or_404(name)
    status = status_rows(host, name)[0]
    with host.database.session() as session:
        sync_time = get_connection(session, name).sync_time
    pickers, picker_error = _pickers(info)
    now = clock.now()
    next_manual = status["next_manual_sync_allowed"]
    sync_blocked = next_manual is not None and next_manual > now
    values = _submitted(submitted) if submitted is not None else _values(info, sync_time)
    page = render_template(
        "integration.html",
        info=info,
        status=status,
        cards=_connect_cards(info),
        pickers=pickers,
        picker_error=picker_error,
        labels=ACCOUNT_LABELS,
        channels=sorted(host.plugins.source(info.source).channels.items(), key=lambda c: c[1]),
        values=values,
        problems=problems,
        last_sync=local(status["last_sync"], info.timezone),
        next_sync=local(status["next_scheduled_sync"], info.timezone, "not scheduled"),
        sync_blocked=sync_blocked,
        next_manual=clock_time(next_manual, info.timezone, now) if sync_blocked else "",
        progress=runner().progress(name),
        reconciled_at=_reconciled_at(status.get("last_reconcile"), info),
    )
    return page, status_code


def _reconciled_at(last: dict[str, Any] | None, info: ConnectionInfo) -> str:
    return local(datetime.fromisoformat(last["at"]), info.timezone) if last else ""


@pages.route("/connections/<name>")
def integration(name: str) -> Any:
    return render_integration(name)


def _change(form: Any) -> SettingsChange:
    channels = form.getlist("channels")
    return SettingsChange(
        sales_account=form_value(form, "sales_account"),
        fee_account=form_value(form, "fee_account"),
        refund_account=form_value(form, "refund_account"),
        bank_account=form_value(form, "bank_account"),
        item=form_value(form, "item"),
        tax=form_value(form, "tax"),
        mode=form_value(form, "mode"),
        channels=["all"] if form.get("all_channels") or not channels else channels,
        timezone=form_value(form, "timezone"),
        sync_time=form_value(form, "sync_time"),
        notify_emails=split_addresses(form.get("notify_email", "")),
    )


@pages.route("/connections/<name>/settings", methods=["POST"])
def save_settings(name: str) -> Any:
    """Save: every problem is shown at once, in the CLI's words; nothing is saved then."""
    host = app_host()
    info = connection_or_404(name)
    try:
        change_settings(host, name, _change(request.form))
    except SettingsRejected as rejected:
        problems = [str(problem) for problem in rejected.problems]
        return render_integration(name, submitted=request.form, problems=problems, status_code=422)
    except ConfigurationError as error:
        return render_integration(
            name, submitted=request.form, problems=[str(error)], status_code=422
        )
    wanted = request.form.get("enabled") == "on"
    try:
        if wanted and not info.enabled:
            period = enable(host, name)
            flash(
                f"Sync enabled: charges created from {local(period.started_at, info.timezone)} "
                "on are synced. Historical charges are not.",
                "info",
            )
        elif not wanted and info.enabled:
            disable(host, name)
            flash("Sync disabled. Charges created while disabled will not sync.", "info")
    except ConfigurationError as error:
        flash("Settings saved.", "info")
        return render_integration(name, problems=[str(error)], status_code=422)
    flash("Settings saved.", "info")
    return redirect(url_for("pages.integration", name=name))


@pages.route("/connections/<name>/sync", methods=["POST"])
def sync_now(name: str) -> Any:
    connection_or_404(name)
    runner().start(name)
    return redirect(url_for("pages.sync_progress", name=name))


@pages.route("/connections/<name>/sync")
def sync_progress(name: str) -> Any:
    info = connection_or_404(name)
    progress = runner().progress(name)
    return render_template("sync_progress.html", info=info, progress=progress)


@pages.route("/connections/<name>/disconnect", methods=["GET", "POST"])
def disconnect_connection(name: str) -> Any:
    info = connection_or_404(name)
    if request.method == "GET":
        return render_template("disconnect.html", info=info)
    notes = disconnect(app_host(), name)
    flash(f"Disconnected {name}. Its history is kept; reconnect at any time.", "info")
    for note in notes:
        flash(note, "info")
    return redirect(url_for("pages.integration", name=name))
