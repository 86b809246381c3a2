"""APScheduler wiring: the deadline sweep, the promotion sweep, the activity flush."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler


def register_jobs(
    scheduler: AsyncIOScheduler,
    *,
    sweep_deadlines: Callable[[], Awaitable[int]],
    promote: Callable[[], Awaitable[int]],
    flush_activity: Callable[[], Awaitable[int]],
    sweep_interval: float,
) -> None:
    """Add the recurring jobs. Jobs hold no state: each reads due work from the database."""
    scheduler.add_job(
        sweep_deadlines,
        "interval",
        seconds=sweep_interval,
        id="deadlines",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.add_job(
        promote,
        "interval",
        seconds=60,
        id="promotions",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.add_job(
        flush_activity,
        "interval",
        seconds=60,
        id="activity",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
