"""The deadline sweeper on a real migrated database with a moved clock."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.db import Database
from jobs.deadlines import DeadlineSweeper, retry_delay
from models.deadlines import DeadlineRepository


async def test_a_deadline_runs_once_when_due_and_not_before(db: Database) -> None:
    clock = FakeClock()
    ran: list[tuple[int, int]] = []

    async def action(chat_id: int, user_id: int) -> None:
        ran.append((chat_id, user_id))

    async with db.transaction() as session:
        await DeadlineRepository(session).schedule(
            "verify", -100, 7, clock.now() + timedelta(minutes=5)
        )
    sweeper = DeadlineSweeper(db, clock, {"verify": action})

    assert await sweeper.sweep() == 0
    clock.advance(timedelta(minutes=5))
    assert await sweeper.sweep() == 1
    assert ran == [(-100, 7)]
    clock.advance(timedelta(hours=1))
    assert await sweeper.sweep() == 0
    assert ran == [(-100, 7)]


async def test_rescheduling_moves_the_deadline_instead_of_adding_one(db: Database) -> None:
    clock = FakeClock()
    async with db.transaction() as session:
        repo = DeadlineRepository(session)
        await repo.schedule("verify", -100, 7, clock.now() + timedelta(minutes=1))
        await repo.schedule("verify", -100, 7, clock.now() + timedelta(minutes=10))
    ran: list[int] = []

    async def action(chat_id: int, user_id: int) -> None:
        ran.append(user_id)

    sweeper = DeadlineSweeper(db, clock, {"verify": action})
    clock.advance(timedelta(minutes=2))
    assert await sweeper.sweep() == 0
    clock.advance(timedelta(minutes=10))
    assert await sweeper.sweep() == 1
    assert ran == [7]


async def test_a_failing_action_is_retried_with_backoff_and_never_dropped(db: Database) -> None:
    clock = FakeClock()
    attempts: list[float] = []
    start = clock.now()
    healthy_after = timedelta(minutes=30)

    async def flaky(chat_id: int, user_id: int) -> None:
        attempts.append((clock.now() - start).total_seconds() / 60)
        if clock.now() - start < healthy_after:
            raise RuntimeError("Telegram is down")

    async with db.transaction() as session:
        await DeadlineRepository(session).schedule("verify", -100, 9, clock.now())
    sweeper = DeadlineSweeper(db, clock, {"verify": flaky})
    await sweeper.sweep()
    await sweeper.sweep()  # rescheduled: not retried at once
    assert attempts == [0]
    for _ in range(60):
        clock.advance(timedelta(minutes=1))
        await sweeper.sweep()
    # 1, 2, 4, 8 minutes apart, then every 10 minutes until it works
    assert attempts == [0, 1, 3, 7, 15, 25, 35]
    async with db.transaction() as session:
        assert await DeadlineRepository(session).get("verify", -100, 9) is None


def test_retry_delay_is_capped() -> None:
    assert [retry_delay(n).total_seconds() for n in range(1, 8)] == [
        60,
        120,
        240,
        480,
        600,
        600,
        600,
    ]


async def test_two_sweepers_never_run_the_same_deadline(db: Database) -> None:
    import asyncio

    clock = FakeClock()
    ran: list[int] = []

    async def action(chat_id: int, user_id: int) -> None:
        await asyncio.sleep(0)  # let the other sweeper run in between
        ran.append(user_id)

    async with db.transaction() as session:
        repo = DeadlineRepository(session)
        for user_id in range(20):
            await repo.schedule("verify", -100, user_id, clock.now())
    first = DeadlineSweeper(db, clock, {"verify": action})
    second = DeadlineSweeper(db, clock, {"verify": action})
    await asyncio.gather(first.sweep(), second.sweep())
    assert sorted(ran) == list(range(20))
