"""The ledger with Redis (REDIS_URL set): several processes count into one Redis and one
database and the totals agree; a process dying between taking the shared counters and
writing them loses nothing; Redis down means writing straight to the database."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.db import Database
from bot.redis_pool import connect
from bot.services.ledger import Ledger, LedgerKind
from bot.services.ledger_redis import RedisBuffer, RedisDown
from models.ledger import LedgerRepository
from tests.redis_address import redis_url

REDIS_URL = os.environ.get("TEST_LEDGER_REDIS_URL", redis_url(13))
CHAT = -1_001_000_900
NOW = datetime(2026, 6, 15, 14, 25, tzinfo=UTC)
M, R = LedgerKind.MESSAGE, LedgerKind.REACTION


_OPENED: list[Redis] = []


def process_client(url: str = REDIS_URL) -> Redis:
    """A process's Redis client (as bot/app.py builds it), closed after the test."""
    opened = connect(url)
    _OPENED.append(opened)
    return opened


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    while _OPENED:
        await _OPENED.pop().aclose()


async def _clean(client: Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A key prefix of the test's own in Redis db 13 (emptied before and after), so tests on
    two xdist workers never touch each other's keys."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        await client.ping()
    except Exception:
        await client.aclose()
        pytest.skip(f"no Redis at {REDIS_URL}")
    name = f"test:ledger:{uuid.uuid4().hex}:"
    await _clean(client, name)
    yield name
    await _clean(client, name)
    await client.aclose()


async def _leftovers(prefix: str) -> list[bytes]:
    client = Redis.from_url(REDIS_URL)
    try:
        return [key async for key in client.scan_iter(match=prefix + "*")]
    finally:
        await client.aclose()


async def _totals(db: Database) -> dict[str, int]:
    async with db.transaction() as session:
        return await LedgerRepository(session).totals(CHAT)


async def _user_total(db: Database, user_id: int, kind: LedgerKind) -> int:
    async with db.transaction() as session:
        rows = await LedgerRepository(session).daily_counts(
            CHAT, NOW - timedelta(days=1), NOW + timedelta(days=1)
        )
    return sum(n for user, _, k, n in rows if user == user_id and k == kind.value)


async def test_two_processes_counting_into_one_redis_agree_on_the_totals(
    db: Database, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(NOW)
    first = Ledger(db, clock, buffer=RedisBuffer(process_client(), prefix))
    second = Ledger(db, clock, buffer=RedisBuffer(process_client(), prefix))
    for round_ in range(5):
        for n in range(40):
            first.count(CHAT, 1 + n % 4, M)  # both count the same people in the same hour
            second.count(CHAT, 1 + n % 3, M)
        second.count(CHAT, 9, R)
        if round_ % 2:  # the two flush at once, or only one of them flushes
            await asyncio.gather(first.flush(), second.flush())
        else:
            await first.flush()
    await first.flush()
    await second.flush()

    assert await _totals(db) == {"message": 400, "reaction": 5}
    assert await _user_total(db, 1, M) == 5 * (10 + 14)  # n % 4 == 0: 10; n % 3 == 0: 14
    assert await _user_total(db, 9, R) == 5
    assert await _leftovers(prefix) == []  # every taken hash was deleted after its commit
    assert "Redis unavailable" not in caplog.text  # it went through Redis, not around it


async def _crash_after_taking(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """The flush takes the shared hash, then dies before its database write commits."""

    async def dies(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("the process died here")

    with monkeypatch.context() as patch:
        patch.setattr(LedgerRepository, "add", dies)
        with pytest.raises(ConnectionError):
            await ledger.flush()


async def test_a_crash_after_taking_the_counts_loses_nothing_and_counts_nothing_twice(
    db: Database, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(NOW)
    dead = Ledger(db, clock, buffer=RedisBuffer(process_client(), prefix))
    for _ in range(7):
        dead.count(CHAT, 1, M)
    await _crash_after_taking(dead, monkeypatch)
    # the process is gone (its client left open changes nothing): its counts are in a taken hash
    assert await _totals(db) == {}

    other = Ledger(db, clock, buffer=RedisBuffer(process_client(), prefix))
    other.count(CHAT, 2, M)
    await other.flush()  # the taken hash may still be written by its owner: not yet
    assert await _totals(db) == {"message": 1}
    clock.advance(timedelta(minutes=5, seconds=1))
    await other.flush()  # now it is stale: claimed and written
    await other.flush()
    assert await _totals(db) == {"message": 8}
    assert await _user_total(db, 1, M) == 7
    assert await _leftovers(prefix) == []


async def test_a_slow_process_whose_counts_were_claimed_does_not_write_them_again(
    db: Database, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(NOW)
    slow = Ledger(db, clock, buffer=RedisBuffer(process_client(), prefix))
    other = Ledger(db, clock, buffer=RedisBuffer(process_client(), prefix))
    for _ in range(3):
        slow.count(CHAT, 1, M)
    await _crash_after_taking(slow, monkeypatch)  # its write failed; it lives on
    clock.advance(timedelta(minutes=6))
    await other.flush()  # claims the stale hash and writes it
    slow.count(CHAT, 1, R)
    await slow.flush()  # its own retry finds the hash claimed by another: skipped
    assert await _totals(db) == {"message": 3, "reaction": 1}


async def test_a_failed_write_is_retried_by_the_same_process_on_its_next_flush(
    db: Database, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(db, FakeClock(NOW), buffer=RedisBuffer(process_client(), prefix))
    ledger.count(CHAT, 1, M)
    await _crash_after_taking(ledger, monkeypatch)
    ledger.count(CHAT, 1, M)
    assert await ledger.flush() == 1  # both batches, each written once
    assert await ledger.days_active(CHAT, 1) == 1
    assert await _totals(db) == {"message": 2}
    assert await _leftovers(prefix) == []


async def test_with_redis_down_the_counts_go_straight_to_the_database_logged_once(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(NOW)
    ledger = Ledger(
        db, clock, buffer=RedisBuffer(process_client("redis://127.0.0.1:1/0"))
    )  # nothing there
    with caplog.at_level(logging.WARNING, logger="bot.services.ledger"):
        for _ in range(3):
            ledger.count(CHAT, 1, M)
            ledger.count(CHAT, 2, R)
            assert await ledger.flush() == 2
            clock.advance(timedelta(minutes=1))  # past the retry pause: Redis tried again
    assert await _totals(db) == {"message": 3, "reaction": 3}
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1


async def test_an_outage_that_ends_and_comes_again_is_logged_each_time_and_loses_nothing(
    db: Database, prefix: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(NOW)
    ledger = Ledger(db, clock, buffer=RedisBuffer(process_client(), prefix))

    async def down(*_args: object, **_kwargs: object) -> None:
        raise RedisDown("connection refused")

    with caplog.at_level(logging.INFO, logger="bot.services.ledger"):
        for _ in range(2):
            with monkeypatch.context() as patch:
                patch.setattr(RedisBuffer, "push", down)
                ledger.count(CHAT, 1, M)
                assert await ledger.flush() == 1  # straight to the database
                clock.advance(timedelta(seconds=31))
                ledger.count(CHAT, 1, M)
                assert await ledger.flush() == 1  # tried again, still down
            clock.advance(timedelta(seconds=31))
            assert await ledger.flush() == 0  # back, with nothing to push
        ledger.count(CHAT, 2, R)
        assert await ledger.flush() == 1  # through Redis
    assert await _totals(db) == {"message": 4, "reaction": 1}
    assert await _leftovers(prefix) == []
    messages = [r.getMessage() for r in caplog.records]
    assert sum("Redis unavailable" in m for m in messages) == 2
    assert sum("Redis is back" in m for m in messages) == 2
