"""The host is generic: HitPay's stand-in -> the host's sync -> a Beancount journal, exactly once.

No line of core/ knows the journal; the connection names it and the host builds it through its
entry point, exactly as it builds Zoho Books.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from core.connections.lifecycle import enable
from core.connections.settings import SettingsChange, change_settings
from core.connections.setup import attach_destination, connect_source
from core.host import Host
from core.store.models import Binding, DocumentRow
from core.sync.engine import SyncOptions, sync
from plugins.file_journal.testing.harness import read_beancount
from plugins.hitpay_source.source import key_fingerprint
from plugins.hitpay_source.testing.standin import HitPayStandIn

ZONE = ZoneInfo("Asia/Singapore")
START = datetime(2026, 3, 2, tzinfo=ZONE)
FAST = {"backoff_factor": 0, "attempts": 3, "connect_timeout": 2, "read_timeout": 2}
ACCOUNTS = SettingsChange(
    sales_account="Income:Sales",
    fee_account="Expenses:HitPay-Fees",
    refund_account="Liabilities:Refunds",
    bank_account="Assets:HitPay-Clearing",
    item="unused by journals",
)


@pytest.fixture
def standin() -> Iterator[HitPayStandIn]:
    with HitPayStandIn(timezone=str(ZONE)) as server:
        yield server


def payout_by_currency(standin: HitPayStandIn) -> dict[str, Decimal]:
    """What HitPay pays out: charges - fees - refunds, per currency (one currency per charge)."""
    payout: dict[str, Decimal] = defaultdict(Decimal)
    for charge in standin.charges():
        fees = Decimal(charge["fixed_fee"]) + Decimal(charge["discount_fee"])
        refunded = Decimal(charge["refunded_amount"])
        payout[charge["currency"].upper()] += Decimal(charge["amount"]) - fees - refunded
    return dict(payout)


def clearing_by_currency(path: Path) -> dict[str, Decimal]:
    from beancount import loader

    entries, errors, _ = loader.load_file(str(path))
    assert not errors, [error.message for error in errors]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        for posting in getattr(entry, "postings", []):
            if posting.account == "Assets:HitPay-Clearing":
                totals[posting.units.currency] += posting.units.number
    return dict(totals)


def test_a_sync_writes_the_journal_once_and_recovers_a_lost_answer_by_key(
    host: Host, secret_key: str, standin: HitPayStandIn, tmp_path: Path
) -> None:
    for number, (currency, amount) in enumerate(
        [("sgd", "120.50"), ("jpy", "4800"), ("sgd", "15.00"), ("usd", "42.10")] * 2
    ):
        standin.add_charge(
            amount=Decimal(amount),
            currency=currency,
            created_at=START + timedelta(hours=9 + 7 * number),
            channel="point_of_sale",
        )
    first = standin.charges()[0]["id"]
    standin.refund(first, Decimal("20.50"), at=START + timedelta(hours=20))

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

    now = START + timedelta(days=4)
    report = sync(host, "shop", SyncOptions(trigger="scheduled", now=now))
    assert report.outcome == "succeeded", report.error
    assert report.documents_delivered["credit_refund"] == 1
    assert clearing_by_currency(journal) == payout_by_currency(standin)
    written = journal.read_bytes()
    keys = read_beancount(journal)
    assert len(keys) == len(set(keys)) == sum(report.documents_delivered.values())

    again = sync(host, "shop", SyncOptions(trigger="scheduled", now=now + timedelta(hours=1)))
    assert again.outcome == "succeeded", again.error
    assert journal.read_bytes() == written  # appending only what is new: nothing

    # The journal got the payment but the process died before the store recorded it: the
    # document is planned again with one attempt counted and no binding.
    with host.database.session() as session:
        row = session.scalars(select(DocumentRow).where(DocumentRow.kind == "payment")).first()
        assert row is not None
        row.state, row.attempts, row.delivered_at = "planned", 1, None
        session.execute(delete(Binding).where(Binding.key == row.key))
    recovered = sync(host, "shop", SyncOptions(trigger="scheduled", now=now + timedelta(hours=2)))
    assert recovered.outcome == "succeeded", recovered.error
    assert recovered.recovered == 1
    assert journal.read_bytes() == written
    with host.database.session() as session:
        binding = session.scalar(select(Binding).where(Binding.key == row.key))
        assert binding is not None and binding.recovered and binding.remote_id == row.key
