"""Weekly check-ins: rounds per (chat, week), each person's entry, opt-ins, streaks, pauses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.upsert import insert_ignore


class RoundStatus(StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"
    MISSED = "missed"  # its whole window passed while the bot was down


class EntryState(StrEnum):
    INVITED = "invited"  # asked (or came by the group button); answered when `done`
    PAUSED = "paused"  # opted in but paused at the start: not asked, streak kept


class CheckinRound(Base):
    """One check-in of one chat in one week; every deadline of it is a column here."""

    __tablename__ = "checkin_rounds"
    __table_args__ = (
        UniqueConstraint("chat_id", "week"),
        Index("ix_checkin_rounds_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    week: Mapped[str] = mapped_column(String(10))  # ISO week of the start, e.g. 2026-W48
    status: Mapped[str] = mapped_column(String(10), default=RoundStatus.PLANNED)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminded: Mapped[bool] = mapped_column(Boolean, default=False)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    questions: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON; None = defaults


class CheckinEntry(Base):
    """A person's part in one round: their answers, where they are in the flow, sharing."""

    __tablename__ = "checkin_entries"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("checkin_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(10), default=EntryState.INVITED)
    answers: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of str | None
    step: Mapped[int] = mapped_column(Integer, default=-1)  # question being asked; -1 = none
    share: Mapped[str | None] = mapped_column(String(8), nullable=True)  # name | anon | no
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CheckinMember(Base):
    """A person's check-in standing in one chat: opt-in, the offer, streaks, the last nudge."""

    __tablename__ = "checkin_members"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    opted_in: Mapped[bool] = mapped_column(Boolean, default=False)
    offered: Mapped[bool] = mapped_column(Boolean, default=False)
    streak: Mapped[int] = mapped_column(Integer, default=0)
    best_streak: Mapped[int] = mapped_column(Integer, default=0)
    nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CheckinPerson(Base):
    """Per person, across chats: a pause, and the round their private replies belong to."""

    __tablename__ = "checkin_people"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    focus_round_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CheckinQuestions(Base):
    """A chat's own questions (JSON), set with /checkin_questions; no row = the defaults."""

    __tablename__ = "checkin_questions"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    questions: Mapped[str] = mapped_column(Text)


class CheckinRepository:
    """Reads rounds and entries inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def round(self, round_id: int) -> CheckinRound | None:
        return await self.session.get(CheckinRound, round_id)

    async def by_week(self, chat_id: int, week: str) -> CheckinRound | None:
        result = await self.session.execute(
            select(CheckinRound).where(CheckinRound.chat_id == chat_id, CheckinRound.week == week)
        )
        return result.scalar_one_or_none()

    async def open_round(self, chat_id: int) -> CheckinRound | None:
        result = await self.session.execute(
            select(CheckinRound)
            .where(CheckinRound.chat_id == chat_id, CheckinRound.status == RoundStatus.OPEN)
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def with_status(self, status: RoundStatus) -> list[CheckinRound]:
        result = await self.session.execute(
            select(CheckinRound).where(CheckinRound.status == status).order_by(CheckinRound.id)
        )
        return list(result.scalars())

    async def entry(self, round_id: int, user_id: int) -> CheckinEntry | None:
        return await self.session.get(CheckinEntry, (round_id, user_id))

    async def entries(self, round_id: int) -> list[CheckinEntry]:
        result = await self.session.execute(
            select(CheckinEntry)
            .where(CheckinEntry.round_id == round_id)
            .order_by(CheckinEntry.updated_at, CheckinEntry.user_id)
        )
        return list(result.scalars())

    async def member(self, chat_id: int, user_id: int) -> CheckinMember | None:
        return await self.session.get(CheckinMember, (chat_id, user_id))

    async def ensure_member(self, chat_id: int, user_id: int) -> CheckinMember:
        row = await self.member(chat_id, user_id)
        if row is None:
            await insert_ignore(
                self.session,
                CheckinMember,
                {
                    "chat_id": chat_id,
                    "user_id": user_id,
                    "opted_in": False,
                    "offered": False,
                    "streak": 0,
                    "best_streak": 0,
                },
                key=["chat_id", "user_id"],
            )
            row = await self.member(chat_id, user_id)
        assert row is not None
        return row

    async def person(self, user_id: int) -> CheckinPerson:
        row = await self.session.get(CheckinPerson, user_id)
        if row is None:
            await insert_ignore(self.session, CheckinPerson, {"user_id": user_id}, key=["user_id"])
            row = await self.session.get(CheckinPerson, user_id)
        assert row is not None
        return row

    async def opted_in(self, chat_id: int) -> list[int]:
        result = await self.session.execute(
            select(CheckinMember.user_id).where(
                CheckinMember.chat_id == chat_id, CheckinMember.opted_in.is_(True)
            )
        )
        return list(result.scalars())

    async def questions(self, chat_id: int) -> str | None:
        row = await self.session.get(CheckinQuestions, chat_id)
        return row.questions if row else None
