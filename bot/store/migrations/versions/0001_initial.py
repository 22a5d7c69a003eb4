"""Initial schema: environments, their audit trail, the scheduler lease.

The same schema ``SQLModel.metadata.create_all`` made before migrations existed. Names
of keys, unique constraints and indexes are explicit, so they are the same on SQLite
and PostgreSQL and later revisions can refer to them.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "environment",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("namespace", sa.String(length=63), nullable=False),
        sa.Column("release", sa.String(length=53), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("lifetime_seconds", sa.Integer(), nullable=False),
        sa.Column("active_key", sa.String(length=128), nullable=True),
        sa.Column("quota_slot", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("ready_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("url", sa.String(), nullable=True),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("approval_channel", sa.String(), nullable=True),
        sa.Column("approval_ts", sa.String(), nullable=True),
        sa.Column("warnings_sent", sa.String(), nullable=False),
        sa.Column("idle_warned_at", sa.DateTime(), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(), nullable=True),
        sa.Column("hub_failures", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=True),
        sa.Column("worker_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_environment"),
        sa.UniqueConstraint("active_key", name="uq_environment_active_key"),
        sa.UniqueConstraint("quota_slot", name="uq_environment_quota_slot"),
    )
    op.create_index("ix_environment_expires_at", "environment", ["expires_at"])
    op.create_index("ix_environment_name", "environment", ["name"])
    op.create_index("ix_environment_owner_id", "environment", ["owner_id"])
    op.create_index("ix_environment_state", "environment", ["state"])

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(), nullable=True),
        sa.Column("to_state", sa.String(), nullable=True),
        sa.Column("detail", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_event"),
    )
    op.create_index("ix_audit_event_environment_id", "audit_event", ["environment_id"])

    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_scheduler_lease"),
    )


def downgrade() -> None:
    op.drop_table("scheduler_lease")
    op.drop_table("audit_event")
    op.drop_table("environment")
