"""One journal file: repaired on open, scanned for keys, appended to durably.

Exactly once, for a file: an entry is appended in one write and fsynced before its key is
reported as delivered; the key is looked up by scanning the file, so a new process finds what
a crashed one wrote. A crash in the middle of a write leaves a torn tail; the next open moves
those bytes to ``<journal>.torn`` (nothing is thrown away) and truncates the journal to its
last complete entry. An advisory lock (``flock``) keeps two writers from interleaving.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from core.api import DeliveryUncertain, TransientError
from plugins.file_journal.entries import JournalEntry, Posting
from plugins.file_journal.formats import JournalFormat, Scan

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: one writer at a time is on the operator
    fcntl = None  # type: ignore[assignment]

__all__ = ["JournalFile", "reversal_key"]

REVERSAL = "reversal:"


def reversal_key(key: str) -> str:
    """The key of the entry that reverses ``key`` (rollback: the journal is append-only)."""
    return REVERSAL + key


def _live(scan: Scan, key: str) -> bool:
    """Whether the file holds ``key`` more often than its reversal."""
    return scan.keys[key] > scan.keys[reversal_key(key)]


log = logging.getLogger(__name__)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class JournalFile:
    """The journal at ``path`` in ``journal_format``; remote ids are the entries' keys."""

    def __init__(self, path: Path, journal_format: JournalFormat) -> None:
        self.path = path
        self.format = journal_format
        self.torn_path = path.with_name(path.name + ".torn")
        self.repairs = 0
        self._scan: Scan | None = None
        self._size = -1

    @contextmanager
    def _locked(self, *, create: bool) -> Iterator[int | None]:
        flags = os.O_RDWR | os.O_APPEND | (os.O_CREAT if create else 0)
        existed = self.path.exists()
        try:
            descriptor = os.open(self.path, flags, 0o644)
        except FileNotFoundError:
            if create:
                raise TransientError(
                    f"the journal's folder {self.path.parent} does not exist.",
                    "Create it (or mount it) and sync again; nothing was written.",
                ) from None
            yield None
            return
        except OSError as error:
            raise TransientError(
                f"the journal {self.path} cannot be opened ({error.strerror}).",
                "Check the file's permissions and sync again; nothing was written.",
            ) from error
        try:
            if not existed:
                _fsync_folder(self.path.parent)
            if fcntl is not None:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield descriptor
        finally:
            os.close(descriptor)  # closing releases the lock

    def _refresh(self, descriptor: int) -> Scan:
        size = os.fstat(descriptor).st_size
        if self._scan is not None and size == self._size:
            return self._scan
        data = self.path.read_bytes()
        scan = self.format.scan(data, str(self.path))
        if scan.valid_length < len(data):
            self._repair(descriptor, data, scan.valid_length)
        self._scan, self._size = scan, scan.valid_length
        return scan

    def _repair(self, descriptor: int, data: bytes, valid_length: int) -> None:
        torn = data[valid_length:]
        with self.torn_path.open("ab") as aside:
            aside.write(torn + b"\n")
            aside.flush()
            os.fsync(aside.fileno())
        os.ftruncate(descriptor, valid_length)
        os.fsync(descriptor)
        self.repairs += 1
        log.warning(
            "journal %s ended in a torn write of %d bytes (a crash mid-write); moved them to "
            "%s and kept the %d bytes of complete entries",
            self.path,
            len(torn),
            self.torn_path,
            valid_length,
        )

    def keys(self) -> dict[str, int]:
        """Every complete entry's key and how many copies the file holds."""
        with self._locked(create=False) as descriptor:
            if descriptor is None:
                return {}
            return dict(self._refresh(descriptor).keys)

    def find(self, key: str) -> str | None:
        """The remote id (the key) of the complete entry ``key``, if the file holds one."""
        with self._locked(create=False) as descriptor:
            if descriptor is None:
                return None
            return key if _live(self._refresh(descriptor), key) else None

    def append(
        self, entry: JournalEntry, after_write: Callable[[JournalEntry], None] | None = None
    ) -> str:
        """Write ``entry`` unless the file already holds its key; return its remote id."""
        with self._locked(create=True) as descriptor:
            assert descriptor is not None
            scan = self._refresh(descriptor)
            if _live(scan, entry.key):
                return entry.key
            self._add(descriptor, scan, entry)
        if after_write is not None:
            after_write(entry)
        return entry.key

    def reverse(self, entry: JournalEntry) -> bool:
        """Append the entry reversing ``entry`` (its postings as the file holds them, negated)
        unless the file holds none of it live; True when a reversal was written now."""
        with self._locked(create=False) as descriptor:
            if descriptor is None:
                return False
            scan = self._refresh(descriptor)
            if not _live(scan, entry.key):
                return False
            written = self.format.postings_of(self.path.read_bytes(), entry.key)
            postings = [Posting(a, -amount) for a, amount in written] or [
                Posting(p.account, -p.amount) for p in entry.postings
            ]
            reversal = replace(
                entry,
                key=reversal_key(entry.key),
                narration=f"Reversal: {entry.narration}",
                postings=tuple(postings),
                links=(entry.key,),
            )
            self._add(descriptor, scan, reversal)
        return True

    def _add(self, descriptor: int, scan: Scan, entry: JournalEntry) -> None:
        accounts = [p.account for p in entry.postings if p.account not in scan.accounts]
        block = self.format.render(entry, list(dict.fromkeys(accounts)))
        if self._size == 0:
            block = self.format.header() + block
        self._write(descriptor, block)
        try:
            os.fsync(descriptor)
        except OSError as error:
            self._scan = None
            raise DeliveryUncertain(
                f"the journal {self.path} could not be flushed to disk ({error}).",
                "The entry may or may not be there; the next attempt looks for it first.",
            ) from error
        scan.keys[entry.key] += 1
        scan.accounts.update(accounts)
        self._size += len(block)
        scan.valid_length = self._size

    def _write(self, descriptor: int, block: bytes) -> None:
        written = 0
        try:
            while written < len(block):
                written += os.write(descriptor, block[written:])
        except OSError as error:
            if written:
                os.ftruncate(descriptor, self._size)  # take the partial entry back out
            self._scan = None
            raise TransientError(
                f"writing to the journal {self.path} failed ({error}).",
                "Check the disk and the file's permissions; the next run writes the entry.",
            ) from error
