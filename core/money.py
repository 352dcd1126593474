"""Money: Decimal amounts at their currency's ISO 4217 precision.

The precision table is babel's (CLDR), not a hand-written list. Nothing here ever touches float.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache

from babel.core import get_global
from babel.numbers import get_currency_precision

from core.errors import BadRecord

__all__ = ["is_known_currency", "minor_units", "parse_amount", "quantize", "to_decimal"]


@cache
def _known_currencies() -> frozenset[str]:
    names = get_global("currency_fractions")
    codes: set[str] = set(get_global("all_currencies"))
    codes.update(code for code in names if code != "DEFAULT")
    return frozenset(codes)


def is_known_currency(code: str) -> bool:
    """True for an ISO 4217 code CLDR knows (upper case, three letters)."""
    return len(code) == 3 and code.isalpha() and code.isupper() and code in _known_currencies()


@cache
def minor_units(currency: str) -> int:
    """Digits after the decimal point for ``currency``: JPY 0, SGD 2, KWD 3."""
    if not is_known_currency(currency):
        raise BadRecord(f"unknown currency {currency!r}: expected an ISO 4217 code such as SGD")
    return int(get_currency_precision(currency))


@cache
def _exponent(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-even to the currency's precision."""
    return amount.quantize(_exponent(currency), rounding=ROUND_HALF_EVEN)


def to_decimal(value: object) -> Decimal:
    """A Decimal from an int, str or Decimal; float and bool are refused."""
    if isinstance(value, bool | float):
        raise BadRecord(f"amount {value!r} is not exact: amounts must be decimal, never float")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise BadRecord(f"amount {value!r} is not a number") from None
    else:
        raise BadRecord(f"amount {value!r} is not a number")
    if not result.is_finite():
        raise BadRecord(f"amount {value!r} is not a finite number")
    return result


def parse_amount(value: object, currency: str) -> Decimal:
    """Parse ``value`` exactly and check it fits the currency's precision without rounding."""
    amount = to_decimal(value)
    try:
        rounded = quantize(amount, currency)
    except ArithmeticError:  # more digits than Decimal arithmetic carries
        raise BadRecord(f"amount {value} is too large to be an amount of {currency}") from None
    if rounded != amount:
        raise BadRecord(
            f"amount {value} has more decimals than {currency} allows ({minor_units(currency)})"
        )
    return rounded
