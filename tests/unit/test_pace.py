"""Rate counters: the in-memory store, and Redis (shared by several processes) when running."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.redis_pool import connect
from bot.serve import UPDATES_IN_FLIGHT
from bot.services.pace import MemoryPace, Pace, RedisPace
from tests.redis_address import redis_url

# pytest-xdist workers each take their own Redis database (15, 14, ...): tests may flush it
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("TEST_REDIS_URL", redis_url(15 - _WORKER % 8))


async def _redis_available() -> bool:
    client = connect(REDIS_URL)
    try:
        await client.ping()
    except Exception:
        return False
    finally:
        await client.aclose()
    return True


@pytest.fixture(params=["memory", "redis"])
async def pace(request: pytest.FixtureRequest) -> AsyncIterator[Pace]:
    if request.param == "memory":
        yield MemoryPace()
        return
    if not await _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    client = connect(REDIS_URL)
    yield RedisPace(client, prefix=f"test:{uuid.uuid4().hex}:")
    await client.aclose()


async def test_hits_count_within_a_sliding_window(pace: Pace) -> None:
    counts = [await pace.hit("f:1:2", 1000.0 + n, 10) for n in range(6)]
    assert counts == [1, 2, 3, 4, 5, 6]
    # ten seconds after the first hit it has left the window
    assert await pace.hit("f:1:2", 1010.0, 10) == 6
    assert await pace.hit("f:1:3", 1010.0, 10) == 1  # other people are counted apart


async def test_a_claim_is_held_until_it_runs_out(pace: Pace) -> None:
    assert await pace.claim("s:1:2", 1000.0, 300)
    assert not await pace.claim("s:1:2", 1001.0, 300)
    assert await pace.held("s:1:2", 1001.0)
    assert not await pace.held("s:1:3", 1001.0)


async def test_memory_claims_expire_and_pruning_forgets_old_counters() -> None:
    pace = MemoryPace()
    await pace.claim("s:1:2", 1000.0, 60)
    assert await pace.claim("s:1:2", 1060.0, 60)  # the interval has passed
    await pace.hit("f:1:2", 1000.0, 10)
    await pace.prune(1000.0 + MemoryPace.MAX_WINDOW + 1)
    assert not pace._hits and not pace._leases


async def test_two_redis_clients_share_counters() -> None:
    if not await _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"test:{uuid.uuid4().hex}:"
    clients = connect(REDIS_URL), connect(REDIS_URL)  # two processes
    first, second = RedisPace(clients[0], prefix), RedisPace(clients[1], prefix)
    try:
        assert await first.hit("f:1:2", 1000.0, 10) == 1
        assert await second.hit("f:1:2", 1000.5, 10) == 2
        assert await first.claim("e:1:2", 1000.0, 60)
        assert not await second.claim("e:1:2", 1000.0, 60)
    finally:
        for client in clients:
            await client.aclose()


async def test_a_broken_redis_lets_messages_through() -> None:
    client = connect("redis://127.0.0.1:1/0")  # nothing listens there
    pace = RedisPace(client)
    try:
        assert await pace.hit("f:1:2", 1000.0, 10) == 0
        assert await pace.claim("s:1:2", 1000.0, 60) is True
        assert await pace.held("e:1:2", 1000.0) is False
    finally:
        await client.aclose()


async def test_a_message_handled_out_of_order_does_not_inflate_later_windows(pace: Pace) -> None:
    """Updates are handled concurrently: an old message (a backlog after downtime) may be
    counted after newer ones; once it is outside the window it must stop counting."""
    key = f"f:{uuid.uuid4()}"
    for _ in range(4):
        await pace.hit(key, 1000.0, 10)
    await pace.hit(key, 100.0, 10)  # dated long before, handled last
    assert await pace.hit(key, 1001.0, 10) == 5  # the four and this one, not the old one


async def test_a_burst_larger_than_the_connection_pool_is_counted_not_waved_through(
    pace: Pace,
) -> None:
    """2,000 messages of 200 people in one burst, handled as the bot handles updates (up to
    UPDATES_IN_FLIGHT at once, eight times the pool): every one is counted, none fails open
    because the Redis pool ran out of connections."""
    people, each = 200, 10
    in_flight = asyncio.Semaphore(UPDATES_IN_FLIGHT)

    async def message(n: int) -> int:
        async with in_flight:
            return await pace.hit(f"f:1:{n % people}", 1000.0 + n / 1000, 10)

    counts = await asyncio.gather(*(message(n) for n in range(people * each)))
    assert 0 not in counts
    assert sorted(counts)[-people:] == [each] * people  # every person's last hit saw all 10


async def test_an_ordinary_message_asks_held_and_counts_in_one_call(pace: Pace) -> None:
    """What the per-message path asks in one round trip: is an episode running, and how many
    messages are in the window with this one."""
    assert await pace.held_and_hit("e:1:2", "f:1:2", 1000.0, 10) == (False, 1)
    assert await pace.held_and_hit("e:1:2", "f:1:2", 1001.0, 10) == (False, 2)
    await pace.claim("e:1:2", 1001.0, 60)
    assert await pace.held_and_hit("e:1:2", "f:1:2", 1002.0, 10) == (True, 3)
    assert await pace.held_and_hit("e:1:2", "f:1:2", 1012.5, 10) == (True, 1)  # window moved


async def test_a_malformed_counter_key_fails_open_alone_and_the_others_are_counted() -> None:
    """Counts of one loop turn travel as one call: a key the script cannot read (a space in
    it) must not make the whole turn's messages fail open."""
    if not await _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    client = connect(REDIS_URL)
    pace = RedisPace(client, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        good, bad = await asyncio.gather(
            pace.hit("f:1:2", 1000.0, 10), pace.hit("f:1 2", 1000.0, 10), return_exceptions=True
        )
        assert good == 1
        assert bad == 0  # that message alone passes uncounted (and it is logged)
        assert pace.outage() == 0  # Redis works: no "counters down" to the log chat
        assert await pace.hit("f:1:2", 1001.0, 10) == 2
    finally:
        await client.aclose()


async def test_one_failing_record_does_not_open_the_gates_for_the_whole_loop_turn() -> None:
    """Review: the records of a loop turn run in one script; a Redis error on one of them
    (here a window key of the wrong type) fails the whole call, so every other message of
    that turn is waved through uncounted and an outage is reported (the log channel hears
    "counters down") while Redis works. Before the batching only that caller failed."""
    if not await _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    client = connect(REDIS_URL)
    prefix = f"test:{uuid.uuid4().hex}:"
    pace = RedisPace(client, prefix=prefix)
    try:
        await client.set(prefix + "w:f:1:3", "not a sorted set")
        assert await pace.hit("f:1:2", 1000.0, 10) == 1
        counts = await asyncio.gather(pace.hit("f:1:2", 1001.0, 10), pace.hit("f:1:3", 1001.0, 10))
        assert counts[0] == 2  # this person's window is counted, not failed open
        assert pace.outage() == 0
    finally:
        await client.delete(prefix + "w:f:1:3", prefix + "w:f:1:2")
        await client.aclose()
