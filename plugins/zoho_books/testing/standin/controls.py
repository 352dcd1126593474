"""What tests do to and read from the Zoho Books stand-in beside the API: its clock, tokens as a
Self Client gives them, the organizations' books, quota use, and the requests it answered.
:class:`~plugins.zoho_books.testing.standin.server.ZohoBooksStandIn` has these as methods."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from core.api import clock
from plugins.zoho_books.testing.standin.limits import Quota
from plugins.zoho_books.testing.standin.oauth import OAuthServer
from plugins.zoho_books.testing.standin.resources.deletes import DeleteRules
from plugins.zoho_books.testing.standin.serving import RecordedRequest
from plugins.zoho_books.testing.standin.state import Organization

__all__ = ["ALL_SCOPES", "StandInControls"]

ALL_SCOPES = ("ZohoBooks.fullaccess.all",)


class StandInControls:
    """The stand-in's controls; the attributes are set by the server's ``__init__``."""

    lock: threading.RLock
    organizations: dict[str, Organization]
    quota: Quota
    answers: dict[int, tuple[int, int | None]]
    requests: list[RecordedRequest]
    oauth: OAuthServer
    _delete_rules: dict[str, DeleteRules]
    _client_id: str
    _client_secret: str
    _start: datetime | None
    _offset: timedelta

    # -- time --------------------------------------------------------------------------

    def now(self) -> datetime:
        base = self._start or clock.now()
        return base + self._offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self._offset += timedelta(seconds=seconds)

    def organization(self, organization_id: str) -> Organization:
        return self.organizations[organization_id]

    def delete_rules(self, organization_id: str) -> DeleteRules:
        """The delete switches of ``organization_id`` (tests set ``matched``,
        ``locked_until``, ``refusal_status``, ``creditnote_cascade``; resources/deletes.py)."""
        return self._delete_rules.setdefault(organization_id, DeleteRules())

    def issue_grant_code(
        self, scope: tuple[str, ...] = ALL_SCOPES, client_id: str | None = None
    ) -> str:
        """A grant code as Zoho's API console Self Client makes it (no redirect URI)."""
        with self.lock:
            return self.oauth.issue_grant(client_id or self._client_id, scope, self.now(), None)

    def tokens(self, scope: tuple[str, ...] = ALL_SCOPES) -> dict[str, Any]:
        """A fresh refresh + access token pair (the token endpoint's answer)."""
        code = self.issue_grant_code(scope)
        form = {
            "grant_type": "authorization_code",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "code": code,
        }
        with self.lock:
            status, body = self.oauth.token(form, self.now())
        assert status == 200 and "refresh_token" in body, body
        return body

    def revoke(self, token: str) -> None:
        with self.lock:
            self.oauth.revoke(token)

    def books(self, organization_id: str) -> dict[str, Any]:
        """Everything created in the organization, normalized (see Organization.books)."""
        with self.lock:
            return self.organizations[organization_id].books()

    def usage(self, organization_id: str) -> int:
        """API requests the organization has been charged for today."""
        with self.lock:
            return self.quota.used(organization_id, self.now())

    def spend(self, organization_id: str, calls: int) -> None:
        """The organization's other apps spend ``calls`` of today's quota (shared by all)."""
        with self.lock:
            self.quota.spend(organization_id, self.now(), calls)

    def codes(self) -> list[int | None]:
        """Zoho's result code of every answered API request, in order."""
        with self.lock:
            return [self.answers[n][1] for n in sorted(self.answers)]

    def api_requests(
        self, method: str | None = None, path: str | None = None
    ) -> list[RecordedRequest]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]
