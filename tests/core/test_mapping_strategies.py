"""Hypothesis strategies and a pure multi-run harness shared by the mapping and planner tests.

No tests live here. A scenario is one business's charges and refunds around an interesting
moment: a DST change in New York or Auckland, local midnight, a plain week. Currencies cover
zero (JPY), two (SGD, USD) and three (KWD) decimals; fees may be in another currency; a charge
may have several partial refunds that never exceed it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from core.contracts import ChargeDocuments, Mapper, MappingContext
from core.documents import Document, DocumentKind, Payment
from core.mapping.invariants import REFUND_KINDS
from core.money import minor_units
from core.records import Charge, Record, Refund

__all__ = [
    "SOURCE",
    "Ledger",
    "Scenario",
    "arrivals",
    "context_for",
    "plan_in_runs",
    "plan_once",
    "scenarios",
]

SOURCE = "hitpay"
ZONES = ("America/New_York", "Pacific/Auckland", "Asia/Singapore", "UTC")
CURRENCIES = ("SGD", "USD", "JPY", "KWD")
ANCHORS = (
    datetime(2026, 3, 8, 7, tzinfo=UTC),  # New York springs forward
    datetime(2026, 11, 1, 6, tzinfo=UTC),  # New York falls back
    datetime(2026, 4, 4, 14, tzinfo=UTC),  # Auckland falls back
    datetime(2026, 9, 26, 14, tzinfo=UTC),  # Auckland springs forward
    datetime(2026, 6, 15, 12, tzinfo=UTC),  # an ordinary week
)
CHANNELS = ("payment_link", "point_of_sale", "shopify", None)


@dataclass(frozen=True)
class Scenario:
    zone: ZoneInfo
    charges: tuple[Charge, ...]
    refunds: tuple[Refund, ...]

    @property
    def records(self) -> list[Record]:
        return [*self.charges, *self.refunds]

    @property
    def after(self) -> datetime:
        """A moment at which every local day of the scenario has closed."""
        latest = max(record.created_at for record in self.records)
        return latest + timedelta(days=2)

    @property
    def start(self) -> datetime:
        return min(record.created_at for record in self.records)


def _money(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_units(currency))


# Every strategy is built once, here: hypothesis validates a strategy on first use, and
# building fresh ones per draw costs more than the mapping under test.
_MOMENT = st.one_of(
    # exactly local midnight, or a microsecond either side: (days from the anchor, microseconds)
    st.tuples(st.just("midnight"), st.integers(-2, 3), st.sampled_from((0, 0, -1, 1))),
    st.tuples(st.just("near"), st.integers(-180, 180)),  # minutes from the anchor
    st.tuples(st.just("anywhere"), st.integers(-3 * 86400, 3 * 86400)),  # seconds
)
_OFFSET = st.sampled_from(("utc", "local", "+08:00"))  # how the moment is written
_REFUNDS = st.one_of(
    st.just((0, [])),
    st.tuples(
        st.integers(1, 1000),  # per mille of the charge refunded in all
        st.lists(  # (weight of this refund in that total, seconds after the charge)
            st.tuples(st.integers(1, 9), st.one_of(st.just(0), st.integers(0, 4 * 86400))),
            min_size=1,
            max_size=3,
        ),
    ),
)
_CHARGE = st.tuples(
    st.integers(0, 2),  # which of the scenario's currencies
    st.integers(0, len(CURRENCIES) + 1),  # fee currency: 0 and 1 the charge's, else another
    st.integers(1, 10**6),  # amount in minor units
    st.one_of(st.just(0), st.integers(1, 10**4)),  # fee in minor units of its currency
    st.sampled_from(CHANNELS),
    _MOMENT,
    _OFFSET,
    _REFUNDS,
)
_SCENARIO = st.tuples(
    st.sampled_from(ZONES),
    st.sampled_from(ANCHORS),
    st.sampled_from(("short", "uuid", "long")),
    st.lists(st.sampled_from(CURRENCIES), min_size=1, max_size=3, unique=True),
)


def _moment(drawn: tuple[Any, ...], shown: str, zone: ZoneInfo, anchor: datetime) -> datetime:
    how, amount, *rest = drawn
    if how == "midnight":
        day = anchor.astimezone(zone).date() + timedelta(days=amount)
        moment = datetime.combine(day, time(0), tzinfo=zone) + timedelta(microseconds=rest[0])
    elif how == "near":
        moment = anchor + timedelta(minutes=amount)
    else:
        moment = anchor + timedelta(seconds=amount)
    offsets = {"utc": UTC, "local": zone, "+08:00": timezone(timedelta(hours=8))}
    return moment.astimezone(offsets[shown])


def _charge_id(number: int, style: str) -> str:
    if style == "uuid":
        return f"9d{number:06x}-5b8a-4c2e-9f1d-{number * 7919:012x}"
    if style == "long":  # longer than a key can hold: the key must hash it
        return f"ch_{number}_" + "x" * 90
    return f"ch_{number}"


def _split(minor: int, per_mille: int, weights: list[int]) -> list[int]:
    """Refund amounts (minor units, each >= 1) summing to at most ``minor``."""
    total = max(len(weights), minor * per_mille // 1000)
    if total > minor:
        return []
    parts = [total * weight // sum(weights) for weight in weights]
    parts[-1] += total - sum(parts)
    return [part for part in parts if part >= 1]


@st.composite
def scenarios(draw: st.DrawFn, max_charges: int = 12) -> Scenario:
    zone_name, anchor, style, currencies = draw(_SCENARIO)
    zone = ZoneInfo(zone_name)
    charges: list[Charge] = []
    refunds: list[Refund] = []
    drawn = draw(st.lists(_CHARGE, min_size=1, max_size=max_charges))
    for number, charge_drawn in enumerate(drawn):
        which, fee_which, minor, fee_minor, channel, moment, shown, refunded = charge_drawn
        share, parts = refunded
        currency = currencies[which % len(currencies)]
        fee_currency = currency if fee_which < 2 else CURRENCIES[fee_which - 2]
        charge = Charge(
            source_id=_charge_id(number, style),
            created_at=_moment(moment, shown, zone, anchor),
            currency=currency,
            amount=_money(minor, currency),
            fee=_money(fee_minor, fee_currency),
            fee_currency=fee_currency,
            channel=channel,
            raw_channel=channel or "mystery_channel",
        )
        charges.append(charge)
        amounts = _split(minor, share, [weight for weight, _delay in parts]) if parts else []
        for index, (part, (_weight, delay)) in enumerate(zip(amounts, parts, strict=False)):
            refunds.append(
                Refund(
                    source_id=f"re_{number}_{index}",
                    charge_id=charge.source_id,
                    created_at=charge.created_at + timedelta(seconds=delay),
                    currency=currency,
                    amount=_money(part, currency),
                )
            )
    return Scenario(zone=zone, charges=tuple(charges), refunds=tuple(refunds))


def context_for(
    zone: ZoneInfo,
    now: datetime,
    charge_documents: dict[str, ChargeDocuments] | None = None,
    taken: Iterable[str] = (),
) -> MappingContext:
    return MappingContext(
        source=SOURCE,
        timezone=zone,
        now=now,
        charge_documents=dict(charge_documents or {}),
        taken_keys=frozenset(taken),
    )


def plan_once(mapper: Mapper, scenario: Scenario, now: datetime | None = None) -> list[Document]:
    return list(mapper.plan(scenario.records, context_for(scenario.zone, now or scenario.after)))


@dataclass
class Ledger:
    """What a planner remembers between runs: planned keys, where each charge went."""

    documents: list[Document] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    charge_documents: dict[str, ChargeDocuments] = field(default_factory=dict)
    pending: list[Record] = field(default_factory=list)
    runs: list[list[Document]] = field(default_factory=list)

    def plan(self, mapper: Mapper, zone: ZoneInfo, now: datetime) -> list[Document]:
        """One run over the records still pending, as the outbox planner would do it."""
        context = context_for(zone, now, self.charge_documents, self.keys)
        made = list(mapper.plan(self.pending, context))
        payments = {k: d.key for d in made if isinstance(d, Payment) for k in d.depends_on}
        covered: set[tuple[str, str]] = set()
        for document in made:
            kind = "refund" if document.kind in REFUND_KINDS else "charge"
            covered.update((kind, record_id) for record_id in document.record_ids)
            if document.kind is DocumentKind.INVOICE:
                for charge_id in document.record_ids:
                    self.charge_documents[charge_id] = ChargeDocuments(
                        document.key, payments[document.key]
                    )
        self.pending = [r for r in self.pending if (r.kind, r.source_id) not in covered]
        self.documents.extend(made)
        self.keys.update(d.key for d in made)
        self.runs.append(made)
        return made


def plan_in_runs(
    mapper: Mapper, zone: ZoneInfo, batches: Sequence[tuple[Sequence[Record], datetime]]
) -> Ledger:
    """Records arriving in batches, each planned at its own ``now``."""
    ledger = Ledger()
    for batch, now in batches:
        ledger.pending.extend(batch)
        ledger.plan(mapper, zone, now)
    return ledger


@st.composite
def arrivals(draw: st.DrawFn, scenario: Scenario) -> list[tuple[list[Record], datetime]]:
    """The scenario's records in any order, split into runs at increasing moments, then a
    final run once every day has closed (late arrivals land on days already planned)."""
    records = draw(st.permutations(scenario.records))
    cuts = sorted(draw(st.lists(st.integers(0, len(records)), max_size=4)))
    bounds = [0, *cuts, len(records)]
    span = int((scenario.after - scenario.start).total_seconds())
    offsets = sorted(
        draw(st.lists(st.integers(0, span), min_size=len(bounds) - 1, max_size=len(bounds) - 1))
    )
    batches = [
        (list(records[lo:hi]), scenario.start + timedelta(seconds=offset))
        for lo, hi, offset in zip(bounds[:-1], bounds[1:], offsets, strict=True)
    ]
    batches.append(([], scenario.after))
    return batches


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()
