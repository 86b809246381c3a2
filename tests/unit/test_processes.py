"""Several processes: one per database unless PostgreSQL and Redis are both there, and one
leader for the whole-table scheduled jobs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import FakeClock
from bot.config import ConfigError
from bot.db import Database
from bot.leader import Leadership, RedisLeader
from bot.redis_pool import connect
from bot.singleton import ANOTHER_PROCESS, SingleProcess
from jobs.schedule import Job, register_jobs
from tests.unit.test_pace import REDIS_URL, _redis_available


async def _second_process_refused(db_url: str, redis_url: str | None) -> bool:
    """Start two guards on the same database as two processes would; whether the second
    one was refused (and the first can hand over once it stops)."""
    first_db, second_db = Database(db_url), Database(db_url)
    first = SingleProcess(first_db.engine, "42", redis_url)
    second = SingleProcess(second_db.engine, "42", redis_url)
    try:
        await first.acquire()
        try:
            await second.acquire()
        except ConfigError as error:
            assert str(error) == ANOTHER_PROCESS
            await first.release()
            await second.acquire()  # the first one stopped: the next may start
            return True
        return False
    finally:
        await first.release()
        await second.release()
        await first_db.close()
        await second_db.close()


async def test_a_second_process_on_the_same_database_refuses_to_start(
    backend: str, db_url: str
) -> None:
    assert await _second_process_refused(db_url, None)


async def test_sqlite_stays_one_process_even_with_redis(tmp_path: object, db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    assert await _second_process_refused(db_url, REDIS_URL)


@pytest.mark.postgres
async def test_postgres_with_redis_runs_several_processes(backend: str, db_url: str) -> None:
    if backend != "postgres":
        pytest.skip("PostgreSQL only")
    assert not await _second_process_refused(db_url, REDIS_URL)


class Toggle:
    """A leadership the test switches."""

    renew_every = timedelta(seconds=15)

    def __init__(self) -> None:
        self.leading = False

    async def lead(self) -> bool:
        return self.leading

    async def close(self) -> None:
        return None


async def test_shared_jobs_run_only_in_the_leading_process() -> None:
    ran: list[str] = []

    async def promote() -> None:
        ran.append("promotions")

    async def flush() -> None:
        ran.append("activity")

    leadership: Leadership = Toggle()
    scheduler = AsyncIOScheduler(timezone=UTC)
    register_jobs(
        scheduler,
        [
            Job("promotions", promote, timedelta(minutes=1), shared=True),
            Job("activity", flush, timedelta(minutes=1)),
        ],
        FakeClock(datetime(2026, 3, 1, tzinfo=UTC)),
        leadership,
    )
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert "leadership" in jobs  # the lease is renewed on its own, between daily jobs
    await jobs["promotions"].func()
    await jobs["activity"].func()
    assert ran == ["activity"]  # every process flushes its own counters
    assert isinstance(leadership, Toggle)
    leadership.leading = True
    await jobs["promotions"].func()
    assert ran == ["activity", "promotions"]


async def test_one_process_leads_and_another_takes_over_when_it_dies() -> None:
    if not await _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    bot_id = uuid.uuid4().hex
    clients = connect(REDIS_URL), connect(REDIS_URL)  # two processes
    first = RedisLeader(clients[0], bot_id, lease=timedelta(milliseconds=300))
    second = RedisLeader(clients[1], bot_id, lease=timedelta(milliseconds=300))
    try:
        assert await first.lead()
        assert not await second.lead()
        assert await first.lead()  # renewing
        await first.close()  # a graceful stop hands over at once
        assert await second.lead()
        assert not await first.lead()
    finally:
        await second.close()
        for client in clients:
            await client.aclose()


async def test_a_leader_that_dies_is_replaced_once_its_lease_runs_out() -> None:
    if not await _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    bot_id = uuid.uuid4().hex
    dead_client, alive_client = connect(REDIS_URL), connect(REDIS_URL)
    dead = RedisLeader(dead_client, bot_id, lease=timedelta(milliseconds=200))
    alive = RedisLeader(alive_client, bot_id, lease=timedelta(milliseconds=200))
    try:
        assert await dead.lead()
        assert not await alive.lead()
        await dead_client.aclose()  # killed: no hand-over, no renewal
        name = f"hearth:leader:{bot_id}"
        await alive_client.delete(name)  # its lease runs out (instead of waiting for that)
        assert await alive.lead()
    finally:
        await alive.close()
        await alive_client.aclose()
