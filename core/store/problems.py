"""What a failing store means for the operator: one sentence on what is wrong and what to do.

The command line prints it as the command's error; a sync that the store fails part-way keeps
it as the run's error (its steps are transactions: what had not finished was rolled back).
"""

from __future__ import annotations

from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError

# What a failing store raises: the name a pipeline module catches (it does not import SQLAlchemy).
StoreError = SQLAlchemyError

__all__ = ["StoreError", "store_problem"]

_FULL = ("database or disk is full", "no space left on device", "disk full")
_FAILING = ("disk i/o error", "input/output error")
_READ_ONLY = ("readonly database", "read-only", "read only", "permission denied")
_UNREACHABLE = ("connection refused", "could not connect", "could not translate host name")
_AGAIN = "run the command again: what it had not finished was rolled back, not half-written."


def _detail(error: SQLAlchemyError) -> str:
    detail = str(getattr(error, "orig", None) or error).strip()
    return detail.splitlines()[0].rstrip(".") if detail else type(error).__name__


def store_problem(error: SQLAlchemyError, where: str = "the store") -> str:
    """``error`` in words: a full or failing disk, a read-only store, an unreachable server, a
    value the store cannot hold, a conflict, or a failure of ``where`` with the driver's words."""
    detail = _detail(error)
    lowered = detail.lower()
    if any(mark in lowered for mark in _FULL):
        return f"the disk holding {where} is full ({detail}). Free some space and {_AGAIN}"
    if any(mark in lowered for mark in _FAILING):
        return (
            f"the disk holding {where} failed a write ({detail}): it is full, or failing. Free "
            f"some space (or check the disk) and {_AGAIN}"
        )
    if any(mark in lowered for mark in _READ_ONLY):
        return (
            f"{where} is read-only ({detail}). Give this user write access to the store file "
            "and its folder (or to the database), or point --db at a writable store."
        )
    if isinstance(error, OperationalError) and any(m in lowered for m in _UNREACHABLE):
        return (
            f"cannot reach {where} ({detail}). Check that the database server runs and that "
            "--db (or LEDGERSYNC_DB) names it."
        )
    if isinstance(error, DataError):
        return f"{where} cannot hold a value given ({detail}). Shorten or correct it and {_AGAIN}"
    if isinstance(error, IntegrityError):
        return (
            f"{where} refused the change as a conflict with what it holds ({detail}). Run the "
            "command again; if it repeats, another process is changing the same thing."
        )
    return (
        f"{where} failed ({detail}). Check --db (or LEDGERSYNC_DB) and the database server, "
        "then run the command again."
    )
