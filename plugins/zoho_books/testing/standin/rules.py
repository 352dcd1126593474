"""The rules every document of the stand-in is checked by: Zoho's codes, field checks.

Codes 0, 2, 4, 1002 and 6041 follow Zoho; the business-rule codes in the 9xxx range are the
stand-in's own (Zoho's exact numbers for them are not published), the messages are Zoho's
where known. Every rule is the stricter reading of Zoho's documentation.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from plugins.zoho_books.testing.standin.errors import ApiError

INVALID_VALUE = 2
MANDATORY = 4
NOT_FOUND = 1002
DUPLICATE = 3062
WRONG_ACCOUNT = 9101
CURRENCY_MISMATCH = 9102
INVOICE_NOT_OPEN = 9103
OVER_BALANCE = 9104
CREDIT_NOT_OPEN = 9105
PRECISION = 9106
STATUS = 9107
UNIQUE_FIELD = 9108

PAYMENT_MODES = {
    "check", "cash", "creditcard", "banktransfer", "bankremittance", "autotransaction", "others",
}  # fmt: skip
INCOME_TYPES = {"income", "other_income"}
EXPENSE_TYPES = {"expense", "cost_of_goods_sold", "other_expense"}
DEPOSIT_TYPES = {"bank", "cash", "other_current_asset"}
PAID_THROUGH_TYPES = {"bank", "cash", "credit_card", "other_current_asset"}
CREDIT_LINE_TYPES = INCOME_TYPES | {"other_current_liability"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _bad(message: str, code: int = INVALID_VALUE) -> ApiError:
    return ApiError(400, code, message)


def _require(body: dict[str, Any], *names: str) -> None:
    for name in names:
        if body.get(name) in (None, "", []):
            raise _bad(f"{name} is mandatory.", MANDATORY)


def _date(value: Any, name: str = "date") -> str:
    if not isinstance(value, str) or not DATE.match(value):
        raise _bad(f"Invalid value passed for {name}: use yyyy-mm-dd.")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise _bad(f"Invalid value passed for {name}.") from None
    return value


def _number(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise _bad(f"Invalid value passed for {name}: a JSON number is expected.")
    return Decimal(value)


def _decimals(amount: Decimal) -> int:
    exponent = amount.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _reference(body: dict[str, Any]) -> str:
    value = body.get("reference_number") or ""
    if not isinstance(value, str):
        raise _bad("Invalid value passed for reference_number.")
    if len(value) > 100:
        raise _bad("reference_number can have at most 100 characters.")
    return value
