"""A parent's own wish for a peer with a lived experience, kept until they let it go.

``requested_experience`` already held a tag (the topic's default, a soft preference).
``experience_only`` says the parent chose that experience themselves and waits for
such a peer: routing then offers them only to specialists with that tag (a crisis
always goes to whoever is free). "Talk with the next peer" clears it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("experience_only", sa.Boolean(), nullable=False,
                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("experience_only")
