"""A group upgraded to a supergroup: the chat's whole state moves to the new id."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.db import Database
from bot.services.moderation.audit import LOG_CHAT_KEY
from models.chat_moves import ChatMoves

log = logging.getLogger(__name__)

CHAT_ID_SETTINGS = (LOG_CHAT_KEY,)
"""Settings whose value is a chat id: a chat that logs into the upgraded group follows it."""


class ChatUpgrades:
    """Moves settings, rules, members, warnings, check-ins, subscriptions, deadlines, queued
    messages, ... from a group to the supergroup it became, in one transaction.

    Idempotent: Telegram tells the bot twice (`migrate_to_chat_id` in the old group,
    `migrate_from_chat_id` in the new one), maybe again after a restart. Where the new chat
    already has a row that an old one would collide with, the new chat's row wins."""

    def __init__(
        self,
        db: Database,
        *,
        before: Callable[[], Awaitable[object]],
        forget: Sequence[Callable[[int], None]],
    ) -> None:
        self._db = db
        self._before = before  # writes buffered in memory (activity) land on the old id first
        self._forget = forget  # per-chat caches (settings, admins, stop words, log chats)

    async def upgraded(self, old_id: int, new_id: int, title: str = "") -> bool:
        """Move the chat; False if there was nothing left to move (it moved before)."""
        if old_id == new_id:
            return False
        await self._before()
        async with self._db.transaction() as session:
            moved = await ChatMoves(session).move(old_id, new_id, title, CHAT_ID_SETTINGS)
        for forget in self._forget:
            forget(old_id)
            forget(new_id)
        if moved:
            log.info("chat %s became supergroup %s: its state moved", old_id, new_id)
        return moved
