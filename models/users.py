"""Telegram users the bot has met."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, String, false, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.upsert import upsert

FORMER_MEMBER = 0
"""Stands in for a person's id in others' records (the audit log) after /forget."""


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    username: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    first_name: Mapped[str] = mapped_column(String(255), default="")
    last_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    language_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    interests: Mapped[str | None] = mapped_column(String(500), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # /privacy: "count me only in totals" (left out of every list of people shown by name)
    totals_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # /mydata

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part) or str(self.id)


class UserRepository:
    """Reads and writes users inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def remember(
        self,
        user_id: int,
        *,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        is_bot: bool,
        now: datetime,
    ) -> list[int]:
        """Store or refresh what Telegram told us about a user. A username belongs to one
        account at a time: whoever held it before loses it here (their ids are returned)."""
        name = username.lower() if username else None
        previous: list[int] = []
        if name is not None:
            held = select(User.id).where(User.username == name, User.id != user_id)
            previous = list((await self.session.execute(held)).scalars())
        if previous:
            await self.session.execute(
                update(User)
                .where(User.id.in_(previous))
                .values(username=None)
                .execution_options(synchronize_session=False)
            )
        await upsert(
            self.session,
            User,
            {
                "id": user_id,
                "first_name": first_name[:255],
                "last_name": last_name[:255] if last_name else None,
                "username": name,
                "language_code": language_code,
                "is_bot": is_bot,
                "reachable": True,
                "updated_at": now,
            },
            key=["id"],
            update=["first_name", "last_name", "username", "language_code", "updated_at"],
        )
        return previous

    async def many(self, user_ids: set[int]) -> list[User]:
        result = await self.session.execute(select(User).where(User.id.in_(user_ids)))
        return list(result.scalars())

    async def by_username(self, username: str) -> list[User]:
        """The accounts stored with this @username: one, none, or (if two were stored before
        either was seen again) two, which the caller must treat as ambiguous."""
        name = username.lstrip("@").lower()
        result = await self.session.execute(
            select(User).where(User.username == name).order_by(User.id).limit(2)
        )
        return list(result.scalars())

    async def set_reachable(self, user_id: int, reachable: bool) -> None:
        await self.session.execute(
            update(User).where(User.id == user_id).values(reachable=reachable)
        )
