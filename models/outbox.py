"""The outbox: every bulk message is a row until Telegram has accepted it."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
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


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    UNREACHABLE = "unreachable"  # 403: blocked the bot, never started it
    FAILED = "failed"  # refused (400) or still failing after every retry
    EXPIRED = "expired"  # its purpose passed before it could be sent (a closed check-in)


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)  # idempotency: one row per purpose
    chat_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON rows of buttons
    # a picture (PNG) sent with `text` as its caption; None for a plain message
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default=OutboxStatus.PENDING)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)


class OutboxRepository:
    """Queues, claims and settles outbox rows inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        key: str,
        chat_id: int,
        text: str,
        *,
        buttons: str | None,
        not_before: datetime,
        expires_at: datetime | None,
        now: datetime,
        photo: bytes | None = None,
    ) -> bool:
        """Queue a message (a picture with a caption when `photo` is set) unless one with
        this key exists; True when queued."""
        values: dict[str, Any] = {
            "key": key,
            "chat_id": chat_id,
            "text": text,
            "buttons": buttons,
            "photo": photo,
            "status": OutboxStatus.PENDING,
            "not_before": not_before,
            "expires_at": expires_at,
            "attempts": 0,
            "created_at": now,
        }
        return await insert_ignore(self.session, OutboxMessage, values, key=["key"])

    async def due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        result = await self.session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.not_before <= now,
                or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
            )
            .order_by(OutboxMessage.not_before, OutboxMessage.id)
            .limit(limit)
        )
        return list(result.scalars())

    async def claim(self, ids: list[int], now: datetime, lease: timedelta) -> list[int]:
        """Lease these rows to this worker; returns the ids its UPDATE changed (RETURNING).

        Another worker running the same UPDATE concurrently waits on the row lock (PostgreSQL)
        or the write lock (SQLite) and then finds the row leased, so each id is returned to one
        worker only."""
        if not ids:
            return []
        free = or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now)
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING, free)
            .values(locked_until=now + lease)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        return list(result.scalars())

    async def withdraw(self, chat_id: int, keys: list[str]) -> int:
        """Expire pending rows with these keys sent to `chat_id` (their purpose is gone)."""
        if not keys:
            return 0
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.key.in_(keys),
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(status=OutboxStatus.EXPIRED, locked_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def with_prefix(self, prefix: str) -> list[OutboxMessage]:
        """Every row whose key starts with `prefix` (the copies of one message), any status."""
        result = await self.session.execute(
            select(OutboxMessage).where(OutboxMessage.key.startswith(prefix, autoescape=True))
        )
        return list(result.scalars())

    async def withdraw_prefix(self, chat_id: int, prefix: str, *, exclude_suffix: str) -> int:
        """Expire pending rows to `chat_id` whose key starts with `prefix`."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.key.startswith(prefix, autoescape=True),
                ~OutboxMessage.key.endswith(exclude_suffix, autoescape=True),
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(status=OutboxStatus.EXPIRED, locked_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def settle(self, row_id: int, **values: Any) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(locked_until=None, **values)
            .execution_options(synchronize_session=False)
        )

    async def release(self, ids: list[int]) -> None:
        if ids:
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING)
                .values(locked_until=None)
                .execution_options(synchronize_session=False)
            )

    async def purge(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.status != OutboxStatus.PENDING, OutboxMessage.created_at < before
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def blank_private_settled(self) -> int:
        """Blank the text of every settled message to a person (a private chat: a positive
        id): once delivered, or given up on, the words are not needed; how many rows."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.chat_id > 0,
                OutboxMessage.status != OutboxStatus.PENDING,
                OutboxMessage.text != "",
            )
            .values(text="")
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def next_due(self) -> datetime | None:
        result = await self.session.execute(
            select(func.min(OutboxMessage.not_before)).where(
                OutboxMessage.status == OutboxStatus.PENDING
            )
        )
        value = result.scalar_one_or_none()
        return value if isinstance(value, datetime) else None

    async def oldest_due(self, now: datetime) -> datetime | None:
        """When the longest-waiting pending row became due (for the outbox-lag metric)."""
        result = await self.session.execute(
            select(func.min(OutboxMessage.not_before)).where(
                OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.not_before <= now
            )
        )
        value = result.scalar_one_or_none()
        return value if isinstance(value, datetime) else None

    async def pending(self, prefix: str = "") -> int:
        result = await self.session.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.key.startswith(prefix, autoescape=True),
            )
        )
        return int(result.scalar_one())

    async def held(self, prefix: str, now: datetime) -> list[tuple[int, str]]:
        """(outbox id, key) of pending messages under `prefix` held back past `now`."""
        result = await self.session.execute(
            select(OutboxMessage.id, OutboxMessage.key).where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.key.startswith(prefix, autoescape=True),
                OutboxMessage.not_before > now,
            )
        )
        return [(int(row_id), str(key)) for row_id, key in result.all()]

    async def expire_pending(self, ids: list[int]) -> None:
        """Expire these rows if they are still pending (a row sent meanwhile stays sent)."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.EXPIRED)
            .execution_options(synchronize_session=False)
        )
