"""One Redis client per process: the flood counters, the send budget, the leader lease, the
locks, the invalidations (publisher and listener) and the ledger buffer of an application
all go through one bounded pool, whose connections Redis lists under one name; the
application closes it once, and then none of its connections is left."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.redis_pool import MAX_CONNECTIONS, opened
from tests.dispatcher.conftest import GROUP, MEMBER, OWNER, Harness, running_harness
from tests.redis_address import redis_url

DB = 10  # no other test selects this database: every connection there is the application's
REDIS_URL = os.environ.get("TEST_CLIENT_REDIS_URL", redis_url(DB))


async def _server_clients(admin: Redis) -> list[dict[str, Any]]:
    """The connections Redis has on this test's database (the admin's own left out)."""
    me = await admin.client_id()
    return [c for c in await admin.client_list() if c["db"] == str(DB) and c["id"] != str(me)]


async def _use_every_part(h: Harness) -> None:
    """Messages (flood counters), an admin's /set (send budget, a published invalidation),
    a flush (ledger buffer), the lease, a lock."""
    for n in range(5):
        assert h.fake.send_message(GROUP, MEMBER, f"hello {n}") is not None
    assert h.fake.send_message(GROUP, OWNER, "/set language ru") is not None
    await h.settle()
    await h.app.hearth.flush_counters()
    assert h.app.leadership is not None and await h.app.leadership.lead()
    async with h.app.locks.lock("test:one-client", timeout=5):
        pass


async def test_a_process_talks_to_redis_through_one_pool_and_closes_it_once(db_url: str) -> None:
    admin = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await admin.ping()
    except Exception:
        await admin.aclose()
        pytest.skip(f"no Redis at {REDIS_URL}")
    try:
        assert await _server_clients(admin) == []
        async with running_harness(db_url, redis_url=REDIS_URL) as h:
            assert h.app.redis is not None
            await h.app.start_background()  # the invalidation listener subscribes
            await asyncio.wait_for(h.app.hearth.invalidations.subscribed.wait(), 5)  # type: ignore[attr-defined]
            await _use_every_part(h)

            name = h.app.redis.connection_pool.connection_kwargs["client_name"]
            clients = await _server_clients(admin)
            assert {c["name"] for c in clients} == {name}  # one pool, one name: nothing else
            assert len(clients) == opened(h.app.redis) <= MAX_CONNECTIONS
            assert any(c["sub"] == "1" for c in clients)  # the listener's, from the same pool
            assert (await h.app.hearth.chat_settings.get(GROUP)).language == "ru"

            await h.app.stop_background()  # closes the client once, after all its users
            assert await _server_clients(admin) == []
        assert await _server_clients(admin) == []  # the harness's teardown opened nothing
    finally:
        await admin.aclose()
