"""Deadlines: every timed action is a row with a `due_at`, claimed by the sweeper."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    UniqueConstraint,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.upsert import upsert


class Deadline(Base):
    __tablename__ = "deadlines"
    __table_args__ = (UniqueConstraint("kind", "chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DeadlineRepository:
    """Schedules, cancels and claims deadlines inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def schedule(self, kind: str, chat_id: int, user_id: int, due_at: datetime) -> None:
        """Create the deadline, or move it if one of the same kind exists for this person."""
        await upsert(
            self.session,
            Deadline,
            {
                "kind": kind,
                "chat_id": chat_id,
                "user_id": user_id,
                "due_at": due_at,
                "attempts": 0,
                "locked_until": None,
            },
            key=["kind", "chat_id", "user_id"],
            update=["due_at", "attempts", "locked_until"],
        )

    async def cancel(self, kind: str, chat_id: int, user_id: int) -> None:
        await self.session.execute(
            delete(Deadline).where(
                Deadline.kind == kind, Deadline.chat_id == chat_id, Deadline.user_id == user_id
            )
        )

    async def get(self, kind: str, chat_id: int, user_id: int) -> Deadline | None:
        result = await self.session.execute(
            select(Deadline).where(
                Deadline.kind == kind, Deadline.chat_id == chat_id, Deadline.user_id == user_id
            )
        )
        return result.scalar_one_or_none()

    async def due(self, now: datetime, limit: int = 50) -> list[Deadline]:
        result = await self.session.execute(
            select(Deadline)
            .where(
                Deadline.due_at <= now,
                or_(Deadline.locked_until.is_(None), Deadline.locked_until < now),
            )
            .order_by(Deadline.due_at)
            .limit(limit)
        )
        return list(result.scalars())

    async def claim(self, deadline_id: int, now: datetime, lease: timedelta) -> bool:
        """Lock one due deadline for this worker; False if another worker has it."""
        result = await self.session.execute(
            update(Deadline)
            .where(
                Deadline.id == deadline_id,
                or_(Deadline.locked_until.is_(None), Deadline.locked_until < now),
            )
            .values(locked_until=now + lease, attempts=Deadline.attempts + 1)
        )
        return bool(getattr(result, "rowcount", 0))

    async def done(self, deadline_id: int) -> None:
        await self.session.execute(delete(Deadline).where(Deadline.id == deadline_id))

    async def oldest_overdue(self, now: datetime) -> datetime | None:
        """The `due_at` of the longest-overdue deadline (for the deadline-lag metric)."""
        result = await self.session.execute(
            select(func.min(Deadline.due_at)).where(Deadline.due_at <= now)
        )
        value = result.scalar_one_or_none()
        return value if isinstance(value, datetime) else None
