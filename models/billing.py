"""Paid membership: one subscription row per (chat, person), and every Stars payment once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


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
