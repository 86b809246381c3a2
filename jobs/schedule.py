"""APScheduler wiring: the deadline sweep, the promotion sweep, the activity flush, and
the pruning of in-memory rate counters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import SystemClock

STARTUP_GRACE = 5.0
RECONCILE_AFTER_START = timedelta(minutes=1)


def register_jobs(
    scheduler: AsyncIOScheduler,
    *,
    sweep_deadlines: Callable[[], Awaitable[int]],
    promote: Callable[[], Awaitable[int]],
    flush_activity: Callable[[], Awaitable[int]],
    prune_counters: Callable[[], Awaitable[None]],
    sweep_interval: float,
    reconcile: Callable[[], Awaitable[int]] | None = None,
) -> None:
    """Add the recurring jobs. Jobs hold no state: each reads due work from the database."""
    # the first sweep waits a little, so button presses queued while the bot was down are
    # handled before anyone is removed for not pressing
    scheduler.add_job(
        sweep_deadlines,
        "interval",
        seconds=sweep_interval,
        next_run_time=SystemClock().now() + timedelta(seconds=STARTUP_GRACE),
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
    scheduler.add_job(
        prune_counters,
        "interval",
        seconds=300,
        id="counters",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    if reconcile is not None:
        # paid membership: payments whose updates were missed, read from getStarTransactions
        scheduler.add_job(
            reconcile,
            "interval",
            hours=24,
            next_run_time=SystemClock().now() + RECONCILE_AFTER_START,
            id="reconcile_stars",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
