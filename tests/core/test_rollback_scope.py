"""What a rollback takes: a group (documents sharing a record) is taken whole, however a
mapper groups records (here a daily payment and a daily fee expense over per-charge invoices,
as `--payments daily` / `--fees daily` do), and what depends on a taken document goes with it;
each group is deleted in reverse dependency order."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import ClassVar

import pytest
from sqlalchemy import select

from core.contracts import MappingContext
from core.documents import CreditNote, Document, Expense, Invoice, Payment
from core.host import Host
from core.records import Charge, Record, Refund
from core.store.models import Connection, DocumentRow, SyncPeriod
from core.sync.ingest import store_items
from core.sync.planning import plan_connection
from core.sync.rollback_scope import Scope, close_over, groups, in_scope

ENABLED = datetime(2026, 3, 1, tzinfo=UTC)
MORNING = datetime(2026, 3, 2, 2, tzinfo=UTC)


def _charge(source_id: str, at: datetime = MORNING) -> Charge:
    return Charge(
        source_id=source_id,
        created_at=at,
        currency="SGD",
        amount=Decimal("100.00"),
        fee=Decimal("3.50"),
        fee_currency="SGD",
        channel="payment_link",
        raw_channel="payment_link",
        raw={"id": source_id},
    )


def _planned(host: Host, records: list[Record], now: datetime) -> tuple[int, dict[str, int]]:
    with host.database.session() as session:
        row = Connection(
            name="shop", source="hitpay", created_at=ENABLED, source_config={},
            source_state={}, destination_config={}, settings={}, notify_emails=[],
            timezone="Asia/Singapore", mode="individual",
        )  # fmt: skip
        session.add(row)
        session.flush()
        session.add(SyncPeriod(connection_id=row.id, started_at=ENABLED))
        store_items(session, row.id, records, MORNING)
    with host.database.session() as session:
        plan_connection(session, row.id, DailyGroupsMapper(), now)  # type: ignore[arg-type]
    with host.database.session() as session:
        ids = {
            key: row_id for key, row_id in session.execute(select(DocumentRow.key, DocumentRow.id))
        }
    return row.id, ids


class DailyGroupsMapper:
    """Per charge an invoice; per day one payment and one fee expense covering all of them;
    a refund's credit note against its charge's invoice."""

    name: ClassVar[str] = "daily-groups"
    description: ClassVar[str] = "test"

    def plan(self, records: Iterable[Record], context: MappingContext) -> Iterable[Document]:
        charges = [r for r in records if isinstance(r, Charge)]
        refunds = [r for r in records if isinstance(r, Refund)]
        out: list[Document] = []
        for c in charges:
            day = c.created_at.astimezone(context.timezone).date()
            out.append(Invoice(f"t:{c.source_id}:invoice", day, "SGD", c.amount, (c.source_id,)))
        if charges:
            day = charges[0].created_at.astimezone(context.timezone).date()
            ids = tuple(c.source_id for c in charges)
            total = sum((c.amount for c in charges), Decimal(0))
            fees = sum((c.fee or Decimal(0) for c in charges), Decimal(0))
            out.append(Payment(f"t:{day}:payment", day, "SGD", total, ids))
            out.append(Expense(f"t:{day}:expense", day, "SGD", fees, ids))
        for r in refunds:
            day = r.created_at.astimezone(context.timezone).date()
            out.append(
                CreditNote(
                    f"t:{r.source_id}:credit_note", day, "SGD", r.amount, (r.source_id,),
                    invoice_key=f"t:{r.charge_id}:invoice",
                )
            )  # fmt: skip
        return out


@pytest.fixture
def host(any_host: Host) -> Host:
    return any_host


def test_one_invoice_takes_its_daily_payment_and_fee_and_so_every_invoice_they_cover(
    host: Host,
) -> None:
    records: list[Record] = [_charge("a"), _charge("b", MORNING + timedelta(hours=1))]
    cid, ids = _planned(host, records, MORNING + timedelta(days=2))
    with host.database.session() as session:
        taken = close_over(session, cid, {ids["t:a:invoice"]}, states=("planned",))
        parts = groups(session, taken)
    assert {doc.key for doc in taken} == set(ids)  # the whole day, whatever was named
    assert [doc.key for doc in taken if doc.in_scope] == ["t:a:invoice"]
    assert len(parts) == 1
    kinds = [doc.kind for doc in parts[0]]
    first_invoice = kinds.index("invoice")
    assert kinds.index("payment") < first_invoice and kinds.index("expense") < first_invoice


def test_a_credit_note_dated_later_goes_with_its_invoice_and_another_day_stays_apart(
    host: Host,
) -> None:
    later = MORNING + timedelta(days=3)
    refund = Refund(
        source_id="r", charge_id="a", created_at=later, currency="SGD", amount=Decimal("10.00")
    )
    cid, _ = _planned(host, [_charge("a"), _charge("z", later), refund], later + timedelta(days=1))
    day = MORNING.date() + timedelta(days=0)
    with host.database.session() as session:
        named = in_scope(session, cid, Scope(since=day, until=day))
        taken = close_over(session, cid, named, states=("planned",))
        parts = groups(session, taken)
    keys = {doc.key for doc in taken}
    assert "t:r:credit_note" in keys  # dated later, but it points at a taken invoice
    assert "t:z:invoice" not in keys  # another day's group stays
    assert parts[0][0].kind == "credit_note"  # deleted before the invoice it points at
