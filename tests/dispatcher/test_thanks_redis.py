"""Thanks by reaction with several processes: Telegram's reaction update does not say who
wrote the message, and with Redis every process of the bot (and a restarted one) knows the
authors of the last 12 hours' messages, so a 👍 handled by another process than the one that
saw the message is a thanks. Without Redis a restart forgets them (the documented limit)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis

from bot.app import build_application
from tests.dispatcher.conftest import (
    ADMIN,
    GROUP,
    MEMBER,
    Harness,
    close_app,
    restart,
    running_harness,
)
from tests.dispatcher.test_moderation import say
from tests.dispatcher.test_thanks import bot_reaction, thanks_rows
from tests.fakegram.timer import FakeTelegramTimer
from tests.redis_address import redis_url

REDIS_URL = redis_url(11)  # emptied first: the fake's bot id is the same in every test


@asynccontextmanager
async def with_redis(db_url: str) -> AsyncIterator[Harness]:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.flushdb()
    except Exception:
        pytest.skip(f"no Redis at {REDIS_URL}")
    finally:
        await client.aclose()
    async with running_harness(db_url, redis_url=REDIS_URL) as h:
        yield h


@asynccontextmanager
async def second_process(h: Harness) -> AsyncIterator[Harness]:
    """Another process of the same bot: its own application (memory, Redis client) on the
    same database, Redis and Telegram, taking the updates from where the first left off."""
    app = build_application(h.app.settings, clock=h.clock, timer=FakeTelegramTimer(h.fake))
    other = Harness(h.fake, app, h.clock, offset=h.offset)
    try:
        yield other
    finally:
        await close_app(app)


async def test_a_reaction_handled_by_another_process_is_a_thanks(db_url: str) -> None:
    async with with_redis(db_url) as h:
        await say(h, MEMBER, "hello")  # the giver is a member the bot knows
        tip = await say(h, ADMIN, "use the side door")  # seen by the first process only
        await h.app.hearth.thanks.service.authors.settle()  # its write, a loop turn later
        async with second_process(h) as other:
            h.fake.reactions.react(GROUP, MEMBER, tip, ["👍"])
            await other.settle()
            assert other.handled and not set(other.handled) & set(h.handled)
            rows = await thanks_rows(other)
            assert [(r["giver_id"], r["receiver_id"], r["source"]) for r in rows] == [
                (MEMBER, ADMIN, "reaction")
            ]
            assert bot_reaction(other, tip) == ["🙏"]


async def test_a_reaction_after_a_restart_is_a_thanks_with_redis(db_url: str) -> None:
    async with with_redis(db_url) as h:
        await say(h, MEMBER, "hello")
        tip = await say(h, ADMIN, "use the side door")
        await restart(h)  # memory lost; Redis kept the author
        h.fake.reactions.react(GROUP, MEMBER, tip, ["👍"])
        await h.settle()
        assert [(r["giver_id"], r["receiver_id"]) for r in await thanks_rows(h)] == [
            (MEMBER, ADMIN)
        ]


async def test_without_redis_a_restart_forgets_who_wrote_what(harness: Harness) -> None:
    h = harness
    await say(h, MEMBER, "hello")
    tip = await say(h, ADMIN, "use the side door")
    await restart(h)
    h.fake.reactions.react(GROUP, MEMBER, tip, ["👍"])
    await h.settle()
    assert await thanks_rows(h) == [] and bot_reaction(h, tip) is None
