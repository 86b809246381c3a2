"""Two bot processes on one database and one Redis: an admin's /set or /filter handled by
one takes effect in the other within a second, with its 60 s cache timer never moved.

Pub/sub delivery happens in real time, so the test polls for at most `WITHIN` seconds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis

from tests.dispatcher.conftest import GROUP, MEMBER, OWNER, Harness, running_harness
from tests.unit.test_invalidation import REDIS_URL, WITHIN


@asynccontextmanager
async def two_processes(db_url: str) -> AsyncIterator[tuple[Harness, Harness]]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception:
        pytest.skip(f"no Redis at {REDIS_URL}")
    finally:
        await client.aclose()
    async with (
        running_harness(db_url, redis_url=REDIS_URL) as first,
        running_harness(db_url, redis_url=REDIS_URL) as second,
    ):
        for h in (first, second):
            await h.app.start_background()  # as at start-up: the listener starts with the rest
            subscribed = h.app.hearth.invalidations.subscribed  # type: ignore[attr-defined]
            await asyncio.wait_for(subscribed.wait(), 5)
        try:
            yield first, second
        finally:
            for h in (first, second):
                await h.app.stop_background()


async def command(h: Harness, user_id: int, text: str) -> None:
    assert h.fake.send_message(GROUP, user_id, text) is not None
    await h.settle()


async def removed(h: Harness, text: str) -> bool:
    """A member posts `text`; whether the bot removed it."""
    update = h.fake.send_message(GROUP, MEMBER, text)
    assert update is not None
    await h.settle()
    return h.fake.is_deleted(GROUP, int(update["message"]["message_id"]))


async def test_set_and_filter_in_one_process_take_effect_in_another(db_url: str) -> None:
    async with two_processes(db_url) as (first, second):
        loop = asyncio.get_running_loop()
        assert not await removed(second, "casino tonight")  # stop words cached: none
        assert (await second.app.hearth.chat_settings.get(GROUP)).language == "en"

        await command(first, OWNER, "/set language ru")
        await command(first, OWNER, "/filter add casino")

        start = loop.time()
        while (await second.app.hearth.chat_settings.get(GROUP)).language != "ru":
            assert loop.time() - start < WITHIN, "the other process still has the old language"
            await asyncio.sleep(0.01)
        while not await removed(second, "casino tonight"):
            assert loop.time() - start < WITHIN, "the other process lets the stop word through"
            await asyncio.sleep(0.01)
