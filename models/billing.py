"""Paid membership: one subscription row per (chat, person), and every Stars payment once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.chats import Chat
from models.members import Member
from models.upsert import insert_ignore
from models.users import User


class Plan(StrEnum):
    RECURRING = "recurring"
    ONCE = "once"
    GRANT = "grant"
    TRIAL = "trial"
    NONE = "none"


class Renewal(StrEnum):
    AUTO = "auto"  # a Stars subscription Telegram renews
    CANCELED = "canceled"  # stopped by the bot (/cancel): the bot can turn it back on
    USER_CANCELED = "user_canceled"  # stopped by the user in Telegram: only they can
    FAILED = "failed"
    NONE = "none"  # one-time payments, grants, trials


class SubStatus(StrEnum):
    ACTIVE = "active"  # paid (or granted) time, possibly in grace
    UNPAID = "unpaid"  # got in without paying; removed after grace
    REMOVED = "removed"  # removed at the end of time + grace
    LEFT = "left"  # time ran out after they had already left


class Subscription(Base):
    """A person's membership in a paid chat; `ends_at` is when their access ends."""

    __tablename__ = "subscriptions"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16), default=SubStatus.ACTIVE)
    plan: Mapped[str] = mapped_column(String(16), default=Plan.NONE)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    renewal: Mapped[str] = mapped_column(String(16), default=Renewal.NONE)
    charge_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    trial_used: Mapped[bool] = mapped_column(Boolean, default=False)
    exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    reminded: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Payment(Base):
    """One Stars payment; `charge_id` (telegram_payment_charge_id) is unique: counted once."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_chat_paid", "chat_id", "paid_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    charge_id: Mapped[str] = mapped_column(String(255), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    amount: Mapped[int] = mapped_column(Integer)
    plan: Mapped[str] = mapped_column(String(16))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_seconds: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16), default="update")
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SubscriptionRepository:
    """Subscriptions inside the caller's transaction (it commits, never this)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, chat_id: int, user_id: int) -> Subscription | None:
        return await self.session.get(Subscription, (chat_id, user_id))

    async def lock(self, chat_id: int, user_id: int, now: datetime) -> Subscription:
        """The subscription row, created if missing, locked for this transaction."""
        await insert_ignore(
            self.session,
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
                "updated_at": now,
            },
            key=["chat_id", "user_id"],
        )
        result = await self.session.execute(
            select(Subscription)
            .where(Subscription.chat_id == chat_id, Subscription.user_id == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.scalar_one()

    async def of_chat(self, chat_id: int) -> list[Subscription]:
        rows = await self.session.execute(
            select(Subscription).where(Subscription.chat_id == chat_id)
        )
        return list(rows.scalars())

    async def of_chat_with_users(self, chat_id: int) -> list[tuple[Subscription, User | None]]:
        """Every subscription of a chat with its person (if known), soonest end first."""
        rows = await self.session.execute(
            select(Subscription, User)
            .outerjoin(User, User.id == Subscription.user_id)
            .where(Subscription.chat_id == chat_id)
            .order_by(Subscription.ends_at)
        )
        return [(sub, user) for sub, user in rows.all()]

    async def of_user_with_chats(self, user_id: int) -> list[tuple[Subscription, Chat]]:
        rows = await self.session.execute(
            select(Subscription, Chat)
            .join(Chat, Chat.id == Subscription.chat_id)
            .where(Subscription.user_id == user_id)
            .order_by(Chat.title)
        )
        return [(sub, chat) for sub, chat in rows.all()]

    async def auto_renewing_chats(self, user_id: int) -> list[tuple[int, str]]:
        """(chat id, title) of the person's subscriptions Telegram renews, by title."""
        rows = await self.session.execute(
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

    async def related_chats(self, user_id: int) -> list[tuple[int, str]]:
        """(chat id, title) of active chats the person is a member of or subscribed to."""
        rows = await self.session.execute(
            select(Chat.id, Chat.title)
            .where(
                Chat.active.is_(True),
                Chat.id.in_(select(Member.chat_id).where(Member.user_id == user_id))
                | Chat.id.in_(select(Subscription.chat_id).where(Subscription.user_id == user_id)),
            )
            .order_by(Chat.title)
        )
        return [(chat_id, title) for chat_id, title in rows.all()]


class PaymentRepository:
    """Stars payments inside the caller's transaction; a charge id is stored once."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        charge_id: str,
        chat_id: int,
        user_id: int,
        amount: int,
        plan: str,
        paid_at: datetime,
        source: str,
    ) -> bool:
        """Store a payment unless its charge id is known; True when it is new."""
        return await insert_ignore(
            self.session,
            Payment,
            {
                "charge_id": charge_id,
                "chat_id": chat_id,
                "user_id": user_id,
                "amount": amount,
                "plan": plan,
                "paid_at": paid_at,
                "granted_seconds": 0,
                "source": source,
                "refunded_at": None,
            },
            key=["charge_id"],
        )

    async def by_charge(
        self, charge_id: str, chat_id: int | None = None, *, lock: bool = False
    ) -> Payment | None:
        """The payment with this charge id (in this chat, when given)."""
        query = select(Payment).where(Payment.charge_id == charge_id)
        if chat_id is not None:
            query = query.where(Payment.chat_id == chat_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def chat_of(self, charge_id: str) -> int | None:
        return (
            await self.session.execute(
                select(Payment.chat_id).where(Payment.charge_id == charge_id)
            )
        ).scalar_one_or_none()

    async def recurring_count(self, chat_id: int, user_id: int) -> int:
        """How many subscription payments this person made for this chat."""
        return (
            await self.session.execute(
                select(func.count()).where(
                    Payment.chat_id == chat_id,
                    Payment.user_id == user_id,
                    Payment.plan == Plan.RECURRING,
                )
            )
        ).scalar_one()

    async def revenue(self, chat_id: int, since: datetime) -> tuple[int, int, int]:
        """(total, number of payments, total since `since`) of a chat, refunds left out."""
        paid = Payment.chat_id == chat_id, Payment.refunded_at.is_(None)
        total, count = (
            await self.session.execute(
                select(func.coalesce(func.sum(Payment.amount), 0), func.count()).where(*paid)
            )
        ).one()
        recent = (
            await self.session.execute(
                select(func.coalesce(func.sum(Payment.amount), 0)).where(
                    *paid, Payment.paid_at >= since
                )
            )
        ).scalar_one()
        return int(total), int(count), int(recent)

    async def paid_by_user(self, chat_id: int) -> dict[int, int]:
        """Person → what they paid in this chat, refunds left out."""
        rows = await self.session.execute(
            select(Payment.user_id, func.sum(Payment.amount))
            .where(Payment.chat_id == chat_id, Payment.refunded_at.is_(None))
            .group_by(Payment.user_id)
        )
        return {user_id: int(total) for user_id, total in rows.all()}

    async def recent(self, chat_id: int, limit: int) -> list[tuple[Payment, User | None]]:
        """The chat's latest payments with their payers (if known), newest first."""
        rows = await self.session.execute(
            select(Payment, User)
            .outerjoin(User, User.id == Payment.user_id)
            .where(Payment.chat_id == chat_id)
            .order_by(Payment.paid_at.desc(), Payment.id.desc())
            .limit(limit)
        )
        return [(payment, user) for payment, user in rows.all()]

    async def refunded_flags(self, charge_ids: set[str]) -> dict[str, bool]:
        """Charge id → already refunded, for the charges stored."""
        rows = await self.session.execute(
            select(Payment.charge_id, Payment.refunded_at).where(Payment.charge_id.in_(charge_ids))
        )
        return {charge_id: refunded_at is not None for charge_id, refunded_at in rows.all()}
