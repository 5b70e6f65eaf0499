"""Parents keep their last few messages for an hour, so a plan told in pieces is read
together by the crisis screen (flows.safety.ask); the purge clears stale windows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("screen_window", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("screen_window_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("parents", schema=None) as batch_op:
        batch_op.drop_column("screen_window_at")
        batch_op.drop_column("screen_window")
