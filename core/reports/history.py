"""A connection's runs, newest first: trigger, times, outcome, counts, API calls."""

from __future__ import annotations

from typing import Any

from core.host import Host
from core.store.repository import get_connection
from core.store.run_history import latest_runs
from core.sync.engine import SyncReport

__all__ = ["created_summary", "report_lines", "run_history"]


def run_history(host: Host, name: str, limit: int = 20) -> list[dict[str, Any]]:
    with host.database.session() as session:
        row = get_connection(session, name)
        runs = latest_runs(session, row.id, limit)
        return [
            {
                "run": run.id,
                "trigger": run.trigger,
                "forced": run.forced,
                "dry_run": run.dry_run,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "outcome": run.outcome,
                "counts": run.counts,
                "skipped": run.skipped,
                "api_calls": run.api_calls,
                "quarantined": run.quarantined,
                "error": run.error,
            }
            for run in runs
        ]


def created_summary(counts: dict[str, Any] | None) -> str:
    """``"1 invoice, 2 payment"`` from a run's counts, or ``"nothing new"``."""
    delivered = (counts or {}).get("delivered", {})
    return ", ".join(f"{n} {k}" for k, n in sorted(delivered.items())) or "nothing new"


def report_lines(report: SyncReport) -> list[str]:
    """What one sync did, in lines for people (the CLI prints them, the page shows them)."""
    lines = [f"Sync of {report.connection}: {report.outcome}"]
    lines.append(f"  fetched {report.fetched} record(s), quarantined {report.quarantined}")
    if report.documents_planned:
        planned = ", ".join(f"{n} {k}" for k, n in sorted(report.documents_planned.items()))
        lines.append(f"  planned: {planned}")
    if report.documents_delivered:
        made = ", ".join(f"{n} {k}" for k, n in sorted(report.documents_delivered.items()))
        lines.append(f"  created: {made}")
    if report.adopted:
        found = ", ".join(f"{n} {k}" for k, n in sorted(report.adopted.items()))
        lines.append(f"  adopted (already in the books under their keys, not created): {found}")
    if report.recovered:
        lines.append(f"  recovered by key after an interrupted attempt: {report.recovered}")
    for key, reason in report.failed_documents:
        lines.append(f"  rejected {key}: {reason}")
    for reason, count in sorted(report.skipped.items()):
        lines.append(f"  skipped {count}: {reason}")
    for channel, count in sorted(report.unknown_channels.items()):
        lines.append(f"  unknown channel {channel!r}: {count} charge(s)")
    held: dict[str, int] = {}
    for reason in report.held_payouts.values():
        held[reason] = held.get(reason, 0) + 1
    for reason, count in sorted(held.items()):
        lines.append(f"  payouts held: {count}: {reason}" if count > 1 else f"  held: {reason}")
    if report.pending:
        lines.append(f"  still to deliver: {report.pending} (the next sync continues)")
    lines.append(f"  API calls: {report.api_calls}")
    if report.error:
        lines.append(f"  {report.error}")
    return lines
