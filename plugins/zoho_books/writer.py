"""One function per document kind: how each becomes Zoho Books records, and how an earlier
attempt is found again by its key (``reference_number``).

- Invoice: one line (default item, sales account, rate = amount, quantity 1), then marked
  sent. It counts as delivered only once sent; the id of a created-but-draft invoice is kept
  in the cache so any retry finishes it instead of creating another.
- Payment: deposited to the clearing (bank) account, applied to its invoice.
- Expense: on the fee account, paid through the clearing account.
- Credit note: on the refund account, associated with the original invoice (``?invoice_id=``).
- Credit refund: credit applied to the invoice while it still has a balance
  (``POST /invoices/{id}/credits``), the rest refunded from the clearing account.

A payment is also found through its invoice's payments, a credit refund through its credit
note's refunds and applied credits; a refusal of either (over the balance due, over the
credit left) looks there before it counts as final: it may mean an earlier attempt went in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.api import (
    AccountSettings,
    Adjustment,
    ConfigurationError,
    CreditNote,
    CreditRefund,
    DeliveryContext,
    DeliveryUncertain,
    Document,
    DocumentRejected,
    Expense,
    Invoice,
    KeyValueCache,
    Payment,
    Transfer,
    TransientError,
)
from plugins.zoho_books.client import BooksClient
from plugins.zoho_books.metadata import Currency, Metadata
from plugins.zoho_books.transfers import (
    deliver_adjustment,
    deliver_transfer,
    find_adjustment,
    find_transfer,
)
from plugins.zoho_books.verify import verify

__all__ = ["Writer"]

OPEN_INVOICE = {"sent", "unpaid", "partially_paid", "overdue", "viewed"}


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True, slots=True)
class _Kind:
    path: str  # collection path
    record_key: str  # key of the created record in the answer
    list_key: tuple[str, ...]  # keys the rows of a list answer may come under
    id_field: str


INVOICES = _Kind("/invoices", "invoice", ("invoices",), "invoice_id")
# zoho.list_key.customerpayments: the live API answers `customerpayments`, Zoho's OpenAPI
# document says `customer_payments`; both are read.
PAYMENTS = _Kind(
    "/customerpayments", "payment", ("customerpayments", "customer_payments"), "payment_id"
)
EXPENSES = _Kind("/expenses", "expense", ("expenses",), "expense_id")
CREDIT_NOTES = _Kind("/creditnotes", "creditnote", ("creditnotes",), "creditnote_id")


class Writer:
    """Writes documents to one organization."""

    def __init__(
        self,
        client: BooksClient,
        metadata: Metadata,
        cache: KeyValueCache,
        *,
        unique_field: str | None = None,
        payment_mode: str = "others",
        connection_name: str = "NAME",
        exchange_rates: str = "zoho",
    ) -> None:
        self._connection_name = connection_name
        self._exchange_rates = exchange_rates
        self._client = client
        self._metadata = metadata
        self._cache = cache
        self._unique_field = unique_field or None
        self._payment_mode = payment_mode

    # -- dispatch ------------------------------------------------------------------------

    def deliver(self, document: Document, context: DeliveryContext) -> str:
        handlers: dict[type[Document], Callable[[Any, DeliveryContext], str]] = {
            Invoice: self.deliver_invoice,
            Payment: self.deliver_payment,
            Expense: self.deliver_expense,
            CreditNote: self.deliver_credit_note,
            CreditRefund: self.deliver_credit_refund,
            Transfer: lambda d, c: deliver_transfer(self._client, self._currency(d), d, c.settings),
            Adjustment: lambda d, c: deliver_adjustment(
                self._client, self._currency(d), d, c.settings
            ),
        }
        return handlers[type(document)](document, context)

    def find_existing(self, document: Document, context: DeliveryContext) -> str | None:
        if isinstance(document, Invoice):
            return self.find_invoice(document, context)
        if isinstance(document, Payment):
            return self._find_by_reference(PAYMENTS, document.key) or self.find_payment_on_invoice(
                document, context
            )
        if isinstance(document, Expense):
            return self._find_by_reference(EXPENSES, document.key)
        if isinstance(document, CreditNote):
            return self._find_by_reference(CREDIT_NOTES, document.key)
        if isinstance(document, CreditRefund):
            return self.find_credit_refund(document, context)
        if isinstance(document, Transfer):
            return find_transfer(self._client, document, context.settings)
        if isinstance(document, Adjustment):
            return find_adjustment(self._client, document)
        raise TypeError(f"unknown document {document!r}")

    # -- shared pieces ---------------------------------------------------------------------

    def _currency(self, document: Document) -> Currency:
        currency = self._metadata.currency(document.currency)
        if currency is None:
            raise DocumentRejected(
                f"{document.key}: currency {document.currency} is not enabled in the Zoho Books "
                f"organization {self._client.organization_id}.",
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

    def _exchange_rate(self, document: Document, currency: Currency) -> Decimal | None:
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
            rate = _decimal(currency.exchange_rate)
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

    @staticmethod
    def _setting(settings: AccountSettings, name: str, currency: str | None = None) -> str:
        value = settings.account_for(name, currency) if currency else getattr(settings, name)
        if not value:
            raise ConfigurationError(
                f"the connection has no {name.replace('_', ' ')} set.",
                "Pick one with `ledgersync zoho accounts NAME` and save it in the settings.",
            )
        return str(value)

    @staticmethod
    def _taxed(settings: AccountSettings, body: dict[str, Any], line: dict[str, Any]) -> None:
        """The connection's tax on the line, the amount including it (HitPay's amounts do):
        Zoho splits the tax out and the total stays the amount (zoho.tax.line_tax_id_and_
        inclusive). Without a tax nothing is sent, and a tax Zoho adds anyway (an item's
        default tax) is caught by the verified write."""
        tax = settings.extra.get("tax")
        if tax and tax != "none":
            line["tax_id"] = tax
            body["is_inclusive_tax"] = True

    def _verify(
        self, what: str, key: str, asked: dict[str, Any], answer: dict[str, Any], record: str
    ) -> None:
        verify(what, key, asked, answer, connection_name=self._connection_name, record=record)

    @staticmethod
    def _depends(context: DeliveryContext, key: str, document: Document) -> str:
        remote = context.remote_ids.get(key)
        if not remote:
            raise TransientError(
                f"{document.key}: {key} has not been delivered yet.",
                "Documents are delivered in dependency order; the next sync retries.",
            )
        return remote

    def _create(
        self,
        kind: _Kind,
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
            answer = self._client.put(kind.path, body, params, headers)
            record = dict(answer[kind.record_key])
            self._check_unique_field(record, kind, key)
            return record
        answer = self._client.post(kind.path, body, params)
        return dict(answer[kind.record_key])

    def _check_unique_field(self, record: dict[str, Any], kind: _Kind, key: str) -> None:
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

    def _find_rows(self, kind: _Kind, key: str) -> list[dict[str, Any]]:
        rows = self._client.list_all(kind.path, kind.list_key, {"reference_number": key})
        # Zoho's filter may match more than the exact key (e.g. ":1" also finds ":10").
        return [row for row in rows if row.get("reference_number") == key]

    def _find_by_reference(self, kind: _Kind, key: str) -> str | None:
        rows = self._find_rows(kind, key)
        return str(rows[0][kind.id_field]) if rows else None

    # -- invoice -------------------------------------------------------------------------

    def _pending_key(self, key: str) -> str:
        return f"zoho_books:{self._client.organization_id}:draft_invoice:{key}"

    def deliver_invoice(self, document: Invoice, context: DeliveryContext) -> str:
        pending = self._cache.get(self._pending_key(document.key))
        if pending:
            return self._finish_invoice(str(pending), document.key, status=None)
        currency = self._currency(document)
        body = self._invoice_body(document, context, currency)
        invoice = self._create(INVOICES, body, document.key)
        invoice_id = str(invoice["invoice_id"])
        self._verify_invoice(document, currency, invoice)
        self._cache.set(self._pending_key(document.key), invoice_id)
        return self._finish_invoice(invoice_id, document.key, status=str(invoice.get("status")))

    def _invoice_body(
        self, document: Invoice, context: DeliveryContext, currency: Currency
    ) -> dict[str, Any]:
        """The invoice as asked under the current settings (accounts, item, tax)."""
        line: dict[str, Any] = {
            "item_id": self._setting(context.settings, "item"),
            "account_id": self._setting(context.settings, "sales_account"),
            "rate": document.amount,
            "quantity": 1,
        }
        if document.description:
            line["description"] = document.description
        body: dict[str, Any] = {
            "customer_id": self._metadata.customer_for(currency),
            "currency_id": currency.currency_id,
            "date": document.date.isoformat(),
            "reference_number": document.key,
            "line_items": [line],
        }
        rate = self._exchange_rate(document, currency)
        if rate is not None:
            body["exchange_rate"] = rate
        self._taxed(context.settings, body, line)
        return body

    def _finish_invoice(self, invoice_id: str, key: str, status: str | None) -> str:
        """Mark a created invoice sent; only then is it delivered."""
        try:
            if status is None:
                status = str(self._client.get(f"/invoices/{invoice_id}")["invoice"]["status"])
            if status == "draft":
                self._client.post(f"/invoices/{invoice_id}/status/sent")
        except TransientError as error:
            if isinstance(error, DeliveryUncertain):
                raise
            raise DeliveryUncertain(
                f"{key}: invoice {invoice_id} was created but not yet marked sent ({error}).",
                "The next attempt finds it by reference and marks it sent.",
            ) from None
        self._cache.set(self._pending_key(key), None)
        return invoice_id

    def _verify_invoice(
        self, document: Invoice, currency: Currency, answer: dict[str, Any]
    ) -> None:
        asked: dict[str, Any] = {
            "total": document.amount,
            "currency_id": currency.currency_id,
            "date": document.date.isoformat(),
            "customer_id": self._metadata.customer_for(currency),
            "status": frozenset({"draft", "paid", *OPEN_INVOICE}),  # not void
        }
        record = f"invoice {answer.get('invoice_number') or answer.get('invoice_id')}"
        self._verify("the invoice", document.key, asked, answer, record)

    def find_invoice(self, document: Invoice, context: DeliveryContext | None = None) -> str | None:
        """The invoice an earlier attempt created, finished (marked sent). A draft that is not
        what was asked (Zoho added the item's tax before the tax was set) is corrected in place
        under the current settings (``PUT /invoices/{id}``, zoho.invoice.update): a draft is
        not in the books yet, and its id and key stay, so nothing is created twice."""
        rows = self._find_rows(INVOICES, document.key)
        if not rows:
            return None
        row = rows[0]
        currency = self._currency(document)
        try:
            self._verify_invoice(document, currency, row)
        except DocumentRejected:
            if context is None or row.get("status") != "draft":
                raise
            self._correct_draft(document, context, currency, str(row["invoice_id"]))
            return self._finish_invoice(str(row["invoice_id"]), document.key, "draft")
        return self._finish_invoice(str(row["invoice_id"]), document.key, str(row["status"]))

    def _correct_draft(
        self, document: Invoice, context: DeliveryContext, currency: Currency, invoice_id: str
    ) -> None:
        # The lines sent replace the draft's (a line left out is deleted: zoho.invoice.update).
        body = self._invoice_body(document, context, currency)
        answer = dict(self._client.put(f"/invoices/{invoice_id}", body)["invoice"])
        self._verify_invoice(document, currency, answer)

    # -- payment -------------------------------------------------------------------------

    def deliver_payment(self, document: Payment, context: DeliveryContext) -> str:
        applied = [
            {"invoice_id": self._depends(context, invoice_key, document), "amount_applied": amount}
            for invoice_key, amount in document.applications
        ]
        currency = self._currency(document)
        body: dict[str, Any] = {
            "customer_id": self._metadata.customer_for(currency),
            "payment_mode": self._payment_mode,
            "amount": document.amount,
            "date": document.date.isoformat(),
            "reference_number": document.key,
            "account_id": self._setting(context.settings, "bank_account", document.currency),
            "invoices": applied,  # zoho.payment.many_invoices: one payment, many invoices
        }
        if document.description:
            body["description"] = document.description
        rate = self._exchange_rate(document, currency)
        if rate is not None:
            body["exchange_rate"] = rate
        try:
            payment = self._create(PAYMENTS, body, document.key)
        except DocumentRejected:
            # "More than the balance due" may mean an earlier attempt already paid it: look on
            # the invoice before calling the refusal final (zoho.error.over_balance).
            found = self.find_payment_on_invoice(document, context)
            if found:
                return found
            raise
        asked = {
            "amount": document.amount,
            "date": document.date.isoformat(),
            "customer_id": body["customer_id"],
            "account_id": body["account_id"],
        }
        record = f"payment {payment.get('payment_number') or payment.get('payment_id')}"
        self._verify("the payment", document.key, asked, payment, record)
        return str(payment["payment_id"])

    def find_payment_on_invoice(self, document: Payment, context: DeliveryContext) -> str | None:
        """The second way: the payments applied to the invoice (``GET /invoices/{id}/payments``,
        zoho.list_key.invoice_payments), matched on the exact reference."""
        invoice_id = context.remote_ids.get(document.invoice_key)
        if not invoice_id:
            return None
        answer = self._client.get(f"/invoices/{invoice_id}/payments")
        for row in answer.get("payments") or []:
            if row.get("reference_number") == document.key:
                return str(row["payment_id"])
        return None

    # -- expense -------------------------------------------------------------------------

    def deliver_expense(self, document: Expense, context: DeliveryContext) -> str:
        currency = self._currency(document)
        body: dict[str, Any] = {
            "account_id": self._setting(context.settings, "fee_account"),
            "paid_through_account_id": self._setting(
                context.settings, "bank_account", document.currency
            ),
            "date": document.date.isoformat(),
            "amount": document.amount,
            "currency_id": currency.currency_id,
            "reference_number": document.key,
        }
        if document.description:
            body["description"] = document.description[:100]
        rate = self._exchange_rate(document, currency)
        if rate is not None:
            body["exchange_rate"] = rate
        expense = self._create(EXPENSES, body, document.key)
        asked = {
            "total": document.amount,
            "currency_id": currency.currency_id,
            "date": document.date.isoformat(),
            "account_id": body["account_id"],
            "paid_through_account_id": body["paid_through_account_id"],
        }
        record = f"expense {expense.get('expense_id')}"
        self._verify("the expense", document.key, asked, expense, record)
        return str(expense["expense_id"])

    # -- credit note ---------------------------------------------------------------------

    def deliver_credit_note(self, document: CreditNote, context: DeliveryContext) -> str:
        currency = self._currency(document)
        line: dict[str, Any] = {
            "item_id": self._setting(context.settings, "item"),
            "account_id": self._setting(context.settings, "refund_account"),
            "rate": document.amount,
            "quantity": 1,
        }
        if document.description:
            line["description"] = document.description
        body: dict[str, Any] = {
            "customer_id": self._metadata.customer_for(currency),
            "currency_id": currency.currency_id,
            "date": document.date.isoformat(),
            "reference_number": document.key,
            "line_items": [line],
        }
        params = None
        if document.invoice_key:
            params = {"invoice_id": self._depends(context, document.invoice_key, document)}
        rate = self._exchange_rate(document, currency)
        if rate is not None:
            body["exchange_rate"] = rate
        self._taxed(context.settings, body, line)
        note = self._create(CREDIT_NOTES, body, document.key, params)
        asked = {
            "total": document.amount,
            "currency_id": currency.currency_id,
            "date": document.date.isoformat(),
            "customer_id": body["customer_id"],
        }
        record = f"credit note {note.get('creditnote_number') or note.get('creditnote_id')}"
        self._verify("the credit note", document.key, asked, note, record)
        return str(note["creditnote_id"])

    # -- credit refund (or applied credit) -----------------------------------------------

    def deliver_credit_refund(self, document: CreditRefund, context: DeliveryContext) -> str:
        credit_note_id = self._depends(context, document.credit_note_key, document)
        credit_note = self._client.get(f"/creditnotes/{credit_note_id}")["creditnote"]
        remaining = min(document.amount, _decimal(credit_note.get("balance", 0)))
        if remaining <= 0:
            found = self.find_credit_refund(document, context)
            if found:
                return found
            raise DocumentRejected(
                f"{document.key}: credit note {credit_note_id} has no credit left to refund.",
                "Someone used the credit in Zoho Books; check the credit note there.",
            )
        try:
            return self._apply_and_refund(document, context, credit_note_id, credit_note, remaining)
        except DocumentRejected:
            # Over the credit balance or the invoice's balance may mean an earlier attempt
            # already applied or refunded it: look on the credit note before it is final.
            found = self.find_credit_refund(document, context)
            if found:
                return found
            raise

    def _apply_and_refund(
        self,
        document: CreditRefund,
        context: DeliveryContext,
        credit_note_id: str,
        credit_note: dict[str, Any],
        remaining: Decimal,
    ) -> str:
        bank = self._setting(context.settings, "bank_account", document.currency)
        invoice_id = self._credited_invoice(document, context, credit_note)
        applied_id: str | None = None
        if invoice_id:
            invoice = self._client.get(f"/invoices/{invoice_id}")["invoice"]
            balance = _decimal(invoice.get("balance", 0))
            if invoice.get("status") in OPEN_INVOICE and balance > 0:
                applied = min(remaining, balance)
                applied_id = self._apply_credit(credit_note_id, invoice_id, applied)
                remaining -= applied
        if remaining <= 0:
            if applied_id:
                return applied_id
            raise DeliveryUncertain(
                f"{document.key}: credit was applied to invoice {invoice_id} but Zoho Books "
                "does not list it yet.",
                "The next attempt looks it up again.",
            )
        body: dict[str, Any] = {
            "date": document.date.isoformat(),
            "amount": remaining,
            "from_account_id": bank,
            "refund_mode": self._payment_mode,
            "reference_number": document.key,
        }
        if document.description:
            body["description"] = document.description[:100]
        answer = self._client.post(f"/creditnotes/{credit_note_id}/refunds", body)
        refund = dict(answer["creditnote_refund"])
        asked = {"amount": remaining, "date": body["date"], "from_account_id": bank}
        record = f"refund {refund.get('creditnote_refund_id')} of credit note {credit_note_id}"
        self._verify("the refund", document.key, asked, refund, record)
        return str(refund["creditnote_refund_id"])

    @staticmethod
    def _credited_invoice(
        document: CreditRefund, context: DeliveryContext, credit_note: dict[str, Any]
    ) -> str | None:
        """The original invoice: from the context when the host passed it, else the one the
        credit note was raised against (``?invoice_id=``, listed in its ``invoices``)."""
        if document.invoice_key and context.remote_ids.get(document.invoice_key):
            return context.remote_ids[document.invoice_key]
        for row in credit_note.get("invoices") or []:
            if row.get("invoice_id"):
                return str(row["invoice_id"])
        return None

    def _apply_credit(self, credit_note_id: str, invoice_id: str, amount: Decimal) -> str | None:
        """Credit applied through the invoice (zoho.credit.apply_via_invoice); the id of the
        application from the answer's ``use_credits``, else read back from the credit note."""
        answer = self._client.post(
            f"/invoices/{invoice_id}/credits",
            {"apply_creditnotes": [{"creditnote_id": credit_note_id, "amount_applied": amount}]},
        )
        for row in (answer.get("use_credits") or {}).get("apply_creditnotes") or []:
            if str(row.get("creditnote_id")) == credit_note_id and row.get(
                "creditnotes_invoice_id"
            ):
                return str(row["creditnotes_invoice_id"])
        return self._credited_id(credit_note_id, invoice_id)

    def _credited_id(self, credit_note_id: str, invoice_id: str) -> str | None:
        answer = self._client.get(f"/creditnotes/{credit_note_id}/invoices")
        for row in answer.get("invoices_credited") or []:
            if str(row.get("invoice_id")) == invoice_id:
                return str(row["creditnote_invoice_id"])
        return None

    def find_credit_refund(self, document: CreditRefund, context: DeliveryContext) -> str | None:
        credit_note_id = context.remote_ids.get(document.credit_note_key)
        if not credit_note_id:
            return None
        refunds = self._client.list_all(
            f"/creditnotes/{credit_note_id}/refunds", "creditnote_refunds"
        )
        for row in refunds:
            if row.get("reference_number") == document.key:
                return str(row["creditnote_refund_id"])
        credit_note = self._client.get(f"/creditnotes/{credit_note_id}")["creditnote"]
        invoice_id = self._credited_invoice(document, context, credit_note)
        if invoice_id and _decimal(credit_note.get("balance", 0)) <= 0:
            return self._credited_id(credit_note_id, invoice_id)
        return None
