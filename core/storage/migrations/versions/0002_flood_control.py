"""Flood control: per-parent burst counters and batched relay.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 20:50:03.507274
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("relay_batch", sa.JSON(), nullable=False, server_default="[]")
        )

    with op.batch_alter_table("parents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("burst_started_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("burst_count", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("parents", schema=None) as batch_op:
        batch_op.drop_column("burst_count")
        batch_op.drop_column("burst_started_at")

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("relay_batch")
