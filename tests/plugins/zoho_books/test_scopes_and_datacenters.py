"""The OAuth scope each Books endpoint needs, and the datacenters (docs/vendor-facts.md:
zoho.oauth.scopes_format, zoho.scope.per_endpoint, zoho.datacenters.hosts,
zoho.datacenters.uk_ae).

Every operation the plugin calls is read from the kept extract of Zoho's OpenAPI documents
(its ``security`` names the scope). The scopes the plugin asks for must grant each of them,
and the stand-in must refuse the call (code 57) to a token that lacks the module's scope and
let it through with the scope alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from core.errors import AuthorizationFailed, ConfigurationError
from plugins.zoho_books.connecting import accounts_server
from plugins.zoho_books.datacenters import DATACENTERS, endpoints_for, is_known_accounts_root
from plugins.zoho_books.oauth import SCOPES
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn

EXTRACT = Path(__file__).parent / "reference" / "zoho-books-openapi-used.json"
_SCOPE = re.compile(r"^ZohoBooks\.([a-z]+)\.(CREATE|READ|UPDATE|DELETE|ALL)$")
# Zoho's document declares the credit-note upsert with the invoices module, probably by
# mistake (every other credit-note operation says creditnotes). The stand-in keeps
# creditnotes; the plugin asks for both modules, so either answer passes.
DOCUMENT_SLIPS = {("PUT", "/creditnotes"): "ZohoBooks.creditnotes.UPDATE"}


def _operations() -> list[tuple[str, str, str]]:
    """(method, path, scope) of every operation the plugin calls, from Zoho's OpenAPI."""
    found = []
    for document in json.loads(EXTRACT.read_text()).values():
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                if not isinstance(operation, dict) or "security" not in operation:
                    continue
                (scopes,) = [s for entry in operation["security"] for s in entry.values()]
                found.append((method.upper(), path, scopes[0]))
    return sorted(found)


OPERATIONS = _operations()


def _grants(held: tuple[str, ...], needed: str) -> bool:
    module, operation = _SCOPE.match(needed).groups()  # type: ignore[union-attr]
    wanted = {f"zohobooks.{module}.{operation}".lower(), f"zohobooks.{module}.all"}
    return any(scope.lower() in wanted for scope in held)


@pytest.mark.vendor_fact("zoho.oauth.scopes_format", "zoho.scope.per_endpoint")
def test_the_plugin_asks_for_module_scopes_in_zohos_format() -> None:
    assert SCOPES and all(_SCOPE.match(scope) for scope in SCOPES)
    assert len(OPERATIONS) >= 20
    assert "ZohoBooks.fullaccess.all" not in SCOPES  # its evidence conflicts: never relied on


@pytest.mark.vendor_fact("zoho.scope.per_endpoint")
@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS, ids=lambda v: str(v))
def test_the_requested_scopes_grant_every_endpoint_the_plugin_calls(
    method: str, path: str, scope: str
) -> None:
    assert _grants(SCOPES, scope), f"{method} {path} needs {scope}"
    if (method, path) in DOCUMENT_SLIPS:
        assert _grants(SCOPES, DOCUMENT_SLIPS[method, path])


def _call(
    zoho: ZohoBooksStandIn, org: SeededOrganization, method: str, path: str, scope: str
) -> tuple[int, int | None]:
    tokens = zoho.tokens((scope,))
    concrete = re.sub(r"\{[a-z_]+\}", "460000000000001", path)
    response = requests.request(
        method,
        f"{tokens['api_domain']}/books/v3{concrete}",
        params={} if path == "/organizations" else {"organization_id": org.organization_id},
        headers={"Authorization": f"Zoho-oauthtoken {tokens['access_token']}"},
        json={} if method in ("POST", "PUT") else None,
        timeout=10,
    )
    try:
        code = response.json().get("code")
    except ValueError:
        code = None
    return response.status_code, code


@pytest.mark.vendor_fact("zoho.scope.per_endpoint", "zoho.error.57_not_authorized")
@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS, ids=lambda v: str(v))
def test_the_standin_checks_the_scope_of_every_endpoint(
    zoho: ZohoBooksStandIn, org: SeededOrganization, method: str, path: str, scope: str
) -> None:
    scope = DOCUMENT_SLIPS.get((method, path), scope)
    module = scope.split(".")[1]
    other = "ZohoBooks.contacts.ALL" if module != "contacts" else "ZohoBooks.invoices.ALL"

    assert _call(zoho, org, method, path, other) == (401, 57)
    assert _call(zoho, org, method, path, scope)[1] != 57
    assert _call(zoho, org, method, path, f"ZohoBooks.{module}.ALL")[1] != 57


# -- datacenters --------------------------------------------------------------------------

# Zoho's own multi-DC pages (accounts: the OAuth multi-DC page; API: the Books introduction).
ZOHO_PUBLISHED = {
    "com": ("https://accounts.zoho.com", "https://www.zohoapis.com"),
    "eu": ("https://accounts.zoho.eu", "https://www.zohoapis.eu"),
    "in": ("https://accounts.zoho.in", "https://www.zohoapis.in"),
    "com.au": ("https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
    "jp": ("https://accounts.zoho.jp", "https://www.zohoapis.jp"),
    "ca": ("https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
    "com.cn": ("https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
    "sa": ("https://accounts.zoho.sa", "https://www.zohoapis.sa"),
    "uk": ("https://accounts.zoho.uk", "https://www.zohoapis.uk"),
}


@pytest.mark.vendor_fact("zoho.datacenters.hosts", "zoho.datacenters.uk_ae")
def test_the_datacenter_table_is_zohos() -> None:
    assert {code: (dc.accounts_url, dc.api_url) for code, dc in DATACENTERS.items()} == (
        ZOHO_PUBLISHED
    )
    assert "ae" not in DATACENTERS  # no Books source names a UAE Books datacenter


@pytest.mark.vendor_fact("zoho.datacenters.hosts", "zoho.datacenters.uk_ae")
@pytest.mark.parametrize("code", sorted(ZOHO_PUBLISHED))
def test_each_datacenter_gives_its_roots_and_its_accounts_server_is_trusted(code: str) -> None:
    accounts, api = ZOHO_PUBLISHED[code]
    endpoints = endpoints_for(code)
    assert (endpoints.accounts_url, endpoints.books_url) == (accounts, f"{api}/books/v3")
    assert is_known_accounts_root(accounts) and is_known_accounts_root(accounts + "/")
    # The redirect names the user's own accounts server; a known one is used, as announced.
    assert accounts_server("https://accounts.zoho.com", accounts) == accounts


@pytest.mark.vendor_fact("zoho.datacenters.uk_ae")
def test_an_unknown_accounts_server_or_datacenter_is_refused_in_one_line() -> None:
    with pytest.raises(AuthorizationFailed, match="unknown accounts server"):
        accounts_server("https://accounts.zoho.com", "https://accounts.zoho.ae")
    with pytest.raises(ConfigurationError, match="unknown Zoho datacenter 'ae'") as caught:
        endpoints_for("ae")
    assert "uk" in caught.value.hint
    # Any datacenter stays reachable through explicit roots.
    assert endpoints_for("com", accounts_url="https://accounts.zoho.ae").accounts_url == (
        "https://accounts.zoho.ae"
    )
