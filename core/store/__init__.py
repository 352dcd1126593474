"""Storage: SQLAlchemy tables, Alembic migrations, the secret vault."""

from core.store.database import Database, default_url, open_database

__all__ = ["Database", "default_url", "open_database"]
