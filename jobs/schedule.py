"""The table of scheduled jobs, registered with APScheduler by the composition root.

Jobs hold no state: each reads due work from the database, so a restart (or work whose time
passed while the bot was down) is picked up by the first run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock

STARTUP_GRACE = 5.0  # seconds; the default of the STARTUP_GRACE setting
RECONCILE_AFTER_START = timedelta(minutes=1)
ROLL_UP_AFTER_START = timedelta(minutes=10)


@dataclass(frozen=True)
class Job:
    """One recurring job: what runs, how often, and when it first runs after start-up
    (`first_after=None`: one `every` after start-up, APScheduler's default)."""

    id: str
    run: Callable[[], Awaitable[object]]
    every: timedelta
    first_after: timedelta | None = None


def scheduled_jobs(
    *,
    sweep_deadlines: Callable[[], Awaitable[int]],
    checkin_tick: Callable[[], Awaitable[int]],
    promote: Callable[[], Awaitable[int]],
    flush_activity: Callable[[], Awaitable[int]],
    prune_counters: Callable[[], Awaitable[None]],
    reconcile: Callable[[], Awaitable[int]] | None,
    sweep_interval: float,
    startup_grace: float = STARTUP_GRACE,
    roll_up_ledger: Callable[[], Awaitable[int]] | None = None,
    health_digest: Callable[[], Awaitable[int]] | None = None,
) -> list[Job]:
    """Every recurring job of the bot, in one table."""
    # the first sweep and check-in tick wait a little, so button presses queued while the bot
    # was down are handled before anyone is removed for not pressing
    grace = timedelta(seconds=startup_grace)
    jobs = [
        Job("deadlines", sweep_deadlines, timedelta(seconds=sweep_interval), first_after=grace),
        # plan, start, remind and close check-ins and send nudges
        Job("checkins", checkin_tick, timedelta(seconds=max(sweep_interval, 1.0)), grace),
        Job("promotions", promote, timedelta(seconds=60)),
        Job("activity", flush_activity, timedelta(seconds=60)),  # and the ledger's counters
        Job("counters", prune_counters, timedelta(seconds=300)),
    ]
    if roll_up_ledger is not None:  # old hourly ledger rows become daily ones
        jobs.append(Job("ledger_rollup", roll_up_ledger, timedelta(hours=24), ROLL_UP_AFTER_START))
    if health_digest is not None:  # the weekly health note to each chat's admins
        jobs.append(Job("health_digest", health_digest, timedelta(seconds=60), grace))
    if reconcile is not None:
        # paid membership: payments whose updates were missed, read from getStarTransactions
        jobs.append(Job("reconcile_stars", reconcile, timedelta(hours=24), RECONCILE_AFTER_START))
    return jobs


def register_jobs(scheduler: AsyncIOScheduler, jobs: Iterable[Job], clock: Clock) -> None:
    """Add each job as an interval job: one instance at a time, missed runs coalesced.

    `clock` must be the one APScheduler fires on (the wall clock), since `first_after`
    becomes an absolute first run time."""
    for job in jobs:
        first = {} if job.first_after is None else {"next_run_time": clock.now() + job.first_after}
        scheduler.add_job(
            job.run,
            "interval",
            seconds=job.every.total_seconds(),
            id=job.id,
            name=job.id,  # what APScheduler's log lines call it
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            **first,
        )
