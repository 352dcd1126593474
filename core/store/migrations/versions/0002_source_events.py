"""source events (webhooks)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 08:10:00
"""

import sqlalchemy as sa
from alembic import op

import core.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("object", sa.String(length=30), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=30), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("changed_at", core.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", core.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("handled_at", core.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_source_events_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_events")),
        sa.UniqueConstraint(
            "connection_id",
            "object",
            "object_id",
            "event_type",
            "digest",
            name="uq_source_events_once",
        ),
    )
    with op.batch_alter_table("source_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_source_events_connection_id_handled_at"),
            ["connection_id", "handled_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("source_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_events_connection_id_handled_at"))
    op.drop_table("source_events")
