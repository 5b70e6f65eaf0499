"""The parent's own handoff card: what they chose to share is what the peer reads.

``from_card``: the conversation was requested with the card (flows/parent/card.py), so
the summary is that card and nothing else from the chat with the bot. ``card_line`` is
the line in their own words (purged with retention, like ``waiting_note``), and
``region_shared`` is False when they took their region out of the card.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("from_card", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(
            sa.Column("region_shared", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("card_line", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("card_line")
        batch_op.drop_column("region_shared")
        batch_op.drop_column("from_card")
