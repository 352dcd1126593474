"""What the operator sees when a command fails: one line saying what is wrong and what to do.

:func:`one_line` turns any exception that reaches the command line into a
:class:`click.ClickException` (printed as ``Error: ...``, exit code 1): ledgersync's own errors
as they are; a store driver that is not installed, a read-only store, a full disk, a value the
store cannot hold, text that is not valid in this system's encoding and an unreachable store by
what they mean. Anything else is a bug: one line too, naming the exception, with the way to see
the traceback (``LEDGERSYNC_DEBUG=1``).
"""

from __future__ import annotations

import errno
import logging
import os

import click

from core.cli.output import safe
from core.errors import LedgersyncError
from core.store.addresses import shown_address
from core.store.problems import StoreError, store_problem

__all__ = ["DEBUG_VARIABLE", "check_text", "one_line", "quiet_logging"]

log = logging.getLogger(__name__)

DEBUG_VARIABLE = "LEDGERSYNC_DEBUG"

# Python modules of the database drivers SQLAlchemy URLs name, and the extra that brings each.
DRIVERS = {
    "psycopg": ("postgresql+psycopg://", "pip install 'ledgersync[postgres]'"),
    "psycopg2": (
        "postgresql://",
        "pip install 'ledgersync[postgres]' and use postgresql+psycopg://",
    ),
    "pg8000": ("postgresql+pg8000://", "use postgresql+psycopg:// with 'ledgersync[postgres]'"),
    "asyncpg": ("postgresql+asyncpg://", "use postgresql+psycopg:// with 'ledgersync[postgres]'"),
    "pymysql": ("mysql+pymysql://", "use SQLite or PostgreSQL (postgresql+psycopg://)"),
    "MySQLdb": ("mysql://", "use SQLite or PostgreSQL (postgresql+psycopg://)"),
}


def debugging() -> bool:
    return os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")


def _where(db_url: str | None) -> str:
    if not db_url:
        return "the store"
    try:
        return f"the store at {shown_address(db_url)}"
    except (StoreError, ValueError):
        return "the store given by --db"


def _first_line(error: BaseException) -> str:
    detail = str(getattr(error, "orig", None) or error).strip()
    return safe(detail.splitlines()[0].rstrip(".") if detail else type(error).__name__)


def _driver(error: ImportError, db_url: str | None) -> click.ClickException | None:
    top = (error.name or "").split(".")[0]
    if top not in DRIVERS:
        return None
    scheme, remedy = DRIVERS[top]
    return click.ClickException(
        f"{_where(db_url)} needs the database driver {top!r} ({scheme}), which is not "
        f"installed. Install it: {remedy}."
    )


def _store(error: StoreError, db_url: str | None) -> click.ClickException:
    return click.ClickException(safe(store_problem(error, _where(db_url))))


def _os(error: OSError) -> click.ClickException:
    where = f" ({safe(error.filename)})" if error.filename else ""
    reason = safe(error.strerror or str(error))
    if error.errno == errno.ENOSPC:
        return click.ClickException(
            f"the disk is full{where}. Free some space and run the command again."
        )
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return click.ClickException(
            f"no permission to write{where}: {reason}. Give this user access, or choose "
            "another place (--db, LEDGERSYNC_SECRET_KEY_FILE)."
        )
    return click.ClickException(f"{reason}{where}. Check the path and run the command again.")


def one_line(error: BaseException, db_url: str | None) -> click.ClickException | None:
    """The one line for ``error``; None for what click prints itself (its own exceptions,
    exits, Ctrl-C) and, with ``LEDGERSYNC_DEBUG`` set, for bugs (to show their traceback)."""
    if isinstance(error, click.ClickException | click.exceptions.Exit | click.Abort):
        return None
    if isinstance(error, SystemExit | KeyboardInterrupt | GeneratorExit):
        return None
    if isinstance(error, LedgersyncError):  # its text may quote names and remote answers
        return click.ClickException(safe(str(error)))
    if isinstance(error, ImportError) and (found := _driver(error, db_url)) is not None:
        return found
    if isinstance(error, StoreError):
        return _store(error, db_url)
    if isinstance(error, UnicodeError):
        return click.ClickException(
            f"some text is not valid in this system's encoding ({_first_line(error)}). Use "
            "names and values in plain UTF-8 text."
        )
    if isinstance(error, OSError):
        return _os(error)
    if debugging():
        return None
    log.debug("unexpected error", exc_info=error)
    return click.ClickException(
        f"unexpected error, a bug in ledgersync or a plugin: {type(error).__name__}: "
        f"{_first_line(error)}. Run again with {DEBUG_VARIABLE}=1 to see where, and please "
        "report it."
    )


def check_text(args: list[str]) -> None:
    """Refuse command-line arguments that are not valid text in this system's encoding (bytes
    Python could not decode arrive as lone surrogates), before anything uses them."""
    for position, arg in enumerate(args, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raw = arg.encode("utf-8", "surrogateescape")  # the bytes as they were given
            shown = raw.decode("utf-8", "backslashreplace")
            raise click.UsageError(
                f"argument {position} ({safe(shown)}) is not valid UTF-8 text; use plain text "
                "(check the terminal's or the script's encoding)."
            ) from None


class _OneLineFormatter(logging.Formatter):
    """A log record as one line: its message and, for an error, the exception's name and first
    line instead of a traceback (``LEDGERSYNC_DEBUG=1`` shows tracebacks)."""

    def format(self, record: logging.LogRecord) -> str:
        text = safe(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            text += f" ({type(error).__name__}: {_first_line(error)})"
        return f"ledgersync: {text}"


def quiet_logging() -> None:
    """Warnings and errors logged while a command runs go to stderr as single lines, when the
    program has not configured logging itself (Python would print their tracebacks)."""
    root = logging.getLogger()
    if root.handlers or debugging():
        return
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_OneLineFormatter())
    root.addHandler(handler)
