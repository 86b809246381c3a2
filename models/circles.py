"""Circles: mini-groups by interest inside a chat, their members and the calls made to them.

A proposed circle is a row too (`status` "proposed"): its supporters are its members, so
reaching the quorum only flips the status. A call row holds who called which circle and
where the call is (chat and message id), never the message's text; cooldowns and the weekly
digest read these rows, so both survive a restart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    ForeignKey,
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
from models.upsert import insert_ignore


class CircleStatus(StrEnum):
    OPEN = "open"
    PROPOSED = "proposed"


class Delivery(StrEnum):
    """How calls of a circle reach a member."""

    MENTION = "mention"
    PRIVATE = "private"
    DIGEST = "digest"
    OFF = "off"


class Circle(Base):
    __tablename__ = "circles"
    __table_args__ = (UniqueConstraint("chat_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(32))  # casefolded, ё = е: duplicates are refused
    description: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default=CircleStatus.OPEN)
    topic: Mapped[int | None] = mapped_column(Integer, nullable=True)  # forum thread id
    proposed_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    proposal_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last call or join
    # the last call: claimed by compare-and-set, so two calls at once cannot both go out
    last_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CircleMember(Base):
    __tablename__ = "circle_members"

    circle_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    delivery: Mapped[str] = mapped_column(String(8), default=Delivery.MENTION)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CircleCall(Base):
    __tablename__ = "circle_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    circle_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("circles.id", ondelete="CASCADE"), index=True
    )
    caller_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    called_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class CircleRepository:
    """Queries on circles, their members and calls, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_chat(self, chat_id: int, status: str | None = CircleStatus.OPEN) -> list[Circle]:
        query = select(Circle).where(Circle.chat_id == chat_id).order_by(Circle.key)
        if status is not None:
            query = query.where(Circle.status == status)
        return list((await self.session.execute(query)).scalars())

    async def by_key(self, chat_id: int, key: str) -> Circle | None:
        found = await self.session.execute(
            select(Circle).where(Circle.chat_id == chat_id, Circle.key == key)
        )
        return found.scalar_one_or_none()

    async def get(self, circle_id: int) -> Circle | None:
        return await self.session.get(Circle, circle_id)

    async def add(self, circle: Circle) -> bool:
        """Insert the circle; False when the chat has one with its key already."""
        return await insert_ignore(
            self.session,
            Circle,
            {
                "chat_id": circle.chat_id,
                "name": circle.name,
                "key": circle.key,
                "description": circle.description,
                "status": circle.status,
                "topic": circle.topic,
                "proposed_by": circle.proposed_by,
                "created_at": circle.created_at,
                "active_at": circle.active_at,
            },
            key=["chat_id", "key"],
        )

    async def remove(self, circle_id: int) -> None:
        await self.session.execute(delete(CircleMember).where(CircleMember.circle_id == circle_id))
        await self.session.execute(delete(CircleCall).where(CircleCall.circle_id == circle_id))
        await self.session.execute(delete(Circle).where(Circle.id == circle_id))

    async def lapse_proposals(self, before: datetime, chat_id: int | None = None) -> int:
        """Proposals made before `before` lapse: they and their supporters go, and their
        names are free again. How many lapsed."""
        query = select(Circle.id).where(
            Circle.status == CircleStatus.PROPOSED, Circle.created_at < before
        )
        if chat_id is not None:
            query = query.where(Circle.chat_id == chat_id)
        ids = list((await self.session.execute(query)).scalars())
        if ids:
            await self.session.execute(delete(CircleMember).where(CircleMember.circle_id.in_(ids)))
            await self.session.execute(delete(Circle).where(Circle.id.in_(ids)))
        return len(ids)

    async def proposals_by(self, chat_id: int, user_id: int) -> int:
        """How many proposals the person has open in the chat."""
        found = await self.session.scalar(
            select(func.count())
            .select_from(Circle)
            .where(
                Circle.chat_id == chat_id,
                Circle.status == CircleStatus.PROPOSED,
                Circle.proposed_by == user_id,
            )
        )
        return int(found or 0)

    async def counts(self, chat_id: int) -> dict[int, int]:
        """Members per circle of the chat."""
        rows = await self.session.execute(
            select(CircleMember.circle_id, func.count())
            .join(Circle, Circle.id == CircleMember.circle_id)
            .where(Circle.chat_id == chat_id)
            .group_by(CircleMember.circle_id)
        )
        return {int(circle_id): int(count) for circle_id, count in rows.all()}

    async def members(self, circle_id: int) -> list[CircleMember]:
        rows = await self.session.execute(
            select(CircleMember)
            .where(CircleMember.circle_id == circle_id)
            .order_by(CircleMember.joined_at, CircleMember.user_id)
        )
        return list(rows.scalars())

    async def join(self, circle_id: int, user_id: int, delivery: str, now: datetime) -> bool:
        """Add the member; False if they were in already."""
        return await insert_ignore(
            self.session,
            CircleMember,
            {"circle_id": circle_id, "user_id": user_id, "delivery": delivery, "joined_at": now},
            key=["circle_id", "user_id"],
        )

    async def leave(self, circle_id: int, user_id: int) -> bool:
        gone = await self.session.execute(
            delete(CircleMember).where(
                CircleMember.circle_id == circle_id, CircleMember.user_id == user_id
            )
        )
        return bool(getattr(gone, "rowcount", 0))

    async def memberships(self, chat_id: int, user_id: int) -> dict[int, str]:
        """The person's circles in the chat: circle id -> delivery."""
        rows = await self.session.execute(
            select(CircleMember.circle_id, CircleMember.delivery)
            .join(Circle, Circle.id == CircleMember.circle_id)
            .where(Circle.chat_id == chat_id, CircleMember.user_id == user_id)
        )
        return {int(circle_id): str(delivery) for circle_id, delivery in rows.all()}

    async def set_delivery(self, chat_id: int, user_id: int, delivery: str) -> None:
        """One choice for all the person's circles in the chat."""
        ids = select(Circle.id).where(Circle.chat_id == chat_id).scalar_subquery()
        await self.session.execute(
            update(CircleMember)
            .where(CircleMember.user_id == user_id, CircleMember.circle_id.in_(ids))
            .values(delivery=delivery)
            .execution_options(synchronize_session=False)
        )

    async def keys_by_person(self, chat_id: int, user_ids: set[int]) -> dict[int, set[str]]:
        """The keys of the open circles each person belongs to (buddy matching)."""
        if not user_ids:
            return {}
        rows = await self.session.execute(
            select(CircleMember.user_id, Circle.key)
            .join(Circle, Circle.id == CircleMember.circle_id)
            .where(
                Circle.chat_id == chat_id,
                Circle.status == CircleStatus.OPEN,
                CircleMember.user_id.in_(user_ids),
            )
        )
        found: dict[int, set[str]] = {}
        for user_id, key in rows.all():
            found.setdefault(int(user_id), set()).add(str(key))
        return found

    async def calls_since(
        self, circle_id: int | None, caller_id: int | None, since: datetime
    ) -> list[datetime]:
        """When the circle (or the caller) called since `since`, oldest first."""
        query = select(CircleCall.called_at).where(CircleCall.called_at > since)
        if circle_id is not None:
            query = query.where(CircleCall.circle_id == circle_id)
        if caller_id is not None:
            query = query.where(CircleCall.caller_id == caller_id)
        return list((await self.session.execute(query.order_by(CircleCall.called_at))).scalars())

    async def claim_call(self, circle_id: int, now: datetime, cooldown: timedelta) -> bool:
        """Take the circle's next call slot: of several callers at once exactly one wins,
        and none while the cooldown since the last call runs."""
        claimed = await self.session.execute(
            update(Circle)
            .where(
                Circle.id == circle_id,
                or_(Circle.last_call_at.is_(None), Circle.last_call_at <= now - cooldown),
            )
            .values(last_call_at=now, active_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(claimed, "rowcount", 0))

    async def last_call(self, circle_id: int) -> datetime | None:
        return await self.session.scalar(select(Circle.last_call_at).where(Circle.id == circle_id))

    async def record_call(
        self, circle: Circle, caller_id: int, message_id: int, now: datetime
    ) -> int:
        call = CircleCall(
            circle_id=circle.id,
            caller_id=caller_id,
            chat_id=circle.chat_id,
            message_id=message_id,
            called_at=now,
        )
        self.session.add(call)
        await self.session.flush()
        return call.id

    async def chat_calls_since(self, chat_id: int, since: datetime) -> list[CircleCall]:
        rows = await self.session.execute(
            select(CircleCall)
            .where(CircleCall.chat_id == chat_id, CircleCall.called_at > since)
            .order_by(CircleCall.called_at)
        )
        return list(rows.scalars())

    async def prune_calls(self, before: datetime) -> None:
        """Calls older than the digest's week and the caller's day serve nothing."""
        await self.session.execute(delete(CircleCall).where(CircleCall.called_at < before))

    async def dormant(self, chat_id: int, before: datetime) -> list[Circle]:
        rows = await self.session.execute(
            select(Circle)
            .where(
                Circle.chat_id == chat_id,
                Circle.status == CircleStatus.OPEN,
                Circle.active_at < before,
            )
            .order_by(Circle.key)
        )
        return list(rows.scalars())
