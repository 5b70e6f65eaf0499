"""Albums relayed as one, and the "I saw you edited" reply once in a while.

``parents.media_group_id``: the album the parent's last message belonged to, so the
other items of an album are not counted as a flood nor answered one by one.
``parents.edit_noted_at``: when the parent was last told an edit is not re-read (at most
once per ``bot.app.dispatch.EDIT_NOTE_EVERY``).
``conversations.album_batch``: message ids of albums on their way, by sender
(``{"parent": [...], "staff": [...]}``), copied together (``copyMessages``) once the album
has arrived.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 02:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("media_group_id", sa.String(64), nullable=True))
        batch_op.add_column(
            sa.Column("edit_noted_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("album_batch", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("album_batch")
    with op.batch_alter_table("parents", schema=None) as batch_op:
        batch_op.drop_column("edit_noted_at")
        batch_op.drop_column("media_group_id")
