"""Weekly check-ins: rounds per (chat, week), each person's entry, opt-ins, streaks, pauses.

The tables only; their queries are in `models.checkin_repository`."""

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
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


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
