"""The composition root's job half: which service handles each kind of deadline row, and
which recurring jobs run (bot/app.py builds the rest)."""

from __future__ import annotations

from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import SystemClock
from bot.config import Settings
from bot.context import Hearth
from bot.leader import Leadership
from bot.services.billing import BILL_END, BILL_REMIND
from bot.services.buddies import FOLLOWUP
from bot.services.moderation import UNPOST
from bot.services.onboarding import REQUEST, VERIFY
from bot.services.retention import PURGE_LEFT
from jobs.deadlines import DeadlineSweeper
from jobs.schedule import register_jobs, scheduled_jobs


def build_sweeper(hearth: Hearth) -> DeadlineSweeper:
    """Which service handles each kind of deadline row."""
    return DeadlineSweeper(
        hearth.db,
        hearth.clock,
        {
            VERIFY: hearth.onboarding.expire,
            REQUEST: hearth.billing.expire_request,
            FOLLOWUP: hearth.buddies.followup,
            UNPOST: hearth.moderation.unpost,
            BILL_END: hearth.billing.expire,
            BILL_REMIND: hearth.billing.remind,
            PURGE_LEFT: hearth.retention.purge_left,
        },
    )


def build_scheduler(
    settings: Settings,
    hearth: Hearth,
    sweeper: DeadlineSweeper,
    leadership: Leadership | None = None,
) -> AsyncIOScheduler:
    """The table of scheduled jobs; each reads its due work from the database."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    jobs = scheduled_jobs(
        sweep_deadlines=sweeper.sweep,
        checkin_tick=hearth.checkins.tick,
        promote=hearth.trust.promote_due,
        flush_activity=hearth.flush_counters,
        prune_counters=hearth.moderation.prune_counters,
        reconcile=hearth.billing.reconcile,
        sweep_interval=settings.sweep_interval,
        startup_grace=settings.startup_grace,
        roll_up_ledger=hearth.ledger.roll_up,
        retention=hearth.retention.run,
        health_digest=hearth.digest.tick,
    )
    # APScheduler fires on the wall clock, so first runs are placed on it too, whatever
    # clock the services read (under test that one runs ahead)
    register_jobs(scheduler, jobs, SystemClock(), leadership)
    return scheduler
