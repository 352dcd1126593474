"""A destination that cannot delete says so in its capabilities, and the host refuses a rollback
that would need it before deleting anything: the file journal (append-only, no ``delete``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from core.connections.lifecycle import change_settings, enable
from core.connections.setup import attach_destination, connect_source
from core.errors import ConfigurationError
from core.host import Host
from core.store.models import DocumentRow, Run
from core.sync.engine import SyncOptions, sync
from core.sync.undo import Scope, rollback
from file_journal.test_file_journal_end_to_end import ACCOUNTS, FAST, START, ZONE
from plugins.hitpay_source.source import key_fingerprint
from plugins.hitpay_source.testing.standin import HitPayStandIn


@pytest.fixture
def standin() -> Iterator[HitPayStandIn]:
    with HitPayStandIn(timezone=str(ZONE)) as server:
        yield server


def test_a_rollback_the_journal_cannot_delete_is_refused_before_anything_is_deleted(
    host: Host, secret_key: str, standin: HitPayStandIn, tmp_path: Path
) -> None:
    standin.add_charge(amount=Decimal("120.50"), created_at=START + timedelta(hours=9))
    journal = tmp_path / "books.beancount"
    connect_source(
        host,
        "shop",
        source="hitpay",
        source_account=key_fingerprint(standin.api_key),
        config={"api_url": standin.url, **FAST},
        secrets={"api_key": standin.api_key},
        timezone=str(ZONE),
    )
    attach_destination(
        host,
        "shop",
        destination="file_journal",
        organization=str(journal),
        config={"path": str(journal), "format": "beancount"},
        secrets={},
    )
    change_settings(host, "shop", ACCOUNTS)
    enable(host, "shop", since=START, now=START)
    report = sync(host, "shop", SyncOptions(trigger="scheduled", now=START + timedelta(days=2)))
    assert report.outcome == "succeeded", report.error
    written = journal.read_bytes()

    for dry_run in (True, False):
        with pytest.raises(ConfigurationError, match=r"cannot delete .* nothing was deleted"):
            rollback(host, "shop", Scope(since=START.date()), dry_run=dry_run)

    assert journal.read_bytes() == written
    with host.database.session() as session:
        states = set(session.scalars(select(DocumentRow.state)))
        triggers = set(session.scalars(select(Run.trigger)))
    assert states == {"delivered"}
    assert "rollback" not in triggers
