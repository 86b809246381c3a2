"""Community health for /stats: how many people are alive, the messages' rhythm, whether
newcomers stay (bot/services/health_newcomers.py), check-ins, the moderation load and paid
membership, from the activity ledger.

Figures are UTC days. Anything computed from fewer than `MIN_PEOPLE` people is `None` (the
views show "< 3"), so no figure singles anyone out. Never reads anything but counters (and
the times of newcomers' first messages and replies). The database aggregates (SQL COUNT
DISTINCT per period, GROUP BY day), so a 10,000-member chat's year answers within 2 s.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bot.clock import Clock
from bot.db import Database
from bot.notifier import Notifier
from bot.services.health_newcomers import (
    MIN_PEOPLE,
    BuddyEffect,
    Cohort,
    Funnel,
    buddy_effect,
    cohorts,
    funnel,
    guard,
    newcomers,
)
from bot.services.health_replies import FirstReplies
from bot.services.ledger import Ledger
from bot.services.settings import SettingsService
from models.checkin_repository import CheckinRepository
from models.ledger import ACTIVE_KINDS, LedgerKind, LedgerRepository, day_of
from models.ledger_figures import LedgerFigures, Span, Tally

__all__ = [
    "ALIVE_DAYS",
    "MIN_PEOPLE",
    "PERIODS",
    "STREAK_BANDS",
    "BuddyEffect",
    "Checkins",
    "Cohort",
    "DayFigures",
    "Funnel",
    "HealthReport",
    "HealthService",
    "guard",
]

log = logging.getLogger(__name__)

PERIODS = (7, 30, 90)
ALIVE_DAYS = 30  # "alive": wrote, reacted or answered a check-in in the last 30 days
MODERATION = (LedgerKind.WARNED, LedgerKind.MUTED, LedgerKind.BANNED, LedgerKind.REPORTED)
STREAK_BANDS = ((1, 1), (2, 3), (4, 7), (8, None))
"""Check-in streak bands in weeks (first, last; None: and more)."""
_GONE = (LedgerKind.LEFT, LedgerKind.REMOVED)
_RARE = (*MODERATION, LedgerKind.PAID, LedgerKind.EXPIRED)
_GUARDED = (LedgerKind.MESSAGE.value, LedgerKind.PAID.value, LedgerKind.EXPIRED.value)
"""Totals shown as such: hidden ("< 3") when fewer than 3 people make them up."""


@dataclass(frozen=True)
class Checkins:
    """People who answered a check-in per week (the last full weeks, oldest first) and how
    many people hold a current streak in each of `STREAK_BANDS` (None: "< 3")."""

    weekly: list[int | None]
    streaks: list[int | None]


@dataclass(frozen=True)
class HealthReport:
    """What /stats shows for one chat and period (None: "< 3")."""

    days: int
    since: date  # the first day of the period
    collecting: date | None  # the ledger's first day, when it began within the figures' span
    alive: int | None  # the last 30 days
    alive_before: int | None  # the 30 days before
    change: int | None  # alive - alive_before
    members: int | None  # Telegram's member count without the bot; None when it would not say
    messages: list[int]  # per day over the period, oldest first
    messages_total: int | None
    funnel: Funnel
    moderation: dict[str, int | None]  # kind -> per 100 alive in the period
    paid: tuple[int | None, int | None] | None  # (paid, expired); None without a price
    cohorts: list[Cohort] = field(default_factory=list)
    buddies: BuddyEffect | None = None
    checkins: Checkins | None = None


@dataclass
class DayFigures:
    """One UTC day of the daily series (/stats csv); None: fewer than 3 people."""

    day: date
    kinds: dict[str, Tally] = field(default_factory=dict)  # kind -> total and people
    alive_people: int = 0  # wrote, reacted or answered a check-in
    gone_people: int = 0  # left or were removed

    def figure(self, *kinds: str) -> int | None:
        total = sum(self.kinds[k].total for k in kinds if k in self.kinds)
        if set(kinds) == {k.value for k in _GONE}:
            people = self.gone_people
        else:  # one kind (or kinds nobody does twice a day)
            people = sum(self.kinds[k].people for k in kinds if k in self.kinds)
        return guard(total, people)

    def alive(self) -> int | None:
        return guard(self.alive_people, self.alive_people)


@dataclass(frozen=True)
class _Periods:
    """The report's days: the period (today included), the last 30 days and the 30 before."""

    today: date
    days: int

    @property
    def end(self) -> date:
        return self.today + timedelta(days=1)

    @property
    def start(self) -> date:
        return self.today - timedelta(days=self.days - 1)

    @property
    def alive_start(self) -> date:
        return self.today - timedelta(days=ALIVE_DAYS - 1)

    @property
    def before_start(self) -> date:
        return self.alive_start - timedelta(days=ALIVE_DAYS)

    @property
    def earliest(self) -> date:
        """The earliest day any figure reads (the period's first day or the 30 before)."""
        return min(self.start, self.before_start)


@dataclass(frozen=True)
class _Read:
    """What one report reads from the database."""

    periods: _Periods
    first: date  # the ledger's first day for the chat
    alive: int
    before: int
    in_period: int
    per_day: dict[date, int]  # messages
    totals: dict[str, int]
    shown: dict[str, int | None]  # guarded totals
    newcomers: list[tuple[int, date, str, datetime]]
    waits: list[float]
    first_messages: int
    checkins: Checkins


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _span(first: date, end: date) -> Span:
    return _midnight(first), _midnight(end)


class HealthService:
    """Reads the ledger (after flushing what is still in memory) into /stats figures."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        ledger: Ledger,
        notifier: Notifier,
        settings: SettingsService,
    ) -> None:
        self._db = db
        self._clock = clock
        self._ledger = ledger
        self._notifier = notifier
        self._settings = settings
        self.replies = FirstReplies(db)  # fed by the per-message path, flushed with it

    def _today(self) -> date:
        return day_of(self._clock.now()).date()

    async def _flush(self) -> None:
        """Store what is still in memory; a failure is logged and the figures use what is
        stored."""
        await self._ledger.flush_quietly()
        try:
            await self.replies.flush()
        except Exception:
            log.exception("could not store newcomers' first messages and replies")

    async def report(self, chat_id: int, days: int) -> HealthReport | None:
        """The chat's figures over the last `days` days (today included); None when the
        ledger has nothing for the chat yet."""
        await self._flush()
        priced = (await self._settings.get(chat_id)).price > 0
        today = self._today()
        read = await self._read(chat_id, _Periods(today, days), priced)
        if read is None:
            return None
        shown, shown_before = guard(read.alive, read.alive), guard(read.before, read.before)
        start = read.periods.start
        joiners = newcomers(read.newcomers, start, read.periods.end)
        totals = read.totals
        return HealthReport(
            days=days,
            since=start,
            collecting=read.first if read.first > read.periods.earliest else None,
            alive=shown,
            alive_before=shown_before,
            change=None if shown is None or shown_before is None else shown - shown_before,
            members=await self._member_count(chat_id),
            messages=[read.per_day.get(start + timedelta(days=i), 0) for i in range(days)],
            messages_total=read.shown[LedgerKind.MESSAGE.value],
            funnel=funnel(joiners, today, read.waits, read.first_messages),
            moderation=_moderation(totals, read.in_period),
            paid=(
                (read.shown[LedgerKind.PAID.value], read.shown[LedgerKind.EXPIRED.value])
                if priced
                else None
            ),
            cohorts=cohorts(joiners, today),
            buddies=buddy_effect(joiners, today),
            checkins=read.checkins,
        )

    async def _read(self, chat_id: int, p: _Periods, priced: bool) -> _Read | None:
        """Every aggregate the report needs, in one read transaction."""
        period = _span(p.start, p.end)
        async with self._db.transaction() as session:
            first = await LedgerRepository(session).first_bucket(chat_id)
            if first is None:
                return None
            figures = LedgerFigures(session)
            alive = await figures.people(chat_id, ACTIVE_KINDS, _span(p.alive_start, p.end))
            in_period = (  # the 30-day period is the "alive" span itself: counted once
                alive
                if p.start == p.alive_start
                else await figures.people(chat_id, ACTIVE_KINDS, period)
            )
            per_day = await figures.daily_totals(chat_id, LedgerKind.MESSAGE, period)
            totals = await figures.totals(chat_id, _RARE, period)
            totals[LedgerKind.MESSAGE.value] = sum(per_day.values())
            shown: dict[str, int | None] = {}
            for kind in _GUARDED if priced else _GUARDED[:1]:
                people = await figures.people(chat_id, [kind], period, cap=MIN_PEOPLE)
                shown[kind] = guard(totals.get(kind, 0), people)
            waits, first_messages = await figures.first_reply_waits(chat_id, period)
            return _Read(
                periods=p,
                first=first.date(),
                alive=alive,
                before=await figures.people(
                    chat_id, ACTIVE_KINDS, _span(p.before_start, p.alive_start)
                ),
                in_period=in_period,
                per_day=per_day,
                totals=totals,
                shown=shown,
                newcomers=await figures.newcomers(chat_id, period, period[1]),
                waits=waits,
                first_messages=first_messages,
                checkins=await _checkins(figures, chat_id, p.end, p.days),
            )

    async def _member_count(self, chat_id: int) -> int | None:
        """Telegram's member count counts the bot itself: one less."""
        count = await self._notifier.member_count(chat_id)
        return None if count is None else max(0, count - 1)

    async def daily(self, chat_id: int, days: int) -> list[DayFigures]:
        """The daily series of the last `days` days, oldest first (/stats csv)."""
        await self._flush()
        today = self._today()
        start = today - timedelta(days=days - 1)
        period = _span(start, today + timedelta(days=1))
        async with self._db.transaction() as session:
            figures = LedgerFigures(session)
            tallies = await figures.by_day_and_kind(chat_id, period)
            alive = await figures.by_day(chat_id, ACTIVE_KINDS, period)
            gone = await figures.by_day(chat_id, _GONE, period)
        series = {day: DayFigures(day) for day in (start + timedelta(days=i) for i in range(days))}
        for (day, kind), tally in tallies.items():
            if day in series:
                series[day].kinds[kind] = tally
        for day, tally in alive.items():
            if day in series:
                series[day].alive_people = tally.people
        for day, tally in gone.items():
            if day in series:
                series[day].gone_people = tally.people
        return list(series.values())


async def _checkins(figures: LedgerFigures, chat_id: int, end: date, days: int) -> Checkins:
    """Participants per week (the period's full weeks, ending today) and the streak bands."""
    weeks = max(1, days // 7)
    spans = [
        _span(end - timedelta(days=7 * (i + 1)), end - timedelta(days=7 * i)) for i in range(weeks)
    ]
    weekly = [await figures.people(chat_id, [LedgerKind.CHECKIN_ANSWERED], s) for s in spans[::-1]]
    streaks = await CheckinRepository(figures.session).streaks(chat_id)
    bands = []
    for low, high in STREAK_BANDS:
        n = sum(c for s, c in streaks.items() if s >= low and (high is None or s <= high))
        bands.append(guard(n, n))
    return Checkins([guard(n, n) for n in weekly], bands)


def _moderation(totals: dict[str, int], alive: int) -> dict[str, int | None]:
    """Per kind: how many per 100 people alive in the period (None: fewer than 3 alive)."""
    result: dict[str, int | None] = {}
    for kind in MODERATION:
        total = totals.get(kind.value, 0)
        if alive >= MIN_PEOPLE:
            result[kind.value] = round(total * 100 / alive)
        else:
            result[kind.value] = 0 if total == 0 and alive == 0 else None
    return result
