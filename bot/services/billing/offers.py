"""The offer: what membership includes, its price and period, and a way to pay."""

from __future__ import annotations

from bot.services.billing.base import BillingContext
from bot.services.billing.policy import (
    OFFER_RULES_LIMIT,
    SUBSCRIPTION_PERIOD,
    amount_due,
    make_payload,
    paid_period,
)
from bot.views import billing as views
from models.billing import Plan, Renewal, SubscriptionRepository, SubStatus
from models.chats import ChatRepository


class Offers:
    """Offers to pay (or to turn renewal back on) for a paid chat."""

    def __init__(self, billing: BillingContext) -> None:
        self._b = billing

    async def send_offer(self, chat_id: int, user_id: int, note: str = "") -> bool:
        """Write privately what membership includes, the price, the period and how to pay."""
        b = self._b
        config = await b.settings.get(chat_id)
        amount = amount_due(config)
        if amount <= 0:
            return False
        language = await b.language(user_id, config)
        now = b.clock.now()
        async with b.db.transaction() as session:
            chat = await ChatRepository(session).get(chat_id)
            sub = await SubscriptionRepository(session).get(chat_id, user_id)
        if chat is None:
            return False
        title, zone = chat.title, config.timezone
        if sub is not None and sub.status == SubStatus.ACTIVE and sub.ends_at and sub.ends_at > now:
            if sub.renewal == Renewal.AUTO:  # a second subscription would charge twice
                text = views.already_subscribed(language, title, sub.ends_at, zone)
                return await b.notifier.send(user_id, text) is not None
            if sub.renewal == Renewal.CANCELED and sub.charge_id and sub.plan == Plan.RECURRING:
                text, keyboard = views.resume_offer(language, chat_id, title, sub.ends_at, zone)
                return await b.notifier.send(user_id, text, keyboard) is not None
            if sub.renewal == Renewal.USER_CANCELED and sub.plan == Plan.RECURRING:
                text = views.resume_in_telegram(language, title, sub.ends_at, zone)
                return await b.notifier.send(user_id, text) is not None
        period = paid_period(config)
        payload = make_payload(b.secret, chat_id, user_id, config.plan, amount)
        invoice_title, description = views.invoice(language, title, period)
        rules = chat.rules if chat.rules and len(chat.rules) <= OFFER_RULES_LIMIT else None
        text = views.offer(language, title, amount, config.plan, period, rules, note)
        if config.plan == Plan.RECURRING:
            link = await b.notifier.invoice_link(
                invoice_title, description, payload, amount, SUBSCRIPTION_PERIOD
            )
            if link is None:
                return False
            keyboard = views.pay_button(language, amount, link)
            return await b.notifier.send(user_id, text, keyboard) is not None
        if await b.notifier.send(user_id, text) is None:
            return False
        sent = await b.notifier.send_invoice(user_id, invoice_title, description, payload, amount)
        return sent is not None
