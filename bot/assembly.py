"""The parts the composition root (bot/app.py) assembles `Hearth` from: the core every
service is built with, and the services whose construction takes more than a line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import Bot
from redis.asyncio import Redis

from bot.clock import Clock, Timer
from bot.config import Settings
from bot.db import Database
from bot.events import EventBus
from bot.invalidation import Invalidations, build_invalidations
from bot.locks import Locks
from bot.notifier import Notifier
from bot.outbox import Outbox
from bot.sendpace import SendBudget
from bot.services.activity import ActivityTracker
from bot.services.billing import BillingService
from bot.services.checkins import CheckinService
from bot.services.health import HealthService
from bot.services.health_digest import HealthDigest
from bot.services.health_rhythm import HealthRhythm
from bot.services.kb import KnowledgeBase
from bot.services.kb.unused import UnusedNote
from bot.services.ledger import Ledger
from bot.services.ledger_redis import RedisBuffer
from bot.services.members import AdminGuard, MemberDirectory
from bot.services.moderation import ModerationService
from bot.services.onboarding import JoinRequests, Onboarding
from bot.services.pace import build_pace
from bot.services.retention import hourly_limit
from bot.services.settings import SettingsService
from bot.services.supergroups import ChatUpgrades
from bot.services.topics import ChatTopics
from models.users import UserRepository


@dataclass(frozen=True)
class Core:
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
    redis: Redis | None = None  # the process's one client (bot/redis_pool.py), if any


def build_core(
    settings: Settings,
    clock: Clock,
    timer: Timer,
    bot: Bot,
    db: Database,
    budget: SendBudget,
    redis: Redis | None = None,
) -> Core:
    """Settings and the send side: the notifier and the outbox, both posting to each chat's
    chosen forum topic and marking people who blocked the bot unreachable. `redis` is the
    process's client, handed on to whatever shares state with other processes."""

    async def mark_unreachable(user_id: int) -> None:
        async with db.transaction() as session:
            await UserRepository(session).set_reachable(user_id, False)

    invalidations = build_invalidations(redis, settings.bot_id)
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
    return Core(
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
        admins=AdminGuard(notifier, settings.owner_ids, changes=invalidations),
        redis=redis,
    )


def build_joining(
    c: Core, moderation: ModerationService, ledger: Ledger
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


def build_moderation(c: Core, ledger: Ledger, locks: Locks) -> ModerationService:
    """Moderation with its counters in memory, or in Redis shared by several processes."""
    return ModerationService(
        c.db,
        c.clock,
        c.notifier,
        c.chat_settings,
        c.admins,
        build_pace(c.redis, timer=c.timer),
        timer=c.timer,
        ledger=ledger,
        changes=c.invalidations,
        locks=locks,
    )


def build_ledger(c: Core) -> Ledger:
    """The activity ledger; with Redis its counts pass through one hash every process shares."""
    buffer = RedisBuffer(c.redis) if c.redis is not None else None
    return Ledger(c.db, c.clock, hourly_for=hourly_limit(c.chat_settings), buffer=buffer)


def build_upgrades(
    c: Core, flush: Callable[[], Awaitable[int]], moderation: ModerationService
) -> ChatUpgrades:
    """A group that became a supergroup: counters are stored first, caches of it dropped."""
    return ChatUpgrades(
        c.db,
        before=flush,
        forget=(
            c.chat_settings.forget,
            c.admins.forget,
            moderation.forget,
            c.directory.forget_chat,
        ),
    )


def build_checkins(
    c: Core, activity: ActivityTracker, ledger: Ledger, locks: Locks
) -> CheckinService:
    """Weekly check-ins: rounds, answers in private, nudges through the outbox."""
    return CheckinService(
        c.db, c.clock, c.notifier, c.chat_settings, activity, c.outbox.wake, ledger, locks
    )


def build_health(c: Core, ledger: Ledger) -> tuple[HealthService, HealthRhythm, HealthDigest]:
    """Community health: the figures, the weekly rhythm and the admins' weekly note."""
    health = HealthService(c.db, c.clock, ledger, c.notifier, c.chat_settings)
    rhythm = HealthRhythm(c.db, c.clock, ledger, c.chat_settings, health)
    wake = c.outbox.wake
    digest = HealthDigest(c.db, c.clock, c.notifier, c.chat_settings, health, rhythm, wake)
    return health, rhythm, digest


def build_knowledge(c: Core) -> tuple[KnowledgeBase, UnusedNote]:
    """The knowledge base and its monthly note of unused entries to the admins."""
    kb = KnowledgeBase(c.db, c.clock, c.invalidations, c.timer)
    unused = UnusedNote(c.db, c.clock, c.notifier, c.chat_settings, c.outbox.wake, kb.search)
    return kb, unused
