"""Recent message authors in Redis: a reaction that reaches another process of the bot (each
`SharedAuthors` below stands for one process, with its own client) finds the author of a
message the first process saw; only message id -> author id is stored, for 12 to 13 hours;
/forget reaches Redis; the per-message path batches its writes; Redis down falls back to
what the process itself saw, said once."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from bot.redis_pool import connect
from bot.services.thanks import SharedAuthors
from bot.services.thanks.authors_redis import MAX_BATCH
from tests.redis_address import redis_url

REDIS_URL = redis_url(12)
NOW = datetime(2026, 12, 1, 12, 20, tzinfo=UTC)
CHAT = -100123


@pytest.fixture
async def clients() -> AsyncIterator[tuple[Redis, Redis]]:
    """Two processes' clients; skips without Redis."""
    pair = connect(REDIS_URL), connect(REDIS_URL)
    try:
        await pair[0].ping()
    except Exception:
        for client in pair:
            await client.aclose()
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield pair
    for client in pair:
        await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"test:authors:{uuid.uuid4().hex}:"


async def test_a_message_seen_by_one_process_has_its_author_known_in_another(
    clients: tuple[Redis, Redis], prefix: str
) -> None:
    first, second = SharedAuthors(clients[0], prefix), SharedAuthors(clients[1], prefix)
    first.seen(CHAT, 41, 7, NOW)
    await first.settle()
    assert await second.author(CHAT, 41, NOW + timedelta(hours=12)) == 7
    assert await second.author(CHAT, 42, NOW) is None  # a message nobody saw
    assert await second.author(-100999, 41, NOW) is None  # the same id in another chat
    # written at 12:20: known until the hour's end plus 12 hours, not after
    assert await second.author(CHAT, 41, NOW + timedelta(hours=12, minutes=39)) == 7
    assert await second.author(CHAT, 41, NOW + timedelta(hours=12, minutes=41)) is None


async def test_only_the_author_id_is_stored_and_it_expires(
    clients: tuple[Redis, Redis], prefix: str
) -> None:
    authors = SharedAuthors(clients[0], prefix)
    authors.seen(CHAT, 41, 7, NOW)
    authors.seen(CHAT, 43, 8, NOW + timedelta(minutes=1))
    await authors.settle()
    keys = [key async for key in clients[1].scan_iter(match=prefix + "*")]
    assert len(keys) == 1  # one hash per chat and hour
    assert await clients[1].hgetall(keys[0]) == {b"41": b"7", b"43": b"8"}
    ttl = await clients[1].ttl(keys[0])
    assert 12 * 3600 < ttl <= 12 * 3600 + 40 * 60  # the hour ends at 13:00; 12 hours after


async def test_forget_person_reaches_every_process(
    clients: tuple[Redis, Redis], prefix: str
) -> None:
    first, second = SharedAuthors(clients[0], prefix), SharedAuthors(clients[1], prefix)
    first.seen(CHAT, 41, 7, NOW)
    first.seen(CHAT, 42, 8, NOW)
    first.seen(-100999, 5, 7, NOW - timedelta(hours=2))
    await first.settle()
    await second.forget_person(7)  # /forget handled by the other process
    assert await second.author(CHAT, 41, NOW) is None
    assert await second.author(-100999, 5, NOW) is None
    assert await second.author(CHAT, 42, NOW) == 8


async def test_a_burst_is_written_in_one_round_trip_not_one_per_message(
    clients: tuple[Redis, Redis], prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    authors = SharedAuthors(clients[0], prefix)
    writes: list[int] = []
    real = SharedAuthors._write

    async def counted(self: SharedAuthors, batch: list[tuple[int, int, int, int]]) -> None:
        writes.append(len(batch))
        await real(self, batch)

    monkeypatch.setattr(SharedAuthors, "_write", counted)
    for n in range(500):  # one loop turn's messages: the per-message path never waits
        authors.seen(CHAT, 1000 + n, n % 50, NOW)
    await authors.settle()
    assert writes == [500]
    other = SharedAuthors(clients[1], prefix)
    assert await other.author(CHAT, 1499, NOW) == 49


async def test_redis_down_the_process_still_knows_what_it_saw_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = connect("redis://127.0.0.1:1/0")  # nothing listens there
    authors = SharedAuthors(client, "test:authors:")
    try:
        with caplog.at_level(logging.WARNING, logger="bot.services.thanks.authors_redis"):
            authors.seen(CHAT, 41, 7, NOW)
            await authors.settle()
            assert await authors.author(CHAT, 41, NOW) == 7  # this process saw it
            assert await authors.author(CHAT, 42, NOW) is None  # asks Redis: fails quietly
            authors.seen(CHAT, 43, 8, NOW)
            await authors.settle()
    finally:
        await client.aclose()
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1


async def test_forget_in_one_process_reaches_the_memory_of_another(
    clients: tuple[Redis, Redis], prefix: str
) -> None:
    """Review: /forget handled by one process must not leave the person's recent messages in
    another process's memory, which `author` asks first: a reaction reaching that process
    would still be credited to the forgotten person for up to 12 hours."""
    first, second = SharedAuthors(clients[0], prefix), SharedAuthors(clients[1], prefix)
    second.seen(CHAT, 41, 7, NOW)  # the message was handled by the second process
    second.seen(CHAT, 42, 8, NOW)  # someone else's
    await second.settle()
    await first.forget_person(7)  # /forget was handled by the first
    second.seen(CHAT, 43, 7, NOW - timedelta(minutes=1))  # a late pair the second queued
    await second.settle()
    assert await first.author(CHAT, 41, NOW) is None  # gone from Redis
    assert await second.author(CHAT, 41, NOW) is None  # and not credited by the other process
    assert await first.author(CHAT, 43, NOW) is None  # nor a pair written back after the scan
    assert await second.author(CHAT, 42, NOW) == 8  # the others' thanks still count


async def test_with_redis_away_a_backlog_is_tried_once_not_batch_by_batch() -> None:
    """At shutdown the process waits for its queued writes: with Redis away, each batch
    would cost a socket timeout (a silent Redis: 2 s each, longer than a container's stop
    grace for a long backlog). One failed write gives the backlog up; memory still has it."""
    client = connect("redis://127.0.0.1:1/0")  # nothing listens there
    authors = SharedAuthors(client, "test:authors:")
    attempts = 0
    real_write = authors._write

    async def counted(batch: list[tuple[int, int, int, int]]) -> bool:
        nonlocal attempts
        attempts += 1
        return await real_write(batch)

    authors._write = counted  # type: ignore[method-assign]
    try:
        for n in range(3 * MAX_BATCH):
            authors.seen(CHAT, 10_000 + n, 7, NOW)
        await authors.settle()
        assert attempts == 1
        assert await authors.author(CHAT, 10_000, NOW) == 7  # this process still knows
    finally:
        await client.aclose()
