"""The host's own pages, on one blueprint."""

from core.web.views import connections, integration, proof, records
from core.web.views.common import pages

__all__ = ["connections", "integration", "pages", "proof", "records"]
