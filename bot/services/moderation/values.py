"""The plain values moderation works with: actions, the message the rules see, results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.notifier import Outcome
from bot.services.people import Person

UNPOST = "unpost"
"""Deadline kind: delete a bot notice (the deadline's user_id holds the message id)."""
NOTICE_TTL = timedelta(seconds=30)
AUTO_ACTION_KEEP = timedelta(days=2)
"""How long an automatic action's key is kept: longer than Telegram keeps an update."""
REASON_LIMIT = 300
PHRASE_LIMIT = 100
REPORTS_PER_HOUR = 5
REPORT_ACTIONS = ("delete", "warn", "mute", "ban", "dismiss")


class Action(StrEnum):
    WARN = "warn"
    UNWARN = "unwarn"
    MUTE = "mute"
    UNMUTE = "unmute"
    KICK = "kick"
    BAN = "ban"
    UNBAN = "unban"
    FLOOD = "flood_mute"
    DELETE = "delete"
    REPORT = "report"


PUNISHING = (Action.MUTE, Action.KICK, Action.BAN, Action.FLOOD)


@dataclass(frozen=True)
class Incoming:
    """One group message, as the rules see it."""

    chat_id: int
    message_id: int
    sender: Person
    level: str
    at: datetime
    text: str = ""
    has_link: bool = False
    mentions: tuple[str, ...] = ()  # the @usernames mentioned
    mention_count: int = 0  # every mention, by @username or by name (text_mention)
    from_channel: bool = False
    edited: bool = False
    command: bool = False
    thread: int | None = None  # the forum topic it was posted in (None: General, or no forum)


@dataclass(frozen=True)
class WarnResult:
    count: int
    limit: int
    applied: str | None = None
    outcome: Outcome = Outcome.DONE
    until: datetime | None = None


class ReportResult(StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"
    TOO_MANY = "too_many"
