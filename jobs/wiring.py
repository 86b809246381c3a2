"""The composition root's wiring tables: who reacts to which event, which service handles
each kind of deadline row, and which recurring jobs run (bot/app.py builds the rest)."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import SystemClock
from bot.config import Settings
from bot.context import Hearth
from bot.events import (
    MemberArrived,
    MemberJoined,
    MemberLeft,
    MembersGraduated,
    MemberVerified,
    MessageUndeliverable,
    Subscription,
    WelcomeAwaited,
    on,
)
from bot.leader import Leadership
from bot.services.billing import BILL_END, BILL_REMIND
from bot.services.buddies import FOLLOWUP
from bot.services.ideas.edits import EDIT_PASS
from bot.services.kb import KB_CONSENT
from bot.services.ledger import LedgerKind
from bot.services.moderation import UNPOST
from bot.services.onboarding import REQUEST, VERIFY
from bot.services.retention import PURGE_LEFT
from jobs.deadlines import DeadlineSweeper
from jobs.schedule import Job, register_jobs, scheduled_jobs
from jobs.thanks import thanks_jobs
from jobs.welcomes import WelcomePacer


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
            KB_CONSENT: hearth.kb.stories.expire,  # an unanswered story's text is deleted
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
    ) + thanks_jobs(hearth.thanks)
    # the ideas board: vote buttons brought up to date in batches (one process does it)
    jobs.append(Job("idea_buttons", hearth.ideas.flush, EDIT_PASS, shared=True))
    # circles: the weekly digest of calls and the dormancy note, each week claimed once
    jobs.append(Job("circles_weekly", hearth.circles.weekly.tick, timedelta(hours=1), shared=True))
    # the knowledge base: entries unused for 180 days, listed to admins once a month
    jobs.append(Job("kb_unused", hearth.kb_unused.tick, timedelta(hours=6), shared=True))
    # APScheduler fires on the wall clock, so first runs are placed on it too, whatever
    # clock the services read (under test that one runs ahead)
    register_jobs(scheduler, jobs, SystemClock(), leadership)
    return scheduler


def subscriptions(hearth: Hearth, pacer: WelcomePacer) -> list[Subscription[Any]]:
    """Who reacts to which event, in the order they run. A failing subscriber is logged and
    skipped, never undoing the use case that published the event."""
    billing, buddies, checkins = hearth.billing, hearth.buddies, hearth.checkins
    ledger, retention = hearth.ledger, hearth.retention
    return [
        on(MemberArrived, lambda e: ledger.count(e.chat_id, e.user_id, LedgerKind.JOINED)),
        on(MemberJoined, lambda e: billing.member_joined(e.chat, e.person, e.privileged)),
        on(WelcomeAwaited, lambda e: pacer.wake()),
        on(MemberVerified, lambda e: ledger.count(e.chat_id, e.user_id, LedgerKind.VERIFIED)),
        on(MemberVerified, lambda e: buddies.assign(e.chat_id, e.user_id)),
        on(MemberVerified, lambda e: checkins.offer(e.chat_id, e.user_id)),
        on(MemberVerified, lambda e: hearth.circles.offer(e.chat_id, e.user_id)),
        on(MemberLeft, lambda e: ledger.left(e.chat_id, e.user_id, removed=e.removed)),
        on(MemberLeft, lambda e: buddies.member_left(e.chat_id, e.user_id)),
        on(MemberLeft, lambda e: billing.member_left(e.chat_id, e.user_id)),
        on(MemberLeft, lambda e: retention.member_left(e.chat_id, e.user_id)),  # purged later
        on(MemberLeft, lambda e: hearth.circles.member_left(e.chat_id, e.user_id)),
        on(MembersGraduated, lambda e: buddies.graduated(e.chat_id, list(e.user_ids))),
        on(
            MembersGraduated,
            lambda e: ledger.count_each(e.chat_id, e.user_ids, LedgerKind.PROMOTED),
        ),
        on(MessageUndeliverable, lambda e: checkins.undeliverable(e.key, e.chat_id)),
    ]
