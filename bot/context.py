"""What handlers receive as `hearth`: the services of one running application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Settings
from bot.db import Database
from bot.events import EventBus
from bot.invalidation import Invalidations
from bot.notifier import Notifier
from bot.outbox import Outbox
from bot.services.activity import ActivityTracker
from bot.services.billing import BillingService
from bot.services.buddies import BuddyService
from bot.services.chats import ChatService
from bot.services.checkins import CheckinService
from bot.services.circles import CircleService
from bot.services.drift import DriftService
from bot.services.health import HealthService
from bot.services.health_digest import HealthDigest
from bot.services.health_rhythm import HealthRhythm
from bot.services.ideas import IdeaBoard
from bot.services.kb import KnowledgeBase
from bot.services.kb.unused import UnusedNote
from bot.services.ledger import Ledger, flush_each
from bot.services.members import AdminGuard, MemberDirectory
from bot.services.moderation import ModerationService
from bot.services.onboarding import JoinRequests, Onboarding
from bot.services.privacy import PrivacyService
from bot.services.retention import Retention
from bot.services.settings import SettingsService
from bot.services.supergroups import ChatUpgrades
from bot.services.thanks import Thanking
from bot.services.trust import TrustService


def counter_flush(
    activity: ActivityTracker, ledger: Ledger, health: HealthService
) -> Callable[[], Awaitable[int]]:
    """One flush of everything the per-message path keeps in memory (last activity, the
    ledger, newcomers' first messages and replies): the minute job, shutdown and a chat's
    move to a supergroup id all store the same things first."""
    return flush_each(activity.flush, ledger.flush, health.replies.flush)


@dataclass
class Hearth:
    config: Settings
    clock: Clock
    db: Database
    events: EventBus
    invalidations: Invalidations
    notifier: Notifier
    chat_settings: SettingsService
    directory: MemberDirectory
    admins: AdminGuard
    chats: ChatService
    onboarding: Onboarding
    requests: JoinRequests
    trust: TrustService
    activity: ActivityTracker
    ledger: Ledger
    health: HealthService
    buddies: BuddyService
    moderation: ModerationService
    outbox: Outbox
    checkins: CheckinService
    billing: BillingService
    upgrades: ChatUpgrades
    drift: DriftService
    retention: Retention
    privacy: PrivacyService
    rhythm: HealthRhythm
    digest: HealthDigest
    ideas: IdeaBoard
    thanks: Thanking
    kb: KnowledgeBase
    kb_unused: UnusedNote
    circles: CircleService

    async def flush_counters(self) -> int:
        """Store what is counted in memory (last activity, the ledger, newcomers' first
        messages and replies) in one go each; all run even if one fails (the first failure
        is raised); the number of rows written."""
        return await counter_flush(self.activity, self.ledger, self.health)()
