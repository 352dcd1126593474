"""``ledgersync settings``: show or change a connection's mapping, mode, channels, schedule."""

from __future__ import annotations

import click

from core.cli.context import pass_host
from core.cli.output import emit_json, safe
from core.connections.quota import api_share as api_share_of
from core.connections.settings import (
    REFUND_LOOKBACK_DAYS,
    REFUND_LOOKBACK_RANGE,
    SettingsChange,
    change_settings,
    refund_lookback_days,
)
from core.connections.setup import load_connection
from core.errors import ConfigurationError
from core.host import Host
from core.mapping.daily import grouping_options
from core.states import SyncMode
from core.store.repository import get_connection


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _accounts(setting: str, values: tuple[str, ...]) -> tuple[str | None, dict[str, str]]:
    """A default account id and per-currency ones from ``ID`` and ``CUR=ID`` values."""
    default: str | None = None
    pairs: dict[str, str] = {}
    flag = f"--{setting.replace('_', '-')}"
    for part in (p.strip() for value in values for p in value.split(",")):
        if not part:
            continue
        currency, sep, account = part.partition("=")
        if not sep:
            if default is not None and default != part:
                raise ConfigurationError(
                    f"{flag} was given two default accounts ({default}, {part}).",
                    f"Give one default and CUR=ID for the others, e.g. {flag} USD=ID.",
                )
            default = part
            continue
        if not account.strip():
            raise ConfigurationError(
                f"{flag} {part!r} names no account.", f"Use {flag} CUR=ID, e.g. USD=4600002."
            )
        pairs[f"{setting}:{currency.strip().upper()}"] = account.strip()
    return default, pairs


@click.command("settings")
@click.argument("name")
@click.option("--sales-account", help="Income account id for sales.")
@click.option("--fee-account", help="Expense account id for gateway fees.")
@click.option("--refund-account", help="Other current liability account id for refunds.")
@click.option(
    "--bank-account",
    multiple=True,
    help="Bank account id used as the clearing account; CUR=ID for one currency (repeatable).",
)
@click.option("--item", help="Default item id for invoice lines.")
@click.option(
    "--payout-account",
    multiple=True,
    help="Bank account id payouts arrive in (optional); CUR=ID for one currency (repeatable).",
)
@click.option(
    "--adjustment-account",
    help="Account id for the part of a payout the sync never booked (optional).",
)
@click.option(
    "--tax", help="Tax id for every invoice and credit note line (amounts include it), or none."
)
@click.option("--mode", type=click.Choice([mode.value for mode in SyncMode]))
@click.option("--channels", help="all, or a comma-separated list of channel slugs.")
@click.option("--timezone", help="IANA time zone of the business, e.g. Asia/Singapore.")
@click.option("--sync-time", help="Local time of the daily sync, HH:MM (default 02:00).")
@click.option("--notify-email", "notify_email", help="Alert recipients, comma-separated.")
@click.option(
    "--api-share",
    type=click.IntRange(1, 100),
    help="Percent of the destination's daily API quota ledgersync may use (default 80).",
)
@click.option(
    "--fees",
    type=click.Choice(["charge", "daily"]),
    help="Gateway fees: one expense per charge (default), or one per business day and "
    "currency (daily).",
)
@click.option(
    "--payments",
    type=click.Choice(["charge", "daily"]),
    help="Individual mode: one payment per charge (default), or one per business day and "
    "currency applied to that day's invoices (daily).",
)
@click.option(
    "--refund-lookback",
    type=click.IntRange(*REFUND_LOOKBACK_RANGE),
    help=f"Days back each sync looks for refunds of earlier sales (default "
    f"{REFUND_LOOKBACK_DAYS}; a gateway may allow refunds long after the sale: see its "
    "plugin's notes).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_host
def settings_command(
    host: Host,
    name: str,
    sales_account: str | None,
    fee_account: str | None,
    refund_account: str | None,
    bank_account: tuple[str, ...],
    item: str | None,
    payout_account: tuple[str, ...],
    adjustment_account: str | None,
    tax: str | None,
    mode: str | None,
    channels: str | None,
    timezone: str | None,
    sync_time: str | None,
    notify_email: str | None,
    api_share: int | None,
    fees: str | None,
    payments: str | None,
    refund_lookback: int | None,
    as_json: bool,
) -> None:
    """Show NAME's settings, or change them (accounts are checked with the destination).

    --bank-account and --payout-account take a default ID and/or CUR=ID pairs (a bank account
    holds one currency): `--payout-account 4600001 --payout-account USD=4600002`."""
    bank_default, bank_pairs = _accounts("bank_account", bank_account)
    payout_default, payout_pairs = _accounts("payout_account", payout_account)
    change = SettingsChange(
        sales_account=sales_account,
        fee_account=fee_account,
        refund_account=refund_account,
        bank_account=bank_default,
        item=item,
        payout_account=payout_default,
        adjustment_account=adjustment_account,
        mode=mode,
        channels=_split(channels),
        timezone=timezone,
        sync_time=sync_time,
        notify_emails=_split(notify_email),
        tax=tax,
        api_share=api_share,
        fees=fees,
        payments=payments,
        currency_accounts={**bank_pairs, **payout_pairs} or None,
        refund_lookback=refund_lookback,
    )
    changed = change != SettingsChange()
    info = change_settings(host, name, change) if changed else load_connection(host, name)
    with host.database.session() as session:
        sync_time_value = get_connection(session, name).sync_time
    data = {
        "name": info.name,
        "sales_account": info.settings.sales_account,
        "fee_account": info.settings.fee_account,
        "refund_account": info.settings.refund_account,
        "bank_account": info.settings.bank_account,
        "bank_accounts_by_currency": info.settings.by_currency("bank_account"),
        "item": info.settings.item,
        "payout_account": info.settings.payout_account,
        "payout_accounts_by_currency": info.settings.by_currency("payout_account"),
        "adjustment_account": info.settings.adjustment_account,
        "tax": info.settings.extra.get("tax"),
        "mode": info.mode,
        "channels": list(info.channels) if info.channels is not None else "all",
        "timezone": str(info.timezone),
        "sync_time": sync_time_value,
        "notify_email": list(info.notify_emails),
        "api_share": api_share_of(info.settings.extra),
        **grouping_options(info.settings.extra),
        "refund_lookback_days": refund_lookback_days(info.settings.extra),
    }
    if as_json:
        emit_json(data)
        return
    if changed:
        click.echo(f"Settings of {safe(name)} saved.")
    for key, value in data.items():
        if isinstance(value, dict):
            value = [f"{currency}={account}" for currency, account in sorted(value.items())]
        shown = ", ".join(value) if isinstance(value, list) else value
        click.echo(f"  {key.replace('_', ' ')}: {safe(shown if shown not in (None, '') else '-')}")
    if missing := info.settings.missing():
        still = ", ".join(m.replace("_", " ") for m in missing)
        click.echo(
            f"Still to set before sync can be enabled: {still} (the accounts are checked "
            "with the destination once all are set)."
        )


COMMANDS = [settings_command]
