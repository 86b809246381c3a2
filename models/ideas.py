"""The ideas board: members' ideas (posted to the group with 👍/👎 buttons) and their votes.

An idea's counts live on its row (`up`, `down`), recounted from the votes in the same
transaction as every vote, so /ideas sorts without a join. `dirty` marks an idea whose
buttons show old counts: the edit job (bot/services/ideas/edits.py) brings them up to date
at most once per `EDIT_EVERY`, and because the mark is a column a restart loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    and_,
    case,
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
from models.users import FORMER_MEMBER


class IdeaStatus(StrEnum):
    OPEN = "open"
    PLANNED = "planned"
    DONE = "done"
    DECLINED = "declined"


class Idea(Base):
    __tablename__ = "ideas"
    __table_args__ = (
        Index("ix_ideas_board", "chat_id", "status"),
        Index("ix_ideas_author", "author_id", "created_at"),
        Index("ix_ideas_dirty", "dirty"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[int] = mapped_column(BigInteger)  # FORMER_MEMBER after /forget
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=IdeaStatus.OPEN)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)  # the admins' word
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # the group post
    up: Mapped[int] = mapped_column(Integer, default=0)
    down: Mapped[int] = mapped_column(Integer, default=0)
    dirty: Mapped[bool] = mapped_column(Boolean, default=False)  # its buttons show old counts
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IdeaVote(Base):
    __tablename__ = "idea_votes"

    idea_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    value: Mapped[int] = mapped_column(SmallInteger)  # +1 or -1
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdeaRepository:
    """Ideas and votes inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, chat_id: int, author_id: int, text: str, now: datetime) -> Idea:
        idea = Idea(
            chat_id=chat_id,
            author_id=author_id,
            text=text,
            status=IdeaStatus.OPEN,
            created_at=now,
            up=0,
            down=0,
            dirty=False,
        )
        self.session.add(idea)
        await self.session.flush()
        return idea

    async def get(self, idea_id: int, *, lock: bool = False) -> Idea | None:
        return await self.session.get(Idea, idea_id, with_for_update=lock)

    async def posted_since(self, chat_id: int, author_id: int, since: datetime) -> int:
        """How many ideas the person posted in the chat since `since` (the daily limit)."""
        found = await self.session.execute(
            select(func.count())
            .select_from(Idea)
            .where(Idea.chat_id == chat_id, Idea.author_id == author_id, Idea.created_at > since)
        )
        return int(found.scalar_one())

    async def vote_of(self, idea_id: int, user_id: int) -> int:
        """The person's vote on the idea: +1, -1, or 0 for none."""
        vote = await self.session.get(IdeaVote, (idea_id, user_id))
        return vote.value if vote is not None else 0

    async def set_vote(self, idea_id: int, user_id: int, value: int, now: datetime) -> None:
        """Record (+1/-1) or take back (0) the person's vote, then recount the idea."""
        if value == 0:
            await self.session.execute(
                delete(IdeaVote).where(IdeaVote.idea_id == idea_id, IdeaVote.user_id == user_id)
            )
        else:
            values = {"idea_id": idea_id, "user_id": user_id, "value": value, "voted_at": now}
            await upsert(
                self.session,
                IdeaVote,
                values,
                key=["idea_id", "user_id"],
                update=["value", "voted_at"],
            )
        await self.recount([idea_id])

    async def recount(self, idea_ids: list[int]) -> None:
        """Counts from the votes, and the idea marked for a button edit."""
        for idea_id in idea_ids:
            totals = (
                await self.session.execute(
                    select(
                        func.coalesce(func.sum(case((IdeaVote.value > 0, 1), else_=0)), 0),
                        func.coalesce(func.sum(case((IdeaVote.value < 0, 1), else_=0)), 0),
                    ).where(IdeaVote.idea_id == idea_id)
                )
            ).one()
            await self.session.execute(
                update(Idea)
                .where(Idea.id == idea_id)
                .values(up=int(totals[0]), down=int(totals[1]), dirty=True)
                .execution_options(synchronize_session=False)
            )

    async def supporters(self, idea_id: int) -> list[int]:
        """Who voted 👍 on the idea."""
        rows = await self.session.execute(
            select(IdeaVote.user_id).where(IdeaVote.idea_id == idea_id, IdeaVote.value > 0)
        )
        return [int(user_id) for user_id in rows.scalars()]

    async def open_ideas(self, chat_id: int, limit: int) -> tuple[list[Idea], int]:
        """The chat's open ideas by score (👍 minus 👎, then 👍, then the oldest first), at
        most `limit`, and how many open ideas there are in all."""
        where = and_(Idea.chat_id == chat_id, Idea.status == IdeaStatus.OPEN)
        rows = await self.session.execute(
            select(Idea)
            .where(where)
            .order_by((Idea.up - Idea.down).desc(), Idea.up.desc(), Idea.id)
            .limit(limit)
        )
        total = await self.session.execute(select(func.count()).select_from(Idea).where(where))
        return list(rows.scalars()), int(total.scalar_one())

    async def due_edits(self, edited_before: datetime, limit: int) -> list[Idea]:
        """Posted ideas whose post is out of date and that were not edited since
        `edited_before`, the longest waiting first: open ideas whose buttons show old counts
        (a decided idea has no buttons), and any idea whose author was forgotten (its post
        still shows the name)."""
        rows = await self.session.execute(
            select(Idea)
            .where(
                Idea.dirty.is_(True),
                _redrawable(),
                Idea.message_id.is_not(None),
                or_(Idea.edited_at.is_(None), Idea.edited_at <= edited_before),
            )
            .order_by(Idea.edited_at.is_not(None), Idea.edited_at, Idea.id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def claim_edit(self, idea_id: int, now: datetime, edited_before: datetime) -> bool:
        """Take the idea's pending edit (another process may race for it): clears the mark
        and stamps the edit time; True when this caller got it."""
        result = await self.session.execute(
            update(Idea)
            .where(
                Idea.id == idea_id,
                Idea.dirty.is_(True),
                _redrawable(),
                or_(Idea.edited_at.is_(None), Idea.edited_at <= edited_before),
            )
            .values(dirty=False, edited_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def mark_dirty(self, idea_id: int) -> None:
        """The edit failed for a passing reason: try again on a later pass."""
        await self.session.execute(
            update(Idea)
            .where(Idea.id == idea_id)
            .values(dirty=True)
            .execution_options(synchronize_session=False)
        )


def _redrawable() -> Any:
    """An idea whose post the edit job may redraw: open (the buttons), or with a forgotten
    author (the whole post, decided or not)."""
    return or_(Idea.status == IdeaStatus.OPEN, Idea.author_id == FORMER_MEMBER)
