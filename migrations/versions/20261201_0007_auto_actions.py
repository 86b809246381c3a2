"""auto_actions: automatic moderation actions keyed by (chat, message, kind), done once

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('auto_actions',
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('message_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('chat_id', 'message_id', 'kind', name=op.f('pk_auto_actions'))
    )
    with op.batch_alter_table('auto_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auto_actions_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('auto_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auto_actions_created_at'))

    op.drop_table('auto_actions')
