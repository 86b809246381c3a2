"""Polling is one process: when another process polls the same bot, Telegram answers 409
Conflict and the process says so in one clear line, however often it happens in a row."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramConflictError

from bot.polling import ANOTHER_POLLER, watch_for_other_pollers
from tests.fakegram.server import FakeTelegram


def _bot(fake: FakeTelegram) -> Bot:
    return Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.url)))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


async def _terminated_by_another(fake: FakeTelegram, ours: Bot, other: Bot) -> None:
    poll = asyncio.create_task(ours.get_updates(timeout=5))
    before = fake.polls_started
    await fake.wait_for(lambda: fake.polls_started > before)
    await other.get_updates(timeout=0)  # the other process polls: ours is cut off
    with pytest.raises(TelegramConflictError):
        await poll


async def test_another_poller_is_reported_once_per_episode(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    ours, other = _bot(fake), _bot(fake)
    watch_for_other_pollers(ours)
    try:
        with caplog.at_level(logging.INFO, logger="hearth"):
            for _ in range(3):
                await _terminated_by_another(fake, ours, other)
            assert [r.getMessage() for r in caplog.records].count(ANOTHER_POLLER) == 1
            await ours.get_updates(timeout=0)  # the other one is gone: polling works again
            await _terminated_by_another(fake, ours, other)  # and it comes back
        warnings = [r for r in caplog.records if r.getMessage() == ANOTHER_POLLER]
        assert len(warnings) == 2
        assert all(r.levelno == logging.WARNING for r in warnings)
    finally:
        await ours.session.close()
        await other.session.close()


def test_aiogram_repeats_no_conflict_of_its_own() -> None:
    """aiogram's own two lines per failed poll are dropped for a conflict, kept otherwise."""
    bot = Bot("1:abcdefgh")
    conflicts = watch_for_other_pollers(bot)
    logger = logging.getLogger("aiogram.dispatcher")
    quiet = logger.filters[-1]
    try:
        failed = "Failed to fetch updates - %s: %s"
        conflict = logger.makeRecord(
            logger.name, logging.ERROR, "", 0, failed, ("TelegramConflictError", "x"), None
        )
        network = logger.makeRecord(
            logger.name, logging.ERROR, "", 0, failed, ("TelegramNetworkError", "x"), None
        )
        assert not quiet.filter(conflict)
        assert quiet.filter(network)
        conflicts.conflicted = True
        retry = logger.makeRecord(
            logger.name, logging.WARNING, "", 0, "Sleep for %f seconds and try again", (1.0,), None
        )
        assert not quiet.filter(retry)
    finally:
        logger.removeFilter(quiet)
