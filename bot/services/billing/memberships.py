"""A member's own subscriptions: which paid chats they have to do with, what they have in
each, and turning automatic renewal off and back on."""

from __future__ import annotations

from datetime import datetime

from bot.services.billing.base import BillingContext
from bot.services.billing.payments import Payments
from bot.services.billing.values import Cancel, SubView
from models.billing import Renewal, SubscriptionRepository


class Memberships:
    """What a person sees and changes of their own memberships."""

    def __init__(self, billing: BillingContext, payments: Payments) -> None:
        self._b = billing
        self._payments = payments

    async def paid_chats(self, user_id: int) -> list[tuple[int, str]]:
        """Paid chats this person has to do with (member, requester, subscriber)."""
        async with self._b.db.transaction() as session:
            chats = await SubscriptionRepository(session).related_chats(user_id)
        result = []
        for chat_id, title in chats:
            if (await self._b.settings.get(chat_id)).price > 0:
                result.append((chat_id, title))
        return result

    async def views(self, user_id: int) -> list[SubView]:
        """Every subscription of this person, by chat title."""
        async with self._b.db.transaction() as session:
            pairs = await SubscriptionRepository(session).of_user_with_chats(user_id)
        return [
            SubView(
                chat_id=sub.chat_id,
                chat_title=chat.title,
                plan=sub.plan,
                status=sub.status,
                ends_at=sub.ends_at,
                renewal=sub.renewal,
                exempt=sub.exempt,
            )
            for sub, chat in pairs
        ]

    async def cancellable(self, user_id: int) -> list[tuple[int, str]]:
        """Chats whose subscription Telegram renews for this person."""
        async with self._b.db.transaction() as session:
            return await SubscriptionRepository(session).auto_renewing_chats(user_id)

    async def cancel(self, chat_id: int, user_id: int) -> tuple[Cancel, datetime | None]:
        """Stop the automatic renewal; access stays until the paid period ends."""
        b = self._b
        async with b.db.transaction() as session:
            sub = await SubscriptionRepository(session).get(chat_id, user_id)
            if sub is None or sub.renewal != Renewal.AUTO or sub.charge_id is None:
                return Cancel.NOTHING, None
            charge_id = sub.charge_id
        if not await b.notifier.cancel_star_subscription(user_id, charge_id, True):
            return Cancel.FAILED, None
        await self._payments.set_renewal(chat_id, user_id, Renewal.CANCELED)
        async with b.db.transaction() as session:
            sub = await SubscriptionRepository(session).get(chat_id, user_id)
            ends_at = sub.ends_at if sub else None
        return Cancel.DONE, ends_at

    async def resume(self, chat_id: int, user_id: int) -> tuple[Cancel, datetime | None]:
        """Turn renewal back on (no new payment now) — only of a subscription the bot
        cancelled; one the user cancelled in Telegram only they can turn back on there."""
        b = self._b
        async with b.db.transaction() as session:
            sub = await SubscriptionRepository(session).get(chat_id, user_id)
            if sub is not None and sub.renewal == Renewal.USER_CANCELED:
                return Cancel.BY_USER, sub.ends_at
            if sub is None or sub.renewal != Renewal.CANCELED or sub.charge_id is None:
                return Cancel.NOTHING, None
            charge_id = sub.charge_id
        if not await b.notifier.cancel_star_subscription(user_id, charge_id, False):
            return Cancel.FAILED, None
        await self._payments.set_renewal(chat_id, user_id, Renewal.AUTO)
        async with b.db.transaction() as session:
            sub = await SubscriptionRepository(session).get(chat_id, user_id)
            return Cancel.DONE, sub.ends_at if sub else None
