"""Thanks: who thanked whom for which message, when, how much it weighs, and how (a reply, the
/thanks command or a reaction). Never the text of either message.

One row per (chat, giver, receiver, local day): the unique key makes "one thanks per pair per
day" hold even when two updates race. Rows older than `KEEP` are deleted by the retention job;
only the last 90 days count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    Index,
    Integer,
    String,
    UniqueConstraint,
    delete,
    distinct,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from models.base import Base, UTCDateTime
from models.upsert import insert_ignore

KEEP = timedelta(days=90)
"""The window that counts; older rows are deleted."""
FULL_WEIGHT = 1.0
"""A member's (or above) thanks; a newcomer's weighs less."""


class Thanks(Base):
    """One thanks: `giver_id` thanked `receiver_id` for message `message_id` in `chat_id`."""

    __tablename__ = "thanks"
    __table_args__ = (
        UniqueConstraint("chat_id", "giver_id", "receiver_id", "day"),
        Index("ix_thanks_receiver", "chat_id", "receiver_id", "created_at"),
        Index("ix_thanks_message", "chat_id", "message_id"),
        Index("ix_thanks_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    giver_id: Mapped[int] = mapped_column(BigInteger)
    receiver_id: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(10))  # reply, command, reaction
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    day: Mapped[date] = mapped_column(Date)  # the chat's local day of `created_at`
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    noted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ThanksBoard(Base):
    """People who allowed their name on a chat's public thanks board (any chat)."""

    __tablename__ = "thanks_board"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    since: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Ranked:
    """One line of a top: the person, how many different people thanked them, and the
    weighted sum (a newcomer's thanks weighs half)."""

    user_id: int
    people: int
    score: float


class ThanksRepository:
    """Reads and writes thanks inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: dict[str, Any]) -> bool:
        """Store one thanks; False when the pair already has one that day."""
        return await insert_ignore(
            self.session, Thanks, row, key=["chat_id", "giver_id", "receiver_id", "day"]
        )

    async def given_on(self, chat_id: int, giver_id: int, day: date) -> list[int]:
        """The receivers the giver thanked in the chat on `day`."""
        rows = await self.session.execute(
            select(Thanks.receiver_id).where(
                Thanks.chat_id == chat_id, Thanks.giver_id == giver_id, Thanks.day == day
            )
        )
        return [int(r) for r in rows.scalars()]

    async def take_back(self, chat_id: int, message_id: int, giver_id: int, source: str) -> int:
        """Delete the giver's thanks of `source` for the message; how many went."""
        result = await self.session.execute(
            delete(Thanks)
            .where(
                Thanks.chat_id == chat_id,
                Thanks.message_id == message_id,
                Thanks.giver_id == giver_id,
                Thanks.source == source,
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def forget_message(self, chat_id: int, message_id: int) -> int:
        """Delete every thanks for the message (it was deleted); how many went."""
        result = await self.session.execute(
            delete(Thanks)
            .where(Thanks.chat_id == chat_id, Thanks.message_id == message_id)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def on_message(self, chat_id: int, message_id: int) -> int:
        """How many thanks the message still carries."""
        found = await self.session.execute(
            select(func.count())
            .select_from(Thanks)
            .where(Thanks.chat_id == chat_id, Thanks.message_id == message_id)
        )
        return int(found.scalar_one())

    async def distinct_thankers(
        self, chat_id: int, user_id: int, since: datetime, *, members_only: bool = False
    ) -> int:
        """How many different people thanked the person in the chat since `since`
        (`members_only`: only givers who were members or above when they thanked, i.e. whose
        thanks weighed in full, not a newcomer's half)."""
        where = self._received(chat_id, user_id, since)
        if members_only:
            where.append(Thanks.weight >= FULL_WEIGHT)
        found = await self.session.execute(
            select(func.count(distinct(Thanks.giver_id))).where(*where)
        )
        return int(found.scalar_one())

    @staticmethod
    def _received(chat_id: int, user_id: int, since: datetime) -> list[Any]:
        return [
            Thanks.chat_id == chat_id,
            Thanks.receiver_id == user_id,
            Thanks.created_at >= since,
        ]

    async def top(
        self, chat_id: int, since: datetime, limit: int, among: set[int] | None = None
    ) -> list[Ranked]:
        """The most-thanked people since `since`, by different people (weighted), then id."""
        where = [Thanks.chat_id == chat_id, Thanks.created_at >= since]
        if among is not None:
            where.append(Thanks.receiver_id.in_(among))
        rows = await self.session.execute(
            select(Thanks.receiver_id, Thanks.giver_id, func.max(Thanks.weight))
            .where(*where)
            .group_by(Thanks.receiver_id, Thanks.giver_id)
        )
        people: dict[int, list[float]] = {}
        for receiver, _giver, weight in rows.all():
            people.setdefault(int(receiver), []).append(float(weight))
        ranked = [Ranked(r, len(ws), sum(ws)) for r, ws in people.items()]
        ranked.sort(key=lambda x: (-x.score, -x.people, x.user_id))
        return ranked[:limit]

    async def pairs(self, chat_id: int, since: datetime) -> list[tuple[int, int, int]]:
        """(receiver, giver, how many) of every pair since `since`."""
        rows = await self.session.execute(
            select(Thanks.receiver_id, Thanks.giver_id, func.count())
            .where(Thanks.chat_id == chat_id, Thanks.created_at >= since)
            .group_by(Thanks.receiver_id, Thanks.giver_id)
        )
        return [(int(r), int(g), int(n)) for r, g, n in rows.all()]

    async def count_since(self, chat_id: int, since: datetime) -> int:
        """How many thanks were given in the chat since `since` (no names)."""
        found = await self.session.execute(
            select(func.count())
            .select_from(Thanks)
            .where(Thanks.chat_id == chat_id, Thanks.created_at >= since)
        )
        return int(found.scalar_one())

    async def chats_since(self, since: datetime) -> list[int]:
        rows = await self.session.execute(
            select(Thanks.chat_id).where(Thanks.created_at >= since).distinct()
        )
        return [int(c) for c in rows.scalars()]

    async def unnoted(self, before: datetime, told_since: datetime, limit: int) -> list[Thanks]:
        """Thanks older than `before` whose receiver was not told yet, oldest first, leaving
        out receivers told since `told_since`: their thanks wait for a later note, and must
        not fill the `limit` so that nobody else's note goes."""
        told = aliased(Thanks)
        recently_told = select(told.receiver_id).where(told.noted_at >= told_since)
        rows = await self.session.execute(
            select(Thanks)
            .where(
                Thanks.noted_at.is_(None),
                Thanks.created_at <= before,
                Thanks.receiver_id.not_in(recently_told),
            )
            .order_by(Thanks.created_at, Thanks.id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def mark_noted(self, ids: list[int], now: datetime) -> None:
        await self.session.execute(
            update(Thanks)
            .where(Thanks.id.in_(ids))
            .values(noted_at=now)
            .execution_options(synchronize_session=False)
        )

    async def purge(self, before: datetime) -> int:
        """Retention: delete thanks older than `before`."""
        result = await self.session.execute(
            delete(Thanks)
            .where(Thanks.created_at < before)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def on_board(self, user_ids: set[int]) -> set[int]:
        """Which of the people allowed their name on a public board."""
        if not user_ids:
            return set()
        rows = await self.session.execute(
            select(ThanksBoard.user_id).where(ThanksBoard.user_id.in_(user_ids))
        )
        return {int(u) for u in rows.scalars()}

    async def set_board(self, user_id: int, on: bool, now: datetime) -> None:
        if on:
            await insert_ignore(
                self.session, ThanksBoard, {"user_id": user_id, "since": now}, key=["user_id"]
            )
        else:
            await self.session.execute(delete(ThanksBoard).where(ThanksBoard.user_id == user_id))
