"""The composition root: builds settings, database, bot, dispatcher and scheduler (bot/serve.py
runs what it builds; bot/client.py builds the Bot)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aiogram import Bot, Dispatcher
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from redis.asyncio import Redis

from bot.assembly import (
    build_checkins,
    build_core,
    build_health,
    build_joining,
    build_knowledge,
    build_ledger,
    build_moderation,
    build_upgrades,
)
from bot.client import build_bot
from bot.clock import Clock, OffsetClock, SystemClock, SystemTimer, Timer
from bot.config import Settings
from bot.context import Hearth, counter_flush
from bot.db import Database
from bot.invalidation import wire
from bot.leader import Leadership, build_leadership
from bot.locks import Locks
from bot.metrics import Metrics
from bot.middlewares.gate import GroupGate
from bot.middlewares.language import LanguageMiddleware
from bot.migrated import FollowUpgrades
from bot.redis_pool import connect
from bot.sendpace import SendBudget, build_budget
from bot.services.activity import ActivityTracker
from bot.services.buddies import BuddyService
from bot.services.chats import ChatService
from bot.services.circles import build_circles
from bot.services.drift import DriftService
from bot.services.ideas import IdeaBoard
from bot.services.privacy import PrivacyService
from bot.services.retention import Retention
from bot.services.thanks import build_authors, build_thanking
from bot.services.trust import TrustService
from handlers import build_router
from jobs.deadlines import DeadlineSweeper
from jobs.welcomes import WelcomePacer
from jobs.wiring import build_scheduler, build_sweeper, subscriptions

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
    redis: Redis | None = None  # the one client every Redis user of the process shares
    _started: bool = field(default=False)
    _closed: bool = field(default=False)

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
        if self._started and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.close()

    async def close(self) -> None:
        """Release what the application holds: the budget's pump and the invalidation
        listener stop, the leader lease is given up, then the Redis client is closed (once,
        after everything that uses it), then the database. The bot's HTTP session is closed
        by aiogram (polling, webhook shutdown) or by whoever drives the bot. Once only."""
        if self._closed:
            return
        self._closed = True
        await self.budget.close()
        await self.hearth.invalidations.stop()
        if self.leadership is not None:
            await self.leadership.close()
        await self.hearth.thanks.service.authors.settle()  # its last write to Redis
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.close()


def choose_clock(settings: Settings) -> Clock:
    """The real clock; under test (TEST_CLOCK_FILE) real time plus an offset the test moves."""
    if settings.test_clock_file is not None:
        return OffsetClock(Path(settings.test_clock_file))
    return SystemClock()


def build_hearth(
    settings: Settings,
    clock: Clock,
    timer: Timer,
    bot: Bot,
    db: Database,
    budget: SendBudget,
    locks: Locks,
    redis: Redis | None = None,
) -> Hearth:
    """Every service, each given what it needs when it is built; events wire them together."""
    c = build_core(settings, clock, timer, bot, db, budget, redis)
    activity, ledger = ActivityTracker(db), build_ledger(c)
    moderation = build_moderation(c, ledger, locks)
    requests, billing, onboarding = build_joining(c, moderation, ledger)
    buddies = BuddyService(db, clock, c.notifier, c.chat_settings, activity, ledger, locks)
    privacy = PrivacyService(db, clock, c.directory, activity, ledger, buddies.assign)
    health, rhythm, digest = build_health(c, ledger)
    trust = TrustService(db, clock, c.chat_settings, c.directory, c.events)
    kb, kb_unused = build_knowledge(c)
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
        trust=trust,
        activity=activity,
        ledger=ledger,
        health=health,
        buddies=buddies,
        moderation=moderation,
        outbox=c.outbox,
        checkins=build_checkins(c, activity, ledger, locks),
        billing=billing,
        upgrades=build_upgrades(c, counter_flush(activity, ledger, health), moderation),
        drift=DriftService(db, clock, ledger, c.chat_settings, c.outbox.wake),
        retention=Retention(db, clock, c.chat_settings, purge_member=privacy.purge_left),
        privacy=privacy,
        rhythm=rhythm,
        digest=digest,
        ideas=IdeaBoard(db, clock, c.notifier, c.chat_settings, c.directory, c.outbox.wake),
        thanks=build_thanking(c, activity, trust.promote_early, build_authors(c)),
        kb=kb,
        kb_unused=kb_unused,
        circles=build_circles(c),
    )
    return wire(hearth)  # a change in another process drops the cache it names


def build_redis(settings: Settings) -> Redis | None:
    """The process's one Redis client (None without `REDIS_URL`). Its connections carry one
    name per process in `CLIENT LIST`: the bot's id and a random suffix."""
    if not settings.redis_url:
        return None
    name = f"hearth-{settings.bot_id}-{uuid.uuid4().hex[:8]}"
    return connect(settings.redis_url, client_name=name)


def build_application(
    settings: Settings, clock: Clock | None = None, timer: Timer | None = None
) -> Application:
    clock = clock or choose_clock(settings)
    timer = timer or SystemTimer()
    db = Database(settings.database_url)
    bot_id = settings.bot_id
    redis = build_redis(settings)
    budget = build_budget(redis, timer, bot_id)
    bot = build_bot(settings, timer, budget)
    locks = Locks(redis, f"hearth:lock:{bot_id}:", timer=timer)  # across processes
    hearth = build_hearth(settings, clock, timer, bot, db, budget, locks, redis)
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
    leadership = build_leadership(redis, bot_id, settings.leader_lease_time)
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
        redis=redis,
    )
