"""What every document kind's writer shares: the organization's books as the writer sees them.

- the record kinds (collection path, answer key, list keys, id field) found by reference;
- the document's currency, checked against the organization (enabled, decimals kept) and its
  exchange rate (zoho.fx.exchange_rate_required);
- the connection's settings a document is written with (accounts, item, tax);
- a create (POST, or Zoho's upsert with a unique custom field), its verification, and the
  look-up of an earlier attempt by ``reference_number``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.api import (
    AccountSettings,
    ConfigurationError,
    CreditNote,
    DeliveryContext,
    Document,
    DocumentRejected,
    Invoice,
    TransientError,
)
from plugins.zoho_books.client import BooksClient
from plugins.zoho_books.metadata import Currency, Metadata
from plugins.zoho_books.verify import verify

__all__ = [
    "CREDIT_NOTES",
    "EXPENSES",
    "INVOICES",
    "OPEN_INVOICE",
    "PAYMENTS",
    "Books",
    "Kind",
    "decimal_of",
]

OPEN_INVOICE = frozenset({"sent", "unpaid", "partially_paid", "overdue", "viewed"})


def decimal_of(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True, slots=True)
class Kind:
    path: str  # collection path
    record_key: str  # key of the created record in the answer
    list_key: tuple[str, ...]  # keys the rows of a list answer may come under
    id_field: str


INVOICES = Kind("/invoices", "invoice", ("invoices",), "invoice_id")
# zoho.list_key.customerpayments: the live API answers `customerpayments`, Zoho's OpenAPI
# document says `customer_payments`; both are read.
PAYMENTS = Kind(
    "/customerpayments", "payment", ("customerpayments", "customer_payments"), "payment_id"
)
EXPENSES = Kind("/expenses", "expense", ("expenses",), "expense_id")
CREDIT_NOTES = Kind("/creditnotes", "creditnote", ("creditnotes",), "creditnote_id")


class Books:
    """One organization's books, as every kind's writer writes to them."""

    def __init__(
        self,
        client: BooksClient,
        metadata: Metadata,
        *,
        unique_field: str | None = None,
        payment_mode: str = "others",
        connection_name: str = "NAME",
        exchange_rates: str = "zoho",
    ) -> None:
        self.client = client
        self.metadata = metadata
        self.payment_mode = payment_mode
        self._connection_name = connection_name
        self._exchange_rates = exchange_rates
        self._unique_field = unique_field or None

    # -- currency and rate ---------------------------------------------------------------

    def currency(self, document: Document) -> Currency:
        currency = self.metadata.currency(document.currency)
        if currency is None:
            raise DocumentRejected(
                f"{document.key}: currency {document.currency} is not enabled in the Zoho Books "
                f"organization {self.client.organization_id}.",
                f"Add {document.currency} under Settings > Currencies in Zoho Books; the next "
                "sync delivers this document.",
            )
        exponent = document.amount.as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if decimals > currency.price_precision:
            raise DocumentRejected(
                f"{document.key}: {document.amount} {document.currency} has {decimals} decimals "
                f"but the organization keeps {currency.currency_code} at "
                f"{currency.price_precision}.",
                "Raise the currency's decimal places in Zoho Books; nothing was rounded.",
            )
        return currency

    def exchange_rate(self, document: Document, currency: Currency) -> Decimal | None:
        """The rate of a foreign-currency document (zoho.fx.exchange_rate_required): the
        source's (HitPay's) where it gave one, else the organization's own rate in Zoho Books
        when the connection takes rates from there (``--exchange-rates zoho``, the default);
        no rate holds the document with the reason, never silently."""
        if currency.is_base_currency:
            return None
        given = getattr(document, "exchange_rate", None)  # invoices carry the source's
        if isinstance(given, Decimal):
            return given
        if self._exchange_rates == "zoho" and currency.exchange_rate:
            rate = decimal_of(currency.exchange_rate)
            if rate > 0:
                return rate
        raise DocumentRejected(
            f"{document.key}: no exchange rate for {document.currency}: the source gave none"
            + (
                " and Zoho Books has none for it"
                if self._exchange_rates == "zoho"
                else " and the connection takes rates only from the source"
            )
            + ".",
            "Set the currency's rate in Zoho Books (Settings > Currencies) and connect with "
            "--exchange-rates zoho; the document is held, nothing was sent.",
        )

    def with_rate(self, body: dict[str, Any], document: Document, currency: Currency) -> None:
        """``exchange_rate`` on a foreign-currency document's body (see :meth:`exchange_rate`)."""
        rate = self.exchange_rate(document, currency)
        if rate is not None:
            body["exchange_rate"] = rate

    # -- settings ------------------------------------------------------------------------

    @staticmethod
    def setting(settings: AccountSettings, name: str, currency: str | None = None) -> str:
        value = settings.account_for(name, currency) if currency else getattr(settings, name)
        if not value:
            raise ConfigurationError(
                f"the connection has no {name.replace('_', ' ')} set.",
                "Pick one with `ledgersync zoho accounts NAME` and save it in the settings.",
            )
        return str(value)

    def one_line_body(
        self,
        document: Invoice | CreditNote,
        settings: AccountSettings,
        currency: Currency,
        account: str,
    ) -> dict[str, Any]:
        """An invoice or a credit note: one line of the connection's item booked to the
        ``account`` setting, for the document's amount, under its key (``reference_number``)."""
        line: dict[str, Any] = {
            "item_id": self.setting(settings, "item"),
            "account_id": self.setting(settings, account),
            "rate": document.amount,
            "quantity": 1,
        }
        if document.description:
            line["description"] = document.description
        return {
            "customer_id": self.metadata.customer_for(currency),
            "currency_id": currency.currency_id,
            "date": document.date.isoformat(),
            "reference_number": document.key,
            "line_items": [line],
        }

    @staticmethod
    def taxed(settings: AccountSettings, body: dict[str, Any], line: dict[str, Any]) -> None:
        """The connection's tax on the line, the amount including it (HitPay's amounts do):
        Zoho splits the tax out and the total stays the amount (zoho.tax.line_tax_id_and_
        inclusive). Without a tax nothing is sent, and a tax Zoho adds anyway (an item's
        default tax) is caught by the verified write."""
        tax = settings.extra.get("tax")
        if tax and tax != "none":
            line["tax_id"] = tax
            body["is_inclusive_tax"] = True

    @staticmethod
    def depends(context: DeliveryContext, key: str, document: Document) -> str:
        remote = context.remote_ids.get(key)
        if not remote:
            raise TransientError(
                f"{document.key}: {key} has not been delivered yet.",
                "Documents are delivered in dependency order; the next sync retries.",
            )
        return remote

    # -- create, verify, find ------------------------------------------------------------

    def verify(
        self, what: str, key: str, asked: dict[str, Any], answer: dict[str, Any], record: str
    ) -> None:
        verify(what, key, asked, answer, connection_name=self._connection_name, record=record)

    def create(
        self,
        kind: Kind,
        body: dict[str, Any],
        key: str,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """POST, or with a unique custom field Zoho's upsert (PUT + X-Upsert).

        A credit note is always POSTed: only the POST documents ``?invoice_id=``, which ties
        it to the original invoice; its reference look-up keeps it exactly-once."""
        if self._unique_field and kind is not CREDIT_NOTES:
            headers = {
                "X-Unique-Identifier-Key": self._unique_field,
                "X-Unique-Identifier-Value": key,
                "X-Upsert": "true",
            }
            # zoho.upsert.field_written_on_create: nothing says the headers write the field,
            # so the body carries it too, and the answer must show it.
            body = {**body, "custom_fields": [{"api_name": self._unique_field, "value": key}]}
            answer = self.client.put(kind.path, body, params, headers)
            record = dict(answer[kind.record_key])
            self._check_unique_field(record, kind, key)
            return record
        answer = self.client.post(kind.path, body, params)
        return dict(answer[kind.record_key])

    def _check_unique_field(self, record: dict[str, Any], kind: Kind, key: str) -> None:
        field = str(self._unique_field)
        values = {
            str(row.get("api_name") or row.get("label")): row.get("value")
            for row in record.get("custom_fields") or []
            if isinstance(row, dict)
        }
        values.update(record.get("custom_field_hash") or {})
        if str(values.get(field)) == key:
            return
        raise ConfigurationError(
            f"Zoho Books did not keep the unique custom field {field} = {key} on "
            f"{kind.record_key} {record.get(kind.id_field)}, so an upsert cannot keep it "
            "exactly once.",
            f"Check that {field} exists on {kind.path.strip('/')} and refuses duplicate values "
            "in Zoho Books, or connect again without --unique-field; the next sync finds this "
            "one by reference.",
        )

    def find_rows(self, kind: Kind, key: str) -> list[dict[str, Any]]:
        rows = self.client.list_all(kind.path, kind.list_key, {"reference_number": key})
        # Zoho's filter may match more than the exact key (e.g. ":1" also finds ":10").
        return [row for row in rows if row.get("reference_number") == key]

    def find_by_reference(self, kind: Kind, key: str) -> str | None:
        rows = self.find_rows(kind, key)
        return str(rows[0][kind.id_field]) if rows else None
