"""Who was active when: kept in memory on the per-message path, written in batches."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, update

from bot.db import Database
from models.base import UTCDateTime
from models.members import Member

log = logging.getLogger(__name__)


class ActivityTracker:
    """Remembers the last message time per (chat, user); `flush()` stores them in one batch."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: dict[tuple[int, int], datetime] = {}

    def touch(self, chat_id: int, user_id: int, at: datetime) -> None:
        self._pending[(chat_id, user_id)] = at

    def forget_person(self, user_id: int) -> None:
        """Drop the person's last-seen times not yet written (/forget)."""
        for key in [key for key in self._pending if key[1] == user_id]:
            del self._pending[key]

    def unflushed(self, chat_id: int) -> dict[int, datetime]:
        return {user: at for (chat, user), at in self._pending.items() if chat == chat_id}

    async def flush(self) -> int:
        """Write what was seen since the last flush; returns how many rows it touched."""
        if not self._pending:
            return 0
        batch, self._pending = self._pending, {}
        rows = [{"b_chat": chat, "b_user": user, "b_at": at} for (chat, user), at in batch.items()]
        table = cast(Table, Member.__table__)
        statement = (
            update(table)
            .where(table.c.chat_id == bindparam("b_chat"), table.c.user_id == bindparam("b_user"))
            .values(last_active_at=bindparam("b_at", type_=UTCDateTime()))
        )
        try:
            async with self._db.transaction() as session:
                connection = await session.connection()
                await connection.execute(statement, rows)
        except Exception:
            for key, at in batch.items():  # keep them for the next try
                self._pending.setdefault(key, at)
            raise
        return len(rows)
