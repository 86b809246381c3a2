"""The composition root: builds settings, database, bot, dispatcher and scheduler (bot/serve.py
runs what it builds; bot/client.py builds the Bot)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiogram import Bot, Dispatcher
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.client import build_bot
from bot.clock import Clock, OffsetClock, SystemClock, SystemTimer, Timer
from bot.config import Settings
from bot.context import Hearth, counter_flush
from bot.db import Database
from bot.events import (
    EventBus,
)
from bot.invalidation import Invalidations, build_invalidations, wire
from bot.leader import Leadership, build_leadership
from bot.locks import Locks
from bot.metrics import Metrics
from bot.middlewares.gate import GroupGate
from bot.middlewares.language import LanguageMiddleware
from bot.migrated import FollowUpgrades
from bot.notifier import Notifier
from bot.outbox import Outbox
from bot.sendpace import SendBudget, build_budget
from bot.services.activity import ActivityTracker
from bot.services.billing import BillingService
from bot.services.buddies import BuddyService
from bot.services.chats import ChatService
from bot.services.checkins import CheckinService
from bot.services.drift import DriftService
from bot.services.health import HealthService
from bot.services.health_digest import HealthDigest
from bot.services.health_rhythm import HealthRhythm
from bot.services.ideas import IdeaBoard
from bot.services.ledger import Ledger
from bot.services.ledger_redis import RedisBuffer
from bot.services.members import AdminGuard, MemberDirectory
from bot.services.moderation import ModerationService
from bot.services.onboarding import JoinRequests, Onboarding
from bot.services.pace import build_pace
from bot.services.privacy import PrivacyService
from bot.services.retention import Retention, hourly_limit
from bot.services.settings import SettingsService
from bot.services.supergroups import ChatUpgrades
from bot.services.topics import ChatTopics
from bot.services.trust import TrustService
from handlers import build_router
from jobs.deadlines import DeadlineSweeper
from jobs.welcomes import WelcomePacer
from jobs.wiring import build_scheduler, build_sweeper, subscriptions
from models.users import UserRepository

log = logging.getLogger("hearth")

ALLOWED_UPDATES = [
    "message",
    "edited_message",
    "callback_query",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
]
ALLOWED_UPDATES += ["pre_checkout_query", "subscription"]  # paid membership (Stars)
ALLOWED_UPDATES += ["message_reaction", "message_reaction_count"]  # the ledger counts reactions
SHUTDOWN_GRACE = 5.0


def build_dispatcher(hearth: Hearth) -> Dispatcher:
    dp = Dispatcher()
    dp["hearth"] = hearth
    gate = GroupGate()
    dp.message.outer_middleware(gate)
    dp.edited_message.outer_middleware(gate)
    language = LanguageMiddleware()
    dp.message.middleware(language)
    dp.callback_query.middleware(language)
    dp.include_router(build_router())
    return dp


@dataclass
class Application:
    """Everything one running bot consists of."""

    settings: Settings
    bot: Bot
    db: Database
    hearth: Hearth
    dispatcher: Dispatcher
    scheduler: AsyncIOScheduler
    pacer: WelcomePacer
    sweeper: DeadlineSweeper
    budget: SendBudget
    metrics: Metrics
    locks: Locks
    leadership: Leadership | None = None
    _started: bool = field(default=False)

    async def start_background(self) -> None:
        """Recover from a restart, then start the scheduler and the welcome pacer."""
        await self.hearth.onboarding.hold_awaiting()
        await self.hearth.invalidations.start()  # other processes' changes drop our caches
        self.scheduler.start()
        self.pacer.start()
        self.hearth.outbox.start()
        self._started = True

    async def stop_background(self) -> None:
        tasks = set(getattr(self.dispatcher, "_handle_update_tasks", set()))
        if tasks:
            log.info("waiting for %d updates in flight", len(tasks))
            await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE)
        await self.pacer.stop()
        await self.hearth.outbox.stop()
        try:
            await self.hearth.flush_counters()
        except Exception:
            log.exception("could not store recent activity at shutdown")
        await self.hearth.moderation.pace.close()
        await self.hearth.ledger.close()
        await self.budget.close()
        await self.hearth.invalidations.stop()
        await self.locks.close()
        if self.leadership is not None:
            await self.leadership.close()
        if self._started and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.db.close()


def choose_clock(settings: Settings) -> Clock:
    """The real clock; under test (TEST_CLOCK_FILE) real time plus an offset the test moves."""
    if settings.test_clock_file is not None:
        return OffsetClock(Path(settings.test_clock_file))
    return SystemClock()


@dataclass(frozen=True)
class _Core:
    """What almost every service is built with: storage, time, settings and the send side."""

    settings: Settings
    clock: Clock
    timer: Timer
    db: Database
    events: EventBus
    invalidations: Invalidations
    chat_settings: SettingsService
    notifier: Notifier
    outbox: Outbox
    directory: MemberDirectory
    admins: AdminGuard


def _build_core(
    settings: Settings, clock: Clock, timer: Timer, bot: Bot, db: Database, budget: SendBudget
) -> _Core:
    """Settings and the send side: the notifier and the outbox, both posting to each chat's
    chosen forum topic and marking people who blocked the bot unreachable."""

    async def mark_unreachable(user_id: int) -> None:
        async with db.transaction() as session:
            await UserRepository(session).set_reachable(user_id, False)

    invalidations = build_invalidations(settings.redis_url, settings.bot_id)
    chat_settings = SettingsService(
        db, settings.default_language, settings.default_timezone, timer=timer, changes=invalidations
    )
    topics = ChatTopics(chat_settings)  # forums: posts go to the chat's chosen topic
    notifier = Notifier(bot, on_unreachable=mark_unreachable, timer=timer, topics=topics)
    events = EventBus()
    outbox = Outbox(
        db,
        clock,
        bot,
        on_unreachable=mark_unreachable,
        timer=timer,
        topics=topics,
        events=events,
        budget=budget,
    )
    return _Core(
        settings,
        clock,
        timer,
        db,
        events,
        invalidations,
        chat_settings,
        notifier,
        outbox,
        directory=MemberDirectory(db, clock),
        admins=AdminGuard(notifier, settings.owner_ids),
    )


def _build_joining(
    c: _Core, moderation: ModerationService, ledger: Ledger
) -> tuple[JoinRequests, BillingService, Onboarding]:
    """requests -> billing -> onboarding: billing approves paid requests through `requests`
    and gates new ones for onboarding, so nothing needs the other after it is built."""
    requests = JoinRequests(
        c.db,
        c.clock,
        c.notifier,
        c.chat_settings,
        c.directory,
        c.events,
        monotonic=c.timer.monotonic,
    )
    billing = BillingService(
        c.db,
        c.clock,
        c.notifier,
        c.chat_settings,
        requests,
        c.admins,
        secret=c.settings.payment_key,
        old_secrets=(c.settings.bot_token.get_secret_value(),),  # signed with the token earlier
        ledger=ledger,
    )
    onboarding = Onboarding(
        c.db,
        c.clock,
        c.notifier,
        c.chat_settings,
        c.directory,
        c.events,
        requests,
        releaser=moderation,  # a mute outlives leaving and rejoining
        gate=billing,
        owner_ids=c.settings.owner_ids,
    )
    return requests, billing, onboarding


def _build_moderation(c: _Core, ledger: Ledger, locks: Locks) -> ModerationService:
    """Moderation with its counters in memory, or in Redis shared by several processes."""
    return ModerationService(
        c.db,
        c.clock,
        c.notifier,
        c.chat_settings,
        c.admins,
        build_pace(c.settings.redis_url, timer=c.timer),
        timer=c.timer,
        ledger=ledger,
        changes=c.invalidations,
        locks=locks,
    )


def _build_ledger(c: _Core) -> Ledger:
    """The activity ledger; with Redis its counts pass through one hash every process shares."""
    buffer = RedisBuffer(c.settings.redis_url) if c.settings.redis_url else None
    return Ledger(c.db, c.clock, hourly_for=hourly_limit(c.chat_settings), buffer=buffer)


def _build_upgrades(
    c: _Core, flush: Callable[[], Awaitable[int]], moderation: ModerationService
) -> ChatUpgrades:
    """A group that became a supergroup: counters are stored first, caches of it dropped."""
    return ChatUpgrades(
        c.db,
        before=flush,
        forget=(
            c.chat_settings.forget,
            c.admins.admin_changed,
            moderation.forget,
            c.directory.forget_chat,
        ),
    )


def build_hearth(
    settings: Settings,
    clock: Clock,
    timer: Timer,
    bot: Bot,
    db: Database,
    budget: SendBudget,
    locks: Locks,
) -> Hearth:
    """Every service, each given what it needs when it is built; events wire them together."""
    c = _build_core(settings, clock, timer, bot, db, budget)
    activity = ActivityTracker(db)
    ledger = _build_ledger(c)
    moderation = _build_moderation(c, ledger, locks)
    requests, billing, onboarding = _build_joining(c, moderation, ledger)
    buddies = BuddyService(db, clock, c.notifier, c.chat_settings, activity, ledger, locks)
    privacy = PrivacyService(db, clock, c.directory, activity, ledger, buddies.assign)
    health = HealthService(db, clock, ledger, c.notifier, c.chat_settings)
    rhythm = HealthRhythm(db, clock, ledger, c.chat_settings, health)
    hearth = Hearth(
        config=settings,
        clock=clock,
        db=db,
        events=c.events,
        invalidations=c.invalidations,
        notifier=c.notifier,
        chat_settings=c.chat_settings,
        directory=c.directory,
        admins=c.admins,
        chats=ChatService(db, clock, c.directory),
        onboarding=onboarding,
        requests=requests,
        trust=TrustService(db, clock, c.chat_settings, c.directory, c.events),
        activity=activity,
        ledger=ledger,
        health=health,
        buddies=buddies,
        moderation=moderation,
        outbox=c.outbox,
        checkins=CheckinService(
            db, clock, c.notifier, c.chat_settings, activity, c.outbox.wake, ledger, locks
        ),
        billing=billing,
        upgrades=_build_upgrades(c, counter_flush(activity, ledger, health), moderation),
        drift=DriftService(db, clock, ledger, c.chat_settings, c.outbox.wake),
        retention=Retention(db, clock, c.chat_settings, purge_member=privacy.purge_left),
        privacy=privacy,
        rhythm=rhythm,
        digest=HealthDigest(db, clock, c.notifier, c.chat_settings, health, rhythm, c.outbox.wake),
        ideas=IdeaBoard(db, clock, c.notifier, c.chat_settings, c.directory, c.outbox.wake),
    )
    wire(hearth)  # a change in another process drops the cache it names
    return hearth


def build_application(
    settings: Settings, clock: Clock | None = None, timer: Timer | None = None
) -> Application:
    clock = clock or choose_clock(settings)
    timer = timer or SystemTimer()
    db = Database(settings.database_url)
    bot_id = settings.bot_id
    budget = build_budget(settings.redis_url, timer, bot_id)
    bot = build_bot(settings, timer, budget)
    locks = Locks(settings.redis_url, f"hearth:lock:{bot_id}:", timer=timer)  # across processes
    hearth = build_hearth(settings, clock, timer, bot, db, budget, locks)
    # a call to a group that became a supergroup goes there, and the chat's state follows
    bot.session.middleware(FollowUpgrades(on_moved=hearth.upgrades.upgraded))
    metrics = Metrics(timer)  # its own registry: each application counts only its own work
    bot.session.middleware(metrics.request_middleware())  # innermost: every attempt counts
    pacer = WelcomePacer(
        hearth.onboarding.chats_awaiting_welcome,
        hearth.onboarding.post_welcome,
        interval=settings.welcome_interval,
        timer=timer,
    )
    hearth.events.subscribe(subscriptions(hearth, pacer))
    sweeper = build_sweeper(hearth)
    # several processes share Redis: one of them leads the whole-table jobs
    leadership = build_leadership(settings.redis_url, bot_id, settings.leader_lease_time)
    dispatcher = build_dispatcher(hearth)
    dispatcher.update.outer_middleware(metrics.update_middleware())
    return Application(
        settings=settings,
        bot=bot,
        db=db,
        hearth=hearth,
        dispatcher=dispatcher,
        scheduler=build_scheduler(settings, hearth, sweeper, leadership),
        pacer=pacer,
        sweeper=sweeper,
        budget=budget,
        metrics=metrics,
        locks=locks,
        leadership=leadership,
    )
