"""knowledge base: notes and stories (searched by stems; on PostgreSQL also by a tsvector
behind a GIN index), story consents waiting for the author, newcomers' last suggestion

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("media", sa.String(length=10), nullable=False),
        sa.Column("file_ref", sa.String(length=255), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.String(length=200), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("added_by", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("helped", sa.Integer(), nullable=False),
        sa.Column("stems", sa.Text(), nullable=False),
        sa.Column(
            "tsv", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_entries")),
        sa.UniqueConstraint("chat_id", "name", name=op.f("uq_kb_entries_chat_id")),
    )
    with op.batch_alter_table("kb_entries", schema=None) as batch_op:
        batch_op.create_index("ix_kb_entries_listing", ["chat_id", "kind", "status"], unique=False)
        batch_op.create_index("ix_kb_entries_tsv", ["tsv"], unique=False, postgresql_using="gin")
        batch_op.create_index(batch_op.f("ix_kb_entries_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_entries_added_by"), ["added_by"], unique=False)
    op.create_table(
        "kb_consents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("asked_by", sa.BigInteger(), nullable=False),
        sa.Column("tags", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_consents")),
    )
    with op.batch_alter_table("kb_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_consents_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_consents_asked_by"), ["asked_by"], unique=False)
    op.create_table(
        "kb_suggestions",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("suggested_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_kb_suggestions")),
    )


def downgrade() -> None:
    op.drop_table("kb_suggestions")
    with op.batch_alter_table("kb_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_consents_asked_by"))
        batch_op.drop_index(batch_op.f("ix_kb_consents_author_id"))
    op.drop_table("kb_consents")
    with op.batch_alter_table("kb_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_entries_added_by"))
        batch_op.drop_index(batch_op.f("ix_kb_entries_author_id"))
        batch_op.drop_index("ix_kb_entries_tsv", postgresql_using="gin")
        batch_op.drop_index("ix_kb_entries_listing")
    op.drop_table("kb_entries")
