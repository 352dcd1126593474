"""Document keys: readable, stable, prefixed with the source, never longer than 100 characters."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.contracts import ChargeDocuments, MappingContext
from core.documents import MAX_KEY_LENGTH, CreditNote, CreditRefund, Document
from core.mapping.bulk import BulkMapper
from core.mapping.individual import IndividualMapper, charge_keys
from core.mapping.keys import fit_key, reference_of
from core.records import Charge, Record, Refund

NEW_YORK = ZoneInfo("America/New_York")
UUID = "9d1c3f4e-5b8a-4c2e-9f1d-2a3b4c5d6e7f"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def context(charge_documents: dict[str, ChargeDocuments] | None = None) -> MappingContext:
    return MappingContext("hitpay", NEW_YORK, NOW, charge_documents or {}, frozenset())


def sale(source_id: str, at: datetime, fee: str = "1.20", fee_currency: str = "SGD") -> Charge:
    return Charge(
        source_id=source_id,
        created_at=at,
        currency="SGD",
        amount=Decimal("50.00"),
        fee=Decimal(fee),
        fee_currency=fee_currency,
        channel="shopify",
    )


def keys(documents: list[Document]) -> list[str]:
    return sorted(document.key for document in documents)


def test_individual_keys_name_the_record_and_the_document_kind() -> None:
    at = datetime(2026, 11, 23, 15, tzinfo=UTC)
    refund = Refund("re_1", UUID, at, "SGD", Decimal("5.00"))
    planned = list(IndividualMapper().plan([sale(UUID, at), refund], context()))
    assert keys(planned) == [
        f"hitpay:charge:{UUID}:expense",
        f"hitpay:charge:{UUID}:invoice",
        f"hitpay:charge:{UUID}:payment",
        "hitpay:refund:re_1:credit_note",
        "hitpay:refund:re_1:credit_refund",
    ]


def test_bulk_keys_name_the_local_day_currency_and_sequence() -> None:
    # 04:30 UTC on the 24th is 23:30 on the 23rd in New York: the 23rd's documents.
    at = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)
    records: list[Record] = [sale("c1", at), sale("c2", at, "0.90", "USD")]
    planned = list(BulkMapper().plan(records, context()))
    assert keys(planned) == [
        "hitpay:day:2026-11-23:SGD:1:invoice",
        "hitpay:day:2026-11-23:SGD:1:payment",
        "hitpay:day:2026-11-23:fees:SGD:1:expense",
        "hitpay:day:2026-11-23:fees:USD:1:expense",
    ]


def test_a_bulk_credit_note_names_its_original_invoice_readably_when_it_fits() -> None:
    at = datetime(2026, 11, 24, 15, tzinfo=UTC)
    original = charge_keys("hitpay", UUID)  # planned earlier, in Individual mode
    refund = Refund("re_1", UUID, at, "SGD", Decimal("5.00"))
    planned = list(BulkMapper().plan([refund], context({UUID: original})))
    note = next(d for d in planned if isinstance(d, CreditNote))
    assert note.key == f"hitpay:day:2026-11-24:refunds:SGD:charge.{UUID}:1:credit_note"
    assert (note.invoice_key, note.payment_key) == (original.invoice_key, original.payment_key)
    paid = next(d for d in planned if isinstance(d, CreditRefund))
    assert paid.key == note.key.replace(":credit_note", ":credit_refund")
    assert max(len(d.key) for d in planned) <= MAX_KEY_LENGTH


def test_ids_too_long_for_a_key_are_hashed_the_same_way_every_time() -> None:
    long_id = "ch_" + "x" * 97
    at = datetime(2026, 11, 24, 15, tzinfo=UTC)
    refund = Refund("re_" + "y" * 97, long_id, at, "SGD", Decimal("5.00"))
    first = list(IndividualMapper().plan([sale(long_id, at), refund], context()))
    second = list(IndividualMapper().plan([refund, sale(long_id, at)], context()))
    assert keys(first) == keys(second)
    assert all(len(d.key) <= MAX_KEY_LENGTH and ":h." in d.key for d in first)
    bulk = list(BulkMapper().plan([refund], context({long_id: charge_keys("hitpay", long_id)})))
    assert all(len(d.key) <= MAX_KEY_LENGTH for d in bulk)


def test_fit_key_keeps_short_parts_and_hashes_long_ones_distinctly() -> None:
    assert fit_key("hitpay:charge:", "abc") == "hitpay:charge:abc"
    one, two = fit_key("p:", "a" * 100), fit_key("p:", "a" * 99 + "b")
    assert one != two and one.startswith("p:h.") and len(one) == len("p:h.") + 16
    assert reference_of("hitpay:day:2026-11-23:SGD:2:invoice", "hitpay") == "day.2026-11-23.SGD.2"


def test_a_late_charge_for_a_planned_day_takes_the_next_free_sequence() -> None:
    at = datetime(2026, 11, 23, 15, tzinfo=UTC)
    taken = frozenset(
        {"hitpay:day:2026-11-23:SGD:1:invoice", "hitpay:day:2026-11-23:SGD:2:invoice"}
    )
    ctx = MappingContext("hitpay", NEW_YORK, NOW, {}, taken)
    planned = list(BulkMapper().plan([sale("late", at, fee="0.00")], ctx))
    assert keys(planned) == [
        "hitpay:day:2026-11-23:SGD:3:invoice",
        "hitpay:day:2026-11-23:SGD:3:payment",
    ]
    assert "supplement 3" in planned[0].description
