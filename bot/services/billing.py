"""Paid membership in Telegram Stars: offers, pre-checkout checks, payments recorded once,
reminders, removal at the end of paid time, grants, exemptions, refunds, reconciliation."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from html import escape

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.i18n import format_moment, human_duration, pick_language, t
from bot.notifier import Button, Keyboard, Notifier
from bot.services.members import AdminGuard, remember_person
from bot.services.onboarding import REQUEST, Accept, Onboarding
from bot.services.people import ChatRef, Person
from bot.services.settings import ChatConfig, SettingsService
from models.billing import Payment, Plan, Renewal, Subscription, SubStatus
from models.chats import Chat, ChatRepository
from models.deadlines import DeadlineRepository
from models.members import Member, MemberStatus
from models.upsert import insert_ignore
from models.users import User

log = logging.getLogger(__name__)

BILL_END = "bill_end"
BILL_REMIND = "bill_remind"
SUBSCRIPTION_PERIOD = 2592000  # the only period Telegram allows for Stars subscriptions
MONTH = timedelta(seconds=SUBSCRIPTION_PERIOD)
OFFER_WINDOW = timedelta(days=1)  # how long a join request waits for its payment
OFFER_PREFIX = "hearth:offer:"
CANCEL_PREFIX = "hearth:cancel:"
RESUME_PREFIX = "hearth:resume:"
OFFER_RULES_LIMIT = 2000
PAYLOAD_VERSION = "hs1"
RECONCILE_PAGE = 100
RECONCILE_MAX_PAGES = 1000  # 100 000 transactions
AUTO_RENEW_SLACK = timedelta(minutes=10)


class Refusal(StrEnum):
    """Why a pre-checkout query is answered "no" (locale keys billing.refuse.*)."""

    UNKNOWN = "unknown"
    NOT_YOURS = "not_yours"
    NOT_PAID = "not_paid"
    PRICE_CHANGED = "price_changed"
    ALREADY_SUBSCRIBED = "already_subscribed"


class Refund(StrEnum):
    DONE = "done"
    UNKNOWN = "unknown"
    ALREADY = "already"
    FAILED = "failed"


class Cancel(StrEnum):
    DONE = "done"
    NOTHING = "nothing"
    FAILED = "failed"
    BY_USER = "by_user"  # the user stopped it in Telegram: only they can turn it back on


@dataclass(frozen=True)
class Payload:
    chat_id: int
    user_id: int
    plan: str
    amount: int


def amount_due(config: ChatConfig) -> int:
    """What one payment costs now: `price` per 30 days (a one-time plan pays its `period`)."""
    if config.price <= 0:
        return 0
    if config.plan == Plan.RECURRING:
        return config.price
    return max(1, math.ceil(config.price * config.period.total_seconds() / MONTH.total_seconds()))


def _sign(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()[:16]


def make_payload(secret: str, chat_id: int, user_id: int, plan: str, amount: int) -> str:
    body = f"{PAYLOAD_VERSION}:{chat_id}:{user_id}:{plan[0]}:{amount}"
    return f"{body}:{_sign(secret, body)}"


def parse_payload(secret: str | tuple[str, ...], payload: str) -> Payload | None:
    """The invoice payload we issued, or None if it is not ours or was altered.

    `secret` may be several keys (the current one first, then older ones still accepted)."""
    secrets = (secret,) if isinstance(secret, str) else secret
    parts = payload.split(":")
    if len(parts) != 6 or parts[0] != PAYLOAD_VERSION:
        return None
    body = ":".join(parts[:5])
    if not any(hmac.compare_digest(_sign(key, body), parts[5]) for key in secrets):
        return None
    return read_payload(payload)


def read_payload(payload: str) -> Payload | None:
    """What a payload of ours says, without checking its signature (for linkage only)."""
    parts = payload.split(":")
    if len(parts) != 6 or parts[0] != PAYLOAD_VERSION:
        return None
    plans = {"r": Plan.RECURRING, "o": Plan.ONCE}
    try:
        chat_id, user_id, amount = int(parts[1]), int(parts[2]), int(parts[4])
    except ValueError:
        return None
    if parts[3] not in plans:
        return None
    return Payload(chat_id, user_id, plans[parts[3]], amount)


def once_end(now: datetime, current_end: datetime | None, period: timedelta) -> datetime:
    """One-time plan: the later of now and the current end, plus the period."""
    start = max(now, current_end) if current_end is not None else now
    return start + period


def recurring_end(current_end: datetime | None, expires_at: datetime) -> datetime:
    """Recurring plan: access until Telegram's subscription_expiration_date (never shortened)."""
    return max(current_end, expires_at) if current_end is not None else expires_at


def csv_cell(value: object) -> object:
    """A spreadsheet must not run what a person put in their name: =, +, -, @ (and tab,
    carriage return) at the start of a text cell get a leading quote."""
    if isinstance(value, str) and value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def end_slack(config: ChatConfig, renewal: str) -> timedelta:
    """Time after the end before removal: the grace, but never under AUTO_RENEW_SLACK for
    an auto-renewing subscription (its renewal arrives around the end)."""
    if renewal == Renewal.AUTO:
        return max(config.grace, AUTO_RENEW_SLACK)
    return config.grace


def offsets_key(offset: timedelta) -> str:
    return str(int(offset.total_seconds()))


@dataclass(frozen=True)
class PaymentIn:
    """A successful payment as Telegram reported it (update or transaction list)."""

    charge_id: str
    user_id: int
    payload: str
    amount: int
    recurring: bool
    expires_at: datetime | None
    at: datetime
    source: str = "update"


@dataclass(frozen=True)
class Applied:
    """The outcome of recording a payment; `duplicate` when the charge was seen before."""

    duplicate: bool
    chat_id: int = 0
    ends_at: datetime | None = None


@dataclass(frozen=True)
class SubView:
    chat_id: int
    chat_title: str
    plan: str
    status: str
    ends_at: datetime | None
    renewal: str
    exempt: bool


@dataclass(frozen=True)
class Overview:
    active: int
    ending_soon: int
    in_grace: int
    exempt: int
    revenue_month: int
    revenue_total: int
    payments: int


@dataclass(frozen=True)
class RefundResult:
    outcome: Refund
    user_id: int = 0
    amount: int = 0
    ends_at: datetime | None = None


async def _insert_payment(
    session: AsyncSession, paid: PaymentIn, chat_id: int, source: str
) -> bool:
    """Store a payment unless its charge id is known; True when it is new."""
    return await insert_ignore(
        session,
        Payment,
        {
            "charge_id": paid.charge_id,
            "chat_id": chat_id,
            "user_id": paid.user_id,
            "amount": paid.amount,
            "plan": Plan.RECURRING if paid.recurring else Plan.ONCE,
            "paid_at": paid.at,
            "granted_seconds": 0,
            "source": source,
            "refunded_at": None,
        },
        key=["charge_id"],
    )


class BillingService:
    """Paid membership of chats whose `price` is above 0."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        onboarding: Onboarding,
        admins: AdminGuard,
        secret: str,
        old_secrets: tuple[str, ...] = (),
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._settings = settings
        self._onboarding = onboarding
        self._admins = admins
        self._secret = secret
        self._secrets = (secret, *old_secrets)  # payloads signed before a key change verify

    # ----- helpers -------------------------------------------------------------------------

    async def _sub(self, session: AsyncSession, chat_id: int, user_id: int) -> Subscription:
        """The subscription row, created if missing, locked for this transaction."""
        await insert_ignore(
            session,
            Subscription,
            {
                "chat_id": chat_id,
                "user_id": user_id,
                "status": SubStatus.LEFT,
                "plan": Plan.NONE,
                "renewal": Renewal.NONE,
                "trial_used": False,
                "exempt": False,
                "reminded": "",
                "updated_at": self._clock.now(),
            },
            key=["chat_id", "user_id"],
        )
        result = await session.execute(
            select(Subscription)
            .where(Subscription.chat_id == chat_id, Subscription.user_id == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.scalar_one()

    async def _language(self, user_id: int, config: ChatConfig) -> str:
        async with self._db.transaction() as session:
            user = await session.get(User, user_id)
        return pick_language(user.language_code if user else None, config.language)

    async def _title(self, chat_id: int) -> str:
        async with self._db.transaction() as session:
            chat = await ChatRepository(session).get(chat_id)
        return chat.title if chat else str(chat_id)

    async def free_pass(self, chat_id: int, user_id: int) -> bool:
        """Admins, OWNER_IDS and people marked /exempt never pay and are never removed."""
        if await self._admins.is_admin(chat_id, user_id):
            return True
        async with self._db.transaction() as session:
            sub = await session.get(Subscription, (chat_id, user_id))
        return sub is not None and sub.exempt

    async def has_access(self, chat_id: int, user_id: int) -> bool:
        now = self._clock.now()
        async with self._db.transaction() as session:
            sub = await session.get(Subscription, (chat_id, user_id))
        return (
            sub is not None
            and sub.status == SubStatus.ACTIVE
            and sub.ends_at is not None
            and sub.ends_at > now
        )

    @staticmethod
    def _skip_past_reminders(sub: Subscription, config: ChatConfig, now: datetime) -> None:
        """Reminders whose moment has already passed are not sent late (marked as sent)."""
        assert sub.ends_at is not None
        sent = {p for p in sub.reminded.split(",") if p}
        for offset in config.remind_before:
            if sub.ends_at - offset <= now:
                sent.add(offsets_key(offset))
        sub.reminded = ",".join(sorted(sent))

    async def _plan(
        self, session: AsyncSession, sub: Subscription, config: ChatConfig, now: datetime
    ) -> None:
        """(Re)schedule the removal and the next reminder of a subscription with time on it."""
        deadlines = DeadlineRepository(session)
        if sub.exempt or sub.ends_at is None:
            await deadlines.cancel(BILL_END, sub.chat_id, sub.user_id)
            await deadlines.cancel(BILL_REMIND, sub.chat_id, sub.user_id)
            return
        end = sub.ends_at + end_slack(config, sub.renewal)
        await deadlines.schedule(BILL_END, sub.chat_id, sub.user_id, end)
        await self._plan_reminder(deadlines, sub, config)

    async def _plan_reminder(
        self, deadlines: DeadlineRepository, sub: Subscription, config: ChatConfig
    ) -> None:
        if sub.ends_at is None or sub.renewal == Renewal.AUTO or sub.status != SubStatus.ACTIVE:
            await deadlines.cancel(BILL_REMIND, sub.chat_id, sub.user_id)
            return
        sent = {p for p in sub.reminded.split(",") if p}
        times = [sub.ends_at - o for o in config.remind_before if offsets_key(o) not in sent]
        if not times:
            await deadlines.cancel(BILL_REMIND, sub.chat_id, sub.user_id)
            return
        await deadlines.schedule(BILL_REMIND, sub.chat_id, sub.user_id, min(times))

    def _fresh_period(self, sub: Subscription, config: ChatConfig, now: datetime) -> None:
        """New paid time: reminders start over, those already in the past are skipped."""
        sub.reminded = ""
        self._skip_past_reminders(sub, config, now)

    # ----- offers --------------------------------------------------------------------------

    async def send_offer(self, chat_id: int, user_id: int, note: str = "") -> bool:
        """Write privately what membership includes, the price, the period and how to pay."""
        config = await self._settings.get(chat_id)
        amount = amount_due(config)
        if amount <= 0:
            return False
        language = await self._language(user_id, config)
        now = self._clock.now()
        async with self._db.transaction() as session:
            chat = await ChatRepository(session).get(chat_id)
            sub = await session.get(Subscription, (chat_id, user_id))
        if chat is None:
            return False
        title = chat.title
        if sub is not None and sub.status == SubStatus.ACTIVE and sub.ends_at and sub.ends_at > now:
            until = format_moment(language, sub.ends_at, config.timezone)
            if sub.renewal == Renewal.AUTO:  # a second subscription would charge twice
                text = t(language, "billing.already_subscribed", chat=escape(title), until=until)
                return await self._notifier.send(user_id, text) is not None
            if sub.renewal == Renewal.CANCELED and sub.charge_id and sub.plan == Plan.RECURRING:
                text = t(language, "billing.resume_offer", chat=escape(title), until=until)
                button = Button(
                    t(language, "billing.resume_button"), data=f"{RESUME_PREFIX}{chat_id}"
                )
                return await self._notifier.send(user_id, text, [[button]]) is not None
            if sub.renewal == Renewal.USER_CANCELED and sub.plan == Plan.RECURRING:
                text = t(language, "billing.resume_in_telegram", chat=escape(title), until=until)
                return await self._notifier.send(user_id, text) is not None
        period = MONTH if config.plan == Plan.RECURRING else config.period
        payload = make_payload(self._secret, chat_id, user_id, config.plan, amount)
        invoice_title = t(language, "billing.invoice_title", chat=title)
        description = t(
            language,
            "billing.invoice_description",
            chat=title,
            period=human_duration(language, period),
        )
        renewal = t(language, f"billing.offer_{config.plan}")
        text = t(
            language,
            "billing.offer",
            chat=escape(title),
            price=amount,
            period=human_duration(language, period),
            renewal=renewal,
        )
        if chat.rules and len(chat.rules) <= OFFER_RULES_LIMIT:
            text += "\n\n" + t(language, "billing.offer_rules", rules=escape(chat.rules))
        if note:
            text = f"{note}\n\n{text}"
        if config.plan == Plan.RECURRING:
            link = await self._notifier.invoice_link(
                invoice_title, description, payload, amount, SUBSCRIPTION_PERIOD
            )
            if link is None:
                return False
            buttons: Keyboard = [
                [Button(t(language, "billing.pay_button", price=amount), url=link)]
            ]
            return await self._notifier.send(user_id, text, buttons) is not None
        if await self._notifier.send(user_id, text) is None:
            return False
        sent = await self._notifier.send_invoice(
            user_id, invoice_title, description, payload, amount
        )
        return sent is not None

    # ----- joining -------------------------------------------------------------------------

    async def join_request(self, chat: ChatRef, person: Person, user_chat_id: int) -> bool:
        """Onboarding's gate for join requests: True when the chat is paid (handled here)."""
        config = await self._settings.get(chat.id)
        if config.price <= 0:
            return False
        if await self.free_pass(chat.id, person.id) or await self.has_access(chat.id, person.id):
            await self._onboarding.accept_request(chat.id, person)
            return True
        if await self._start_trial(chat.id, person.id, config):
            await self._onboarding.accept_request(chat.id, person)
            return True
        # the request waits for the payment, then is declined as any unanswered request
        async with self._db.transaction() as session:
            await DeadlineRepository(session).schedule(
                REQUEST, chat.id, person.id, self._clock.now() + OFFER_WINDOW
            )
        if not await self.send_offer(chat.id, person.id):
            log.info("chat %s: cannot send an offer to %s; admins decide", chat.id, person.id)
        return True

    async def member_joined(self, chat: ChatRef, person: Person, privileged: bool) -> None:
        """Someone got in without paying (added by an admin): offer, remove after grace."""
        config = await self._settings.get(chat.id)
        if config.price <= 0 or person.is_bot or privileged:
            return
        if await self.free_pass(chat.id, person.id) or await self.has_access(chat.id, person.id):
            return
        if await self._start_trial(chat.id, person.id, config):
            return
        now = self._clock.now()
        async with self._db.transaction() as session:
            await ChatRepository(session).ensure(chat.id, chat.title, chat.type, now)
            await remember_person(session, person, now)
            sub = await self._sub(session, chat.id, person.id)
            if sub.status == SubStatus.UNPAID:
                return  # the same join seen twice
            # the grace is given once per person and chat: leaving and coming back (or
            # time that ran out before) keeps the deadline they already had
            first_time = sub.ends_at is None
            if first_time:
                sub.ends_at = now
                sub.plan = Plan.NONE
            assert sub.ends_at is not None
            sub.status = SubStatus.UNPAID
            sub.renewal = Renewal.NONE
            sub.updated_at = now
            deadline = max(now, sub.ends_at + config.grace)
            await DeadlineRepository(session).schedule(BILL_END, chat.id, person.id, deadline)
            await DeadlineRepository(session).cancel(BILL_REMIND, chat.id, person.id)
        language = await self._language(person.id, config)
        when = format_moment(language, deadline, config.timezone)
        note = t(language, "billing.joined_unpaid", chat=escape(chat.title), when=when)
        await self.send_offer(chat.id, person.id, note)

    async def expire_request(self, chat_id: int, user_id: int) -> None:
        """The join request's day is over: approve it if they have access (they paid, or
        were granted or exempted meanwhile), otherwise decline it as onboarding does."""
        config = await self._settings.get(chat_id)
        if config.price > 0 and (
            await self.free_pass(chat_id, user_id) or await self.has_access(chat_id, user_id)
        ):
            async with self._db.transaction() as session:
                user = await session.get(User, user_id)
            person = Person(id=user_id, first_name=user.first_name if user else "")
            result = await self._onboarding.accept_request(chat_id, person)
            if result.outcome != Accept.EXPIRED:
                return
        await self._onboarding.expire_request(chat_id, user_id)

    async def member_left(self, chat_id: int, user_id: int) -> None:
        """A person who never paid left: nothing more to enforce."""
        async with self._db.transaction() as session:
            sub = await session.get(Subscription, (chat_id, user_id))
            if sub is None or sub.status != SubStatus.UNPAID:
                return
            sub.status = SubStatus.LEFT
            sub.updated_at = self._clock.now()
            await DeadlineRepository(session).cancel(BILL_END, chat_id, user_id)

    async def _start_trial(self, chat_id: int, user_id: int, config: ChatConfig) -> bool:
        if config.trial is None:
            return False
        now = self._clock.now()
        async with self._db.transaction() as session:
            sub = await self._sub(session, chat_id, user_id)
            if sub.trial_used:
                return False
            sub.trial_used = True
            sub.status = SubStatus.ACTIVE
            sub.plan = Plan.TRIAL
            sub.renewal = Renewal.NONE
            sub.ends_at = now + config.trial
            sub.updated_at = now
            self._fresh_period(sub, config, now)
            await self._plan(session, sub, config, now)
            ends_at = sub.ends_at
        language = await self._language(user_id, config)
        title = await self._title(chat_id)
        await self._notifier.send(
            user_id,
            t(
                language,
                "billing.trial_started",
                chat=escape(title),
                until=format_moment(language, ends_at, config.timezone),
            ),
        )
        return True

    # ----- paying --------------------------------------------------------------------------

    async def check(
        self, payload: str, payer_id: int, amount: int, currency: str
    ) -> Refusal | None:
        """Pre-checkout: None to accept, otherwise why not."""
        issued = parse_payload(self._secrets, payload)
        if issued is None or currency != "XTR":
            return Refusal.UNKNOWN
        if issued.user_id != payer_id:
            return Refusal.NOT_YOURS
        async with self._db.transaction() as session:
            chat = await ChatRepository(session).get(issued.chat_id)
        if chat is None or not chat.active:
            return Refusal.NOT_PAID
        config = await self._settings.get(issued.chat_id)
        due = amount_due(config)
        if due <= 0:
            return Refusal.NOT_PAID
        if issued.plan != config.plan or issued.amount != due or amount != due:
            return Refusal.PRICE_CHANGED
        if issued.plan == Plan.RECURRING:
            # an older pay link still works: a second subscription would charge twice
            now = self._clock.now()
            async with self._db.transaction() as session:
                sub = await session.get(Subscription, (issued.chat_id, payer_id))
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

    async def refusal_text(self, refusal: Refusal, language: str) -> str:
        return t(language, f"billing.refuse.{refusal.value}")

    async def _linked(self, payload: str, user_id: int) -> Payload | None:
        """A payload whose signature can't be verified (the key changed) that renews a
        subscription we know: same payer, same chat, a recurring plan paid before."""
        claimed = read_payload(payload)
        if claimed is None or claimed.user_id != user_id or claimed.plan != Plan.RECURRING:
            return None
        async with self._db.transaction() as session:
            sub = await session.get(Subscription, (claimed.chat_id, user_id))
            earlier = (
                await session.execute(
                    select(func.count()).where(
                        Payment.chat_id == claimed.chat_id,
                        Payment.user_id == user_id,
                        Payment.plan == Plan.RECURRING,
                    )
                )
            ).scalar_one()
        if sub is None or sub.plan != Plan.RECURRING or sub.charge_id is None or not earlier:
            return None
        return claimed

    async def _unattributed(self, paid: PaymentIn) -> Applied:
        """Money we can't tie to a chat and person: recorded anyway, and the owners told."""
        claimed = read_payload(paid.payload)
        chat_id = claimed.chat_id if claimed is not None else 0
        async with self._db.transaction() as session:
            inserted = await _insert_payment(session, paid, chat_id, "unattributed")
        if not inserted:
            return Applied(duplicate=True, chat_id=chat_id)
        log.error(
            "payment %s of %s ⭐ from %s (payload %r) can't be attributed; recorded, no access",
            paid.charge_id,
            paid.amount,
            paid.user_id,
            paid.payload,
        )
        text = (
            f"⚠️ Payment <code>{escape(paid.charge_id)}</code> of {paid.amount} ⭐ from "
            f"<code>{paid.user_id}</code> could not be attributed to a membership "
            f"(chat <code>{chat_id}</code>). It is recorded; check it and refund if needed."
        )
        for owner in sorted(self._admins.owner_ids):
            await self._notifier.send(owner, text)
        return Applied(duplicate=False, chat_id=chat_id)

    async def record_payment(self, paid: PaymentIn) -> Applied:
        """Record a payment once per charge id and extend access; a repeat changes nothing."""
        issued = parse_payload(self._secrets, paid.payload)
        if issued is None and paid.recurring:
            issued = await self._linked(paid.payload, paid.user_id)
            if issued is not None:
                log.warning("payment %s: unverified payload, known subscription", paid.charge_id)
        if issued is None:
            return await self._unattributed(paid)
        chat_id = issued.chat_id
        config = await self._settings.get(chat_id)
        now = self._clock.now()
        async with self._db.transaction() as session:
            inserted = await _insert_payment(session, paid, chat_id, paid.source)
            if not inserted:
                return Applied(duplicate=True, chat_id=chat_id)
            # paid: the join request must not be declined, whatever happens next
            await DeadlineRepository(session).cancel(REQUEST, chat_id, paid.user_id)
            sub = await self._sub(session, chat_id, paid.user_id)
            being_removed = sub.status == SubStatus.REMOVED
            current = sub.ends_at if sub.status == SubStatus.ACTIVE else None
            if paid.recurring:
                expires = paid.expires_at or paid.at + MONTH
                ends_at = recurring_end(current, expires)
                sub.plan = Plan.RECURRING
                sub.renewal = Renewal.AUTO
                sub.charge_id = paid.charge_id
            else:
                ends_at = once_end(max(now, paid.at), current, config.period)
                sub.plan = Plan.ONCE
                if sub.renewal == Renewal.AUTO and current is None:
                    sub.renewal = Renewal.NONE
            start = max(current, now) if current is not None else now
            granted = max(0, int((ends_at - start).total_seconds()))
            payment = (
                await session.execute(select(Payment).where(Payment.charge_id == paid.charge_id))
            ).scalar_one()
            payment.granted_seconds = granted
            sub.status = SubStatus.ACTIVE
            sub.ends_at = ends_at
            sub.updated_at = now
            self._fresh_period(sub, config, now)
            await self._plan(session, sub, config, now)
            member = await session.get(Member, (chat_id, paid.user_id))
            # a removal that raced with this payment: they need a way back in
            member_status = member.status if member and not being_removed else None
            user = await session.get(User, paid.user_id)
        log.info("chat %s: payment %s from %s recorded", chat_id, paid.charge_id, paid.user_id)
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
        """Tell the payer; approve their join request, or give them a way in."""
        language = pick_language(user.language_code if user else None, config.language)
        title = escape(await self._title(chat_id))
        until = format_moment(language, ends_at, config.timezone)
        await self._notifier.send(user_id, t(language, "billing.paid", chat=title, until=until))
        if member_status == MemberStatus.REQUESTED:
            person = Person(id=user_id, first_name=user.first_name if user else "")
            result = await self._onboarding.accept_request(chat_id, person)
            if result.outcome == Accept.APPROVED:
                await self._notifier.send(user_id, t(language, "billing.approved", chat=title))
                return
        if member_status == MemberStatus.IN:
            return
        link = await self._notifier.join_link(chat_id, "Hearth")
        if link is not None:
            await self._notifier.send(
                user_id,
                t(language, "billing.join_link", chat=title),
                [[Button(t(language, "billing.join_button"), url=link)]],
            )

    async def subscription_changed(self, user_id: int, payload: str, state: str) -> None:
        """Bot API `subscription` update: canceled, active again, or a failed renewal."""
        issued = parse_payload(self._secrets, payload) or await self._linked(payload, user_id)
        renewal = {
            "canceled": Renewal.USER_CANCELED,
            "active": Renewal.AUTO,
            "failed": Renewal.FAILED,
        }.get(state)
        if issued is None or renewal is None:
            return
        if renewal == Renewal.USER_CANCELED:
            async with self._db.transaction() as session:
                sub = await session.get(Subscription, (issued.chat_id, user_id))
                if sub is not None and sub.renewal == Renewal.CANCELED:
                    return  # our own /cancel echoed back: the bot can still resume it
        await self._set_renewal(issued.chat_id, user_id, renewal)

    async def _set_renewal(self, chat_id: int, user_id: int, renewal: Renewal) -> None:
        config = await self._settings.get(chat_id)
        now = self._clock.now()
        async with self._db.transaction() as session:
            sub = await session.get(Subscription, (chat_id, user_id))
            if sub is None or sub.plan != Plan.RECURRING:
                return
            sub.renewal = renewal
            sub.updated_at = now
            if sub.status == SubStatus.ACTIVE and sub.ends_at is not None:
                self._skip_past_reminders(sub, config, now)
                await self._plan_reminder(DeadlineRepository(session), sub, config)
            ends_at = sub.ends_at
        if renewal == Renewal.FAILED and ends_at is not None:
            language = await self._language(user_id, config)
            title = escape(await self._title(chat_id))
            until = format_moment(language, ends_at, config.timezone)
            await self._notifier.send(
                user_id,
                t(language, "billing.renewal_failed", chat=title, until=until),
                [[Button(t(language, "billing.renew_button"), data=f"{OFFER_PREFIX}{chat_id}")]],
            )

    # ----- deadlines -----------------------------------------------------------------------

    async def expire(self, chat_id: int, user_id: int) -> None:
        """End + grace passed: remove without a lasting ban; someone who left is just marked."""
        config = await self._settings.get(chat_id)
        now = self._clock.now()
        if config.price <= 0 or await self._admins.is_admin(chat_id, user_id):
            return  # the chat became free meanwhile, or they are an admin now
        async with self._db.transaction() as session:
            sub = await self._sub(session, chat_id, user_id)
            if sub.exempt or sub.status not in (SubStatus.ACTIVE, SubStatus.UNPAID):
                return
            if sub.ends_at is None:
                return
            end = sub.ends_at + end_slack(config, sub.renewal)
            if end > now:
                await DeadlineRepository(session).schedule(BILL_END, chat_id, user_id, end)
                return  # paid or granted meanwhile
            member = await session.get(Member, (chat_id, user_id))
            # no member row (never seen joining, e.g. lost updates): try the removal anyway
            present = member is None or member.status == MemberStatus.IN
            previous = sub.status
            sub.status = SubStatus.REMOVED if present else SubStatus.LEFT
            sub.updated_at = now
            await DeadlineRepository(session).cancel(BILL_REMIND, chat_id, user_id)
        if not present:
            log.info("chat %s: time of %s ran out after they left", chat_id, user_id)
            return
        if not await self._notifier.remove(chat_id, user_id, now):
            async with self._db.transaction() as session:
                sub = await self._sub(session, chat_id, user_id)
                if sub.status == SubStatus.REMOVED:
                    sub.status = previous
            await self._onboarding.warn_missing_rights(chat_id, ["can_restrict_members"])
            raise RuntimeError(f"could not remove {user_id} from {chat_id}")
        log.info("chat %s: removed %s whose paid time ended", chat_id, user_id)
        language = await self._language(user_id, config)
        title = escape(await self._title(chat_id))
        await self._notifier.send(
            user_id,
            t(language, "billing.removed", chat=title),
            [[Button(t(language, "billing.renew_button"), data=f"{OFFER_PREFIX}{chat_id}")]],
        )

    async def remind(self, chat_id: int, user_id: int) -> None:
        """Send the due `remind_before` reminder once, then plan the next one."""
        config = await self._settings.get(chat_id)
        now = self._clock.now()
        if config.price <= 0:
            return
        async with self._db.transaction() as session:
            sub = await self._sub(session, chat_id, user_id)
            if (
                sub.status != SubStatus.ACTIVE
                or sub.exempt
                or sub.renewal == Renewal.AUTO
                or sub.ends_at is None
                or sub.ends_at <= now
            ):
                return
            sent = {p for p in sub.reminded.split(",") if p}
            due = [
                o
                for o in config.remind_before
                if offsets_key(o) not in sent and sub.ends_at - o <= now
            ]
            ends_at = sub.ends_at
            if not due:
                await self._plan_reminder(DeadlineRepository(session), sub, config)
                return
        # sent first, marked after: a crash in between repeats it rather than losing it
        language = await self._language(user_id, config)
        title = escape(await self._title(chat_id))
        await self._notifier.send(
            user_id,
            t(
                language,
                "billing.reminder",
                chat=title,
                until=format_moment(language, ends_at, config.timezone),
                left=human_duration(language, ends_at - now),
            ),
            [[Button(t(language, "billing.renew_button"), data=f"{OFFER_PREFIX}{chat_id}")]],
        )
        async with self._db.transaction() as session:
            sub = await self._sub(session, chat_id, user_id)
            sent = {p for p in sub.reminded.split(",") if p}
            if sub.ends_at == ends_at:  # not renewed meanwhile (that starts reminders over)
                sent.update(offsets_key(o) for o in due)
                sub.reminded = ",".join(sorted(sent))
            await self._plan_reminder(DeadlineRepository(session), sub, config)

    # ----- members' commands ---------------------------------------------------------------

    async def paid_chats(self, user_id: int) -> list[tuple[int, str]]:
        """Paid chats this person has to do with (member, requester, subscriber)."""
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(Chat.id, Chat.title)
                .where(
                    Chat.active.is_(True),
                    Chat.id.in_(select(Member.chat_id).where(Member.user_id == user_id))
                    | Chat.id.in_(
                        select(Subscription.chat_id).where(Subscription.user_id == user_id)
                    ),
                )
                .order_by(Chat.title)
            )
            chats = [(chat_id, title) for chat_id, title in rows.all()]
        result = []
        for chat_id, title in chats:
            if (await self._settings.get(chat_id)).price > 0:
                result.append((chat_id, title))
        return result

    async def views(self, user_id: int) -> list[SubView]:
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(Subscription, Chat)
                .join(Chat, Chat.id == Subscription.chat_id)
                .where(Subscription.user_id == user_id)
                .order_by(Chat.title)
            )
            pairs = list(rows.all())
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
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(Chat.id, Chat.title)
                .join(Subscription, Subscription.chat_id == Chat.id)
                .where(
                    Subscription.user_id == user_id,
                    Subscription.renewal == Renewal.AUTO,
                    Subscription.charge_id.is_not(None),
                )
                .order_by(Chat.title)
            )
            return [(chat_id, title) for chat_id, title in rows.all()]

    async def cancel(self, chat_id: int, user_id: int) -> tuple[Cancel, datetime | None]:
        """Stop the automatic renewal; access stays until the paid period ends."""
        async with self._db.transaction() as session:
            sub = await session.get(Subscription, (chat_id, user_id))
            if sub is None or sub.renewal != Renewal.AUTO or sub.charge_id is None:
                return Cancel.NOTHING, None
            charge_id = sub.charge_id
        if not await self._notifier.cancel_star_subscription(user_id, charge_id, True):
            return Cancel.FAILED, None
        await self._set_renewal(chat_id, user_id, Renewal.CANCELED)
        async with self._db.transaction() as session:
            sub = await session.get(Subscription, (chat_id, user_id))
            ends_at = sub.ends_at if sub else None
        return Cancel.DONE, ends_at

    async def resume(self, chat_id: int, user_id: int) -> tuple[Cancel, datetime | None]:
        """Turn renewal back on (no new payment now) — only of a subscription the bot
        cancelled; one the user cancelled in Telegram only they can turn back on there."""
        async with self._db.transaction() as session:
            sub = await session.get(Subscription, (chat_id, user_id))
            if sub is not None and sub.renewal == Renewal.USER_CANCELED:
                return Cancel.BY_USER, sub.ends_at
            if sub is None or sub.renewal != Renewal.CANCELED or sub.charge_id is None:
                return Cancel.NOTHING, None
            charge_id = sub.charge_id
        if not await self._notifier.cancel_star_subscription(user_id, charge_id, False):
            return Cancel.FAILED, None
        await self._set_renewal(chat_id, user_id, Renewal.AUTO)
        async with self._db.transaction() as session:
            sub = await session.get(Subscription, (chat_id, user_id))
            return Cancel.DONE, sub.ends_at if sub else None

    # ----- admins' commands ----------------------------------------------------------------

    async def grant(self, chat: ChatRef, person: Person, duration: timedelta) -> datetime:
        """Free time: from the later of now and the current end."""
        config = await self._settings.get(chat.id)
        now = self._clock.now()
        async with self._db.transaction() as session:
            await ChatRepository(session).ensure(chat.id, chat.title, chat.type, now)
            await remember_person(session, person, now)
            sub = await self._sub(session, chat.id, person.id)
            current = sub.ends_at if sub.status == SubStatus.ACTIVE else None
            if current is None or current <= now:
                sub.plan = Plan.GRANT
                sub.renewal = Renewal.NONE
            sub.ends_at = (max(current, now) if current else now) + duration
            sub.status = SubStatus.ACTIVE
            sub.updated_at = now
            self._fresh_period(sub, config, now)
            await self._plan(session, sub, config, now)
            ends_at = sub.ends_at
            member = await session.get(Member, (chat.id, person.id))
            requested = member is not None and member.status == MemberStatus.REQUESTED
        if requested:
            await self._onboarding.accept_request(chat.id, person)
        language = await self._language(person.id, config)
        until = format_moment(language, ends_at, config.timezone)
        await self._notifier.send(
            person.id, t(language, "billing.granted", chat=escape(chat.title), until=until)
        )
        return ends_at

    async def set_exempt(self, chat: ChatRef, person: Person, exempt: bool) -> None:
        config = await self._settings.get(chat.id)
        now = self._clock.now()
        async with self._db.transaction() as session:
            await ChatRepository(session).ensure(chat.id, chat.title, chat.type, now)
            await remember_person(session, person, now)
            sub = await self._sub(session, chat.id, person.id)
            sub.exempt = exempt
            sub.updated_at = now
            deadlines = DeadlineRepository(session)
            if exempt:
                if sub.status == SubStatus.UNPAID:
                    sub.status = SubStatus.LEFT
                await deadlines.cancel(BILL_END, chat.id, person.id)
                await deadlines.cancel(BILL_REMIND, chat.id, person.id)
            elif sub.status == SubStatus.ACTIVE and sub.ends_at is not None:
                await self._plan(session, sub, config, now)
            member = await session.get(Member, (chat.id, person.id))
            member_status = member.status if member else None
        if exempt and member_status == MemberStatus.REQUESTED:
            await self._onboarding.accept_request(chat.id, person)
        stays = member_status == MemberStatus.IN and config.price > 0
        if not exempt and stays and not await self.has_access(chat.id, person.id):
            await self.member_joined(chat, person, privileged=False)

    async def overview(self, chat_id: int) -> Overview:
        config = await self._settings.get(chat_id)
        now = self._clock.now()
        local = now.astimezone(config.timezone)
        month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        async with self._db.transaction() as session:
            subs = list(
                (
                    await session.execute(
                        select(Subscription).where(Subscription.chat_id == chat_id)
                    )
                ).scalars()
            )
            paid = Payment.chat_id == chat_id, Payment.refunded_at.is_(None)
            total, count = (
                await session.execute(
                    select(func.coalesce(func.sum(Payment.amount), 0), func.count()).where(*paid)
                )
            ).one()
            month = (
                await session.execute(
                    select(func.coalesce(func.sum(Payment.amount), 0)).where(
                        *paid, Payment.paid_at >= month_start
                    )
                )
            ).scalar_one()
        active = [
            s
            for s in subs
            if s.status == SubStatus.ACTIVE and s.ends_at is not None and s.ends_at > now
        ]
        in_grace = [
            s
            for s in subs
            if s.status in (SubStatus.ACTIVE, SubStatus.UNPAID)
            and not s.exempt
            and s.ends_at is not None
            and s.ends_at <= now
        ]
        return Overview(
            active=len(active),
            ending_soon=sum(
                1 for s in active if s.ends_at is not None and s.ends_at <= now + timedelta(days=7)
            ),
            in_grace=len(in_grace),
            exempt=sum(1 for s in subs if s.exempt),
            revenue_month=int(month),
            revenue_total=int(total),
            payments=int(count),
        )

    async def csv(self, chat_id: int) -> bytes:
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(Subscription, User)
                .outerjoin(User, User.id == Subscription.user_id)
                .where(Subscription.chat_id == chat_id)
                .order_by(Subscription.ends_at)
            )
            subs = list(rows.all())
            paid_rows = await session.execute(
                select(Payment.user_id, func.sum(Payment.amount))
                .where(Payment.chat_id == chat_id, Payment.refunded_at.is_(None))
                .group_by(Payment.user_id)
            )
            paid = {user_id: int(total) for user_id, total in paid_rows.all()}
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "user_id",
                "name",
                "username",
                "status",
                "plan",
                "ends_at",
                "renewal",
                "exempt",
                "paid",
            ]
        )
        for sub, user in subs:
            writer.writerow(
                [
                    csv_cell(cell)
                    for cell in (
                        sub.user_id,
                        user.full_name if user else "",
                        user.username or "" if user else "",
                        sub.status,
                        sub.plan,
                        sub.ends_at.isoformat() if sub.ends_at else "",
                        sub.renewal,
                        "yes" if sub.exempt else "no",
                        paid.get(sub.user_id, 0),
                    )
                ]
            )
        return out.getvalue().encode("utf-8")

    async def refund(self, chat_id: int, charge_id: str) -> RefundResult:
        """refundStarPayment, then the access this payment bought ends."""
        async with self._db.transaction() as session:
            payment = (
                await session.execute(
                    select(Payment).where(
                        Payment.charge_id == charge_id, Payment.chat_id == chat_id
                    )
                )
            ).scalar_one_or_none()
            if payment is None:
                return RefundResult(Refund.UNKNOWN)
            if payment.refunded_at is not None:
                return RefundResult(Refund.ALREADY, payment.user_id, payment.amount)
            user_id, amount = payment.user_id, payment.amount
        outcome = await self._notifier.refund_stars(user_id, charge_id)
        if outcome == "failed":
            return RefundResult(Refund.FAILED, user_id, amount)
        async with self._db.transaction() as session:
            sub = await session.get(Subscription, (chat_id, user_id))
            renewing = sub is not None and sub.charge_id == charge_id
        if renewing and not await self._notifier.cancel_star_subscription(
            user_id, charge_id, True
        ):  # a refunded subscription must not charge again
            log.warning("chat %s: could not stop the subscription of %s", chat_id, charge_id)
        ends_at = await self.refunded(charge_id)
        config = await self._settings.get(chat_id)
        language = await self._language(user_id, config)
        title = escape(await self._title(chat_id))
        await self._notifier.send(
            user_id, t(language, "billing.refunded", chat=title, amount=amount)
        )
        return RefundResult(Refund.DONE, user_id, amount, ends_at)

    async def refunded(self, charge_id: str) -> datetime | None:
        """Mark a payment refunded and take back the time it bought (grace not owed), in one
        transaction: a crash never leaves a refunded payment whose time still counts."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            chat_id = (
                await session.execute(select(Payment.chat_id).where(Payment.charge_id == charge_id))
            ).scalar_one_or_none()
        if chat_id is None:
            return None
        config = await self._settings.get(chat_id)
        async with self._db.transaction() as session:
            payment = (
                await session.execute(
                    select(Payment).where(Payment.charge_id == charge_id).with_for_update()
                )
            ).scalar_one_or_none()
            if payment is None or payment.refunded_at is not None:
                return None
            payment.refunded_at = now
            sub = await self._sub(session, chat_id, payment.user_id)
            if sub.status != SubStatus.ACTIVE or sub.ends_at is None:
                return sub.ends_at
            ends_at = sub.ends_at - timedelta(seconds=payment.granted_seconds)
            if sub.charge_id == charge_id:
                sub.renewal = Renewal.CANCELED
            if ends_at <= now:
                ends_at = now - config.grace  # the refund ends access now, no grace
            sub.ends_at = ends_at
            sub.updated_at = now
            await self._plan(session, sub, config, now)
            return ends_at

    # ----- reconciliation ------------------------------------------------------------------

    async def reconcile(self) -> int:
        """Apply payments (and refunds) from getStarTransactions whose updates were missed.

        Reads every page (the order Telegram returns them in does not matter); only charges
        the database does not know yet are applied, each through `record_payment`, so a
        payment that arrives as an update meanwhile still counts once.
        """
        applied = 0
        offset = 0
        for _ in range(RECONCILE_MAX_PAGES):
            page = await self._notifier.star_transactions(offset, RECONCILE_PAGE)
            if page is None:
                break  # Telegram unavailable: the next run catches up
            # every payment counts, even one whose payload can't be verified any more
            ours = [tx for tx in page if tx.user_id is not None and tx.payload]
            known = await self._known_charges({tx.id for tx in ours})
            for tx in ours:
                if not tx.incoming or tx.id in known or tx.user_id is None or not tx.payload:
                    continue
                period = tx.subscription_period
                result = await self.record_payment(
                    PaymentIn(
                        charge_id=tx.id,
                        user_id=tx.user_id,
                        payload=tx.payload,
                        amount=tx.amount,
                        recurring=period is not None,
                        expires_at=tx.date + timedelta(seconds=period) if period else None,
                        at=tx.date,
                        source="reconcile",
                    )
                )
                applied += not result.duplicate
            refunds = {tx.id for tx in ours if not tx.incoming}
            for charge_id, refunded in (await self._known_charges(refunds)).items():
                if not refunded and await self.refunded(charge_id) is not None:
                    applied += 1
            if len(page) < RECONCILE_PAGE:
                break
            offset += len(page)
        if applied:
            log.info("reconciliation applied %d missed payments or refunds", applied)
        return applied

    async def _known_charges(self, charge_ids: set[str]) -> dict[str, bool]:
        """Charge id → already refunded, for the charges the database knows."""
        if not charge_ids:
            return {}
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(Payment.charge_id, Payment.refunded_at).where(
                    Payment.charge_id.in_(charge_ids)
                )
            )
            return {charge_id: refunded_at is not None for charge_id, refunded_at in rows.all()}
