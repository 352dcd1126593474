"""Status values are `StrEnum`s equal to the strings the store holds, and core uses them."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import text

import core
from core.states import ConnectionStatus, DocumentState, RunOutcome, SyncMode, SyncTrigger
from core.store.database import open_database
from core.store.models import Connection
from core.store.repository import utcnow

CORE = Path(core.__file__).parent
FIELDS = {"status", "state", "outcome", "trigger", "mode"}
VALUES = {
    ConnectionStatus: {"new", "active", "failed", "disconnected"},
    DocumentState: {"planned", "delivered", "failed", "deleting", "deleted"},
    RunOutcome: {"running", "succeeded", "incomplete", "failed", "paused", "interrupted"},
    SyncTrigger: {"manual", "scheduled", "worker", "event", "repair", "rollback"},
    SyncMode: {"bulk", "individual"},
}


def test_each_member_equals_the_string_stored_before_it_existed() -> None:
    for enum, values in VALUES.items():
        assert {member.value for member in enum} == values, enum.__name__
        for member in enum:
            assert member == member.value and str(member) == member.value
            assert f"{member}" == member.value  # reports and JSON print the plain word


def test_the_store_holds_plain_strings(any_db_url: str) -> None:
    database = open_database(any_db_url)
    with database.session() as session:
        session.add(Connection(name="shop", source="kit", created_at=utcnow()))
        session.flush()
        row = session.query(Connection).one()
        row.status = ConnectionStatus.ACTIVE
        row.mode = SyncMode.INDIVIDUAL
    with database.engine.connect() as connection:
        stored = connection.execute(text("SELECT status, mode FROM connections")).one()
    assert tuple(stored) == ("active", "individual")
    assert type(stored[0]) is str and stored[0] == ConnectionStatus.ACTIVE


def _plain_status_literals(tree: ast.AST) -> list[int]:
    """Lines comparing or setting a status attribute (or ``trigger=``) to a bare string."""

    def is_literal(node: ast.expr) -> bool:
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return any(is_literal(item) for item in node.elts)
        return isinstance(node, ast.Constant) and isinstance(node.value, str)

    def is_field(node: ast.expr) -> bool:
        return isinstance(node, ast.Attribute) and node.attr in FIELDS

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and is_field(node.left):
            if any(is_literal(right) for right in node.comparators):
                found.append(node.lineno)
        elif isinstance(node, ast.Assign) and any(is_field(t) for t in node.targets):
            if is_literal(node.value):
                found.append(node.lineno)
        elif isinstance(node, ast.keyword) and node.arg == "trigger" and is_literal(node.value):
            found.append(node.value.lineno)
    return found


def test_core_compares_and_sets_statuses_through_the_enums() -> None:
    files = [
        path
        for path in sorted(CORE.rglob("*.py"))
        if not {"testing", "migrations"} & set(path.relative_to(CORE).parts)
    ]
    assert any(path.name == "engine.py" for path in files)
    found = [
        f"{path.relative_to(CORE.parent)}:{line}"
        for path in files
        for line in _plain_status_literals(ast.parse(path.read_text("utf-8")))
    ]
    assert not found, "use core.states instead of a bare string:\n" + "\n".join(found)


def test_the_check_would_see_a_bare_string() -> None:
    code = 'if row.status == "active":\n    run.outcome = "failed"\nsync(trigger="manual")\n'
    assert _plain_status_literals(ast.parse(code)) == [1, 2, 3]
    assert _plain_status_literals(ast.parse("row.status = ConnectionStatus.NEW")) == []
