"""Hostile HitPay payloads: quarantined with a reason, nothing else affected, never a crash.

Hypothesis builds charges from a valid one by mutations: required fields dropped, fields of
the wrong type, zero, negative and huge amounts, more decimals than the currency has, unknown
currencies, broken timestamps, unknown statuses, negative fees, refunds above the charge,
unicode and control characters in names and remarks, and extra fields of any JSON shape. The
HitPay stand-in serves them exactly as built, next to a valid sale.

Each mutation says what it must lead to: ``fatal`` ones to quarantine with a reason (and no
document), ``benign`` ones to a synced charge, and a few (``either``) to one or the other.
Whatever the mix, the sync never fails, the valid sale is synced, the books hold nothing
twice and the clearing account ties out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from support.budget import examples

from core.contracts import FetchWindow
from core.records import Charge, Quarantined, Refund
from core.store.models import Assignment, DocumentRow, QuarantinedRecord, SourceRecord
from core.store.repository import get_connection
from core.sync.ingest import store_items
from plugins.hitpay_source.testing.standin.shapes import refund_payload
from reliability.system import CONNECTION, ZONE, System
from reliability.tally import tally

START = datetime(2026, 6, 1, 8, 0, tzinfo=ZONE)
FATAL, BENIGN, EITHER = "fatal", "benign", "either"

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
unicode_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40
)


@dataclass
class Hostile:
    """A charge payload to serve (overrides of a valid one) and what must come of it."""

    fields: dict[str, Any] = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)
    verdicts: list[tuple[str, str]] = field(default_factory=list)  # (field, verdict)
    over_refund: bool = False

    @property
    def verdict(self) -> str:
        kinds = {verdict for _, verdict in self.verdicts}
        if FATAL in kinds:
            return FATAL
        return EITHER if EITHER in kinds else BENIGN


def mutation(name: str, verdict: str, **fields: Any) -> st.SearchStrategy[Hostile]:
    return st.just(Hostile(fields=fields, verdicts=[(name, verdict)]))


def _field(name: str, values: st.SearchStrategy[Any], verdict: str) -> st.SearchStrategy[Hostile]:
    return values.map(lambda value: Hostile(fields={name: value}, verdicts=[(name, verdict)]))


MUTATIONS: list[st.SearchStrategy[Hostile]] = [
    # required fields missing
    st.sampled_from(["id", "created_at", "currency", "amount", "status"]).map(
        lambda name: Hostile(drop=[name], verdicts=[(name, FATAL)])
    ),
    # optional fields missing: a fee HitPay leaves out is no fee
    st.sampled_from(["fixed_fee", "discount_fee", "customer", "remark", "payment_method"]).map(
        lambda name: Hostile(drop=[name], verdicts=[(name, BENIGN)])
    ),
    # wrong types
    _field("amount", st.one_of(st.booleans(), st.lists(st.integers(), max_size=2)), FATAL),
    _field("amount", st.sampled_from(["", "abc", "1,000.00", "NaN", "Infinity", "12.5.0"]), FATAL),
    _field("amount", st.dictionaries(st.text(max_size=4), st.integers(), max_size=2), FATAL),
    _field("currency", st.one_of(st.integers(), st.booleans(), st.lists(st.text())), FATAL),
    _field("created_at", st.one_of(st.integers(), st.booleans(), st.none()), FATAL),
    _field("id", st.one_of(st.integers(), st.none(), st.just(""), st.just("   ")), FATAL),
    _field("status", st.one_of(st.integers(), st.text(max_size=12)), FATAL).filter(
        lambda h: (
            h.fields["status"]
            not in (
                "succeeded",
                "succeeded_manually",
                "refunded",
                "partially_refunded",
                "pending",
                "failed",
                "cancelled",
                "void",
                "requires_payment_method",
            )
        )
    ),
    # amounts
    _field("amount", st.integers(-(10**9), 0).map(Decimal), FATAL),
    _field("amount", st.integers(28, 60).map(lambda n: Decimal(10) ** n), FATAL),
    _field("amount", st.integers(13, 20).map(lambda n: Decimal(10) ** n + 1), EITHER),
    _field(
        "amount",
        st.integers(1, 10**6).map(lambda c: Decimal(c * 10 + 1).scaleb(-3)),
        FATAL,
    ),
    # a negative fee: wrong when the total fee goes below zero; a negative part is HitPay's say
    st.integers(-(10**8), -1).map(
        lambda c: Hostile(
            fields={"fixed_fee": Decimal(c).scaleb(-2), "discount_fee": Decimal(0)},
            verdicts=[("fixed_fee", FATAL)],
        )
    ),
    _field("fixed_fee", st.integers(-100, -1).map(lambda c: Decimal(c).scaleb(-2)), EITHER),
    _field("discount_fee", st.sampled_from(["x", "", "1e", [], {}]), FATAL),
    # currencies
    _field("currency", st.sampled_from(["xyz", "", "sg", "sgdd", "s g", "€", "12a"]), FATAL),
    _field("currency", st.just("SGD"), BENIGN),
    _field("fees_currency", st.sampled_from(["zzz", "dollars"]), FATAL),
    # timestamps
    _field(
        "created_at",
        st.sampled_from(
            [
                "",
                "yesterday",
                "2026-02-30T10:00:00+08:00",
                "2026-13-01T10:00:00+08:00",
                "2026-06-01T25:00:00+08:00",
                "2026-06-01T10:00:00",  # no offset
                "2026-06-01",
                "06/01/2026 10:00",
                "2026-06-01T10:00:00+08:00garbage",
            ]
        ),
        FATAL,
    ),
    # names and remarks
    _field("remark", unicode_text, BENIGN),
    unicode_text.map(
        lambda name: Hostile(
            fields={"customer": {"name": name, "email": "x@example.com", "phone_number": ""}},
            verdicts=[("customer", BENIGN)],
        )
    ),
    _field(
        "remark",
        st.sampled_from(
            [
                "\x1b[2J\x1b[31mPAID",
                "<script>alert(1)</script>",
                "'; DROP TABLE documents; --",
                "a\x00b",
            ]
        ),
        BENIGN,
    ),
    _field("exchange_rate", st.one_of(st.text(max_size=6), st.integers(), st.none()), BENIGN),
    # extra fields
    st.dictionaries(
        st.text(min_size=1, max_size=12).map(lambda k: f"x_{k}"),
        json_values,
        min_size=1,
        max_size=4,
    ).map(lambda extra: Hostile(fields=dict(extra), verdicts=[("extra fields", BENIGN)])),
    # a refund of more than the charge: the charge syncs, the refund is quarantined
    st.just(Hostile(over_refund=True, verdicts=[("refund above the charge", BENIGN)])),
]


@st.composite
def hostile_charges(draw: st.DrawFn) -> Hostile:
    """One to three mutations of one valid charge."""
    parts = draw(st.lists(st.one_of(MUTATIONS), min_size=1, max_size=3))
    combined = Hostile()
    for part in parts:
        for name in part.drop:
            combined.fields.pop(name, None)
        combined.fields.update(part.fields)
        combined.drop = [n for n in combined.drop if n not in part.fields] + part.drop
        touched = set(part.fields) | set(part.drop)  # a later mutation of a field wins
        combined.verdicts = [(n, v) for n, v in combined.verdicts if n not in touched]
        combined.verdicts += part.verdicts
        combined.over_refund |= part.over_refund
    return combined


def serve(system: System, hostile: Hostile, at: datetime) -> dict[str, Any]:
    """Put the hostile charge into the HitPay stand-in; returns the payload as served."""
    fields = dict(hostile.fields)
    fields.setdefault("created_at", at)
    fields.setdefault("id", str(uuid.uuid4()))
    amount = Decimal("80.00")
    if hostile.over_refund and "amount" not in fields and "amount" not in hostile.drop:
        fields["amount"] = amount
    if hostile.over_refund:
        charged = fields.get("amount")
        charged = charged if isinstance(charged, Decimal) else amount
        refunded = charged + Decimal("5.00")
        charge = {"id": fields["id"], "amount": charged, "currency": "sgd"}
        fields["status"] = fields.get("status", "partially_refunded")
        fields["refunded_amount"] = refunded
        fields["refunds"] = [
            refund_payload(
                refund_id=str(uuid.uuid4()),
                charge=charge,
                amount=refunded,
                at=at + timedelta(hours=1),
            )
        ]
    return system.hitpay.add_charge(drop=hostile.drop, listed_at=at, **fields)


@dataclass
class Round:
    """One batch: a valid sale next to hostile ones, and what the store says afterwards."""

    good: str
    served: list[tuple[Hostile, dict[str, Any]]]


def synced_ids(system: System) -> set[str]:
    with system.host.database.session() as session:
        return set(
            session.scalars(
                select(SourceRecord.source_id)
                .join(Assignment, Assignment.record_id == SourceRecord.id)
                .join(DocumentRow, DocumentRow.id == Assignment.document_id)
                .where(DocumentRow.kind == "invoice", DocumentRow.state == "delivered")
            )
        )


def quarantine(system: System) -> list[tuple[str | None, str, str]]:
    with system.host.database.session() as session:
        return [
            (row.source_id, row.kind, row.reason)
            for row in session.scalars(select(QuarantinedRecord))
        ]


def identity(payload: dict[str, Any]) -> str | None:
    value = payload.get("id")
    return value if isinstance(value, str) and value else None


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'ledgersync.sqlite'}"
    with System(url, start=START, mode="individual") as system:
        system.connect()
        yield system


def check_round(system: System, batch: Round) -> None:
    report = system.sync()
    assert report.outcome == "succeeded", report.error  # never a crash, never a failed run
    synced = synced_ids(system)
    held = quarantine(system)
    assert batch.good in synced, "a valid sale next to hostile ones was not synced"
    for hostile, payload in batch.served:
        charge_id = identity(payload)
        reasons = [r for source_id, _, r in held if source_id == charge_id and charge_id]
        if hostile.verdict == FATAL:
            assert charge_id not in synced, (hostile.verdicts, payload)
            if charge_id:
                assert reasons and all(reasons), (hostile.verdicts, payload, held[-3:])
        elif hostile.verdict == BENIGN:
            assert charge_id in synced, (hostile.verdicts, report.failed_documents, held[-3:])
        else:
            assert (
                charge_id in synced
                or reasons
                or any(charge_id in key for key, _ in report.failed_documents)
            ), (hostile.verdicts, payload)
        if hostile.over_refund and charge_id in synced:
            assert any("exceeds" in r for source_id, kind, r in held if kind == "refund"), held
    no_id = [h for h, p in batch.served if h.verdict == FATAL and identity(p) is None]
    assert sum(1 for source_id, _, _ in held if source_id is None) >= len(no_id)
    books = system.books()
    assert books.duplicates() == 0
    tally.books(duplicates=books.duplicates(), lost=int(batch.good not in synced))


@settings(
    max_examples=examples(dev=40, ci=120),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(batch=st.lists(hostile_charges(), min_size=1, max_size=4))
@example(batch=[Hostile({"amount": Decimal(10) ** 28}, verdicts=[("amount", FATAL)])])
@example(batch=[Hostile({"amount": Decimal("1E+60")}, verdicts=[("amount", FATAL)])])
@example(batch=[Hostile({"amount": "NaN"}, verdicts=[("amount", FATAL)])])
@example(batch=[Hostile({"remark": "a\x00b\x1b[2J"}, verdicts=[("remark", BENIGN)])])
@example(batch=[Hostile(over_refund=True, verdicts=[("refund above the charge", BENIGN)])])
@example(
    batch=[
        Hostile({"id": 7}, verdicts=[("id", FATAL)]),
        Hostile(drop=["id"], verdicts=[("id", FATAL)]),
    ]
)
@example(batch=[Hostile({"currency": "xyz"}, verdicts=[("currency", FATAL)])])
@example(batch=[Hostile({"created_at": "2026-02-30T10:00:00+08:00"}, verdicts=[("ts", FATAL)])])
def test_hostile_charges_are_quarantined_and_everything_else_syncs(
    shop: System, batch: list[Hostile]
) -> None:
    shop.advance(timedelta(days=1))
    at = shop.now() - timedelta(hours=3)
    good = shop.hitpay.add_charge(amount=Decimal("42.00"), currency="sgd", created_at=at)["id"]
    served = [
        (hostile, serve(shop, hostile, at + timedelta(minutes=n + 1)))
        for n, hostile in enumerate(batch)
    ]
    shop.advance(timedelta(days=1))
    tally.hostile_inputs += len(batch)
    check_round(shop, Round(good, served))


# ----------------------------------------------------------------------------- many more, cheaply


@pytest.fixture(scope="module")
def source_side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The HitPay side only: fetched over HTTP and stored, no destination."""
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile-fetch') / 'ledgersync.sqlite'}"
    with System(url, start=START) as system:
        system.connect_source()
        yield system


@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(batch=st.lists(hostile_charges(), min_size=1, max_size=5))
def test_no_hostile_payload_breaks_fetching_and_storing(
    source_side: System, batch: list[Hostile]
) -> None:
    """Each payload becomes a charge or a quarantined item with a reason; none raises."""
    system = source_side
    system.advance(timedelta(days=2))  # a window of its own for each example
    start = system.now()
    served = [
        serve(system, hostile, start + timedelta(minutes=n + 1)) for n, hostile in enumerate(batch)
    ]
    end = start + timedelta(hours=1)
    source, _ = system.host.open_source(CONNECTION)
    items = list(source.fetch(FetchWindow(start, end, start), {}))
    with system.host.database.session() as session:
        connection_id = get_connection(session, CONNECTION).id
        counts = store_items(session, connection_id, items, end)
    tally.hostile_inputs += len(batch)
    charges = {item.source_id for item in items if isinstance(item, Charge)}
    quarantined = [item for item in items if isinstance(item, Quarantined)]
    assert all(item.reason for item in quarantined)
    assert counts.quarantined + counts.quarantined_again == len(quarantined)
    for hostile, payload in zip(batch, served, strict=True):
        charge_id = identity(payload)
        held = [q for q in quarantined if q.source_id == charge_id]
        if hostile.verdict == FATAL:
            assert charge_id not in charges and (held or charge_id is None), hostile.verdicts
        elif hostile.verdict == BENIGN:
            assert charge_id in charges, (hostile.verdicts, [q.reason for q in held])
        else:
            assert charge_id in charges or held, hostile.verdicts
        if hostile.over_refund and charge_id in charges:
            refunds = [i for i in items if isinstance(i, Refund) and i.charge_id == charge_id]
            assert refunds or held  # read, to be judged (and quarantined) by the planner


# ----------------------------------------------------------------------------- every store


@pytest.mark.parametrize("where", ["remark", "channel", "id"])
def test_a_nul_character_in_a_payload_does_not_stop_the_sync_on_any_store(
    any_db_url: str, where: str
) -> None:
    """PostgreSQL text cannot hold NUL (SQLite can): the charge is stored or quarantined,
    never failing the run, and the valid sale beside it is synced."""
    with System(any_db_url, start=START, mode="individual") as system:
        system.connect()
        system.advance(timedelta(hours=2))
        at = system.now() - timedelta(hours=1)
        good = system.hitpay.add_charge(amount=Decimal("42.00"), created_at=at)["id"]
        fields: dict[str, Any] = {
            "remark": {"remark": "paid\x00 in full"},
            "channel": {"channel": "api\x00link"},
            "id": {"id": f"{uuid.uuid4()}\x00"},
        }[where]
        system.hitpay.add_charge(amount=Decimal("9.90"), created_at=at, **fields)
        report = system.sync()
        assert report.outcome == "succeeded", report.error
        assert good in synced_ids(system)
        assert system.books().duplicates() == 0
        again = system.sync()  # read again in the overlap window: still fine, nothing new
        assert again.outcome == "succeeded" and not sum(again.documents_delivered.values())
