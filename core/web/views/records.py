"""What a connection did: history, the ledger (filters, CSV), the quarantine, and why."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, render_template, request

from core.reports.history import created_summary, run_history
from core.reports.ledger import LedgerFilter, ledger_csv, ledger_rows
from core.sync.diagnosis import explain_charge
from core.sync.quarantine import quarantined
from core.web.views.common import app_host, connection_or_404, local, pages

LEDGER_PAGE = 500
FILTER_ARGS = ("kind", "state", "currency", "from", "to", "key")


@pages.route("/connections/<name>/history")
def history(name: str) -> Any:
    info = connection_or_404(name)
    runs = run_history(app_host(), name, limit=100)
    for run in runs:
        run["created"] = created_summary(run["counts"])
        run["started"] = local(run["started_at"], info.timezone)
    return render_template("history.html", info=info, runs=runs)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _ledger_filter(args: Any) -> LedgerFilter:
    return LedgerFilter(
        kind=args.get("kind") or None,
        state=args.get("state") or None,
        currency=args.get("currency") or None,
        date_from=_day(args.get("from")),
        date_to=_day(args.get("to")),
        key_contains=(args.get("key") or "").strip() or None,
    )


@pages.route("/connections/<name>/ledger")
def ledger(name: str) -> Any:
    info = connection_or_404(name)
    where = _ledger_filter(request.args)
    rows = ledger_rows(app_host(), name, where, limit=LEDGER_PAGE + 1)
    return render_template(
        "ledger.html",
        info=info,
        rows=rows[:LEDGER_PAGE],
        more=len(rows) > LEDGER_PAGE,
        where=where,
        args={k: v for k, v in request.args.items() if k in FILTER_ARGS and v},
    )


@pages.route("/connections/<name>/ledger.csv")
def ledger_download(name: str) -> Response:
    connection_or_404(name)
    rows = ledger_rows(app_host(), name, _ledger_filter(request.args))
    return Response(
        ledger_csv(rows, for_spreadsheets=True),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="ledger-{_safe_file(name)}.csv"'},
    )


def _safe_file(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:60] or "connection"


@pages.route("/connections/<name>/quarantine")
def quarantine(name: str) -> Any:
    info = connection_or_404(name)
    rows = quarantined(app_host(), name)
    for row in rows:
        row["first"] = local(row["first_seen"], info.timezone)
        row["last"] = local(row["last_seen"], info.timezone)
    return render_template("quarantine.html", info=info, rows=rows)


@pages.route("/connections/<name>/why")
def why(name: str) -> Any:
    info = connection_or_404(name)
    charge = (request.args.get("charge") or "").strip()
    lines = explain_charge(app_host(), name, charge) if charge else []
    return render_template("why.html", info=info, charge=charge, lines=lines)
