"""Chats the bot serves and their per-chat settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.upsert import insert_ignore, upsert


class Chat(Base):
    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(255), default="")
    type: Mapped[str] = mapped_column(String(20), default="supergroup")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    rules: Mapped[str | None] = mapped_column(Text, nullable=True)
    welcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatSetting(Base):
    __tablename__ = "chat_settings"

    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class ChatRepository:
    """Reads and writes chats and their settings inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, chat_id: int) -> Chat | None:
        return await self.session.get(Chat, chat_id)

    async def register(self, chat_id: int, title: str, type_: str, now: datetime) -> None:
        """Create the chat if new, otherwise refresh its title and mark it active."""
        await upsert(
            self.session,
            Chat,
            {"id": chat_id, "title": title, "type": type_, "active": True, "created_at": now},
            key=["id"],
            update=["title", "type", "active"],
        )

    async def ensure(self, chat_id: int, title: str, type_: str, now: datetime) -> None:
        await insert_ignore(
            self.session,
            Chat,
            {"id": chat_id, "title": title, "type": type_, "active": True, "created_at": now},
            key=["id"],
        )

    async def active_ids(self) -> list[int]:
        """Chats the bot is still in."""
        return list(
            (await self.session.execute(select(Chat.id).where(Chat.active.is_(True)))).scalars()
        )

    async def active_titles(self) -> list[tuple[int, str]]:
        """Chats the bot is still in, (id, title) by title."""
        query = select(Chat.id, Chat.title).where(Chat.active.is_(True)).order_by(Chat.title)
        return [(int(i), str(title)) for i, title in (await self.session.execute(query)).all()]

    async def set_active(self, chat_id: int, active: bool) -> None:
        chat = await self.get(chat_id)
        if chat is not None:
            chat.active = active

    async def settings(self, chat_id: int) -> dict[str, str]:
        rows = await self.session.execute(
            select(ChatSetting.key, ChatSetting.value).where(ChatSetting.chat_id == chat_id)
        )
        return dict(rows.all())

    async def put_setting(self, chat_id: int, key: str, value: str) -> None:
        await upsert(
            self.session,
            ChatSetting,
            {"chat_id": chat_id, "key": key, "value": value},
            key=["chat_id", "key"],
            update=["value"],
        )

    async def replace_setting(self, chat_id: int, key: str, expected: str, value: str) -> bool:
        """Compare and set: change the setting only if it is still `expected`."""
        result = await self.session.execute(
            update(ChatSetting)
            .where(
                ChatSetting.chat_id == chat_id,
                ChatSetting.key == key,
                ChatSetting.value == expected,
            )
            .values(value=value)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def claim_setting(self, chat_id: int, key: str, expected: str | None, value: str) -> bool:
        """Compare and set, a missing row included (`expected` None): of several racing
        callers exactly one gets True."""
        if expected is None:
            row = {"chat_id": chat_id, "key": key, "value": value}
            return await insert_ignore(self.session, ChatSetting, row, key=["chat_id", "key"])
        return await self.replace_setting(chat_id, key, expected, value)

    async def clear_setting_where(self, key: str, value: str, cleared: str) -> list[int]:
        """Set `key` to `cleared` in every chat where it is `value`; those chats' ids."""
        rows = await self.session.execute(
            select(ChatSetting.chat_id).where(ChatSetting.key == key, ChatSetting.value == value)
        )
        chat_ids = list(rows.scalars())
        if chat_ids:
            await self.session.execute(
                update(ChatSetting)
                .where(ChatSetting.key == key, ChatSetting.value == value)
                .values(value=cleared)
                .execution_options(synchronize_session=False)
            )
        return chat_ids
