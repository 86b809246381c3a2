"""The rules of paid membership as pure functions: prices, invoice payloads, periods, reminders,
spreadsheet cells. No database, no Telegram, no clock (callers pass `now`)."""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.settings import ChatConfig
from models.billing import Plan, Renewal

SUBSCRIPTION_PERIOD = 2592000  # the only period Telegram allows for Stars subscriptions
MONTH = timedelta(seconds=SUBSCRIPTION_PERIOD)
OFFER_WINDOW = timedelta(days=1)  # how long a join request waits for its payment
OFFER_RULES_LIMIT = 2000
PAYLOAD_VERSION = "hs1"
AUTO_RENEW_SLACK = timedelta(minutes=10)
ENDING_SOON = timedelta(days=7)


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


def paid_period(config: ChatConfig) -> timedelta:
    """How long one payment lasts: a month for a subscription, `period` for a one-time plan."""
    return MONTH if config.plan == Plan.RECURRING else config.period


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


def granted_seconds(current_end: datetime | None, now: datetime, ends_at: datetime) -> int:
    """The time a payment added: from the later of now and the current end to the new end."""
    start = max(current_end, now) if current_end is not None else now
    return max(0, int((ends_at - start).total_seconds()))


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


def reminded_keys(reminded: str) -> set[str]:
    """The reminders already sent, from the stored comma-separated offsets."""
    return {key for key in reminded.split(",") if key}


def mark_reminded(reminded: str, offsets: Iterable[timedelta]) -> str:
    """The stored form with `offsets` added to the reminders already sent."""
    sent = reminded_keys(reminded) | {offsets_key(offset) for offset in offsets}
    return ",".join(sorted(sent))


def skip_past_reminders(
    reminded: str, ends_at: datetime, remind_before: Iterable[timedelta], now: datetime
) -> str:
    """Reminders whose moment has already passed are not sent late (marked as sent)."""
    return mark_reminded(reminded, [o for o in remind_before if ends_at - o <= now])


def next_reminder(
    reminded: str, ends_at: datetime, remind_before: Iterable[timedelta]
) -> datetime | None:
    """When the earliest reminder not sent yet is due, or None when none is left."""
    sent = reminded_keys(reminded)
    times = [ends_at - o for o in remind_before if offsets_key(o) not in sent]
    return min(times) if times else None


def due_reminders(
    reminded: str, ends_at: datetime, remind_before: Iterable[timedelta], now: datetime
) -> list[timedelta]:
    """The reminders not sent yet whose moment has come."""
    sent = reminded_keys(reminded)
    return [o for o in remind_before if offsets_key(o) not in sent and ends_at - o <= now]
