"""the private message that answers a join request (its button is removed when it expires);
requests of payers left pending without a deadline (issue 11) get one, due now

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:40:00
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from bot.clock import SystemClock
from models.base import UTCDateTime

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_message_id', sa.BigInteger(), nullable=True))
    _repair_paid_requests()


def _repair_paid_requests() -> None:
    """A payment used to cancel the request's deadline and then, for someone removed before,
    send a join link instead of approving: the request stayed pending for good. Each such
    request of someone with paid time gets its deadline back, due now: the sweeper approves
    it (they have access)."""
    now = SystemClock().now()
    deadlines = sa.table(
        'deadlines',
        sa.column('kind'),
        sa.column('chat_id'),
        sa.column('user_id'),
        sa.column('due_at', UTCDateTime()),
        sa.column('attempts'),
        sa.column('locked_until', UTCDateTime()),
    )
    bind = op.get_bind()
    rows = bind.execute(_stranded_requests(deadlines, now)).all()
    if rows:
        bind.execute(
            deadlines.insert(),
            [
                {
                    'kind': 'request',
                    'chat_id': chat_id,
                    'user_id': user_id,
                    'due_at': now,
                    'attempts': 0,
                    'locked_until': None,
                }
                for chat_id, user_id in rows
            ],
        )


def _stranded_requests(deadlines: sa.TableClause, now: datetime) -> sa.Select:
    """(chat_id, user_id) of pending join requests whose person has paid time left and
    that have no request deadline."""
    members = sa.table(
        'members', sa.column('chat_id'), sa.column('user_id'), sa.column('status')
    )
    subs = sa.table(
        'subscriptions',
        sa.column('chat_id'),
        sa.column('user_id'),
        sa.column('status'),
        sa.column('ends_at', UTCDateTime()),
    )
    has_deadline = sa.exists().where(
        deadlines.c.kind == 'request',
        deadlines.c.chat_id == members.c.chat_id,
        deadlines.c.user_id == members.c.user_id,
    )
    return (
        sa.select(members.c.chat_id, members.c.user_id)
        .join(
            subs,
            (subs.c.chat_id == members.c.chat_id) & (subs.c.user_id == members.c.user_id),
        )
        .where(
            members.c.status == 'requested',
            subs.c.status == 'active',
            subs.c.ends_at > now,
            ~has_deadline,
        )
    )


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('request_message_id')
