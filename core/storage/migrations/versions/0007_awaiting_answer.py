"""Nobody waits unseen: when a parent began waiting for their specialist's words.

Set when a specialist joins and when a parent writes while no answer is pending; cleared
by the specialist's next message. The ``h.answer`` job nudges, then requeues, from it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("awaiting_answer_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("awaiting_answer_since")
