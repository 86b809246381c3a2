"""What chat admins do with paid membership: grant free time, exempt someone, read the
figures (overview and CSV), refund a payment."""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime, timedelta

from bot.services.billing.base import BILL_END, BILL_REMIND, BillingContext, fresh_period, plan
from bot.services.billing.lifecycle import Lifecycle
from bot.services.billing.policy import ENDING_SOON, csv_cell
from bot.services.billing.values import Overview, PaymentLine, Refund, RefundResult
from bot.services.members import remember_person
from bot.services.people import ChatRef, Person
from bot.views import billing as views
from models.billing import (
    PaymentRepository,
    Plan,
    Renewal,
    Subscription,
    SubscriptionRepository,
    SubStatus,
)
from models.chats import ChatRepository
from models.deadlines import DeadlineRepository
from models.members import MemberRepository, MemberStatus
from models.users import User

log = logging.getLogger(__name__)

RECENT_PAYMENTS = 10  # listed by /refund in private, newest first

CSV_HEADER = [
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


class Admin:
    """The admins' commands of a paid chat."""

    def __init__(self, billing: BillingContext, lifecycle: Lifecycle) -> None:
        self._b = billing
        self._lifecycle = lifecycle

    async def grant(self, chat: ChatRef, person: Person, duration: timedelta) -> datetime:
        """Free time: from the later of now and the current end."""
        b = self._b
        config = await b.settings.get(chat.id)
        now = b.clock.now()
        async with b.db.transaction() as session:
            await ChatRepository(session).ensure(chat.id, chat.title, chat.type, now)
            await remember_person(session, person, now)
            sub = await SubscriptionRepository(session).lock(chat.id, person.id, now)
            current = sub.ends_at if sub.status == SubStatus.ACTIVE else None
            if current is None or current <= now:
                sub.plan = Plan.GRANT
                sub.renewal = Renewal.NONE
            sub.ends_at = (max(current, now) if current else now) + duration
            sub.status = SubStatus.ACTIVE
            sub.updated_at = now
            fresh_period(sub, config, now)
            await plan(session, sub, config)
            ends_at = sub.ends_at
            member = await MemberRepository(session).get(chat.id, person.id)
            requested = member is not None and member.status == MemberStatus.REQUESTED
        if requested:
            await b.door.accept_request(chat.id, person)
        language = await b.language(person.id, config)
        await b.notifier.send(
            person.id, views.granted(language, chat.title, ends_at, config.timezone)
        )
        return ends_at

    async def set_exempt(self, chat: ChatRef, person: Person, exempt: bool) -> None:
        """Exempt someone from paying (their request is approved), or make them pay again."""
        b = self._b
        config = await b.settings.get(chat.id)
        now = b.clock.now()
        async with b.db.transaction() as session:
            await ChatRepository(session).ensure(chat.id, chat.title, chat.type, now)
            await remember_person(session, person, now)
            sub = await SubscriptionRepository(session).lock(chat.id, person.id, now)
            sub.exempt = exempt
            sub.updated_at = now
            deadlines = DeadlineRepository(session)
            if exempt:
                if sub.status == SubStatus.UNPAID:
                    sub.status = SubStatus.LEFT
                await deadlines.cancel(BILL_END, chat.id, person.id)
                await deadlines.cancel(BILL_REMIND, chat.id, person.id)
            elif sub.status == SubStatus.ACTIVE and sub.ends_at is not None:
                await plan(session, sub, config)
            member = await MemberRepository(session).get(chat.id, person.id)
            member_status = member.status if member else None
        if exempt and member_status == MemberStatus.REQUESTED:
            await b.door.accept_request(chat.id, person)
        stays = member_status == MemberStatus.IN and config.price > 0
        if not exempt and stays and not await b.has_access(chat.id, person.id):
            await self._lifecycle.member_joined(chat, person, privileged=False)

    async def overview(self, chat_id: int) -> Overview:
        """Counts of subscribers and the revenue of this month (chat's time zone) and in all."""
        b = self._b
        config = await b.settings.get(chat_id)
        now = b.clock.now()
        local = now.astimezone(config.timezone)
        month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        async with b.db.transaction() as session:
            subs = await SubscriptionRepository(session).of_chat(chat_id)
            total, count, month = await PaymentRepository(session).revenue(chat_id, month_start)
        return _overview(subs, now, total, count, month)

    async def csv(self, chat_id: int) -> bytes:
        """Every subscriber of the chat as a CSV file (cells guarded against formulas)."""
        async with self._b.db.transaction() as session:
            subs = await SubscriptionRepository(session).of_chat_with_users(chat_id)
            paid = await PaymentRepository(session).paid_by_user(chat_id)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        for sub, user in subs:
            writer.writerow([csv_cell(cell) for cell in _csv_row(sub, user, paid)])
        return out.getvalue().encode("utf-8")

    async def refund(self, chat_id: int, charge_id: str) -> RefundResult:
        """refundStarPayment, then the access this payment bought ends."""
        b = self._b
        async with b.db.transaction() as session:
            payment = await PaymentRepository(session).by_charge(charge_id, chat_id)
            if payment is None:
                return RefundResult(Refund.UNKNOWN)
            if payment.refunded_at is not None:
                return RefundResult(Refund.ALREADY, payment.user_id, payment.amount)
            user_id, amount = payment.user_id, payment.amount
        outcome = await b.notifier.refund_stars(user_id, charge_id)
        if outcome == "failed":
            return RefundResult(Refund.FAILED, user_id, amount)
        async with b.db.transaction() as session:
            sub = await SubscriptionRepository(session).get(chat_id, user_id)
            renewing = sub is not None and sub.charge_id == charge_id
        if renewing and not await b.notifier.cancel_star_subscription(
            user_id, charge_id, True
        ):  # a refunded subscription must not charge again
            log.warning("chat %s: could not stop the subscription of %s", chat_id, charge_id)
        ends_at = await self.refunded(charge_id)
        config = await b.settings.get(chat_id)
        language = await b.language(user_id, config)
        title = await b.title(chat_id)
        await b.notifier.send(user_id, views.refunded(language, title, amount))
        return RefundResult(Refund.DONE, user_id, amount, ends_at)

    async def charge_chat(self, charge_id: str) -> tuple[int, str] | None:
        """(id, title) of the chat a payment was made for; None for an unknown charge id.
        Telegram's charge ids are unique, so the id alone names the chat."""
        async with self._b.db.transaction() as session:
            chat_id = await PaymentRepository(session).chat_of(charge_id)
        if chat_id is None:
            return None
        return chat_id, await self._b.title(chat_id)

    async def recent_payments(self, chat_id: int) -> list[PaymentLine]:
        """The chat's latest payments, for an admin choosing one to refund."""
        async with self._b.db.transaction() as session:
            rows = await PaymentRepository(session).recent(chat_id, RECENT_PAYMENTS)
        return [
            PaymentLine(
                charge_id=payment.charge_id,
                user_id=payment.user_id,
                name=user.full_name if user else "",
                amount=payment.amount,
                paid_at=payment.paid_at,
                refunded=payment.refunded_at is not None,
            )
            for payment, user in rows
        ]

    async def refunded(self, charge_id: str) -> datetime | None:
        """Mark a payment refunded and take back the time it bought (grace not owed), in one
        transaction: a crash never leaves a refunded payment whose time still counts."""
        b = self._b
        now = b.clock.now()
        async with b.db.transaction() as session:
            chat_id = await PaymentRepository(session).chat_of(charge_id)
        if chat_id is None:
            return None
        config = await b.settings.get(chat_id)
        async with b.db.transaction() as session:
            payment = await PaymentRepository(session).by_charge(charge_id, lock=True)
            if payment is None or payment.refunded_at is not None:
                return None
            payment.refunded_at = now
            sub = await SubscriptionRepository(session).lock(chat_id, payment.user_id, now)
            if sub.status != SubStatus.ACTIVE or sub.ends_at is None:
                return sub.ends_at
            ends_at = sub.ends_at - timedelta(seconds=payment.granted_seconds)
            if sub.charge_id == charge_id:
                sub.renewal = Renewal.CANCELED
            if ends_at <= now:
                ends_at = now - config.grace  # the refund ends access now, no grace
            sub.ends_at = ends_at
            sub.updated_at = now
            await plan(session, sub, config)
            return ends_at


def _overview(
    subs: list[Subscription], now: datetime, total: int, count: int, month: int
) -> Overview:
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
            1 for s in active if s.ends_at is not None and s.ends_at <= now + ENDING_SOON
        ),
        in_grace=len(in_grace),
        exempt=sum(1 for s in subs if s.exempt),
        revenue_month=month,
        revenue_total=total,
        payments=count,
    )


def _csv_row(sub: Subscription, user: User | None, paid: dict[int, int]) -> list[object]:
    return [
        sub.user_id,
        user.full_name if user else "",
        user.username or "" if user else "",
        sub.status,
        sub.plan,
        sub.ends_at.isoformat() if sub.ends_at else "",
        sub.renewal,
        "yes" if sub.exempt else "no",
        paid.get(sub.user_id, 0),
    ]
