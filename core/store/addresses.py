"""A store's address as the operator may see it: its URL with the password hidden."""

from __future__ import annotations

from sqlalchemy.engine import make_url

__all__ = ["shown_address"]


def shown_address(db_url: str) -> str:
    """``db_url`` with its password hidden. Raises :class:`core.store.problems.StoreError`
    (or ValueError) when it is not a store URL."""
    return make_url(db_url).render_as_string(hide_password=True)
