"""Warm pools (issue #14): which pool a hub waits in, which launch took it, and what it was
deployed from.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("environment") as batch:
        batch.add_column(sa.Column("pool", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("spec_hash", sa.String(length=64), nullable=True))
        batch.create_index("ix_environment_pool", ["pool"], unique=False)
        batch.create_index("ix_environment_claimed_by", ["claimed_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("environment") as batch:
        batch.drop_index("ix_environment_claimed_by")
        batch.drop_index("ix_environment_pool")
        batch.drop_column("spec_hash")
        batch.drop_column("claimed_by")
        batch.drop_column("pool")
