"""A connection's runs, newest first: trigger, times, outcome, counts, API calls."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.host import Host
from core.store.models import Run
from core.store.repository import get_connection

__all__ = ["created_summary", "run_history"]


def run_history(host: Host, name: str, limit: int = 20) -> list[dict[str, Any]]:
    with host.database.session() as session:
        row = get_connection(session, name)
        runs = list(
            session.scalars(
                select(Run).where(Run.connection_id == row.id).order_by(Run.id.desc()).limit(limit)
            )
        )
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
