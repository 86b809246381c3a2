"""A person's standing in one chat: status, trust level and verification state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class TrustLevel(StrEnum):
    PENDING = "pending"
    NEWCOMER = "newcomer"
    MEMBER = "member"
    VETERAN = "veteran"


class MemberStatus(StrEnum):
    IN = "in"
    LEFT = "left"
    REQUESTED = "requested"


class WelcomePost(Base):
    """One welcome message in a group; it may name several newcomers (a join wave)."""

    __tablename__ = "welcome_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


class Member(Base):
    __tablename__ = "members"

    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.IN)
    trust: Mapped[str] = mapped_column(String(16), default=TrustLevel.MEMBER)
    trust_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    level_since: Mapped[datetime] = mapped_column(UTCDateTime)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    welcome_id: Mapped[int | None] = mapped_column(
        ForeignKey("welcome_posts.id", ondelete="SET NULL"), nullable=True, index=True
    )
    source: Mapped[str] = mapped_column(String(16), default="seen")
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MemberRepository:
    """Reads and writes memberships inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, chat_id: int, user_id: int) -> Member | None:
        return await self.session.get(Member, (chat_id, user_id))

    async def for_user(self, user_id: int) -> list[Member]:
        result = await self.session.execute(
            select(Member).where(Member.user_id == user_id, Member.status == MemberStatus.IN)
        )
        return list(result.scalars())

    async def awaiting_welcome(self) -> list[Member]:
        """Pending members whose welcome was not posted yet (a join wave, or a restart)."""
        result = await self.session.execute(
            select(Member)
            .where(
                Member.trust == TrustLevel.PENDING,
                Member.status == MemberStatus.IN,
                Member.welcome_id.is_(None),
            )
            .order_by(Member.joined_at)
        )
        return list(result.scalars())

    async def pending_in_welcome(self, welcome_id: int) -> int:
        result = await self.session.execute(
            select(func.count())
            .select_from(Member)
            .where(
                Member.welcome_id == welcome_id,
                Member.trust == TrustLevel.PENDING,
                Member.status == MemberStatus.IN,
            )
        )
        return int(result.scalar_one())

    async def pending_pairs(self) -> list[tuple[int, int]]:
        result = await self.session.execute(
            select(Member.chat_id, Member.user_id).where(
                Member.trust == TrustLevel.PENDING, Member.status == MemberStatus.IN
            )
        )
        return [(chat_id, user_id) for chat_id, user_id in result.all()]

    async def promotable(self, level: TrustLevel, chat_id: int) -> list[Member]:
        result = await self.session.execute(
            select(Member).where(
                Member.chat_id == chat_id,
                Member.trust == level,
                Member.status == MemberStatus.IN,
                Member.trust_pinned.is_(False),
            )
        )
        return list(result.scalars())

    async def welcome(self, welcome_id: int) -> WelcomePost | None:
        return await self.session.get(WelcomePost, welcome_id)
