"""Moving everything keyed by a chat to another chat id (a group upgraded to a supergroup).

The tables are not listed by hand: every column named `chat_id` or referring to `chats.id`
in `Base.metadata` moves, so a table added later moves too (a unit test enumerates them).
Rows the new chat already has win: an old row that would collide with one of them on a
primary key or unique constraint is dropped, every other old row moves. One exception: a
person's member row that the new chat got only because they wrote there first (source
"seen", a placeholder) gives way to their real row, so trust levels, probation and pins
survive the upgrade. The activity ledger's counters are added to the new chat's instead."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import Column, Table, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.base import Base
from models.chats import Chat, ChatSetting
from models.ledger import LedgerRepository
from models.members import Member

CHATS = Chat.__table__
PLACEHOLDER = "seen"  # Member.source of a row made because someone wrote (bot.services.members)


def chat_columns() -> Iterator[Column[int]]:
    """Every column that holds the id of a chat the bot serves (not `chats.id` itself)."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            refers = any(fk.column is CHATS.c.id for fk in column.foreign_keys)
            if column.name == "chat_id" or refers:
                yield column


def unique_keys(column: Column[int]) -> list[set[str]]:
    """The column sets of the primary key and unique constraints (and unique indexes) of
    the column's table that include it."""
    table = column.table
    assert isinstance(table, Table)
    keys = [{c.name for c in table.primary_key.columns}]
    for constraint in table.constraints:
        if constraint.__visit_name__ == "unique_constraint":
            keys.append({c.name for c in constraint.columns})  # type: ignore[attr-defined]
    keys += [{c.name for c in index.columns} for index in table.indexes if index.unique]
    return [key for key in keys if column.name in key]


class ChatMoves:
    """Moves a chat's rows to a new id inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def move(self, old_id: int, new_id: int, title: str, value_keys: Iterable[str]) -> bool:
        """Move every row of `old_id` to `new_id` and drop the old chat; settings named in
        `value_keys` that point at `old_id` (other chats' log chat) point at `new_id` after.
        False when there was nothing left to move (it moved before)."""
        old = await self.session.get(Chat, old_id)
        await self._ensure_new(old, new_id, title)
        await self._drop_placeholders(old_id, new_id)
        await LedgerRepository(self.session).merge_chat(old_id, new_id)  # counters add up
        for column in chat_columns():
            await self._move_column(column, old_id, new_id)
        for key in value_keys:
            await self.session.execute(
                update(ChatSetting)
                .where(ChatSetting.key == key, ChatSetting.value == str(old_id))
                .values(value=str(new_id))
                .execution_options(synchronize_session=False)
            )
        if old is not None:
            await self.session.execute(delete(Chat).where(Chat.id == old_id))
        return old is not None

    async def _ensure_new(self, old: Chat | None, new_id: int, title: str) -> None:
        new = await self.session.get(Chat, new_id)
        if new is None and old is None:
            return
        if new is None:
            assert old is not None
            self.session.add(
                Chat(
                    id=new_id,
                    title=title or old.title,
                    type="supergroup",
                    active=True,
                    rules=old.rules,
                    welcome=old.welcome,
                    created_at=old.created_at,
                )
            )
        else:
            new.type, new.active = "supergroup", True
            if old is not None:
                new.rules = new.rules if new.rules is not None else old.rules
                new.welcome = new.welcome if new.welcome is not None else old.welcome
        await self.session.flush()

    async def _drop_placeholders(self, old_id: int, new_id: int) -> None:
        """Delete the new chat's "seen" placeholders of people the old chat knows."""
        known = aliased(Member, name="known")
        await self.session.execute(
            delete(Member)
            .where(
                Member.chat_id == new_id,
                Member.source == PLACEHOLDER,
                exists(select(1).where(known.chat_id == old_id, known.user_id == Member.user_id)),
            )
            .execution_options(synchronize_session=False)
        )

    async def _move_column(self, column: Column[int], old_id: int, new_id: int) -> None:
        table = column.table
        for key in unique_keys(column):
            twin = table.alias("twin")
            same = [twin.c[name] == table.c[name] for name in key if name != column.name]
            taken = exists(select(1).select_from(twin).where(twin.c[column.name] == new_id, *same))
            await self.session.execute(
                delete(table)
                .where(column == old_id, taken)
                .execution_options(synchronize_session=False)
            )
        await self.session.execute(
            update(table)
            .where(column == old_id)
            .values({column.name: new_id})
            .execution_options(synchronize_session=False)
        )
