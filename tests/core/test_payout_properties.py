"""Payout planning properties: one transfer per payout for its full amount, and the clearing
account always holds exactly what the gateway still owes the merchant of what was booked.

A random wallet is simulated the way HitPay's backend keeps it (docs/vendor-facts.md,
hitpay.payouts.amount_semantics): sales credit their amount net of fees, refunds take their
full amount, adjustments add or take money, and a payout pays out the whole balance before
it. Charges before the sync was enabled exist at the gateway but are never stored. After
planning (all days closed), per currency:

- Σ transfers = Σ payouts booked, one transfer each, for the payout's amount;
- clearing = Σ(charges - fees - refunds) - Σ transfers + Σ adjustments, computed from the
  planned documents, equals what is still unpaid of the booked sales and refunds.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from test_planning import ENABLED, make_connection

from core.contracts import AccountSettings
from core.documents import document_from_dict
from core.host import Host
from core.mapping.bulk import BulkMapper
from core.mapping.individual import IndividualMapper
from core.records import Charge, Payout, Refund
from core.store.models import DocumentRow
from core.sync.ingest import store_items
from core.sync.payouts import plan_payouts
from core.sync.planning import plan_connection

SETTINGS = AccountSettings(payout_account="payout-bank", adjustment_account="adjustments")
LATER = ENABLED + timedelta(days=40)

event = st.one_of(
    st.tuples(st.just("charge"), st.integers(-3, 20), st.integers(100, 20000), st.integers(0, 99)),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 100), st.just(0)),
    st.tuples(st.just("adjust"), st.integers(0, 20), st.integers(-500, 500), st.just(0)),
    st.tuples(st.just("payout"), st.integers(0, 20), st.just(0), st.just(0)),
)


def _cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


@pytest.mark.parametrize("mapper", [BulkMapper, IndividualMapper], ids=["bulk", "individual"])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=st.lists(event, min_size=1, max_size=15))
def test_transfers_equal_payouts_and_clearing_holds_what_is_still_owed(
    host: Host, mapper: type, events: list[tuple[str, int, int, int]]
) -> None:
    cid = make_connection(host, timezone="UTC")
    records: list[Charge | Refund | Payout] = []
    wallet: list[tuple[str, str, Decimal, datetime, bool]] = []  # kind, id, signed, at, booked
    paid: set[int] = set()
    charges: list[tuple[Charge, bool]] = []
    refunded: Counter[str] = Counter()
    payouts: list[Payout] = []
    timed = sorted(
        (
            ENABLED + timedelta(days=day, hours=1 + serial % 20, minutes=minute % 60),
            serial,
            kind,
            value,
        )
        for serial, (kind, day, value, minute) in enumerate(events)
    )
    for at, serial, kind, value in timed:
        if kind == "charge":
            amount, fee = _cents(value), (_cents(value) * Decimal("0.03")).quantize(Decimal("0.01"))
            made = Charge(f"c{serial}", at, "SGD", amount, fee, "SGD", "payment_link")
            booked = at >= ENABLED
            charges.append((made, booked))
            wallet.append(("charge", made.source_id, amount - fee, at, booked))
            if booked:
                records.append(made)
        elif kind == "refund" and charges:
            target, booked = charges[value % len(charges)]
            left = target.amount - Decimal(refunded[target.source_id])
            amount = min(left, _cents(value * 37))
            if amount <= 0 or at < target.created_at:
                continue
            refunded[target.source_id] += amount  # type: ignore[assignment]
            wallet.append(("refund", f"r{serial}", -amount, at, booked))
            if booked:
                records.append(Refund(f"r{serial}", target.source_id, at, "SGD", amount))
        elif kind == "adjust" and value:
            wallet.append(("adjust", f"a{serial}", _cents(value), at, False))
        elif kind == "payout":
            due = [i for i, m in enumerate(wallet) if i not in paid and m[3] < at]
            amount = sum((wallet[i][2] for i in due), Decimal(0))
            if amount <= 0 or at < ENABLED:
                continue
            paid.update(due)
            settled = tuple(wallet[i][1] for i in due if wallet[i][0] == "charge")
            nets = {wallet[i][1]: wallet[i][2] for i in due if wallet[i][0] == "charge"}
            payout = Payout(f"p{serial}", at, "SGD", amount, settled, nets)
            payouts.append(payout)
            records.append(payout)
    with host.database.session() as session:
        store_items(session, cid, records, LATER)
    with host.database.session() as session:
        plan_connection(session, cid, mapper(), LATER)
        outcome = plan_payouts(session, cid, SETTINGS, LATER)
    assert outcome.held == {} and outcome.waiting == 0
    with host.database.session() as session:
        planned = [
            document_from_dict(row.body)
            for row in session.scalars(select(DocumentRow).where(DocumentRow.connection_id == cid))
        ]
    transfers = {d.record_ids[0]: d.amount for d in planned if d.kind.value == "transfer"}
    assert transfers == {p.source_id: p.amount for p in payouts}
    clearing = Decimal(0)
    for document in planned:
        sign = {"payment": 1, "expense": -1, "credit_refund": -1, "transfer": -1}.get(
            document.kind.value, 0
        )
        if document.kind.value == "adjustment":
            sign = 1 if document.into_clearing else -1  # type: ignore[attr-defined]
        clearing += sign * document.amount
    owed = sum((m[2] for i, m in enumerate(wallet) if i not in paid and m[4]), Decimal(0))
    assert clearing == owed
