"""The ``ledgersync`` command line: the group (``main``), the host it hands to commands
(``context``), output helpers (``output``), the operator's commands (``commands``) and the demo."""

from core.cli.main import main

__all__ = ["main"]
