"""Property: rolling everything back and syncing again under new settings books exactly what a
fresh sync under those settings books (any charges, refunds, mode before and after, fee
account kept or moved): nothing of the old books is left, nothing is missing or twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.connections.settings import SettingsChange, change_settings
from core.sync.undo import Scope, repost
from reliability.reference import MODES, NOW
from reliability.system import CONNECTION, ZONE, Books, ChargeSpec, DataSet, RefundSpec, System

DAY0 = datetime.combine(
    (NOW.astimezone(ZONE) - timedelta(days=3)).date(), datetime.min.time(), tzinfo=ZONE
)


@st.composite
def data_sets(draw: st.DrawFn) -> DataSet:
    charges = tuple(
        ChargeSpec(
            Decimal(draw(st.integers(100, 50_000))) / 100
            if currency == "sgd"
            else Decimal(draw(st.integers(100, 50_000))),
            currency,
            DAY0 + timedelta(days=draw(st.integers(0, 1)), hours=draw(st.integers(0, 23))),
        )
        for currency in draw(st.lists(st.sampled_from(["sgd", "jpy"]), min_size=1, max_size=4))
    )
    refunds = []
    for index, charge in enumerate(charges):
        if draw(st.booleans()):
            share = charge.amount / 2 if charge.currency == "sgd" else charge.amount // 2
            refunds.append(
                RefundSpec(
                    index,
                    share.quantize(Decimal("0.01") if charge.currency == "sgd" else Decimal(1)),
                    charge.at + timedelta(hours=1),
                )
            )
    return DataSet(charges, tuple(refunds), since=DAY0)


def _with_new_fee_account(system: System, data: DataSet, mode: str) -> str:
    system.connect(data)
    with system.zoho.lock:
        org = system.zoho.organization(system.org.organization_id)
        fees = org.add_account("Card fees", "expense")
    change_settings(system.host, CONNECTION, SettingsChange(mode=mode))
    return fees


def _fresh(db_url: str, data: DataSet, mode: str, move_fees: bool) -> Books:
    with System(db_url, start=NOW, mode=mode) as system:
        fees = _with_new_fee_account(system, data, mode)
        if move_fees:
            change_settings(system.host, CONNECTION, SettingsChange(fee_account=fees))
        system.sync_until_done()
        return system.books()


def _reposted(db_url: str, data: DataSet, before: str, after: str, move_fees: bool) -> Books:
    with System(db_url, start=NOW, mode=before) as system:
        fees = _with_new_fee_account(system, data, before)
        system.sync_until_done()
        change_settings(
            system.host,
            CONNECTION,
            SettingsChange(mode=after, fee_account=fees if move_fees else None),
        )
        report = repost(system.host, CONNECTION, Scope(since=date(2000, 1, 1)), now=system.now())
        assert report.outcome == "succeeded", report.error
        assert report.sync is not None and report.sync.outcome == "succeeded"
        return system.books()


def test_rollback_then_sync_books_what_a_fresh_sync_under_the_new_settings_books(
    fresh_db: Callable[[], str],
) -> None:
    @settings(
        max_examples=6,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        data=data_sets(),
        before=st.sampled_from(MODES),
        after=st.sampled_from(MODES),
        move_fees=st.booleans(),
    )
    def check(data: DataSet, before: str, after: str, move_fees: bool) -> None:
        reposted = _reposted(fresh_db(), data, before, after, move_fees)
        fresh = _fresh(fresh_db(), data, after, move_fees)
        assert reposted == fresh, reposted.diff(fresh)

    check()
