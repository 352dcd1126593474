"""Within a run the plugin reads the store cache once, then from memory; writes reach the store.

The "created, not yet sent" record of an invoice is written only when marking it sent fails:
delivered invoices cost no store round trip."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from core.contracts import AccountSettings, DeliveryContext, KeyValueCache
from core.errors import DeliveryUncertain
from core.host import Host
from core.store.repository import CallCounter
from plugins.zoho_books.clock import ManualClock
from plugins.zoho_books.destination import ZohoBooksDestination
from plugins.zoho_books.drafts import DraftInvoices
from plugins.zoho_books.run_cache import RunCache
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from zoho_books.documents import sale
from zoho_books.helpers import CONNECTION


class CountingCache:
    """The store's cache, counting what reaches it."""

    def __init__(self, store: KeyValueCache) -> None:
        self.store = store
        self.reads: list[str] = []
        self.writes: list[str] = []

    def get(self, name: str) -> Any | None:
        self.reads.append(name)
        return self.store.get(name)

    def set(self, name: str, value: Any) -> None:
        self.writes.append(name)
        self.store.set(name, value)


@pytest.fixture
def counted(host: Host, connected: str, clock: ManualClock) -> Any:
    """A destination built as the host builds one per run, its store cache counted."""

    def make() -> tuple[ZohoBooksDestination, CountingCache]:
        connection, stored = host._connection_and_config(CONNECTION, "destination")
        context = host.plugin_context(connection, stored, CallCounter("destination"))
        cache = CountingCache(context.cache)
        destination = ZohoBooksDestination(dataclasses.replace(context, cache=cache), clock=clock)
        return destination, cache

    return make


def _deliver_sales(
    destination: ZohoBooksDestination, settings: AccountSettings, numbers: range
) -> None:
    remote: dict[str, str] = {}
    for number in numbers:
        for document in sale(str(number), fee="1.00").values():
            context = DeliveryContext(settings, {k: remote[k] for k in document.depends_on})
            remote[document.key] = destination.deliver(document, context)


def test_a_run_reads_each_cache_entry_from_the_store_once(
    counted: Any, settings: AccountSettings
) -> None:
    _deliver_sales(counted()[0], settings, range(1, 3))  # metadata and customer now cached
    destination, cache = counted()
    _deliver_sales(destination, settings, range(3, 13))  # 10 sales: 30 documents
    assert sorted(cache.reads) == sorted(set(cache.reads))  # no name read twice
    assert len(cache.reads) <= 3  # currencies, customers, draft invoices
    assert cache.writes == []


def test_what_a_run_writes_reaches_the_store_and_the_next_run(host: Host, connected: str) -> None:
    store = host.cache(host._connection_and_config(CONNECTION, "destination")[0].id)
    first = RunCache(store)
    assert first.get("zoho_books:x:customers") is None
    first.set("zoho_books:x:customers", {"SGD": "42"})
    assert store.get("zoho_books:x:customers") == {"SGD": "42"}
    assert RunCache(store).get("zoho_books:x:customers") == {"SGD": "42"}


def test_a_failed_mark_sent_is_kept_in_the_store_and_finished_by_the_next_run(
    counted: Any, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    invoice = sale("1")["invoice"]
    zoho.faults.fail(method="POST", path=r"^/invoices/\d+/status/sent$")
    destination, cache = counted()
    with pytest.raises(DeliveryUncertain):
        destination.deliver(invoice, DeliveryContext(settings, {}))
    drafts = DraftInvoices(cache.store, org.organization_id)
    [row] = zoho.books(org.organization_id)["invoices"]
    assert drafts.get(invoice.key) == row["id"]

    destination, cache = counted()
    assert destination.deliver(invoice, DeliveryContext(settings, {})) == row["id"]
    assert drafts.get(invoice.key) is None
    assert len(zoho.api_requests("POST", "/invoices")) == 1
