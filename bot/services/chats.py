"""Chats: registration when the bot is added, its rights, rules and welcome text."""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.db import Database
from bot.notifier import utf16_length
from bot.services.members import MemberDirectory
from bot.services.people import ChatRef
from models.chats import ChatRepository

log = logging.getLogger(__name__)

RULES_LIMIT = 4000
WELCOME_LIMIT = 3000
NEEDED_RIGHTS = ("can_restrict_members", "can_delete_messages", "can_invite_users")


class TooLong(ValueError):
    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length


class ChatService:
    """Registers chats and keeps their rules and welcome text."""

    def __init__(self, db: Database, clock: Clock, directory: MemberDirectory) -> None:
        self._db = db
        self._clock = clock
        self._directory = directory

    async def bot_added(self, chat: ChatRef) -> None:
        """The bot was added to (or promoted in) a group: register it with default settings."""
        async with self._db.transaction() as session:
            await ChatRepository(session).register(
                chat.id, chat.title, chat.type, self._clock.now()
            )
        log.info("registered chat %s (%s)", chat.id, chat.title)

    async def bot_removed(self, chat_id: int) -> None:
        async with self._db.transaction() as session:
            await ChatRepository(session).set_active(chat_id, False)
        log.info("left chat %s", chat_id)

    async def title(self, chat_id: int) -> str | None:
        async with self._db.transaction() as session:
            chat = await ChatRepository(session).get(chat_id)
        return chat.title if chat else None

    async def rules(self, chat_id: int) -> tuple[str, str | None] | None:
        """(title, rules) of a known chat, or None if the chat is unknown."""
        async with self._db.transaction() as session:
            chat = await ChatRepository(session).get(chat_id)
        return (chat.title, chat.rules) if chat else None

    async def set_rules(self, chat: ChatRef, text: str) -> int:
        text = text.strip()
        if utf16_length(text) > RULES_LIMIT:
            raise TooLong(utf16_length(text))
        await self._directory.ensure_chat(chat)
        async with self._db.transaction() as session:
            stored = await ChatRepository(session).get(chat.id)
            assert stored is not None
            stored.rules = text or None
        return len(text)

    async def set_welcome(self, chat: ChatRef, text: str | None) -> None:
        """Store a welcome template ({name}, {chat}, {rules}); None restores the default."""
        if text is not None and utf16_length(text) > WELCOME_LIMIT:
            raise TooLong(utf16_length(text))
        await self._directory.ensure_chat(chat)
        async with self._db.transaction() as session:
            stored = await ChatRepository(session).get(chat.id)
            assert stored is not None
            stored.welcome = text
