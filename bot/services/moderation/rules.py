"""The automatic rules on every group message, as a pure decision.

`decide` looks at the message, the chat's rules and the facts read so far. When it needs one
more fact (a counter, whether the sender is an admin, ...) it returns an `Ask` naming it; the
executor reads it and calls `decide` again. Facts are asked for one at a time and only when a
rule needs them, in the order the rules apply: a message the stop-word rule removes is never
counted towards the flood limit, and the admin list is consulted only when a rule fires.
When it knows enough it returns a `Verdict`: what to do, which the executor carries out.

Nothing here does I/O, reads the clock or renders text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from bot.services.moderation.values import Action, Incoming
from bot.services.settings import ChatConfig
from models.members import TrustLevel

FLOOD_MUTE_CAP = timedelta(days=1)
ESCALATION_WINDOW = timedelta(hours=24)
EXPLAIN_EVERY = timedelta(minutes=10)
MENTIONS_CHECKED = 3


@dataclass(frozen=True)
class Rules:
    """The part of a chat's settings the per-message rules read, parsed once."""

    flood_limit: tuple[int, timedelta] | None = (5, timedelta(seconds=10))
    newcomer_flood_limit: tuple[int, timedelta] | None = None
    flood_mute: timedelta = timedelta(minutes=10)
    slowmode: timedelta | None = None
    newcomer_links: bool = False
    newcomer_forwards: bool = False
    mention_limit: int | None = 5

    @classmethod
    def of(cls, config: ChatConfig) -> Rules:
        return cls(
            flood_limit=config.flood_limit,
            newcomer_flood_limit=config.newcomer_flood_limit,
            flood_mute=config.flood_mute,
            slowmode=config.slowmode,
            newcomer_links=config.newcomer_links,
            newcomer_forwards=config.newcomer_forwards,
            mention_limit=config.mention_limit,
        )


Fact = Literal[
    "held",  # the sender's flood episode still runs (`Pace.held`)
    "stop_word",  # the text contains one of the chat's stop words
    "channel_mention",  # one of the first @mentions is a channel
    "admin",  # the sender is an admin of the chat
    "explain_due",  # claim: explain the newcomer limits (once per 10 min)
    "flood_count",  # record the message; how many in the window (`Pace.hit`)
    "recent_floods",  # flood mutes of the sender in the last 24 h
    "episode_new",  # claim: this message starts a flood episode
    "slot_free",  # claim: the sender's slow-mode slot
    "slow_notice_due",  # claim: tell them about slow mode (once per slot)
]
"""What the rules may need to know beyond the message; each is read by the executor.
(Plain strings rather than an enum: the hot path looks them up several times a message.)"""


@dataclass(frozen=True)
class Ask:
    """Read one fact: `key` is the counter's key, `seconds` its window or lease."""

    fact: Fact
    key: str = ""
    seconds: float = 0.0


class Breach(StrEnum):
    HELD = "held"
    STOP_WORD = "stop_word"
    NEWCOMER = "newcomer"
    MENTIONS = "mentions"
    FLOOD = "flood"
    SLOWMODE = "slowmode"


class NoticeKind(StrEnum):
    STOP_WORD = "stop_word"  # in the group, with the warning count
    NEWCOMER = "newcomer"  # in the group, with the probation
    MENTIONS = "mentions"  # in the group, with the mention limit
    FLOOD = "flood"  # in the group, with the mute's length
    SLOWMODE = "slowmode"  # in private, in the group if private fails


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    duration: timedelta | None = None


@dataclass(frozen=True)
class AuditEntry:
    action: Action
    reason: str
    until: datetime | None = None
    post: bool = True  # also to the log chat


@dataclass(frozen=True)
class Verdict:
    """What to do with a message. `allow` False means it is removed (`delete`)."""

    allow: bool
    breach: Breach | None = None
    delete: bool = False
    warn: bool = False  # a stop word: the sender gets a warning
    mute_until: datetime | None = None
    notice: Notice | None = None
    audit: AuditEntry | None = None


ALLOW = Verdict(allow=True)

_PENDING, _NEWCOMER = TrustLevel.PENDING.value, TrustLevel.NEWCOMER.value

Facts = Mapping[Fact, int]


def decide(message: Incoming, rules: Rules, facts: Facts, now: datetime) -> Verdict | Ask:
    """The first rule the message breaks, or ALLOW; an `Ask` while a fact is missing."""
    if message.level == _PENDING:
        return ALLOW  # the verification gate handles them
    chat_id, user_id = message.chat_id, message.sender.id
    if not message.edited:
        held = facts.get("held")
        if held is None:
            return Ask("held", f"e:{chat_id}:{user_id}")
        if held:
            return Verdict(allow=False, breach=Breach.HELD, delete=True)
    if message.text:
        stop_word = facts.get("stop_word")
        if stop_word is None:
            return Ask("stop_word")
        if stop_word:
            return _unless_admin(facts, _STOP_WORD)
    newcomer = message.level == _NEWCOMER
    most = rules.mention_limit
    if newcomer and most is not None and message.mention_count > most:
        # spammers mention many people, then edit the message into an ad
        return _unless_admin(facts, _MASS_MENTIONS)
    if newcomer:
        limited = _newcomer_limited(message, rules, facts)
        if limited is not False:
            return limited if isinstance(limited, Ask) else _newcomer_verdict(message, facts)
    if message.edited:
        return ALLOW  # an edit is checked for content, not counted again
    limit = rules.newcomer_flood_limit if newcomer else rules.flood_limit
    if limit is not None:
        verdict = _flood(message, rules, limit, facts, now)
        if verdict is not None:
            return verdict
    # a command gets its answer; another bot (held to flood and stop words only) has no slot
    if rules.slowmode is not None and not message.command and not message.sender.is_bot:
        return _slowmode(message, rules.slowmode, facts)
    return ALLOW


def counted_with_held(message: Incoming, rules: Rules) -> Ask | None:
    """The flood count a fresh message will be asked for after `held`, so a remote counter
    store answers both in one round trip (the message is counted even if a stop word or a
    newcomer limit removes it first: it was still sent); None when it will not be asked."""
    if message.level == _PENDING or message.edited:
        return None
    limit = rules.newcomer_flood_limit if message.level == _NEWCOMER else rules.flood_limit
    if limit is None:
        return None
    key = f"f:{message.chat_id}:{message.sender.id}"
    return Ask("flood_count", key, limit[1].total_seconds())


_STOP_WORD = Verdict(
    allow=False,
    breach=Breach.STOP_WORD,
    delete=True,
    warn=True,
    notice=Notice(NoticeKind.STOP_WORD),
)


_MASS_MENTIONS = Verdict(
    allow=False,
    breach=Breach.MENTIONS,
    delete=True,
    notice=Notice(NoticeKind.MENTIONS),
    audit=AuditEntry(Action.DELETE, "mass mentions"),
)


def _unless_admin(facts: Facts, verdict: Verdict | Ask) -> Verdict | Ask:
    """Admins are exempt from every rule; asked only once a rule has fired."""
    admin = _admin(facts)
    if admin is False:
        return verdict
    return ALLOW if admin is True else admin


def _admin(facts: Facts) -> bool | Ask:
    admin = facts.get("admin")
    return Ask("admin") if admin is None else bool(admin)


def _newcomer_limited(message: Incoming, rules: Rules, facts: Facts) -> bool | Ask:
    """Whether a newcomer's message carries what newcomers may not post yet."""
    if rules.newcomer_forwards and message.from_channel:
        return True
    if not rules.newcomer_links:
        return False
    if message.has_link:
        return True
    if not message.mentions:
        return False
    channel = facts.get("channel_mention")
    if channel is None:
        return Ask("channel_mention")
    return bool(channel)


def _newcomer_verdict(message: Incoming, facts: Facts) -> Verdict | Ask:
    admin = _admin(facts)
    if admin is not False:
        return ALLOW if admin is True else admin
    due = facts.get("explain_due")
    if due is None:
        key = f"x:{message.chat_id}:{message.sender.id}"
        return Ask("explain_due", key, EXPLAIN_EVERY.total_seconds())
    if not due:
        return Verdict(allow=False, breach=Breach.NEWCOMER, delete=True)
    return Verdict(
        allow=False,
        breach=Breach.NEWCOMER,
        delete=True,
        notice=Notice(NoticeKind.NEWCOMER),
        audit=AuditEntry(Action.DELETE, "newcomer limits", post=False),
    )


def flood_mute(base: timedelta, recent: int) -> timedelta:
    """The mute for a flood: doubled for each flood mute in the last 24 h, at most a day."""
    if recent >= 17:  # past the cap for any mute of a second or more; avoids overflowing
        return FLOOD_MUTE_CAP
    return min(base * (1 << recent), FLOOD_MUTE_CAP)


def _flood(
    message: Incoming,
    rules: Rules,
    limit: tuple[int, timedelta],
    facts: Facts,
    now: datetime,
) -> Verdict | Ask | None:
    chat_id, user_id = message.chat_id, message.sender.id
    count = facts.get("flood_count")
    if count is None:
        return Ask("flood_count", f"f:{chat_id}:{user_id}", limit[1].total_seconds())
    if count <= limit[0]:
        return None
    admin = _admin(facts)
    if admin is not False:
        return ALLOW if admin is True else admin
    recent = facts.get("recent_floods")
    if recent is None:
        return Ask("recent_floods")
    duration = flood_mute(rules.flood_mute, recent)
    new = facts.get("episode_new")
    if new is None:
        return Ask("episode_new", f"e:{chat_id}:{user_id}", duration.total_seconds())
    if not new:  # another message of the same burst started the episode
        return Verdict(allow=False, breach=Breach.FLOOD, delete=True)
    until = now + duration
    return Verdict(
        allow=False,
        breach=Breach.FLOOD,
        delete=True,
        mute_until=until,
        notice=Notice(NoticeKind.FLOOD, duration),
        audit=AuditEntry(Action.FLOOD, "flood", until),
    )


def _slowmode(message: Incoming, interval: timedelta, facts: Facts) -> Verdict | Ask:
    chat_id, user_id = message.chat_id, message.sender.id
    seconds = interval.total_seconds()
    free = facts.get("slot_free")
    if free is None:
        return Ask("slot_free", f"s:{chat_id}:{user_id}", seconds)
    if free:
        return ALLOW
    admin = _admin(facts)
    if admin is not False:
        return ALLOW if admin is True else admin
    due = facts.get("slow_notice_due")
    if due is None:
        return Ask("slow_notice_due", f"sn:{chat_id}:{user_id}", seconds)
    if not due:
        return Verdict(allow=False, breach=Breach.SLOWMODE, delete=True)
    return Verdict(
        allow=False,
        breach=Breach.SLOWMODE,
        delete=True,
        notice=Notice(NoticeKind.SLOWMODE, interval),
        audit=AuditEntry(Action.DELETE, "slow mode", post=False),
    )
