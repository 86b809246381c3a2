"""A burst that finds a cached entry expired reads the database once, not once per update;
a change made while a read is under way is not hidden by it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import FakeTimer
from bot.db import Database
from bot.notifier import ADMIN_CACHE_TTL, Notifier
from bot.services.moderation.stopwords import StopWords
from bot.services.settings import CACHE_TTL, SettingsService
from bot.singleflight import SingleFlight
from tests.unit.test_cache_lifetimes import CHAT, AdminsBot, unreachable, write_behind_the_cache

BURST = 200  # updates in flight at once, as under a flood


def count_transactions(db: Database) -> list[int]:
    """Counts the transactions `db` opens from now on."""
    opened = [0]
    real = db.transaction

    @asynccontextmanager
    async def counted() -> AsyncIterator[AsyncSession]:
        opened[0] += 1
        async with real() as session:
            yield session

    db.transaction = counted  # type: ignore[method-assign]
    return opened


async def test_a_burst_on_an_expired_entry_reads_the_settings_once(db: Database) -> None:
    timer = FakeTimer()
    service = SettingsService(db, "ru", "Europe/Moscow", timer=timer)
    await write_behind_the_cache(db, "language", "en")
    opened = count_transactions(db)
    configs = await asyncio.gather(*(service.get(CHAT) for _ in range(BURST)))
    assert {c.language for c in configs} == {"en"}
    assert opened[0] == 1
    timer.advance(CACHE_TTL + 1)  # a minute later, in the middle of the burst
    await asyncio.gather(*(service.get(CHAT) for _ in range(BURST)))
    assert opened[0] == 2


async def test_a_burst_on_expired_stop_words_reads_them_once(db: Database) -> None:
    words = StopWords(db, timer=FakeTimer())
    await words.add(CHAT, "spam")
    opened = count_transactions(db)
    found = await asyncio.gather(*(words.found_in(CHAT, "buy spam now") for _ in range(BURST)))
    assert all(found)
    assert opened[0] == 1


async def test_a_change_during_a_read_is_seen_by_the_callers_after_it(db: Database) -> None:
    service = SettingsService(db, "ru", "Europe/Moscow", timer=FakeTimer())
    await write_behind_the_cache(db, "language", "en")
    real, release, started = db.transaction, asyncio.Event(), asyncio.Event()

    @asynccontextmanager
    async def first_read_waits() -> AsyncIterator[AsyncSession]:
        first = not started.is_set()
        started.set()
        async with real() as session:
            yield session
        if first:  # the first read has its answer ("en") and holds on until the change
            await release.wait()

    db.transaction = first_read_waits  # type: ignore[method-assign]
    early = asyncio.ensure_future(service.get(CHAT))
    await started.wait()
    await service.set(CHAT, "language", "ru")  # drops the cache while that read waits
    late = asyncio.ensure_future(service.get(CHAT))
    await asyncio.sleep(0.05)
    release.set()
    assert (await late).language == "ru"  # it did not join the read that began before
    await early
    assert (await service.get(CHAT)).language == "ru"


async def test_a_failed_load_reaches_every_waiting_caller_and_the_next_one_tries_again() -> None:
    flights: SingleFlight[int, str] = SingleFlight()
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise OSError("database unavailable")

    results: list[Any] = await asyncio.gather(
        *(flights.run(1, failing) for _ in range(5)), return_exceptions=True
    )
    assert calls == 1 and all(isinstance(r, OSError) for r in results)

    async def working() -> str:
        return "ok"

    assert await flights.run(1, working) == "ok"


async def test_a_cancelled_caller_leaves_the_load_to_the_others() -> None:
    flights: SingleFlight[int, str] = SingleFlight()
    release = asyncio.Event()

    async def slow() -> str:
        await release.wait()
        return "loaded"

    first = asyncio.ensure_future(flights.run(1, slow))
    second = asyncio.ensure_future(flights.run(1, slow))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    assert await second == "loaded"
    with pytest.raises(asyncio.CancelledError):
        await first


class SlowAdminsBot(AdminsBot):
    """Telegram's answer takes a moment, as over the network: the burst is waiting meanwhile."""

    async def get_chat_administrators(self, chat_id: int) -> list[Any]:
        await asyncio.sleep(0.01)
        return await super().get_chat_administrators(chat_id)


async def test_a_burst_on_an_expired_admin_list_asks_telegram_once() -> None:
    """Each message of a burst may ask whether its sender is an admin: when the 5-minute list
    runs out, one getChatAdministrators serves them all (not one call per message, which
    Telegram would answer with 429s)."""
    bot, timer = SlowAdminsBot(), FakeTimer()
    notifier = Notifier(bot, unreachable, timer=timer)  # type: ignore[arg-type]
    lists = await asyncio.gather(*(notifier.admins(CHAT) for _ in range(BURST)))
    assert all(found == {1} for found in lists) and bot.calls == 1
    bot.owner = 2
    timer.advance(ADMIN_CACHE_TTL + 1)
    lists = await asyncio.gather(*(notifier.admins(CHAT) for _ in range(BURST)))
    assert all(found == {2} for found in lists) and bot.calls == 2
    notifier.forget_admins(CHAT)  # a chat_member update said the admins changed
    assert await notifier.admins(CHAT) == {2} and bot.calls == 3
