"""Settings validation: each role's account exists, is active and has the type it needs."""

from __future__ import annotations

import dataclasses

import pytest

from core.contracts import AccountSettings
from core.errors import ConfigurationError
from core.store.repository import CallCounter
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from zoho_books.helpers import Build


def test_the_right_accounts_pass(build: Build, settings: AccountSettings) -> None:
    build().validate(settings)


@pytest.mark.parametrize(
    ("role", "account", "actual", "needed"),
    [
        ("sales_account", "Office Supplies", "expense", "income"),
        ("sales_account", "Interest Income", "other_income", "income"),
        ("fee_account", "Accounts Receivable", "accounts_receivable", "expense"),
        ("refund_account", "Owner's Equity", "equity", "other_current_liability"),
        ("bank_account", "Petty Cash", "cash", "bank"),
    ],
)
def test_a_wrong_type_names_the_account_its_type_and_the_type_needed(
    build: Build,
    org: SeededOrganization,
    settings: AccountSettings,
    role: str,
    account: str,
    actual: str,
    needed: str,
) -> None:
    account_id = org.wrong_type_accounts[account]
    wrong = dataclasses.replace(settings, **{role: account_id})
    with pytest.raises(ConfigurationError) as caught:
        build().validate(wrong)
    text = str(caught.value)
    assert f"{account!r} ({account_id})" in text
    assert f"is of type {actual}, but it needs type {needed}" in text


def test_every_problem_is_reported_at_once(
    build: Build, org: SeededOrganization, settings: AccountSettings
) -> None:
    wrong = dataclasses.replace(
        settings,
        sales_account=org.fee_account,
        fee_account=org.sales_account,
        refund_account=org.inactive_accounts["other_current_liability"],
        bank_account="123456789",
        item=org.inactive_item,
    )
    with pytest.raises(ConfigurationError) as caught:
        build().validate(wrong)
    text = str(caught.value)
    assert "sales account 'Payment Gateway Fees'" in text
    assert "fee account 'Sales'" in text
    assert "refund account 'Old Refunds'" in text and "is inactive" in text
    assert "bank (clearing) account 123456789 does not exist" in text
    assert "item 'Discontinued'" in text


def test_missing_settings_are_named(build: Build, settings: AccountSettings) -> None:
    with pytest.raises(ConfigurationError, match="settings incomplete: fee account, item"):
        build().validate(dataclasses.replace(settings, fee_account=None, item=None))


def test_validation_reads_the_chart_of_accounts_once_and_then_from_the_store(
    build: Build, zoho: ZohoBooksStandIn, settings: AccountSettings
) -> None:
    build().validate(settings)
    calls = CallCounter("destination")
    build(calls).validate(settings)
    assert calls.total == 0


def test_an_account_created_after_caching_is_found_by_one_re_read(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    build().validate(settings)
    with zoho.lock:
        new_bank = zoho.organization(org.organization_id).add_account("New Clearing", "bank")
    calls = CallCounter("destination")
    build(calls).validate(dataclasses.replace(settings, bank_account=new_bank))
    assert calls.total == 1
