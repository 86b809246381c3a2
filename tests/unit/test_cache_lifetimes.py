"""Caches and warning pace follow the injected timer: moving a fake timer expires them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.types import ChatMemberOwner, User

from bot.clock import FakeClock, FakeTimer
from bot.db import Database
from bot.notifier import ADMIN_CACHE_TTL, Notifier
from bot.redis_pool import connect
from bot.services.members import AdminGuard
from bot.services.moderation import ModerationService
from bot.services.pace import MemoryPace, RedisPace
from bot.services.settings import CACHE_TTL, SettingsService
from models.chats import ChatRepository
from models.moderation import ModerationRepository

CHAT = -100123


async def unreachable(user_id: int) -> None:
    raise AssertionError("no one is messaged here")


async def write_behind_the_cache(db: Database, key: str, value: str) -> None:
    """A change the service does not see (another process, a manual edit)."""
    async with db.transaction() as session:
        chats = ChatRepository(session)
        await chats.ensure(CHAT, "Chat", "supergroup", datetime(2026, 1, 1, tzinfo=UTC))
        await chats.put_setting(CHAT, key, value)


async def test_settings_are_read_again_after_the_cache_lifetime(db: Database) -> None:
    timer = FakeTimer()
    service = SettingsService(db, "ru", "Europe/Moscow", timer=timer)
    await write_behind_the_cache(db, "language", "en")
    assert (await service.get(CHAT)).language == "en"

    await write_behind_the_cache(db, "language", "uk")
    timer.advance(CACHE_TTL - 1)
    assert (await service.get(CHAT)).language == "en"
    timer.advance(2)
    assert (await service.get(CHAT)).language == "uk"


async def test_stop_words_are_read_again_after_the_cache_lifetime(db: Database) -> None:
    timer = FakeTimer()
    notifier = Notifier(None, unreachable, timer=timer)  # type: ignore[arg-type]
    settings = SettingsService(db, "ru", "Europe/Moscow", timer=timer)
    guard = AdminGuard(notifier, frozenset())
    moderation = ModerationService(
        db, FakeClock(), notifier, settings, guard, MemoryPace(), timer=timer
    )
    assert await moderation.stop_words(CHAT) == []

    async with db.transaction() as session:
        await ModerationRepository(session).add_stop_word(CHAT, "casino")
    timer.advance(CACHE_TTL - 1)
    assert await moderation.stop_words(CHAT) == []
    timer.advance(2)
    assert await moderation.stop_words(CHAT) == ["casino"]


class AdminsBot:
    """Answers getChatAdministrators with whoever is the owner now, counting the calls."""

    def __init__(self) -> None:
        self.owner = 1
        self.calls = 0

    async def get_chat_administrators(self, chat_id: int) -> list[Any]:
        self.calls += 1
        user = User(id=self.owner, is_bot=False, first_name="Owner")
        return [ChatMemberOwner(user=user, is_anonymous=False)]


async def test_the_admin_list_is_asked_again_after_its_lifetime() -> None:
    bot, timer = AdminsBot(), FakeTimer()
    notifier = Notifier(bot, unreachable, timer=timer)  # type: ignore[arg-type]
    assert await notifier.admins(CHAT) == {1}

    bot.owner = 2
    timer.advance(ADMIN_CACHE_TTL - 1)
    assert await notifier.admins(CHAT) == {1}
    assert bot.calls == 1
    timer.advance(2)
    assert await notifier.admins(CHAT) == {2}
    assert bot.calls == 2


async def test_a_broken_redis_is_reported_at_most_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    timer = FakeTimer()
    client = connect("redis://127.0.0.1:1/0")  # nothing listens there
    pace = RedisPace(client, timer=timer)
    caplog.set_level(logging.WARNING, logger="bot.services.pace")

    def warnings() -> int:
        return sum("Redis unavailable" in record.getMessage() for record in caplog.records)

    try:
        assert await pace.held("e:1:2", 0.0) is False
        assert warnings() == 1
        timer.advance(59)
        assert await pace.held("e:1:2", 0.0) is False
        assert warnings() == 1
        timer.advance(2)
        assert await pace.held("e:1:2", 0.0) is False
        assert warnings() == 2
    finally:
        await client.aclose()
