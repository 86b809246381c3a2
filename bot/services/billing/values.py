"""What billing's use cases take and return: outcomes and plain values, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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
class RulesAccepted:
    """A press of "I accept the rules" in a chat that is paid now: `outcome` is a join-request
    outcome (approved, already, expired, later), or offered / unpaid (no offer could be sent)."""

    outcome: str
    chat_title: str


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
class PaymentLine:
    """One payment as an admin picking one to refund sees it."""

    charge_id: str
    user_id: int
    name: str
    amount: int
    paid_at: datetime
    refunded: bool


@dataclass(frozen=True)
class RefundResult:
    outcome: Refund
    user_id: int = 0
    amount: int = 0
    ends_at: datetime | None = None
