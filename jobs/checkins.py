"""The check-in job: one periodic tick reads due rounds and nudges from the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import SystemClock
from jobs.schedule import STARTUP_GRACE


def register_checkin_jobs(
    scheduler: AsyncIOScheduler, *, tick: Callable[[], Awaitable[int]], interval: float
) -> None:
    """Plan, start, remind and close check-ins and send nudges; stateless, so a restart
    (or a round whose time passed while the bot was down) is picked up by the first run."""
    scheduler.add_job(
        tick,
        "interval",
        seconds=max(interval, 1.0),
        next_run_time=SystemClock().now() + timedelta(seconds=STARTUP_GRACE),
        id="checkins",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
