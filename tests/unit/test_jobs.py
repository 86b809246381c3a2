"""The table of scheduled jobs. Jobs must be coroutine functions: APScheduler's asyncio executor
runs anything else in a thread, where a returned coroutine is never awaited."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import build_application
from bot.clock import FakeClock, FakeTimer, OffsetClock
from bot.config import Settings
from jobs.schedule import Job, register_jobs, scheduled_jobs
from jobs.welcomes import WelcomePacer
from tests.conftest import close_session


async def test_every_scheduled_job_is_awaited(db_url: str) -> None:
    settings = Settings(
        bot_token="123:TOKEN",  # type: ignore[arg-type]
        database_url=db_url,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = build_application(settings)
    try:
        jobs = app.scheduler.get_jobs()
        assert {job.id for job in jobs} >= {
            "deadlines",
            "checkins",
            "promotions",
            "activity",
            "counters",
            "reconcile_stars",
            "ledger_rollup",
            "retention",
        }
        for job in jobs:
            assert inspect.iscoroutinefunction(job.func), job.id
    finally:
        await close_session(app.bot)
        await app.db.close()


def test_the_table_holds_every_job_and_the_start_up_grace_is_a_setting() -> None:
    async def work() -> int:
        return 0

    async def prune() -> None:
        return None

    jobs = scheduled_jobs(
        sweep_deadlines=work,
        checkin_tick=work,
        promote=work,
        flush_activity=work,
        prune_counters=prune,
        reconcile=None,
        sweep_interval=0.5,
        startup_grace=0.25,
        roll_up_ledger=work,
    )
    by_id = {job.id: job for job in jobs}
    assert set(by_id) == {
        "deadlines",
        "checkins",
        "promotions",
        "activity",
        "counters",
        "ledger_rollup",
    }
    assert by_id["ledger_rollup"].every == timedelta(hours=24)
    assert by_id["deadlines"].first_after == timedelta(seconds=0.25)
    assert by_id["checkins"].first_after == timedelta(seconds=0.25)
    assert by_id["checkins"].every == timedelta(seconds=1)  # never more often than once a second
    assert by_id["promotions"].first_after is None


async def test_first_runs_are_placed_on_the_given_clock() -> None:
    async def work() -> int:
        return 0

    clock = FakeClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    scheduler = AsyncIOScheduler(timezone=UTC)
    register_jobs(
        scheduler,
        [
            Job("soon", work, timedelta(seconds=2), first_after=timedelta(seconds=5)),
            Job("later", work, timedelta(minutes=1)),
        ],
        clock,
    )
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs["soon"].next_run_time == clock.now() + timedelta(seconds=5)
    assert jobs["soon"].trigger.interval == timedelta(seconds=2)
    assert jobs["later"].trigger.interval == timedelta(minutes=1)


def test_the_offset_clock_follows_its_file(tmp_path: Path) -> None:
    offset_file = tmp_path / "offset"
    clock = OffsetClock(offset_file)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)  # no file: real time
    offset_file.write_text("86400")
    assert clock.now() - datetime.now(UTC) > timedelta(hours=23, minutes=59)
    offset_file.write_text("3600.5")
    assert timedelta(minutes=59) < clock.now() - datetime.now(UTC) < timedelta(minutes=61)


async def test_the_fake_timer_moves_instead_of_waiting() -> None:
    timer = FakeTimer()
    started = timer.monotonic()
    await timer.sleep(30)
    assert timer.monotonic() - started == 30 and timer.slept == 30


async def test_the_welcome_pacer_posts_once_per_interval_on_its_timer() -> None:
    timer = FakeTimer()
    posted: list[int] = []

    async def waiting() -> list[int]:
        return [-100]

    async def post(chat_id: int) -> int:
        posted.append(chat_id)
        return 1

    pacer = WelcomePacer(waiting, post, interval=6.0, timer=timer)
    assert await pacer.tick() == 6.0
    timer.advance(5.5)
    assert await pacer.tick() == 0.5  # not yet: half a second to go
    assert posted == [-100]
    timer.advance(0.5)
    assert await pacer.tick() == 6.0
    assert posted == [-100, -100]
