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
from bot.leader import Leadership, led

STARTUP_GRACE = 5.0  # seconds; the default of the STARTUP_GRACE setting
RECONCILE_AFTER_START = timedelta(minutes=1)
ROLL_UP_AFTER_START = timedelta(minutes=10)
RETENTION_AFTER_START = timedelta(minutes=15)


@dataclass(frozen=True)
class Job:
    """One recurring job: what runs, how often, and when it first runs after start-up
    (`first_after=None`: one `every` after start-up, APScheduler's default)."""

    id: str
    run: Callable[[], Awaitable[object]]
    every: timedelta
    first_after: timedelta | None = None
    shared: bool = False  # a whole-table pass: only the leading process runs it (bot/leader.py)


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
    retention: Callable[[], Awaitable[int]] | None = None,
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
        Job("promotions", promote, timedelta(seconds=60), shared=True),
        Job("activity", flush_activity, timedelta(seconds=60)),  # and the ledger's counters
        Job("counters", prune_counters, timedelta(seconds=300)),
    ]
    if roll_up_ledger is not None:  # old hourly ledger rows become daily ones
        jobs.append(
            Job("ledger_rollup", roll_up_ledger, timedelta(hours=24), ROLL_UP_AFTER_START, True)
        )
    if retention is not None:  # words past each chat's retention settings are deleted
        jobs.append(Job("retention", retention, timedelta(hours=24), RETENTION_AFTER_START, True))
    if health_digest is not None:  # the weekly health note to each chat's admins
        jobs.append(Job("health_digest", health_digest, timedelta(seconds=60), grace, True))
    if reconcile is not None:
        # paid membership: payments whose updates were missed, read from getStarTransactions
        jobs.append(
            Job("reconcile_stars", reconcile, timedelta(hours=24), RECONCILE_AFTER_START, True)
        )
    return jobs


def register_jobs(
    scheduler: AsyncIOScheduler,
    jobs: Iterable[Job],
    clock: Clock,
    leadership: Leadership | None = None,
) -> None:
    """Add each job as an interval job: one instance at a time, missed runs coalesced.
    Shared jobs run only while this process leads; with a `leadership`, a job renews it
    every `renew_every` so the lease outlives the gaps between daily jobs.

    `clock` must be the one APScheduler fires on (the wall clock), since `first_after`
    becomes an absolute first run time."""
    jobs = list(jobs)
    if leadership is not None:
        jobs.append(Job("leadership", leadership.lead, leadership.renew_every, timedelta(0)))
    for job in jobs:
        first = {} if job.first_after is None else {"next_run_time": clock.now() + job.first_after}
        run = led(leadership, job.run) if job.shared and leadership is not None else job.run
        scheduler.add_job(
            run,
            "interval",
            seconds=job.every.total_seconds(),
            id=job.id,
            name=job.id,  # what APScheduler's log lines call it
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            **first,
        )
