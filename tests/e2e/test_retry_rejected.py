"""A document the destination rejects alerts once, and `ledgersync retry` sends it again after
the fix, exactly once.

The whole system runs (host, HitPay stand-in, the Zoho stand-in of a GST-registered
organization, the real engine and CLI): a sync without a tax leaves each invoice as a draft
Zoho added GST to, rejected with one line saying what to set; `settings --tax`, then `retry
--all-failed` corrects each draft in place and the books come out exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from reliability.system import CONNECTION, System, small_data_set, source_totals
from sqlalchemy import select
from support.notifiers import InboxNotifier, InboxPlugin

from core import clock
from core.cli.main import build_cli
from core.connections.alerts import open_alerts
from core.contracts import NoticeKind
from core.store.models import DocumentRow
from core.store.repository import get_connection
from core.sync.rejections import REJECTED, alert_rejections


@pytest.fixture
def gst(tmp_path: Path, secret_key: str) -> Iterator[System]:
    db = f"sqlite:///{tmp_path / 'gst.sqlite'}"
    # On the product's own clock (no simulated time): `ledgersync retry` syncs as a process of
    # its own would, at the same "now" as the stand-ins.
    with System(db, mode="individual", tax_registered=True) as system:
        system.connect(small_data_set(clock.now()))
        system.host.plugins.register(InboxPlugin(), name="inbox")
        InboxNotifier.received.clear()
        yield system
    InboxNotifier.received.clear()


def cli(system: System, *args: str) -> Result:
    return CliRunner().invoke(build_cli(), ["--db", system.db_url, *args])


def rejected_notices() -> list[str]:
    return [
        notice.message
        for notice in InboxNotifier.received
        if notice.kind == NoticeKind.DOCUMENTS_REJECTED
    ]


def rejection_alerts(system: System) -> list[str]:
    with system.host.database.session() as session:
        connection_id = get_connection(session, CONNECTION).id
        return [a.message for a in open_alerts(session, connection_id) if a.kind == REJECTED]


def states(system: System) -> dict[str, str]:
    with system.host.database.session() as session:
        return {row.key: row.state for row in session.scalars(select(DocumentRow))}


@pytest.mark.vendor_fact("hitpay.refund.fee_not_returned")  # clearing = charges - fees - refunds
def test_a_rejected_invoice_alerts_once_then_retry_after_the_tax_fixes_the_books(
    gst: System,
) -> None:
    first = gst.sync()
    invoices = sorted(key for key, _ in first.failed_documents if key.endswith(":invoice"))
    assert len(invoices) == 3
    [told] = rejected_notices()  # one notice for the run, every rejection in it
    assert all(key in told for key in invoices) and "--tax TAX_ID" in told
    assert len(rejection_alerts(gst)) == 3

    gst.sync()  # nothing new is rejected, nothing is told again
    assert len(rejected_notices()) == 1

    listed = cli(gst, "retry", CONNECTION)
    assert listed.exit_code == 0, listed.output
    assert "Rejected: 3 document(s)" in listed.output and "Zoho added GST9 [SR]" in listed.output
    assert f"`ledgersync retry {CONNECTION} --all-failed`" in listed.output

    again = cli(gst, "retry", CONNECTION, "--all-failed")  # before the fix: same reason
    assert again.exit_code == 1, again.output
    assert "Rejected again: 3" in again.output and "Traceback" not in again.output
    assert len(rejected_notices()) == 1  # the same reason is not told twice

    gst9 = gst.org.taxes["GST9 [SR]"]
    assert cli(gst, "settings", CONNECTION, "--tax", gst9).exit_code == 0
    dry = cli(gst, "retry", CONNECTION, "--all-failed", "--dry-run")
    assert dry.exit_code == 0 and "Would send again: 3 document(s)" in dry.output
    assert {states(gst)[key] for key in invoices} == {"failed"}

    fixed = cli(gst, "retry", CONNECTION, "--all-failed")
    assert fixed.exit_code == 0, fixed.output
    assert set(states(gst).values()) == {"delivered"}
    org = gst.zoho.organization(gst.org.organization_id)
    assert len(org.invoices) == 3  # the drafts corrected in place, none created again
    totals: dict[str, Decimal] = {}
    for invoice in org.invoices.values():
        code = org.currency_by_id(invoice.currency_id).currency_code
        totals[code] = totals.get(code, Decimal(0)) + invoice.total
        assert invoice.is_inclusive_tax and invoice.status == "paid"
    source = source_totals(gst.hitpay)
    assert totals == {code: charges for code, (charges, _, _) in source.items()}
    clearing = gst.raw_books()["bank_balances"][gst.org.bank_account]
    assert clearing == {code: c - f - r for code, (c, f, r) in source.items()}
    assert gst.books().duplicates() == 0
    assert cli(gst, "retry", CONNECTION).output.startswith("Nothing of")
    gst.sync()  # the delivered documents close their episodes
    assert rejection_alerts(gst) == []


def test_a_changed_reason_alerts_again_and_the_same_one_never(gst: System) -> None:
    with gst.host.database.session() as session:
        info = get_connection(session, CONNECTION)
    from core.store.repository import connection_info

    connection = connection_info(info)
    now = gst.now()
    key = "hitpay:charge:x:invoice"
    assert alert_rejections(gst.host, connection, [(key, "the account 4 is inactive.")], now) == 1
    assert alert_rejections(gst.host, connection, [(key, "the account 4 is inactive.")], now) == 0
    assert alert_rejections(gst.host, connection, [(key, "tax 9 does not exist.")], now) == 1
    assert rejected_notices() == [
        f"{key}: the account 4 is inactive.",
        f"{key}: tax 9 does not exist.",
    ]
    assert rejection_alerts(gst) == [f"{key}: tax 9 does not exist."]


def test_retry_refuses_bad_input_in_one_line(gst: System) -> None:
    both = cli(gst, "retry", CONNECTION, "--all-failed", "--key", "k")
    assert both.exit_code == 2 and "not both" in both.output
    unknown = cli(gst, "retry", CONNECTION, "--key", "hitpay:nope")
    assert unknown.exit_code == 2 and "is not a rejected document" in unknown.output
    missing = cli(gst, "retry", "nosuch", "--all-failed")
    assert missing.exit_code != 0 and "Traceback" not in missing.output
