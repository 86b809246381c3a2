"""a newcomer's first message (id and time, never text) and when someone first replied to it

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_message_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column('first_message_at', models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column('first_reply_at', models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('first_reply_at')
        batch_op.drop_column('first_message_at')
        batch_op.drop_column('first_message_id')
