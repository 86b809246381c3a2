"""thanks: who thanked whom for which message (ids, time, weight, how; never text), and who
allowed their name on a public thanks board

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "thanks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("giver_id", sa.BigInteger(), nullable=False),
        sa.Column("receiver_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("noted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thanks")),
        sa.UniqueConstraint(
            "chat_id", "giver_id", "receiver_id", "day", name=op.f("uq_thanks_chat_id")
        ),
    )
    op.create_index("ix_thanks_created", "thanks", ["created_at"], unique=False)
    op.create_index("ix_thanks_message", "thanks", ["chat_id", "message_id"], unique=False)
    op.create_index(
        "ix_thanks_receiver", "thanks", ["chat_id", "receiver_id", "created_at"], unique=False
    )
    op.create_table(
        "thanks_board",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("since", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_thanks_board")),
    )


def downgrade() -> None:
    op.drop_table("thanks_board")
    op.drop_index("ix_thanks_receiver", table_name="thanks")
    op.drop_index("ix_thanks_message", table_name="thanks")
    op.drop_index("ix_thanks_created", table_name="thanks")
    op.drop_table("thanks")
