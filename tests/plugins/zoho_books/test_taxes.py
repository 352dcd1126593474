"""Taxes in a GST-registered organization: documents are sent tax-inclusive so their totals are
the HitPay amounts; without a tax Zoho adds the item's default tax and the verified write stops
the document (and everything behind it) with one line saying what to set.

The whole system runs here (host, HitPay stand-in, Zoho stand-in of a GST-registered
organization, the real engine), as `ledgersync sync` would.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from reliability.reference import NOW
from reliability.system import CONNECTION, System, small_data_set, source_totals

from core.cli.main import build_cli
from core.connections.settings import SettingsChange, change_settings
from core.errors import ConfigurationError, DocumentRejected
from plugins.zoho_books.metadata import _tax
from plugins.zoho_books.verify import verify

PRECISION = {"SGD": 2, "JPY": 0}


@pytest.fixture
def gst(tmp_path: Path, secret_key: str) -> Iterator[System]:
    db = f"sqlite:///{tmp_path / 'gst.sqlite'}"
    with System(db, start=NOW, mode="individual", tax_registered=True) as system:
        system.connect(small_data_set(NOW))
        yield system


def cli(system: System, *args: str) -> Result:
    return CliRunner().invoke(build_cli(), ["--db", system.db_url, *args])


def nine_of_109(amount: Decimal, currency: str) -> Decimal:
    quantum = Decimal(1).scaleb(-PRECISION[currency])
    return (amount * 9 / 109).quantize(quantum, rounding=ROUND_HALF_UP)


@pytest.mark.vendor_fact(
    "zoho.tax.line_tax_id_and_inclusive", "zoho.tax.rounding", "zoho.taxes.sg_default_codes"
)
def test_gst_inclusive_documents_total_the_charges_and_clearing_is_the_net(gst: System) -> None:
    gst9 = gst.org.taxes["GST9 [SR]"]
    change_settings(gst.host, CONNECTION, SettingsChange(tax=gst9))
    report = gst.sync()
    assert report.outcome == "succeeded" and not report.failed_documents, report.error
    org = gst.zoho.organization(gst.org.organization_id)
    totals: dict[str, Decimal] = {}
    for invoice in org.invoices.values():
        code = org.currency_by_id(invoice.currency_id).currency_code
        totals[code] = totals.get(code, Decimal(0)) + invoice.total
        [line] = invoice.lines
        assert line.tax is not None and line.tax.tax_id == gst9
        assert line.tax_amount == nine_of_109(invoice.total, code)
        assert invoice.is_inclusive_tax and invoice.status == "paid"
    for note in org.creditnotes.values():
        code = org.currency_by_id(note.currency_id).currency_code
        [line] = note.lines
        assert line.tax_amount == nine_of_109(note.total, code)
    source = source_totals(gst.hitpay)
    assert totals == {code: charges for code, (charges, _, _) in source.items()}
    clearing = gst.raw_books()["bank_balances"][gst.org.bank_account]
    assert clearing == {code: c - f - r for code, (c, f, r) in source.items()}


@pytest.mark.vendor_fact("zoho.tax.item_default_applied")
def test_without_a_tax_the_item_s_gst_is_caught_and_nothing_follows_it(gst: System) -> None:
    report = gst.sync()
    books = gst.raw_books()
    assert books["payments"] == [] and books["credit_notes"] == []
    reasons = dict(report.failed_documents)
    invoice_reasons = [r for key, r in reasons.items() if key.endswith(":invoice")]
    assert len(invoice_reasons) == 3
    for reason in invoice_reasons:
        assert "Zoho added GST9 [SR]" in reason and "from the item's default tax" in reason
        assert f"`ledgersync settings {CONNECTION} --tax TAX_ID`" in reason
        assert "\n" not in reason
    org = gst.zoho.organization(gst.org.organization_id)
    assert {i.status for i in org.invoices.values()} == {"draft"}  # never marked sent
    again = gst.sync()
    assert gst.raw_books()["payments"] == [] and again.outcome != "failed"


def test_the_tax_setting_is_checked_with_the_organization(gst: System) -> None:
    with pytest.raises(ConfigurationError, match="tax 999 does not exist"):
        change_settings(gst.host, CONNECTION, SettingsChange(tax="999"))
    old = gst.org.taxes["GST7 [SR] (old)"]
    with pytest.raises(ConfigurationError, match=r"GST7 \[SR\] \(old\)' 7% \(\d+\) is inactive"):
        change_settings(gst.host, CONNECTION, SettingsChange(tax=old))
    info = change_settings(gst.host, CONNECTION, SettingsChange(tax="none"))
    assert info.settings.extra["tax"] == "none"


@pytest.mark.vendor_fact("zoho.list_key.taxes")
def test_the_taxes_command_and_the_settings_option(gst: System) -> None:
    listed = cli(gst, "zoho", "taxes", CONNECTION)
    assert listed.exit_code == 0, listed.output
    gst9 = gst.org.taxes["GST9 [SR]"]
    assert f"{gst9}       9%  GST9 [SR]" in listed.output
    assert "GST7 [SR] (old)  (inactive)" in listed.output
    as_json = cli(gst, "zoho", "taxes", CONNECTION, "--json")
    assert f'"tax_id": "{gst9}"' in as_json.output and '"is_active": false' in as_json.output
    saved = cli(gst, "settings", CONNECTION, "--tax", gst9)
    assert saved.exit_code == 0, saved.output
    assert f"tax: {gst9}" in saved.output
    wrong = cli(gst, "settings", CONNECTION, "--tax", "nope")
    assert wrong.exit_code != 0 and "tax nope does not exist" in wrong.output
    assert "Traceback" not in wrong.output


@pytest.mark.vendor_fact("zoho.taxes.no_status_field", "zoho.taxes.list_fields")
@pytest.mark.parametrize(
    ("row", "active"),
    [
        ({"status": "inactive"}, False),
        ({"is_active": False}, False),
        ({}, True),  # no status field at all (Zoho's documents show none): active
        ({"status": "active", "tax_percentage": "9"}, True),  # a percentage as a string
    ],
)
def test_a_tax_row_is_active_unless_it_says_otherwise(row: dict[str, object], active: bool) -> None:
    parsed = _tax({"tax_id": "1", "tax_name": "GST9 [SR]", "tax_percentage": 9, **row})
    assert parsed["is_active"] is active
    assert parsed["tax_percentage"] == "9"


def test_a_verified_write_names_every_difference_in_one_line() -> None:
    asked = {"total": Decimal("120.50"), "currency_id": "7", "date": "2026-01-14"}
    same = {"total": 120.5, "currency_id": "7"}  # a JSON number; no date in the answer
    verify("the invoice", "k", asked, same, connection_name="shop", record="invoice INV-1")
    other = {"total": "131.35", "currency_id": "8", "date": "2026-01-14"}
    with pytest.raises(DocumentRejected) as refused:
        verify("the invoice", "k", asked, other, connection_name="shop", record="invoice INV-1")
    message = str(refused.value)
    assert "total 131.35 instead of 120.50, currency_id 8 instead of 7" in message
    assert "\n" not in message and "INV-1" in message
