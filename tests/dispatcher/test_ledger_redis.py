"""The activity ledger with REDIS_URL set, through the production dispatcher: the minute flush
goes through Redis and leaves nothing there, no message text reaches Redis, and counts a
process took from Redis survive it dying before its database write."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from bot.services.ledger import LedgerKind
from models.ledger import LedgerRepository
from tests.dispatcher.conftest import MEMBER, OWNER, Harness, restart, running_harness
from tests.dispatcher.test_ledger import SECRET, flush_job, ledger_rows, totals
from tests.dispatcher.test_moderation import say
from tests.unit.test_pace import REDIS_URL  # this worker's own Redis db

PREFIX = "hearth:ledger:"


async def _keys() -> list[bytes]:
    client = Redis.from_url(REDIS_URL)
    try:
        return [key async for key in client.scan_iter(match=PREFIX + "*")]
    finally:
        await client.aclose()


async def _clean() -> None:
    """Empty this worker's Redis db: the ledger's keys, and flood windows and leases an
    earlier test left under the same chat and people (they would mute the member here)."""
    client = Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


@pytest.fixture
async def shared(db_url: str) -> AsyncIterator[Harness]:
    """A harness whose ledger goes through this worker's Redis db (emptied first)."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        await client.ping()
    except Exception:
        pytest.skip(f"no Redis at {REDIS_URL}")
    finally:
        await client.aclose()
    await _clean()
    async with running_harness(db_url, redis_url=REDIS_URL) as h:
        yield h
    await _clean()


async def test_the_minute_flush_goes_through_redis_and_keeps_no_text(shared: Harness) -> None:
    h = shared
    await say(h, MEMBER, SECRET)
    await say(h, MEMBER, "second")
    await say(h, OWNER, "hi")
    await flush_job(h)

    assert totals(await ledger_rows(h)) == {
        (MEMBER, LedgerKind.MESSAGE): 2,
        (OWNER, LedgerKind.MESSAGE): 1,
    }
    assert await _keys() == []  # drained: nothing left in Redis after the write


async def test_counts_taken_from_redis_survive_a_process_dying_before_its_write(
    shared: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = shared
    for n in range(3):
        await say(h, MEMBER, f"message {n}")

    async def dies(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("the process died during the write")

    with monkeypatch.context() as patch:
        patch.setattr(LedgerRepository, "add", dies)
        with pytest.raises(ConnectionError):
            await flush_job(h)
    await restart(h)  # a new process: the old one's memory is gone, Redis is not
    await say(h, OWNER, "after the restart")
    await flush_job(h)
    assert totals(await ledger_rows(h)) == {(OWNER, LedgerKind.MESSAGE): 1}

    h.clock.advance(timedelta(minutes=6))  # the dead process's taken counts are anyone's now
    await flush_job(h)
    assert totals(await ledger_rows(h)) == {
        (MEMBER, LedgerKind.MESSAGE): 3,
        (OWNER, LedgerKind.MESSAGE): 1,
    }
    assert await _keys() == []
