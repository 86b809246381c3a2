"""What every billing use case shares: its collaborators, the person's language, the chat's
title, who has access, and (inside a transaction) the planning of a subscription's deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.i18n import pick_language
from bot.notifier import Notifier
from bot.services.billing.policy import (
    end_slack,
    next_reminder,
    skip_past_reminders,
)
from bot.services.billing.ports import JoinDoor
from bot.services.ledger import Ledger, LedgerKind
from bot.services.members import AdminGuard
from bot.services.settings import ChatConfig, SettingsService
from models.billing import Renewal, Subscription, SubscriptionRepository, SubStatus
from models.chats import ChatRepository
from models.deadlines import DeadlineRepository
from models.users import UserRepository

BILL_END = "bill_end"
BILL_REMIND = "bill_remind"


@dataclass
class BillingContext:
    """The collaborators of the billing use cases. `secret` signs new invoice payloads;
    `secrets` verify them (the current key first, then older ones still accepted)."""

    db: Database
    clock: Clock
    notifier: Notifier
    settings: SettingsService
    door: JoinDoor
    admins: AdminGuard
    secret: str
    secrets: tuple[str, ...]
    ledger: Ledger | None = None  # counts payments and expiries

    def count(self, chat_id: int, user_id: int, kind: LedgerKind) -> None:
        if self.ledger is not None:
            self.ledger.count(chat_id, user_id, kind)

    async def language(self, user_id: int, config: ChatConfig) -> str:
        async with self.db.transaction() as session:
            user = await UserRepository(session).get(user_id)
        return pick_language(user.language_code if user else None, config.language)

    async def title(self, chat_id: int) -> str:
        async with self.db.transaction() as session:
            chat = await ChatRepository(session).get(chat_id)
        return chat.title if chat else str(chat_id)

    async def free_pass(self, chat_id: int, user_id: int) -> bool:
        """Admins, OWNER_IDS and people marked /exempt never pay and are never removed."""
        if await self.admins.is_admin(chat_id, user_id):
            return True
        async with self.db.transaction() as session:
            sub = await SubscriptionRepository(session).get(chat_id, user_id)
        return sub is not None and sub.exempt

    async def has_access(self, chat_id: int, user_id: int) -> bool:
        now = self.clock.now()
        async with self.db.transaction() as session:
            sub = await SubscriptionRepository(session).get(chat_id, user_id)
        return (
            sub is not None
            and sub.status == SubStatus.ACTIVE
            and sub.ends_at is not None
            and sub.ends_at > now
        )


async def plan(session: AsyncSession, sub: Subscription, config: ChatConfig) -> None:
    """(Re)schedule the removal and the next reminder of a subscription with time on it."""
    deadlines = DeadlineRepository(session)
    if sub.exempt or sub.ends_at is None:
        await deadlines.cancel(BILL_END, sub.chat_id, sub.user_id)
        await deadlines.cancel(BILL_REMIND, sub.chat_id, sub.user_id)
        return
    end = sub.ends_at + end_slack(config, sub.renewal)
    await deadlines.schedule(BILL_END, sub.chat_id, sub.user_id, end)
    await plan_reminder(deadlines, sub, config)


async def plan_reminder(
    deadlines: DeadlineRepository, sub: Subscription, config: ChatConfig
) -> None:
    """Schedule the next reminder not sent yet; none for auto-renewal or without time."""
    due = None
    if sub.ends_at is not None and sub.renewal != Renewal.AUTO and sub.status == SubStatus.ACTIVE:
        due = next_reminder(sub.reminded, sub.ends_at, config.remind_before)
    if due is None:
        await deadlines.cancel(BILL_REMIND, sub.chat_id, sub.user_id)
        return
    await deadlines.schedule(BILL_REMIND, sub.chat_id, sub.user_id, due)


def fresh_period(sub: Subscription, config: ChatConfig, now: datetime) -> None:
    """New paid time: reminders start over, those already in the past are skipped."""
    assert sub.ends_at is not None
    sub.reminded = skip_past_reminders("", sub.ends_at, config.remind_before, now)


def skip_past(sub: Subscription, config: ChatConfig, now: datetime) -> None:
    """Reminders of this subscription whose moment has passed are marked as sent."""
    assert sub.ends_at is not None
    sub.reminded = skip_past_reminders(sub.reminded, sub.ends_at, config.remind_before, now)
