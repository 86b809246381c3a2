"""Buddies: the pool of volunteers, newcomer–buddy pairs (kept as history), the waiting list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.members import Member, MemberStatus, TrustLevel
from models.upsert import insert_ignore
from models.users import User


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

    async def active_pair(self, chat_id: int, newcomer_id: int) -> BuddyPair | None:
        return (
            await self.session.execute(
                select(BuddyPair).where(
                    BuddyPair.chat_id == chat_id,
                    BuddyPair.newcomer_id == newcomer_id,
                    BuddyPair.active.is_(True),
                )
            )
        ).scalar_one_or_none()

    async def active_pairs(
        self, chat_id: int, *, newcomer_id: int | None = None, buddy_id: int | None = None
    ) -> list[BuddyPair]:
        """Active pairs of the chat (of one newcomer, or one buddy), oldest first."""
        query = select(BuddyPair).where(BuddyPair.chat_id == chat_id, BuddyPair.active.is_(True))
        if newcomer_id is not None:
            query = query.where(BuddyPair.newcomer_id == newcomer_id)
        if buddy_id is not None:
            query = query.where(BuddyPair.buddy_id == buddy_id)
        return list((await self.session.execute(query.order_by(BuddyPair.started_at))).scalars())

    async def past_buddies(self, chat_id: int, newcomer_id: int) -> set[int]:
        """Everyone who was ever this newcomer's buddy here (not to be chosen again)."""
        rows = await self.session.execute(
            select(BuddyPair.buddy_id).where(
                BuddyPair.chat_id == chat_id, BuddyPair.newcomer_id == newcomer_id
            )
        )
        return set(rows.scalars())

    async def loads(self, chat_id: int) -> dict[int, int]:
        """Active newcomers per buddy."""
        rows = await self.session.execute(
            select(BuddyPair.buddy_id, func.count())
            .where(BuddyPair.chat_id == chat_id, BuddyPair.active.is_(True))
            .group_by(BuddyPair.buddy_id)
        )
        return {buddy_id: int(count) for buddy_id, count in rows.all()}

    async def last_assigned(self, chat_id: int) -> dict[int, datetime]:
        """When each buddy was last given a newcomer."""
        rows = await self.session.execute(
            select(BuddyPair.buddy_id, func.max(BuddyPair.started_at))
            .where(BuddyPair.chat_id == chat_id)
            .group_by(BuddyPair.buddy_id)
        )
        return {buddy_id: started for buddy_id, started in rows.all()}  # noqa: C416

    async def changes_since(self, chat_id: int, newcomer_id: int, since: datetime) -> int:
        """How often the newcomer asked for another buddy since `since`."""
        result = await self.session.execute(
            select(func.count())
            .select_from(BuddyPair)
            .where(
                BuddyPair.chat_id == chat_id,
                BuddyPair.newcomer_id == newcomer_id,
                BuddyPair.end_reason == "changed",
                BuddyPair.ended_at >= since,
            )
        )
        return int(result.scalar_one())

    async def pair(self, chat_id: int, newcomer_id: int, buddy_id: int, now: datetime) -> None:
        """A new active pair; the unique index refuses a second one for the newcomer."""
        self.session.add(
            BuddyPair(
                chat_id=chat_id,
                newcomer_id=newcomer_id,
                buddy_id=buddy_id,
                active=True,
                started_at=now,
            )
        )

    async def add_volunteer(
        self, chat_id: int, user_id: int, now: datetime, added_by: int | None
    ) -> bool:
        """Into the pool; False if already there."""
        return await insert_ignore(
            self.session,
            BuddyVolunteer,
            {"chat_id": chat_id, "user_id": user_id, "since": now, "added_by": added_by},
            key=["chat_id", "user_id"],
        )

    async def remove_volunteer(self, chat_id: int, user_id: int) -> bool:
        result = await self.session.execute(
            delete(BuddyVolunteer).where(
                BuddyVolunteer.chat_id == chat_id, BuddyVolunteer.user_id == user_id
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def volunteers(self, chat_id: int) -> list[int]:
        rows = await self.session.execute(
            select(BuddyVolunteer.user_id).where(BuddyVolunteer.chat_id == chat_id)
        )
        return list(rows.scalars())

    async def is_volunteer(self, chat_id: int, user_id: int) -> bool:
        return await self.session.get(BuddyVolunteer, (chat_id, user_id)) is not None

    async def volunteers_in_chat(self, chat_id: int) -> list[tuple[Member, User]]:
        """Volunteers still in the chat and verified, with their user rows."""
        rows = await self.session.execute(
            select(Member, User)
            .join(
                BuddyVolunteer,
                (BuddyVolunteer.chat_id == Member.chat_id)
                & (BuddyVolunteer.user_id == Member.user_id),
            )
            .join(User, User.id == Member.user_id)
            .where(
                Member.chat_id == chat_id,
                Member.status == MemberStatus.IN,
                Member.trust != TrustLevel.PENDING,
            )
        )
        return [(member, user) for member, user in rows.all()]

    async def newcomers_of(self, chat_id: int, buddy_id: int) -> list[User]:
        rows = await self.session.execute(
            select(User)
            .join(BuddyPair, BuddyPair.newcomer_id == User.id)
            .where(
                BuddyPair.chat_id == chat_id,
                BuddyPair.buddy_id == buddy_id,
                BuddyPair.active.is_(True),
            )
        )
        return list(rows.scalars())

    async def wait(self, chat_id: int, newcomer_id: int, now: datetime) -> bool:
        """Onto the waiting list; False if already on it."""
        return await insert_ignore(
            self.session,
            BuddyWaiting,
            {"chat_id": chat_id, "newcomer_id": newcomer_id, "since": now, "admins_told": False},
            key=["chat_id", "newcomer_id"],
        )

    async def unwait(self, chat_id: int, newcomer_id: int) -> None:
        await self.session.execute(
            delete(BuddyWaiting).where(
                BuddyWaiting.chat_id == chat_id, BuddyWaiting.newcomer_id == newcomer_id
            )
        )

    async def waiting(self, chat_id: int, newcomer_id: int) -> BuddyWaiting | None:
        return await self.session.get(BuddyWaiting, (chat_id, newcomer_id))

    async def waiting_list(self, chat_id: int) -> list[BuddyWaiting]:
        """The chat's waiting list in order of arrival."""
        rows = await self.session.execute(
            select(BuddyWaiting).where(BuddyWaiting.chat_id == chat_id).order_by(BuddyWaiting.since)
        )
        return list(rows.scalars())

    async def admins_told(self, chat_id: int) -> bool:
        """Were the admins already told that newcomers wait (once per queue)?"""
        result = await self.session.execute(
            select(func.count())
            .select_from(BuddyWaiting)
            .where(BuddyWaiting.chat_id == chat_id, BuddyWaiting.admins_told.is_(True))
        )
        return bool(result.scalar_one())
