"""A person's standing in one chat: status, trust level and verification state."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    ForeignKey,
    Integer,
    String,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.chats import Chat
from models.upsert import insert_ignore
from models.users import User


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
    # the private message with the "I accept the rules" button that answered a join request
    request_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # a newcomer's first message (its id and time, never its text) and when someone else
    # first replied to it: /stats' median wait for a reply
    first_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    first_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


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

    async def claim(
        self,
        chat_id: int,
        user_id: int,
        status: MemberStatus,
        source: str,
        now: datetime,
        not_before: datetime | None = None,
        seen_source: str = "seen",
    ) -> bool:
        """Start a verification unless one is running or the person is already in.

        Atomic on both dialects: two copies of the same join cannot both win. A row that a
        message created since `not_before` (`source == seen_source`) does not count as "in".
        """
        placeholder = {
            "chat_id": chat_id,
            "user_id": user_id,
            "status": MemberStatus.LEFT,
            "trust": TrustLevel.PENDING,
            "trust_pinned": False,
            "level_since": now,
            "joined_at": now,
            "source": source,
        }
        await insert_ignore(self.session, Member, placeholder, key=["chat_id", "user_id"])
        blocked = [MemberStatus.IN] if status == MemberStatus.IN else [MemberStatus.IN, status]
        claimable: ColumnElement[bool] = Member.status.not_in(blocked)
        if not_before is not None:
            claimable = claimable | (
                (Member.source == seen_source) & (Member.joined_at >= not_before)
            )
        result = await self.session.execute(
            update(Member)
            .where(Member.chat_id == chat_id, Member.user_id == user_id, claimable)
            .values(
                status=status,
                trust=TrustLevel.PENDING,
                trust_pinned=False,
                level_since=now,
                joined_at=now,
                verified_at=None,
                welcome_id=None,
                request_message_id=None,
                first_message_id=None,
                first_message_at=None,
                first_reply_at=None,
                source=source,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def move(
        self,
        chat_id: int,
        user_id: int,
        old: MemberStatus,
        new: MemberStatus,
        *,
        pending_only: bool = False,
    ) -> bool:
        """Change the status if it is still `old` (and the trust still pending, if asked);
        True when this call made the change, so of two racing callers only one proceeds."""
        condition = [Member.chat_id == chat_id, Member.user_id == user_id, Member.status == old]
        if pending_only:
            condition.append(Member.trust == TrustLevel.PENDING)
        result = await self.session.execute(
            update(Member)
            .where(*condition)
            .values(status=new)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def verify(self, chat_id: int, user_id: int, now: datetime) -> bool:
        """Pending → newcomer, only if still in the chat and still pending; True if this
        call did it (a conditional update, so it cannot overwrite a racing timeout)."""
        result = await self.session.execute(
            update(Member)
            .where(
                Member.chat_id == chat_id,
                Member.user_id == user_id,
                Member.status == MemberStatus.IN,
                Member.trust == TrustLevel.PENDING,
            )
            .values(trust=TrustLevel.NEWCOMER, level_since=now, verified_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def unwelcomed(self, chat_id: int, limit: int) -> list[tuple[int, str]]:
        """(id, full name) of pending people in the chat not yet named in a welcome."""
        rows = await self.session.execute(
            select(Member.user_id, User)
            .join(User, User.id == Member.user_id)
            .where(
                Member.chat_id == chat_id,
                Member.trust == TrustLevel.PENDING,
                Member.status == MemberStatus.IN,
                Member.welcome_id.is_(None),
            )
            .order_by(Member.joined_at)
            .limit(limit)
        )
        return [(user_id, user.full_name) for user_id, user in rows.all()]

    async def pending_among(
        self, chat_id: int, user_ids: list[int], *, present: bool = True
    ) -> list[Member]:
        """Those of `user_ids` still pending and not named in a welcome (and still in the
        chat, unless `present` is False)."""
        condition = [
            Member.chat_id == chat_id,
            Member.user_id.in_(user_ids),
            Member.trust == TrustLevel.PENDING,
            Member.welcome_id.is_(None),
        ]
        if present:
            condition.append(Member.status == MemberStatus.IN)
        result = await self.session.execute(select(Member).where(*condition))
        return list(result.scalars())

    async def confirmed_in_welcome(self, welcome_id: int) -> list[tuple[int, str]]:
        """(id, full name) of people a welcome named who confirmed and are still in."""
        rows = await self.session.execute(
            select(Member.user_id, User)
            .join(User, User.id == Member.user_id)
            .where(
                Member.welcome_id == welcome_id,
                Member.status == MemberStatus.IN,
                Member.trust != TrustLevel.PENDING,
            )
        )
        return [(user_id, user.full_name) for user_id, user in rows.all()]

    async def in_active_chats(self, user_id: int) -> list[tuple[Member, Chat]]:
        """The person's memberships in chats the bot is still in, by chat title."""
        rows = await self.session.execute(
            select(Member, Chat)
            .join(Chat, Chat.id == Member.chat_id)
            .where(
                Member.user_id == user_id,
                Member.status == MemberStatus.IN,
                Chat.active.is_(True),
            )
            .order_by(Chat.title)
        )
        return [(member, chat) for member, chat in rows.all()]

    async def promote(
        self, chat_id: int, now: datetime, probation: timedelta, veteran_after: timedelta
    ) -> tuple[list[int], int]:
        """Newcomers past probation become members, members past `veteran_after` veterans
        (unless an admin pinned their level). Returns (the graduated newcomers, how many
        people were promoted in all)."""
        unpinned = (
            Member.chat_id == chat_id,
            Member.status == MemberStatus.IN,
            Member.trust_pinned.is_(False),
        )
        graduates = list(
            (
                await self.session.execute(
                    select(Member.user_id).where(
                        *unpinned,
                        Member.trust == TrustLevel.NEWCOMER,
                        Member.level_since <= now - probation,
                    )
                )
            ).scalars()
        )
        base = update(Member).where(*unpinned).execution_options(synchronize_session=False)
        newcomers = await self.session.execute(
            base.where(Member.trust == TrustLevel.NEWCOMER, Member.user_id.in_(graduates)).values(
                trust=TrustLevel.MEMBER, level_since=now
            )
        )
        veterans = await self.session.execute(
            base.where(
                Member.trust == TrustLevel.MEMBER,
                Member.joined_at <= now - veteran_after,
            ).values(trust=TrustLevel.VETERAN, level_since=now)
        )
        count = int(getattr(newcomers, "rowcount", 0)) + int(getattr(veterans, "rowcount", 0))
        return graduates, count

    async def note_first_message(
        self, chat_id: int, user_id: int, message_id: int, at: datetime
    ) -> None:
        """Remember a newcomer's first message (its id and time only), unless one is known."""
        await self.session.execute(
            update(Member)
            .where(
                Member.chat_id == chat_id,
                Member.user_id == user_id,
                Member.first_message_at.is_(None),
            )
            .values(first_message_id=message_id, first_message_at=at)
            .execution_options(synchronize_session=False)
        )

    async def note_first_reply(
        self, chat_id: int, author_id: int, message_id: int, at: datetime
    ) -> None:
        """Someone else replied to `message_id`: if it is the author's first message and it
        had no reply yet, remember when."""
        await self.session.execute(
            update(Member)
            .where(
                Member.chat_id == chat_id,
                Member.user_id == author_id,
                Member.first_message_id == message_id,
                Member.first_reply_at.is_(None),
            )
            .values(first_reply_at=at)
            .execution_options(synchronize_session=False)
        )
