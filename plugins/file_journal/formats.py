"""The two journal formats: how an entry is written, and how a file is read back.

Both are append-only text. Reading a file gives the keys of its complete entries, the
accounts it opened, and the length of its valid prefix: bytes past it are the torn tail of a
write a crash interrupted, which the journal moves aside before it appends again.

- Beancount: each entry is a block ending in a blank line; its key is the ``ledgersync_key``
  metadata. Accounts are opened (dated :data:`OPEN_DATE`) in the block that first uses them.
- CSV: one row per posting; ``reference`` is the key; ``line`` of ``lines`` closes an entry.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Protocol

from core.api import ConfigurationError
from plugins.file_journal.entries import JournalEntry

__all__ = ["FORMATS", "OPEN_DATE", "Beancount", "Csv", "JournalFormat", "Scan", "format_named"]

OPEN_DATE = "1970-01-01"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(slots=True)
class Scan:
    """What a journal file holds: complete entries' keys (with copies), opened accounts."""

    keys: Counter[str] = field(default_factory=Counter)
    accounts: set[str] = field(default_factory=set)
    valid_length: int = 0


class JournalFormat(Protocol):
    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]

    def header(self) -> bytes: ...

    def render(self, entry: JournalEntry, new_accounts: Sequence[str]) -> bytes: ...

    def scan(self, data: bytes, where: str) -> Scan: ...

    def postings_of(self, data: bytes, key: str) -> list[tuple[str, Decimal]]:
        """(account, signed amount) of the last complete entry ``key`` in ``data``."""
        ...


def _text(value: str) -> str:
    return _CONTROL.sub(" ", value)


def _damaged(where: str, offset: int, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"the journal {where} is damaged at byte {offset}: {why}.",
        "It is not the torn end of an interrupted write, so nothing was changed; restore the "
        "file from a backup or move it away and point the connection at a new path.",
    )


def _check_header(data: bytes, header: bytes, where: str, name: str) -> bool:
    """True when ``data`` starts with the whole header; False when it is a torn header."""
    if data.startswith(header):
        return True
    if header.startswith(data):
        return False
    raise ConfigurationError(
        f"{where} exists and is not a ledgersync {name} journal.",
        "Choose a new path for the journal; ledgersync never writes into other files.",
    )


class Beancount:
    """Beancount syntax: ``open`` directives and balanced transactions with key metadata."""

    name: ClassVar[str] = "beancount"
    suffixes: ClassVar[tuple[str, ...]] = (".beancount", ".bean")

    _KEY = re.compile(rb'^  ledgersync_key: "((?:[^"\\\n]|\\.)*)"$', re.MULTILINE)
    _OPEN = re.compile(rb"^\d{4}-\d{2}-\d{2} open (\S+)", re.MULTILINE)

    def header(self) -> bytes:
        return (
            b"; ledgersync journal, written by the file_journal plugin. Append-only: entries\n"
            b"; are added, never rewritten; each carries its document key as ledgersync_key.\n"
            b"\n"
        )

    @staticmethod
    def _quote(value: str) -> str:
        escaped = _text(value).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'

    def render(self, entry: JournalEntry, new_accounts: Sequence[str]) -> bytes:
        lines = [f"{OPEN_DATE} open {account}" for account in new_accounts]
        lines.append(f"{entry.date.isoformat()} * {self._quote(entry.narration)}")
        lines.append(f"  ledgersync_key: {self._quote(entry.key)}")
        lines.append(f"  ledgersync_kind: {self._quote(entry.kind.value)}")
        if entry.links:
            lines.append(f"  ledgersync_depends_on: {self._quote(' '.join(entry.links))}")
        width = max(36, *(len(posting.account) for posting in entry.postings))
        for posting in entry.postings:
            amount = f"{posting.amount:f}"
            lines.append(f"  {posting.account:<{width}}  {amount:>16} {entry.currency}")
        return ("\n".join(lines) + "\n\n").encode("utf-8")

    def scan(self, data: bytes, where: str) -> Scan:
        scan = Scan()
        if not _check_header(data, self.header(), where, self.name):
            return scan
        end = data.rfind(b"\n\n")
        scan.valid_length = end + 2
        tail = data[scan.valid_length :]
        if tail and not _starts_like_block(tail):
            raise _damaged(where, scan.valid_length, "its end is not an entry ledgersync wrote")
        complete = data[: scan.valid_length]
        scan.keys.update(_unescape(match) for match in self._KEY.findall(complete))
        scan.accounts.update(match.decode() for match in self._OPEN.findall(complete))
        return scan

    _POSTING = re.compile(r"^  (\S+)\s+(-?\d+(?:\.\d+)?) \S+$")

    def postings_of(self, data: bytes, key: str) -> list[tuple[str, Decimal]]:
        marker = f"\n  ledgersync_key: {self._quote(key)}\n".encode()
        start = data.rfind(marker)
        if start < 0:
            return []
        end = data.find(b"\n\n", start)
        block = data[start + len(marker) : end if end >= 0 else len(data)].decode("utf-8")
        found = [self._POSTING.match(line) for line in block.splitlines()]
        return [(match.group(1), Decimal(match.group(2))) for match in found if match]


def _starts_like_block(tail: bytes) -> bool:
    """True when ``tail`` is (a prefix of) ``YYYY-MM-DD open ...`` or ``YYYY-MM-DD * ...``."""
    template = b"0000-00-00 "
    for expected, actual in zip(template, tail, strict=False):
        if expected == ord("0") and not (ord("0") <= actual <= ord("9")):
            return False
        if expected != ord("0") and actual != expected:
            return False
    rest = tail[len(template) : len(template) + 5]
    return any(word.startswith(rest) or rest.startswith(word) for word in (b"open ", b"* "))


def _unescape(raw: bytes) -> str:
    return re.sub(r"\\(.)", r"\1", raw.decode("utf-8"))


class Csv:
    """CSV a spreadsheet or an accounting system's journal import reads: a row per posting."""

    name: ClassVar[str] = "csv"
    suffixes: ClassVar[tuple[str, ...]] = (".csv",)
    columns: ClassVar[tuple[str, ...]] = (
        "date",
        "reference",
        "kind",
        "account",
        "debit",
        "credit",
        "currency",
        "memo",
        "line",
        "lines",
    )

    def header(self) -> bytes:
        return (",".join(self.columns) + "\n").encode("utf-8")

    def render(self, entry: JournalEntry, new_accounts: Sequence[str]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        count = len(entry.postings)
        for number, posting in enumerate(entry.postings, start=1):
            debit = f"{posting.amount:f}" if posting.amount > 0 else ""
            credit = f"{-posting.amount:f}" if posting.amount < 0 else ""
            writer.writerow(
                [
                    entry.date.isoformat(),
                    _text(entry.key),
                    entry.kind.value,
                    posting.account,
                    debit,
                    credit,
                    entry.currency,
                    _text(entry.narration),
                    number,
                    count,
                ]
            )
        return buffer.getvalue().encode("utf-8")

    def scan(self, data: bytes, where: str) -> Scan:
        scan = Scan()
        header = self.header()
        if not _check_header(data, header, where, self.name):
            return scan
        offset = scan.valid_length = len(header)
        open_key: str | None = None
        expected_line = 1
        while offset < len(data):
            end = data.find(b"\n", offset)
            if end < 0:
                break  # an unterminated last row: the torn tail
            row = next(csv.reader([data[offset:end].decode("utf-8", "replace")]))
            if len(row) != len(self.columns) or not (row[8].isdigit() and row[9].isdigit()):
                raise _damaged(where, offset, "a row does not have the journal's columns")
            key, line, lines = row[1], int(row[8]), int(row[9])
            if line != expected_line or (open_key is not None and key != open_key):
                raise _damaged(where, offset, f"row {line} of {lines} of {key} is out of order")
            offset = end + 1
            if line == lines:
                scan.keys[key] += 1
                scan.valid_length = offset
                open_key, expected_line = None, 1
            else:
                open_key, expected_line = key, line + 1
        return scan

    def postings_of(self, data: bytes, key: str) -> list[tuple[str, Decimal]]:
        last: list[tuple[str, Decimal]] = []
        group: list[tuple[str, Decimal]] = []
        for row in csv.reader(io.StringIO(data.decode("utf-8", "replace"))):
            if len(row) != len(self.columns) or row[1] != key or not row[8].isdigit():
                continue
            if row[8] == "1":
                group = []
            group.append((row[3], Decimal(row[4]) if row[4] else -Decimal(row[5])))
            if row[8] == row[9]:
                last = group
        return last


FORMATS: dict[str, JournalFormat] = {"beancount": Beancount(), "csv": Csv()}


def format_named(name: str) -> JournalFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown journal format {name!r}.", "Use format 'csv' or 'beancount'."
        ) from None
