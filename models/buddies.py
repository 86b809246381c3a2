"""Buddies: the pool of volunteers, newcomer–buddy pairs (kept as history), the waiting list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class BuddyVolunteer(Base):
    __tablename__ = "buddy_volunteers"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class BuddyPair(Base):
    """One newcomer looked after by one buddy; `active` is cleared when the pair ends."""

    __tablename__ = "buddy_pairs"
    __table_args__ = (
        # one active pair per newcomer per chat, enforced by the database
        Index(
            "uq_buddy_pairs_active_newcomer",
            "chat_id",
            "newcomer_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
        Index("ix_buddy_pairs_buddy", "chat_id", "buddy_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    newcomer_id: Mapped[int] = mapped_column(BigInteger)
    buddy_id: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)


class BuddyWaiting(Base):
    """A newcomer waiting for a buddy, served in order of `since`."""

    __tablename__ = "buddy_waiting"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    newcomer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    admins_told: Mapped[bool] = mapped_column(Boolean, default=False)


class BuddyRepository:
    """Queries on buddy pairs, the pool and the waiting list; the caller owns the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active_buddy_of(self, chat_id: int, newcomer_id: int) -> int | None:
        """The buddy currently paired with this newcomer in this chat, if any."""
        return await self.session.scalar(
            select(BuddyPair.buddy_id).where(
                BuddyPair.chat_id == chat_id,
                BuddyPair.newcomer_id == newcomer_id,
                BuddyPair.active.is_(True),
            )
        )
