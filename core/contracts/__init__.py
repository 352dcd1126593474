"""The protocols plugins implement and the values the host hands them.

Sources, destinations, mappers and notifiers are classes registered through the hooks in
:mod:`core.hookspecs`. The host builds each with a :class:`PluginContext` (sources,
destinations) or with no arguments (mappers, notifiers). One module per kind of plugin:
:mod:`.context` (what every plugin is handed), :mod:`.source`, :mod:`.destination`,
:mod:`.mapping`, :mod:`.notices` and :mod:`.standins`.
"""

from __future__ import annotations

from core.contracts.context import (
    AccountSettings,
    ApiCallCounter,
    ConnectionInfo,
    Health,
    KeyValueCache,
    PluginContext,
    QuotaObserver,
    RunInfo,
    RunSummary,
    Vault,
)
from core.contracts.destination import (
    AccountBalance,
    BooksIndex,
    CallCosts,
    Claim,
    ClaimKeeper,
    Deleting,
    DeliveryContext,
    Destination,
    RemoteDocument,
)
from core.contracts.mapping import ChargeDocuments, Mapper, MappingContext
from core.contracts.notices import Notice, NoticeKind, Notifier
from core.contracts.source import FetchWindow, GatewayBalance, Source
from core.contracts.standins import DestinationStandIn, SourceStandIn, SourceTotals

__all__ = [
    "AccountBalance",
    "AccountSettings",
    "ApiCallCounter",
    "BooksIndex",
    "CallCosts",
    "ChargeDocuments",
    "Claim",
    "ClaimKeeper",
    "ConnectionInfo",
    "Deleting",
    "DeliveryContext",
    "Destination",
    "DestinationStandIn",
    "FetchWindow",
    "GatewayBalance",
    "Health",
    "KeyValueCache",
    "Mapper",
    "MappingContext",
    "Notice",
    "NoticeKind",
    "Notifier",
    "PluginContext",
    "QuotaObserver",
    "RemoteDocument",
    "RunInfo",
    "RunSummary",
    "Source",
    "SourceStandIn",
    "SourceTotals",
    "Vault",
]
