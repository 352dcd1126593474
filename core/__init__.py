"""ledgersync's host: plugins, records, documents, planning, delivery, storage, scheduling."""

from core.hookspecs import hookimpl
from core.plugins import Manifest

__version__ = "0.1.0"
__all__ = ["Manifest", "__version__", "hookimpl"]
