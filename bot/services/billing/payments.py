"""Paying: the pre-checkout check, each payment recorded exactly once (by its charge id), and
Telegram's news about a subscription's renewal."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import pick_language
from bot.services.billing.base import BillingContext, fresh_period, plan, skip_past
from bot.services.billing.policy import (
    MONTH,
    Payload,
    amount_due,
    granted_seconds,
    once_end,
    parse_payload,
    read_payload,
    recurring_end,
)
from bot.services.billing.ports import (
    JOIN_REQUEST,
    REQUEST_APPROVED,
    REQUEST_EXPIRED,
    REQUEST_RETRY,
)
from bot.services.billing.values import Applied, PaymentIn, Refusal
from bot.services.ledger import LedgerKind
from bot.services.people import Person
from bot.services.settings import ChatConfig
from bot.views import billing as views
from models.billing import (
    PaymentRepository,
    Plan,
    Renewal,
    SubscriptionRepository,
    SubStatus,
)
from models.chats import ChatRepository
from models.deadlines import DeadlineRepository
from models.members import MemberRepository, MemberStatus
from models.users import User, UserRepository

log = logging.getLogger(__name__)

RENEWAL_STATES = {
    "canceled": Renewal.USER_CANCELED,
    "active": Renewal.AUTO,
    "failed": Renewal.FAILED,
}


class Payments:
    """Checks invoices before payment and applies each payment once."""

    def __init__(self, billing: BillingContext) -> None:
        self._b = billing

    async def check(
        self, payload: str, payer_id: int, amount: int, currency: str
    ) -> Refusal | None:
        """Pre-checkout: None to accept, otherwise why not."""
        b = self._b
        issued = parse_payload(b.secrets, payload)
        if issued is None or currency != "XTR":
            return Refusal.UNKNOWN
        if issued.user_id != payer_id:
            return Refusal.NOT_YOURS
        async with b.db.transaction() as session:
            chat = await ChatRepository(session).get(issued.chat_id)
        if chat is None or not chat.active:
            return Refusal.NOT_PAID
        config = await b.settings.get(issued.chat_id)
        due = amount_due(config)
        if due <= 0:
            return Refusal.NOT_PAID
        if issued.plan != config.plan or issued.amount != due or amount != due:
            return Refusal.PRICE_CHANGED
        if issued.plan == Plan.RECURRING:
            # an older pay link still works: a second subscription would charge twice
            now = b.clock.now()
            async with b.db.transaction() as session:
                sub = await SubscriptionRepository(session).get(issued.chat_id, payer_id)
            if (
                sub is not None
                and sub.status == SubStatus.ACTIVE
                and sub.plan == Plan.RECURRING
                and sub.renewal == Renewal.AUTO
                and sub.ends_at is not None
                and sub.ends_at > now
            ):
                return Refusal.ALREADY_SUBSCRIBED
        return None

    async def linked(self, payload: str, user_id: int) -> Payload | None:
        """A payload whose signature can't be verified (the key changed) that renews a
        subscription we know: same payer, same chat, a recurring plan paid before."""
        claimed = read_payload(payload)
        if claimed is None or claimed.user_id != user_id or claimed.plan != Plan.RECURRING:
            return None
        async with self._b.db.transaction() as session:
            sub = await SubscriptionRepository(session).get(claimed.chat_id, user_id)
            earlier = await PaymentRepository(session).recurring_count(claimed.chat_id, user_id)
        if sub is None or sub.plan != Plan.RECURRING or sub.charge_id is None or not earlier:
            return None
        return claimed

    async def _unattributed(self, paid: PaymentIn) -> Applied:
        """Money we can't tie to a chat and person: recorded anyway, and the owners told."""
        b = self._b
        claimed = read_payload(paid.payload)
        chat_id = claimed.chat_id if claimed is not None else 0
        async with b.db.transaction() as session:
            inserted = await _store(PaymentRepository(session), paid, chat_id, "unattributed")
        if not inserted:
            return Applied(duplicate=True, chat_id=chat_id)
        log.error(
            "payment %s of %s ⭐ from %s (payload %r) can't be attributed; recorded, no access",
            paid.charge_id,
            paid.amount,
            paid.user_id,
            paid.payload,
        )
        config = await b.settings.get(chat_id)
        for owner in sorted(b.admins.owner_ids):
            language = await b.language(owner, config)
            text = views.unattributed_payment(
                language, paid.charge_id, paid.amount, paid.user_id, chat_id
            )
            await b.notifier.send(owner, text)
        return Applied(duplicate=False, chat_id=chat_id)

    async def record_payment(self, paid: PaymentIn) -> Applied:
        """Record a payment once per charge id and extend access; a repeat changes nothing.

        The payment row and the new end are written in one transaction, so a payment seen
        twice (update and reconciliation, or a redelivered update) counts once."""
        b = self._b
        issued = parse_payload(b.secrets, paid.payload)
        if issued is None and paid.recurring:
            issued = await self.linked(paid.payload, paid.user_id)
            if issued is not None:
                log.warning("payment %s: unverified payload, known subscription", paid.charge_id)
        if issued is None:
            return await self._unattributed(paid)
        chat_id = issued.chat_id
        config = await b.settings.get(chat_id)
        now = b.clock.now()
        async with b.db.transaction() as session:
            payments = PaymentRepository(session)
            if not await _store(payments, paid, chat_id, paid.source):
                return Applied(duplicate=True, chat_id=chat_id)
            sub = await SubscriptionRepository(session).lock(chat_id, paid.user_id, now)
            being_removed = sub.status == SubStatus.REMOVED
            current = sub.ends_at if sub.status == SubStatus.ACTIVE else None
            if paid.recurring:
                ends_at = recurring_end(current, paid.expires_at or paid.at + MONTH)
                sub.plan = Plan.RECURRING
                sub.renewal = Renewal.AUTO
                sub.charge_id = paid.charge_id
            else:
                ends_at = once_end(max(now, paid.at), current, config.period)
                sub.plan = Plan.ONCE
                if sub.renewal == Renewal.AUTO and current is None:
                    sub.renewal = Renewal.NONE
            payment = await payments.by_charge(paid.charge_id)
            assert payment is not None  # stored just above
            payment.granted_seconds = granted_seconds(current, now, ends_at)
            sub.status = SubStatus.ACTIVE
            sub.ends_at = ends_at
            sub.updated_at = now
            fresh_period(sub, config, now)
            await plan(session, sub, config)
            member_status = await _waiting_or_in(session, chat_id, paid.user_id, now)
            if being_removed and member_status == MemberStatus.IN:
                member_status = None  # a removal racing this payment: they need a way back
            user = await UserRepository(session).get(paid.user_id)
        log.info("chat %s: payment %s from %s recorded", chat_id, paid.charge_id, paid.user_id)
        b.count(chat_id, paid.user_id, LedgerKind.PAID)
        await self._after_payment(chat_id, paid.user_id, user, member_status, ends_at, config)
        return Applied(duplicate=False, chat_id=chat_id, ends_at=ends_at)

    async def _after_payment(
        self,
        chat_id: int,
        user_id: int,
        user: User | None,
        member_status: str | None,
        ends_at: datetime,
        config: ChatConfig,
    ) -> None:
        """Tell the payer; approve their join request, or give them a way in.

        A pending request is approved whatever happened before (expired, removed): a join
        link would not help, Telegram blocks a second request while one is pending."""
        b = self._b
        language = pick_language(user.language_code if user else None, config.language)
        title = await b.title(chat_id)
        await b.notifier.send(user_id, views.paid(language, title, ends_at, config.timezone))
        if member_status == MemberStatus.REQUESTED:
            person = Person(id=user_id, first_name=user.first_name if user else "")
            outcome = (await b.door.accept_request(chat_id, person)).outcome
            if outcome == REQUEST_APPROVED:
                await b.notifier.send(user_id, views.approved(language, title))
            if outcome != REQUEST_EXPIRED:
                return  # approved, already in, or its deadline approves it once Telegram can
        if member_status == MemberStatus.IN:
            return
        link = await b.notifier.join_link(chat_id, "Hearth")
        if link is not None:
            text, keyboard = views.join_link(language, title, link)
            await b.notifier.send(user_id, text, keyboard)

    async def subscription_changed(self, user_id: int, payload: str, state: str) -> None:
        """Bot API `subscription` update: canceled, active again, or a failed renewal."""
        b = self._b
        issued = parse_payload(b.secrets, payload) or await self.linked(payload, user_id)
        renewal = RENEWAL_STATES.get(state)
        if issued is None or renewal is None:
            return
        if renewal == Renewal.USER_CANCELED:
            async with b.db.transaction() as session:
                sub = await SubscriptionRepository(session).get(issued.chat_id, user_id)
                if sub is not None and sub.renewal == Renewal.CANCELED:
                    return  # our own /cancel echoed back: the bot can still resume it
        await self.set_renewal(issued.chat_id, user_id, renewal)

    async def set_renewal(self, chat_id: int, user_id: int, renewal: Renewal) -> None:
        """Record the renewal state of a subscription; a failed renewal is told to the payer."""
        b = self._b
        config = await b.settings.get(chat_id)
        now = b.clock.now()
        async with b.db.transaction() as session:
            sub = await SubscriptionRepository(session).get(chat_id, user_id)
            if sub is None or sub.plan != Plan.RECURRING:
                return
            sub.renewal = renewal
            sub.updated_at = now
            if sub.status == SubStatus.ACTIVE and sub.ends_at is not None:
                skip_past(sub, config, now)
                # the removal too: end + grace without renewal, the renewal slack with it
                await plan(session, sub, config)
            ends_at = sub.ends_at
        if renewal == Renewal.FAILED and ends_at is not None:
            language = await b.language(user_id, config)
            title = await b.title(chat_id)
            text, keyboard = views.renewal_failed(
                language, chat_id, title, ends_at, config.timezone
            )
            await b.notifier.send(user_id, text, keyboard)


async def _waiting_or_in(
    session: AsyncSession, chat_id: int, user_id: int, now: datetime
) -> str | None:
    """The payer's member status. A pending join request keeps a deadline, moved close: it
    is approved right after this commit, and should that not happen (a crash, an outage)
    the deadline approves it (the payer has access), never declines it."""
    member = await MemberRepository(session).get(chat_id, user_id)
    if member is None:
        return None
    if member.status == MemberStatus.REQUESTED:
        due = now + REQUEST_RETRY
        await DeadlineRepository(session).schedule(JOIN_REQUEST, chat_id, user_id, due)
    return member.status


async def _store(payments: PaymentRepository, paid: PaymentIn, chat_id: int, source: str) -> bool:
    """Store a payment unless its charge id is known; True when it is new."""
    return await payments.add(
        charge_id=paid.charge_id,
        chat_id=chat_id,
        user_id=paid.user_id,
        amount=paid.amount,
        plan=Plan.RECURRING if paid.recurring else Plan.ONCE,
        paid_at=paid.at,
        source=source,
    )
