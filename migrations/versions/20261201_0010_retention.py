"""retention: when a report was resolved, so its reported text can be deleted after the
chat's `reports_keep`; reports resolved before this get the time they were made (the time
they were resolved was not stored, and it came after)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('handled_at', models.base.UTCDateTime(timezone=True), nullable=True)
        )
    reports = sa.table(
        'reports',
        sa.column('handled'),
        sa.column('created_at', models.base.UTCDateTime()),
        sa.column('handled_at', models.base.UTCDateTime()),
    )
    op.execute(
        reports.update()
        .where(reports.c.handled.is_not(None))
        .values(handled_at=reports.c.created_at)
    )


def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('handled_at')
