"""A ready organization: a full chart of accounts, items, currencies and (optionally) taxes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from plugins.zoho_books.testing.standin.state import Organization

__all__ = ["PLAN_DAILY_LIMITS", "SeededOrganization", "seed_organization"]

PLAN_DAILY_LIMITS = {
    "free": 1000,
    "standard": 2000,
    "professional": 5000,
    "premium": 10000,
    "elite": 10000,
    "ultimate": 10000,
}
CURRENCY_PRECISION = {"JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3}
FOREIGN_RATES = {
    "SGD": Decimal("1"),
    "USD": Decimal("1.35"),
    "EUR": Decimal("1.45"),
    "JPY": Decimal("0.0091"),
    "KWD": Decimal("4.39"),
}


@dataclass(frozen=True, slots=True)
class SeededOrganization:
    """A ready organization and the ids a connection maps its roles to."""

    organization_id: str
    name: str
    currency: str
    sales_account: str  # income "Sales"
    fee_account: str  # expense "Payment Gateway Fees"
    refund_account: str  # other_current_liability "Refunds Payable"
    bank_account: str  # bank "HitPay Clearing"
    item: str  # active item "Sales"
    other_bank_account: str  # bank "Operating Account"
    wrong_type_accounts: dict[str, str]  # name -> id: receivable, equity, a second expense
    inactive_accounts: dict[str, str]  # type -> id of an inactive account of that type
    inactive_item: str
    currencies: dict[str, str] = field(default_factory=dict)  # code -> currency_id
    adjustment_account: str = ""  # equity "Payout Adjustments"
    taxes: dict[str, str] = field(default_factory=dict)  # name -> tax_id (tax-registered)

    def account_settings(self) -> Any:
        """The ids as core's AccountSettings (sales, fee, refund, bank, item; payouts into the
        operating account, their unbooked parts to Payout Adjustments)."""
        from core.api import AccountSettings

        return AccountSettings(
            sales_account=self.sales_account,
            fee_account=self.fee_account,
            refund_account=self.refund_account,
            bank_account=self.bank_account,
            item=self.item,
            payout_account=self.other_bank_account,
            adjustment_account=self.adjustment_account or None,
        )


def _precision(code: str) -> int:
    return CURRENCY_PRECISION.get(code, 2)


def _currencies(org: Organization, currency: str, foreign: tuple[str, ...]) -> dict[str, str]:
    """The base currency and the foreign ones, each at its rate against the base."""
    made = {currency: org.add_currency(currency, _precision(currency), base=True)}
    for code in foreign:
        if code != currency:
            rate = FOREIGN_RATES.get(code, Decimal(1)) / FOREIGN_RATES.get(currency, Decimal(1))
            made[code] = org.add_currency(
                code, _precision(code), rate=rate.quantize(Decimal("0.000001"))
            )
    return made


def seed_organization(
    org: Organization, foreign: tuple[str, ...], tax_registered: bool
) -> SeededOrganization:
    """Fill a new organization. MYR is never enabled (a currency the organization does not
    have). A tax-registered one (Singapore GST) has ``GST9 [SR]`` 9 % (the default tax of the
    item "Sales"), ``GST0 [ZR]`` 0 % and an inactive ``GST7 [SR] (old)``."""
    currencies = _currencies(org, org.currency_code, foreign)
    sales = org.add_account("Sales", "income")
    fee = org.add_account("Payment Gateway Fees", "expense")
    refund = org.add_account("Refunds Payable", "other_current_liability")
    bank = org.add_account("HitPay Clearing", "bank")
    other_bank = org.add_account("Operating Account", "bank")
    wrong = {
        "Accounts Receivable": org.add_account("Accounts Receivable", "accounts_receivable"),
        "Owner's Equity": org.add_account("Owner's Equity", "equity"),
        "Office Supplies": org.add_account("Office Supplies", "expense"),
        "Interest Income": org.add_account("Interest Income", "other_income"),
        "Petty Cash": org.add_account("Petty Cash", "cash"),
    }
    inactive = {
        "income": org.add_account("Old Sales", "income", active=False),
        "expense": org.add_account("Old Fees", "expense", active=False),
        "other_current_liability": org.add_account(
            "Old Refunds", "other_current_liability", active=False
        ),
        "bank": org.add_account("Closed Clearing", "bank", active=False),
    }
    item = org.add_item("Sales", sales)
    inactive_item = org.add_item("Discontinued", sales, active=False)
    taxes: dict[str, str] = {}
    if tax_registered:
        taxes = {
            "GST9 [SR]": org.add_tax("GST9 [SR]", "9", default=True),
            "GST0 [ZR]": org.add_tax("GST0 [ZR]", "0", default=True),
            "GST7 [SR] (old)": org.add_tax("GST7 [SR] (old)", "7", active=False),
        }
        org.items[item].tax_id = taxes["GST9 [SR]"]
    adjustments = org.add_account("Payout Adjustments", "equity")
    return SeededOrganization(
        organization_id=org.organization_id,
        name=org.name,
        currency=org.currency_code,
        sales_account=sales,
        fee_account=fee,
        refund_account=refund,
        bank_account=bank,
        item=item,
        other_bank_account=other_bank,
        wrong_type_accounts=wrong,
        inactive_accounts=inactive,
        inactive_item=inactive_item,
        currencies=currencies,
        adjustment_account=adjustments,
        taxes=taxes,
    )
