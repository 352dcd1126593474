"""Payout transfers and adjustment journals: the stand-in's banking rules and the writer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from core.contracts import AccountSettings, DeliveryContext
from core.documents import Adjustment, Transfer
from plugins.zoho_books.client import BooksClient, BooksRejected
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from plugins.zoho_books.transfers import _created_id
from zoho_books.helpers import Build

DAY = date(2026, 1, 14)


@pytest.fixture
def client(build: Build) -> BooksClient:
    return build().client


def transfer_body(org: SeededOrganization, **changes: Any) -> dict[str, Any]:
    body = {
        "transaction_type": "transfer_fund",
        "from_account_id": org.bank_account,
        "to_account_id": org.other_bank_account,
        "amount": Decimal("50.00"),
        "date": "2026-01-14",
        "reference_number": "hitpay:payout:p1",
    }
    return {**body, **changes}


def balance(client: BooksClient, account_id: str) -> Decimal:
    return Decimal(client.get(f"/bankaccounts/{account_id}")["bankaccount"]["balance"])


@pytest.mark.vendor_fact("zoho.banktransaction.transfer_fund")
@pytest.mark.vendor_fact("zoho.object_key.banktransaction")
@pytest.mark.vendor_fact("zoho.bankaccount.balance")
def test_a_fund_transfer_moves_money_between_two_bank_accounts(
    client: BooksClient, org: SeededOrganization
) -> None:
    made = client.post("/banktransactions", transfer_body(org))["banktransaction"]
    assert made["transaction_type"] == "transfer_fund" and made["transaction_id"]
    assert balance(client, org.bank_account) == Decimal("-50.00")
    assert balance(client, org.other_bank_account) == Decimal("50.00")
    rows = client.list_all(
        "/banktransactions",
        "banktransactions",
        {"account_id": org.bank_account, "reference_number": "hitpay:payout:p1"},
    )
    assert [row["transaction_id"] for row in rows] == [made["transaction_id"]]


@pytest.mark.vendor_fact("zoho.banktransaction.transfer_fund")
@pytest.mark.parametrize(
    "changes, message",
    [
        ({"to_account_id": None}, "to_account_id"),
        ({"from_account_id": "fee"}, "cannot be used as from account"),
        ({"transaction_type": "teleport"}, "transaction_type"),
        ({"amount": Decimal("0")}, "greater than zero"),
    ],
    ids=["no-to-account", "not-a-bank-account", "unknown-type", "zero"],
)
def test_the_stand_in_refuses_a_transfer_zoho_refuses(
    client: BooksClient, org: SeededOrganization, changes: dict[str, Any], message: str
) -> None:
    body = transfer_body(org, **changes)
    if body["from_account_id"] == "fee":
        body["from_account_id"] = org.fee_account
    body = {k: v for k, v in body.items() if v is not None}
    with pytest.raises(BooksRejected, match=message):
        client.post("/banktransactions", body)


@pytest.mark.vendor_fact("zoho.journal.alternative")
def test_a_journal_must_balance_and_moves_money_only_once_published(
    client: BooksClient, org: SeededOrganization
) -> None:
    lines = [
        {"account_id": org.bank_account, "debit_or_credit": "debit", "amount": Decimal("7.00")},
        {"account_id": org.fee_account, "debit_or_credit": "credit", "amount": Decimal("7.00")},
    ]
    draft = client.post("/journals", {"journal_date": "2026-01-14", "line_items": lines})
    assert draft["journal"]["status"] == "draft"
    assert balance(client, org.bank_account) == 0
    client.post(
        "/journals", {"journal_date": "2026-01-14", "line_items": lines, "status": "published"}
    )
    assert balance(client, org.bank_account) == Decimal("7.00")
    unbalanced = [lines[0], {**lines[1], "amount": Decimal("6.00")}]
    with pytest.raises(BooksRejected, match="not balanced"):
        client.post("/journals", {"journal_date": "2026-01-14", "line_items": unbalanced})


def test_the_writer_books_a_payout_and_its_adjustment_and_finds_them_again(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    destination = build()
    adjustment = Adjustment(
        key="hitpay:payout:p9:adjustment",
        date=DAY,
        currency="SGD",
        amount=Decimal("12.00"),
        record_ids=("p9",),
        description="Payout p9: not booked through the sync",
        into_clearing=False,
        items=("other movements (chargebacks): -12.00",),
    )
    transfer = Transfer("hitpay:payout:p9", DAY, "SGD", Decimal("88.00"), ("p9",), "Payout p9")
    context = DeliveryContext(settings, {})
    journal_id = destination.deliver(adjustment, context)
    transfer_id = destination.deliver(transfer, context)
    fresh = build()
    assert fresh.find_existing(adjustment, context) == journal_id
    assert fresh.find_existing(transfer, context) == transfer_id
    books = zoho.books(org.organization_id)
    [journal] = books["journals"]
    assert journal["status"] == "published" and "chargebacks" in journal["notes"]
    assert books["bank_balances"][org.bank_account]["SGD"] == Decimal("-100.00")
    assert books["bank_balances"][org.other_bank_account]["SGD"] == Decimal("88.00")


def test_without_a_payout_account_the_writer_says_which_setting_is_missing(
    build: Build, settings: AccountSettings
) -> None:
    transfer = Transfer("hitpay:payout:p2", DAY, "SGD", Decimal("5.00"), ("p2",))
    context = DeliveryContext(replace(settings, payout_account=None), {})
    with pytest.raises(Exception, match="--payout-account"):
        build().deliver(transfer, context)


@pytest.mark.vendor_fact("zoho.object_key.banktransaction")
def test_the_created_id_is_read_from_banktransaction_or_the_banktransfer_variant() -> None:
    assert (
        _created_id(
            {"banktransaction": {"transaction_id": "1"}}, "banktransaction", "transaction_id"
        )
        == "1"
    )
    assert (
        _created_id({"banktransfer": {"banktransfer_id": "2"}}, "banktransaction", "transaction_id")
        == "2"
    )
