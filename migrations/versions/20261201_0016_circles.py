"""circles: mini-groups by interest, their members and calls (who, where, when; no text)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "circles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("topic", sa.Integer(), nullable=True),
        sa.Column("proposed_by", sa.BigInteger(), nullable=True),
        sa.Column("proposal_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("active_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_call_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_circles_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circles")),
        sa.UniqueConstraint("chat_id", "key", name=op.f("uq_circles_chat_id")),
    )
    with op.batch_alter_table("circles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_circles_chat_id"), ["chat_id"], unique=False)

    op.create_table(
        "circle_members",
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("delivery", sa.String(length=8), nullable=False),
        sa.Column("joined_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_circle_members_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("circle_id", "user_id", name=op.f("pk_circle_members")),
    )
    op.create_table(
        "circle_calls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("caller_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("called_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_circle_calls_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circle_calls")),
    )
    with op.batch_alter_table("circle_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_circle_calls_called_at"), ["called_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_circle_calls_caller_id"), ["caller_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_circle_calls_circle_id"), ["circle_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("circle_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_circle_calls_circle_id"))
        batch_op.drop_index(batch_op.f("ix_circle_calls_caller_id"))
        batch_op.drop_index(batch_op.f("ix_circle_calls_called_at"))
    op.drop_table("circle_calls")
    op.drop_table("circle_members")
    with op.batch_alter_table("circles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_circles_chat_id"))
    op.drop_table("circles")
