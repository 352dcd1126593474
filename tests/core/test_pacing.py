"""Pacing (issue 17 item 3): when the work is larger than a day's share of the destination's
API quota, delivery pauses between units, never inside one.

Charges over a few business days are planned by Individual mode (with and without the daily
groupings) into a real outbox; delivery runs day after day against in-memory books, each day
with a share of S calls (the budget the engine gives it, ``share_guard``'s rule). At every
pause, each charge is booked whole (invoice, payment, fee expense; with ``--payments daily``
the day's invoices with their shared payment) or not at all, whenever its group fits in a
day's share; a refund's credit note and its refund likewise. No day spends more than S calls
(a group larger than S goes one call at a time), and the last day leaves every document
booked exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from support.budget import examples
from support.databases import add_connection
from support.memory_books import MemoryBooks, memory_destination
from test_delivery import SETTINGS, plan

from core.contracts import ChargeDocuments, MappingContext
from core.documents import CreditNote, CreditRefund, Document, Payment
from core.errors import DailyLimitReached
from core.mapping.daily import DAILY
from core.mapping.individual import IndividualMapper
from core.records import Charge, Refund
from core.store.database import Database, open_database
from core.store.models import Connection
from core.store.repository import connection_info
from core.sync.delivery import deliver_planned
from core.sync.pacing import delivery_units

ZONE = ZoneInfo("Asia/Singapore")
START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
NOW = START + timedelta(days=10)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path: Path = tmp_path_factory.mktemp("pacing") / "ledgersync.sqlite"
    database = open_database(f"sqlite:///{path}")
    with database.engine.connect() as keeper:
        keeper.execute(text("SELECT 1")).all()
        yield database
    database.dispose()


@st.composite
def outboxes(draw: st.DrawFn) -> tuple[list[Document], dict[str, str]]:
    """Documents Individual mode plans for a few days of charges (some refunded), planned
    one business day at a time as the planner does, with random grouping options."""
    options = {name: draw(st.sampled_from(["charge", DAILY])) for name in ("fees", "payments")}
    count = draw(st.integers(1, 10))
    charges = []
    for number in range(count):
        currency = draw(st.sampled_from(["SGD", "USD"]))
        charges.append(
            Charge(
                source_id=f"ch_{number}",
                created_at=START + timedelta(hours=draw(st.integers(0, 60))),
                currency=currency,
                amount=Decimal(draw(st.integers(100, 9_999))) / 100,
                fee=Decimal(draw(st.integers(0, 99))) / 100,
                fee_currency=currency,
                channel="payment_link",
                raw_channel="payment_link",
            )
        )
    refunded = draw(st.lists(st.sampled_from(charges), unique=True, max_size=2))
    mapper = IndividualMapper()
    planned: dict[str, ChargeDocuments] = {}
    documents: list[Document] = []
    days = sorted({c.created_at.astimezone(ZONE).date() for c in charges})
    for day in days:
        records: list[Charge | Refund] = [
            c for c in charges if c.created_at.astimezone(ZONE).date() == day
        ]
        context = MappingContext("hitpay", ZONE, NOW, dict(planned), frozenset(), options)
        made = list(mapper.plan(records, context))
        for document in made:
            if isinstance(document, Payment):
                for charge_id, invoice_key in zip(
                    document.record_ids, document.depends_on, strict=True
                ):
                    planned[charge_id] = ChargeDocuments(invoice_key, document.key)
        documents.extend(made)
    refunds = [
        Refund(
            f"re_{c.source_id}",
            c.source_id,
            c.created_at + timedelta(hours=1),
            c.currency,
            (c.amount / 2).quantize(Decimal("0.01")),
        )
        for c in refunded
    ]
    if refunds:
        context = MappingContext("hitpay", ZONE, NOW, dict(planned), frozenset(), options)
        documents.extend(mapper.plan(refunds, context))
    return documents, options


def groups(documents: list[Document]) -> list[set[str]]:
    """What must be booked together, found from the accounting (not from the delivery's own
    units): the documents booking one charge (or, through a shared payment or expense, a
    day's charges), with the credit notes and refunds that depend on them."""
    parent = {document.key: document.key for document in documents}

    def root(key: str) -> str:
        while parent[key] != key:
            key = parent[key]
        return key

    def join(a: str, b: str) -> None:
        parent[root(a)] = root(b)

    by_charge: dict[str, str] = {}
    for document in documents:
        if isinstance(document, CreditNote | CreditRefund):
            for key in document.depends_on:
                join(document.key, key)
            continue
        for charge_id in document.record_ids:
            join(document.key, by_charge.setdefault(charge_id, document.key))
    found: dict[str, set[str]] = {}
    for document in documents:
        found.setdefault(root(document.key), set()).add(document.key)
    return list(found.values())


@settings(
    max_examples=examples(40, 120),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=outboxes(), share=st.integers(1, 12))
def test_at_every_pause_each_charge_is_booked_whole_when_a_day_can_hold_it(
    database: Database, drawn: tuple[list[Document], dict[str, str]], share: int
) -> None:
    documents, _options = drawn
    connection_id = add_connection(database)
    with database.session() as session:
        info = connection_info(session.get_one(Connection, connection_id))
    plan(database, connection_id, documents)
    books = MemoryBooks.named(f"pacing-{uuid.uuid4().hex}")
    together = groups(documents)
    for day in range(len(documents) + 1):
        spent = 0

        def budget(needed: int) -> None:  # share_guard's rule, for a share of `share` calls
            nonlocal spent
            room = needed if needed <= share else 1
            if spent + room > share:
                raise DailyLimitReached("the share is spent")
            spent += needed

        try:
            outcome = deliver_planned(
                database,
                connection_id,
                memory_destination(books, info),
                SETTINGS,
                clock=lambda: NOW,
                budget=budget,
            )
        except DailyLimitReached:
            outcome = None
        booked = set(books.references())
        for group in together:
            if len(group) <= share:
                assert group <= booked or not group & booked, (day, sorted(group - booked))
        assert spent <= share or any(len(g) > share for g in together)
        if outcome is not None:
            assert outcome.complete
            break
    else:
        pytest.fail("delivery never finished")
    assert sorted(books.references()) == sorted(d.key for d in documents)


def test_a_day_s_shared_payment_goes_with_the_invoices_it_settles() -> None:
    """The units themselves: with --payments daily and --fees daily a day's invoices, its
    payment and its expense are one unit; a refund joins its charge's unit."""
    charges = [
        Charge(
            f"ch_{n}",
            START + timedelta(hours=n),
            "SGD",
            Decimal("10.00"),
            Decimal("0.30"),
            "SGD",
            "payment_link",
            "payment_link",
        )
        for n in range(3)
    ]
    options = {"fees": DAILY, "payments": DAILY}
    context = MappingContext("hitpay", ZONE, NOW, {}, frozenset(), options)
    documents = list(IndividualMapper().plan(charges, context))
    assert [d.kind.value for d in documents] == ["invoice"] * 3 + ["payment", "expense"]
    assert delivery_units(documents) == [[0, 1, 2, 3, 4]]
    context = MappingContext("hitpay", ZONE, NOW, {}, frozenset())
    documents = list(IndividualMapper().plan(charges, context))
    assert delivery_units(documents) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
