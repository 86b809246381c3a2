"""Whether newcomers stay: the funnel, weekly join cohorts and the buddy effect, computed
from the ledger rows of the people who joined in the period (pure; no database here).

Definitions (UTC days; the joining day is day 0):
- joined: a `joined` counter in the period (the first one there counts);
- verified: confirmed the rules (a `verified` counter);
- wrote within 7 days: a message on days 0..6;
- alive at day 30: wrote, reacted or answered a check-in on days 23..30. Only people whose
  day 30 has come count, so the step reads "N of M who reached day 30";
- member after probation: promoted from newcomer to member (a `promoted` counter);
- cohort week k (1..8): active on days 7(k-1)..7k-1; a cohort is everyone who joined in
  one Monday-to-Sunday week, and a week's share is shown once the cohort's last possible
  joiner (Sunday's) has lived through it;
- buddy effect: the verified newcomers who reached day 30, split into those whose buddy
  came within 24 hours of joining and the rest (a later buddy or none); each side's share
  alive at day 30.
Every figure of fewer than 3 people is None ("< 3").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median

from models.ledger import ACTIVE_KINDS, LedgerKind

__all__ = [
    "BuddyEffect",
    "Cohort",
    "Funnel",
    "Newcomer",
    "buddy_effect",
    "cohorts",
    "funnel",
    "guard",
    "median_wait",
    "newcomers",
    "share",
]

MIN_PEOPLE = 3
FIRST_WORDS_DAYS = 7
DAY30 = 30
DAY30_FROM = 23  # "alive at day 30": active on days 23..30
COHORT_WEEKS = 8
BUDDY_WITHIN = timedelta(days=1)
_ACTIVE = frozenset(k.value for k in ACTIVE_KINDS)

Rows = list[tuple[int, date, str, datetime]]


def guard(value: int, people: int) -> int | None:
    """`value`, or None when 1 or 2 people make it up (nobody: the value is 0 and said)."""
    return value if people >= MIN_PEOPLE or people == 0 else None


def share(part: int, whole: int) -> int | None:
    """`part` of `whole` in whole percent; None when the whole is under 3 people."""
    return round(part * 100 / whole) if whole >= MIN_PEOPLE else None


@dataclass
class Newcomer:
    """One joiner's ledger, as the newcomer figures need it: days counted from joining."""

    joined_at: datetime
    kinds: dict[str, datetime] = field(default_factory=dict)  # kind -> first bucket
    wrote: set[int] = field(default_factory=set)  # days after joining with a message
    active: set[int] = field(default_factory=set)  # ... with a message, reaction, check-in

    def __post_init__(self) -> None:
        self.day0 = self.joined_at.date()

    def active_between(self, first: int, last: int) -> bool:
        """Active on one of the days `first`..`last` after joining (both included)."""
        return not self.active.isdisjoint(range(first, last + 1))

    def reached(self, day: int, today: date) -> bool:
        return self.day0 + timedelta(days=day) <= today

    def alive_at_30(self) -> bool:
        return self.active_between(DAY30_FROM, DAY30)


@dataclass(frozen=True)
class Funnel:
    """Newcomers who joined in the period, step by step (None: "< 3")."""

    joined: int | None
    verified: int | None
    wrote: int | None
    alive_30: int | None = 0  # of those whose day 30 came
    reached_30: int | None = 0
    promoted: int | None = 0
    reply_minutes: float | None = None  # median wait for a reply to their first message
    replied: int | None = 0  # how many of them got a reply
    first_messages: int | None = 0  # newcomers whose first message was in the period


@dataclass(frozen=True)
class Cohort:
    """People who joined in the week starting `monday`; per week after joining (1..8, as
    far as it has passed) the share of them alive, in percent (None: "< 3")."""

    monday: date
    size: int | None
    alive: list[int | None]


@dataclass(frozen=True)
class BuddyEffect:
    """Share alive at day 30 (percent) with a buddy within a day, and without one."""

    with_buddy: int | None
    with_people: int | None
    without: int | None
    without_people: int | None


def newcomers(rows: Rows, start: date, end: date) -> dict[int, Newcomer]:
    """The people with a `joined` counter on a day in [start, end), from their rows."""
    found: dict[int, Newcomer] = {}
    for user, day, kind, first in rows:
        if kind == LedgerKind.JOINED.value and start <= day < end:
            known = found.get(user)
            if known is None or first < known.joined_at:
                found[user] = Newcomer(first)
    for user, day, kind, first in rows:
        one = found.get(user)
        if one is None or first < one.joined_at.replace(minute=0, second=0, microsecond=0):
            continue
        if kind not in one.kinds or first < one.kinds[kind]:
            one.kinds[kind] = first
        if kind in _ACTIVE:
            offset = (day - one.day0).days
            one.active.add(offset)
            if kind == LedgerKind.MESSAGE.value:
                one.wrote.add(offset)
    return found


def funnel(
    people: dict[int, Newcomer], today: date, waits: list[float], first_messages: int
) -> Funnel:
    joined = len(people)
    verified = sum(LedgerKind.VERIFIED.value in p.kinds for p in people.values())
    wrote = sum(not p.wrote.isdisjoint(range(FIRST_WORDS_DAYS)) for p in people.values())
    reached = [p for p in people.values() if p.reached(DAY30, today)]
    alive = sum(p.alive_at_30() for p in reached)
    promoted = sum(LedgerKind.PROMOTED.value in p.kinds for p in people.values())
    return Funnel(
        joined=guard(joined, joined),
        verified=guard(verified, joined),
        wrote=guard(wrote, joined),
        alive_30=guard(alive, len(reached)),
        reached_30=guard(len(reached), len(reached)),
        promoted=guard(promoted, joined),
        reply_minutes=median_wait(waits),
        replied=guard(len(waits), len(waits)),
        first_messages=guard(first_messages, first_messages),
    )


def median_wait(waits: list[float]) -> float | None:
    """The median of the minutes waited, when at least 3 newcomers got a reply."""
    return float(median(waits)) if len(waits) >= MIN_PEOPLE else None


def cohorts(people: dict[int, Newcomer], today: date) -> list[Cohort]:
    """The weekly join cohorts, oldest first."""
    weeks: dict[date, list[Newcomer]] = defaultdict(list)
    for one in people.values():
        weeks[one.day0 - timedelta(days=one.day0.weekday())].append(one)
    result = []
    for monday in sorted(weeks):
        members = weeks[monday]
        alive: list[int | None] = []
        for k in range(1, COHORT_WEEKS + 1):
            if monday + timedelta(days=6 + 7 * k - 1) > today:
                break  # the Sunday joiner's week k is not over
            active = sum(p.active_between(7 * (k - 1), 7 * k - 1) for p in members)
            alive.append(share(active, len(members)))
        result.append(Cohort(monday, guard(len(members), len(members)), alive))
    return result


def buddy_effect(people: dict[int, Newcomer], today: date) -> BuddyEffect:
    reached = [
        p
        for p in people.values()
        if p.reached(DAY30, today) and LedgerKind.VERIFIED.value in p.kinds
    ]
    buddy = LedgerKind.BUDDY_ASSIGNED.value
    quick: list[Newcomer] = []
    rest: list[Newcomer] = []
    for one in reached:
        came = one.kinds.get(buddy)
        (quick if came is not None and came - one.joined_at <= BUDDY_WITHIN else rest).append(one)
    return BuddyEffect(
        with_buddy=share(sum(p.alive_at_30() for p in quick), len(quick)),
        with_people=guard(len(quick), len(quick)),
        without=share(sum(p.alive_at_30() for p in rest), len(rest)),
        without_people=guard(len(rest), len(rest)),
    )
