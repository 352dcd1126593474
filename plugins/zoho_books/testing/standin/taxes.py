"""Taxes of a tax-registered organization, as the stand-in models them.

- zoho.taxes.list_fields: ``GET /settings/taxes`` rows carry ``tax_id``, ``tax_name``,
  ``tax_percentage``, ``tax_type``, ``is_default_tax``, ``is_editable``, ``is_value_added``.
- zoho.taxes.sg_default_codes: a Singapore GST organization has ``GST9 [SR]`` (9 %) and
  ``GST0 [ZR]`` (0 %); the seeded one also has an inactive custom rate (a ``status`` field,
  which zoho.taxes.no_status_field says may be absent: the client checks it only when given).
- zoho.tax.item_default_applied: a line with an item and no ``tax_id`` takes the item's tax.
- zoho.tax.rounding: the tax of each line is rounded half-up at the currency's precision;
  inclusive: ``amount * p / (100 + p)``, exclusive: ``amount * p / 100``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["Tax", "line_tax"]


@dataclass
class Tax:
    tax_id: str
    tax_name: str
    tax_percentage: Decimal
    tax_type: str = "tax"
    status: str = "active"
    is_default_tax: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "tax_id": self.tax_id,
            "tax_name": self.tax_name,
            "tax_percentage": self.tax_percentage,
            "tax_type": self.tax_type,
            "tax_specific_type": "",
            "is_default_tax": self.is_default_tax,
            "is_editable": not self.is_default_tax,
            "is_value_added": True,
            "status": self.status,
        }


def line_tax(amount: Decimal, percentage: Decimal, *, inclusive: bool, precision: int) -> Decimal:
    """The tax of one line of ``amount`` (its rate times quantity), rounded half-up."""
    if inclusive:
        tax = amount * percentage / (Decimal(100) + percentage)
    else:
        tax = amount * percentage / Decimal(100)
    return tax.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)
