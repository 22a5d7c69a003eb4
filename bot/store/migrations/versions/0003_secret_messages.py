"""Where messages that showed an environment's credentials were posted, so they can be
rewritten when the environment is torn down (issue #11). No credential is stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "secret_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("ts", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_secret_message"),
    )
    op.create_index("ix_secret_message_environment_id", "secret_message", ["environment_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_secret_message_environment_id", table_name="secret_message")
    op.drop_table("secret_message")
