"""The destination contract as checks: what every accounting-system plugin must do.

A plugin author implements :class:`DestinationHarness` (how to build the plugin, how to make
its stand-in lose a response, how to read what the destination holds) and runs
:class:`core.testing.DestinationConformance`, or calls the ``check_*`` functions directly.
Each check raises :class:`ConformanceFailure` with the rule it saw broken.

The checks drive the plugin the way the host's delivery does: dependencies first, their
remote ids handed on; after a delivery whose outcome is unknown, ask ``find_existing`` on a
freshly built plugin (as after a restart) and re-send only when nothing was found.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import ClassVar

from core.contracts import (
    AccountSettings,
    ApiCallCounter,
    Deleting,
    DeliveryContext,
    Destination,
    Health,
)
from core.documents import Document, DocumentKind
from core.errors import ConfigurationError, TransientError
from core.store.repository import CallCounter
from core.testing.failures import ConformanceFailure
from core.testing.samples import SAMPLE_DATE, document_chain, prefix_of

__all__ = [
    "DestinationHarness",
    "check_api_calls_counted",
    "check_created_once",
    "check_deletion",
    "check_health",
    "check_recovery_after_lost_response",
    "check_settings_validation",
]


class DestinationHarness(ABC):
    """What the author of a destination plugin supplies to run the destination suite.

    One harness serves one test: build it in a fixture around a fresh stand-in (or folder),
    so documents from one test never meet another's.
    """

    #: The currency and date of the sample documents (one the stand-in's organization has).
    currency: ClassVar[str] = "SGD"
    document_date: ClassVar[date] = SAMPLE_DATE

    @abstractmethod
    def build(self, calls: ApiCallCounter) -> Destination:
        """A new instance of the plugin, as the host builds it for the test's connection.

        Each call must give a fresh instance with no memory of earlier ones (as a new
        process would have); ``calls`` is the counter to put in its PluginContext."""

    @abstractmethod
    def settings(self) -> AccountSettings:
        """Account settings the destination accepts."""

    @abstractmethod
    def wrong_settings(self) -> Iterable[tuple[AccountSettings, str]]:
        """Settings with one wrong account each, and the text the error must name (the
        account's id or name), e.g. an expense account given as the sales account."""

    @abstractmethod
    def lose_next_response(self, kind: DocumentKind) -> None:
        """Arrange that the next create of a ``kind`` document is committed by the destination
        and its answer lost (the stand-in's "commit then drop" fault, a crash after a write)."""

    @abstractmethod
    def held_keys(self) -> list[str]:
        """The key (reference) of every document the destination holds, once per copy."""

    def served_requests(self) -> int | None:
        """How many API requests the stand-in has served so far, counting what the plugin
        should count; None when the destination has no API (a file)."""
        return None

    def make_unhealthy(self) -> bool:
        """Break the destination (revoke access, make the path read-only). Return False when
        the harness cannot, and the health check only checks the healthy side."""
        return False

    # -- helpers for the checks ---------------------------------------------------------

    def documents(self) -> list[Document]:
        return document_chain(self.currency, self.document_date)


def _deliver(
    destination: Destination,
    document: Document,
    settings: AccountSettings,
    remote_ids: Mapping[str, str],
) -> str:
    context = _context(document, settings, remote_ids)
    remote_id = destination.deliver(document, context)
    if not isinstance(remote_id, str) or not remote_id:
        raise ConformanceFailure(
            f"deliver({document.key}) returned {remote_id!r}; it must return the remote id, "
            "a non-empty string"
        )
    return remote_id


def _context(
    document: Document, settings: AccountSettings, remote_ids: Mapping[str, str]
) -> DeliveryContext:
    return DeliveryContext(
        settings=settings,
        remote_ids={key: remote_ids[key] for key in document.depends_on if key in remote_ids},
    )


def _deliver_all(
    destination: Destination,
    documents: Iterable[Document],
    settings: AccountSettings,
    remote_ids: dict[str, str],
) -> None:
    for document in documents:
        remote_ids[document.key] = _deliver(destination, document, settings, remote_ids)


def _assert_held_once(harness: DestinationHarness, documents: Iterable[Document]) -> None:
    held = Counter(harness.held_keys())
    for document in documents:
        copies = held[document.key]
        if copies != 1:
            what = "no copy" if copies == 0 else f"{copies} copies (duplicates)"
            raise ConformanceFailure(
                f"the destination holds {what} of {document.kind} {document.key}; "
                "exactly one must exist"
            )


def check_created_once(harness: DestinationHarness, kind: DocumentKind) -> None:
    """A ``kind`` document (and those it depends on) is created once and found again by key."""
    settings = harness.settings()
    destination = harness.build(CallCounter("destination"))
    organization = destination.organization_id()
    if not isinstance(organization, str) or not organization:
        raise ConformanceFailure(f"organization_id() returned {organization!r}")
    before, target = prefix_of(harness.documents(), kind)
    documents = [*before, target]
    for document in documents:
        found = destination.find_existing(document, _context(document, settings, {}))
        if found is not None:
            raise ConformanceFailure(
                f"find_existing({document.key}) found {found!r} before anything was delivered"
            )
    remote_ids: dict[str, str] = {}
    _deliver_all(destination, documents, settings, remote_ids)
    _assert_held_once(harness, documents)
    restarted = harness.build(CallCounter("destination"))
    for document in documents:
        found = restarted.find_existing(document, _context(document, settings, remote_ids))
        if found != remote_ids[document.key]:
            raise ConformanceFailure(
                f"find_existing({document.key}) on a new instance gave {found!r}, but the "
                f"document was created as {remote_ids[document.key]!r}"
            )


def check_recovery_after_lost_response(harness: DestinationHarness, kind: DocumentKind) -> None:
    """After a create whose answer was lost, the document is found by key, never duplicated."""
    settings = harness.settings()
    chain = harness.documents()
    before, target = prefix_of(chain, kind)
    remote_ids: dict[str, str] = {}
    _deliver_all(harness.build(CallCounter("destination")), before, settings, remote_ids)

    harness.lose_next_response(kind)
    destination = harness.build(CallCounter("destination"))
    try:
        returned = destination.deliver(target, _context(target, settings, remote_ids))
    except TransientError as error:
        if not error.sent:
            raise ConformanceFailure(
                f"deliver({target.key}) lost its answer after the create was committed but "
                f"raised {type(error).__name__} with sent=False: raise DeliveryUncertain so "
                "the host looks the document up before sending it again"
            ) from error
    except Exception as error:
        raise ConformanceFailure(
            f"deliver({target.key}) lost its answer and raised {type(error).__name__}: "
            f"{error}; it must raise DeliveryUncertain"
        ) from error
    else:
        raise ConformanceFailure(
            f"deliver({target.key}) returned {returned!r} although the harness made the "
            "destination lose its answer: check the harness's lose_next_response()"
        )

    restarted = harness.build(CallCounter("destination"))
    found = restarted.find_existing(target, _context(target, settings, remote_ids))
    if found is None:
        # What the host does when nothing is found: send again.
        remote_ids[target.key] = _deliver(restarted, target, settings, remote_ids)
    else:
        remote_ids[target.key] = found
    _assert_held_once(harness, [target])
    if found is None:
        raise ConformanceFailure(
            f"find_existing({target.key}) found nothing after a create whose answer was lost"
        )
    # The recovered id must be usable: the rest of the chain builds on it.
    rest = chain[len(before) + 1 :]
    _deliver_all(restarted, rest, settings, remote_ids)
    _assert_held_once(harness, chain)


def check_settings_validation(harness: DestinationHarness) -> None:
    """Right settings pass; each wrong account is refused with an error that names it."""
    destination = harness.build(CallCounter("destination"))
    try:
        destination.validate(harness.settings())
    except ConfigurationError as error:
        raise ConformanceFailure(
            f"validate() refused the harness's good settings: {error}"
        ) from error
    cases = list(harness.wrong_settings())
    if not cases:
        raise ConformanceFailure("the harness gives no wrong settings to validate")
    for settings, named in cases:
        try:
            destination.validate(settings)
        except ConfigurationError as error:
            if named not in str(error):
                raise ConformanceFailure(
                    f"validate() refused wrong settings, but its error does not name "
                    f"{named!r}: {error}"
                ) from error
        except Exception as error:
            raise ConformanceFailure(
                f"validate() raised {type(error).__name__} for wrong settings naming {named!r};"
                " it must raise ConfigurationError with a clear message"
            ) from error
        else:
            raise ConformanceFailure(f"validate() accepted settings with wrong {named!r}")


def check_health(harness: DestinationHarness) -> None:
    """health() says ok on a working destination, and not ok (with why) on a broken one."""
    health = harness.build(CallCounter("destination")).health()
    if not isinstance(health, Health) or not health.ok:
        raise ConformanceFailure(f"health() on a working destination gave {health!r}")
    if not harness.make_unhealthy():
        return
    try:
        broken = harness.build(CallCounter("destination")).health()
    except Exception as error:
        raise ConformanceFailure(
            f"health() raised {type(error).__name__} on a broken destination; it must return "
            "Health(ok=False, detail=...)"
        ) from error
    if broken.ok or not broken.detail:
        raise ConformanceFailure(f"health() on a broken destination gave {broken!r}")


def check_api_calls_counted(harness: DestinationHarness) -> None:
    """Every request the plugin makes is counted in its context's ApiCallCounter."""
    calls = CallCounter("destination")
    served_before = harness.served_requests()
    destination = harness.build(calls)
    documents = harness.documents()
    settings = harness.settings()
    remote_ids: dict[str, str] = {}
    _deliver_all(destination, documents, settings, remote_ids)
    served_after = harness.served_requests()
    if served_before is None or served_after is None:
        if calls.total < len(documents):
            raise ConformanceFailure(
                f"{len(documents)} documents were created but only {calls.total} calls "
                "were counted; count each write in context.calls"
            )
        return
    served = served_after - served_before
    if calls.total != served:
        raise ConformanceFailure(
            f"the stand-in served {served} requests but the plugin counted {calls.total}; "
            "call context.calls.count() once per request"
        )


def check_deletion(harness: DestinationHarness) -> None:
    """A destination that can delete (:class:`~core.contracts.Deleting`) takes back each kind it
    declares, dependents first: afterwards a new instance finds none of them by key (so the
    next sync books them anew), a second delete of the same document is done already, not an
    error, and delivering again makes a document found by key. A destination without the
    capability passes (the host refuses a rollback that would need it)."""
    settings = harness.settings()
    destination = harness.build(CallCounter("destination"))
    if not isinstance(destination, Deleting):
        return
    documents = harness.documents()
    remote_ids: dict[str, str] = {}
    _deliver_all(destination, documents, settings, remote_ids)
    deletable = [d for d in documents if d.kind.value in destination.deletable_kinds]
    taken = [d for d in deletable if not _needed_by_a_kept_one(d, documents, deletable)]
    if not taken:
        raise ConformanceFailure(
            f"deletable_kinds {sorted(destination.deletable_kinds)} lets no sample document be "
            "deleted; declare the kinds the destination can delete"
        )
    for document in reversed(taken):
        context = _context(document, settings, remote_ids)
        destination.delete(remote_ids[document.key], document, context)
        again = harness.build(CallCounter("destination"))
        assert isinstance(again, Deleting)
        try:
            again.delete(remote_ids[document.key], document, context)
        except Exception as error:
            raise ConformanceFailure(
                f"a second delete of {document.kind} {document.key} raised {error!r}; a document "
                "gone already must count as deleted"
            ) from error
    restarted = harness.build(CallCounter("destination"))
    for document in taken:  # as the next sync asks: the deleted documents' ids are forgotten
        found = restarted.find_existing(document, _context(document, settings, {}))
        if found is not None:
            raise ConformanceFailure(
                f"find_existing({document.key}) gave {found!r} after the document was deleted; "
                "the next sync would bind the deleted document instead of booking it again"
            )
    for document in taken:
        remote_ids[document.key] = _deliver(restarted, document, settings, remote_ids)
        found = restarted.find_existing(document, _context(document, settings, remote_ids))
        if found != remote_ids[document.key]:
            raise ConformanceFailure(
                f"{document.kind} {document.key} delivered again after its deletion was found as "
                f"{found!r}, not as {remote_ids[document.key]!r}"
            )


def _needed_by_a_kept_one(
    document: Document, documents: list[Document], deletable: list[Document]
) -> bool:
    """``document`` is depended on by a document the destination cannot delete (it stays)."""
    kept = [d for d in documents if d not in deletable]
    return any(document.key in d.depends_on for d in kept)
