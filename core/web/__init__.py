"""The web page of ledgersync (``ledgersync serve``): the same host, store, plugins and rules
as the command line, for people who close the books rather than run commands."""

from core.web.app import create_app
from core.web.server import make_server, serve_forever

__all__ = ["create_app", "make_server", "serve_forever"]
