"""Community health for /stats: how many people are alive, the messages' rhythm, whether
newcomers stay, the moderation load and paid membership, from the activity ledger.

Figures are UTC days. Anything computed from fewer than `MIN_PEOPLE` people is `None` (the
views show "< 3"), so no figure singles anyone out. Never reads anything but counters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bot.clock import Clock
from bot.db import Database
from bot.notifier import Notifier
from bot.services.ledger import Ledger
from bot.services.settings import SettingsService
from models.ledger import ACTIVE_KINDS, LedgerKind, LedgerRepository, day_of

__all__ = [
    "ALIVE_DAYS",
    "MIN_PEOPLE",
    "PERIODS",
    "DayFigures",
    "Funnel",
    "HealthReport",
    "HealthService",
    "guard",
]

PERIODS = (7, 30, 90)
ALIVE_DAYS = 30  # "alive": wrote, reacted or answered a check-in in the last 30 days
MIN_PEOPLE = 3  # fewer people than this and a figure is shown as "< 3"
FIRST_WORDS_DAYS = 7  # the funnel's last step: wrote within a week of joining
MODERATION = (LedgerKind.WARNED, LedgerKind.MUTED, LedgerKind.BANNED, LedgerKind.REPORTED)
_ACTIVE = frozenset(k.value for k in ACTIVE_KINDS)
_GONE = frozenset((LedgerKind.LEFT.value, LedgerKind.REMOVED.value))

Rows = list[tuple[int, date, str, int]]


def guard(value: int, people: int) -> int | None:
    """`value`, or None when 1 or 2 people make it up (nobody: the value is 0 and said)."""
    return value if people >= MIN_PEOPLE or people == 0 else None


@dataclass(frozen=True)
class Funnel:
    """Newcomers who joined in the period: how many, verified, wrote within 7 days."""

    joined: int | None
    verified: int | None
    wrote: int | None


@dataclass(frozen=True)
class HealthReport:
    """What /stats shows for one chat and period (None: "< 3")."""

    days: int
    since: date  # the first day of the period
    collecting: date | None  # the ledger's first day, when it began within the figures' span
    alive: int | None  # the last 30 days
    alive_before: int | None  # the 30 days before
    change: int | None  # alive - alive_before
    members: int | None  # Telegram's member count; None when it would not say
    messages: list[int]  # per day over the period, oldest first
    messages_total: int | None
    funnel: Funnel
    moderation: dict[str, int | None]  # kind -> per 100 alive in the period
    paid: tuple[int | None, int | None] | None  # (paid, expired); None without a price


@dataclass
class DayFigures:
    """One UTC day of the daily series (/stats csv); None: fewer than 3 people."""

    day: date
    people: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def figure(self, *kinds: str) -> int | None:
        people = set().union(*(self.people[k] for k in kinds))
        return guard(sum(self.counts[k] for k in kinds), len(people))

    def alive(self) -> int | None:
        people = set().union(*(self.people[k] for k in _ACTIVE))
        return guard(len(people), len(people))


def _people(rows: Rows, kinds: Iterable[str], start: date, end: date) -> set[int]:
    """Who did any of `kinds` on a day in [start, end)."""
    wanted = frozenset(kinds)
    return {user for user, day, kind, _ in rows if kind in wanted and start <= day < end}


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

    def _today(self) -> date:
        return day_of(self._clock.now()).date()

    async def _rows(self, chat_id: int, first: date) -> tuple[Rows, datetime | None]:
        await self._ledger.flush_quietly()
        since = datetime.combine(first, time(), tzinfo=UTC)
        until = day_of(self._clock.now()) + timedelta(days=1)
        async with self._db.transaction() as session:
            repo = LedgerRepository(session)
            return await repo.daily_counts(chat_id, since, until), await repo.first_bucket(chat_id)

    async def report(self, chat_id: int, days: int) -> HealthReport | None:
        """The chat's figures over the last `days` days (today included); None when the
        ledger has nothing for the chat yet."""
        today = self._today()
        start = today - timedelta(days=days - 1)
        alive_start = today - timedelta(days=ALIVE_DAYS - 1)
        before_start = alive_start - timedelta(days=ALIVE_DAYS)
        span = min(start, before_start)
        rows, first = await self._rows(chat_id, span)
        if first is None:
            return None
        end = today + timedelta(days=1)
        alive = _people(rows, _ACTIVE, alive_start, end)
        before = _people(rows, _ACTIVE, before_start, alive_start)
        in_period = _people(rows, _ACTIVE, start, end)
        shown, shown_before = guard(len(alive), len(alive)), guard(len(before), len(before))
        return HealthReport(
            days=days,
            since=start,
            collecting=first.date() if first.date() > span else None,
            alive=shown,
            alive_before=shown_before,
            change=None if shown is None or shown_before is None else shown - shown_before,
            members=await self._notifier.member_count(chat_id),
            messages=_per_day(rows, LedgerKind.MESSAGE.value, start, days),
            messages_total=_total(rows, {LedgerKind.MESSAGE.value}, start, end),
            funnel=_funnel(rows, start, end),
            moderation=_moderation(rows, start, end, len(in_period)),
            paid=await self._paid(chat_id, rows, start, end),
        )

    async def _paid(
        self, chat_id: int, rows: Rows, start: date, end: date
    ) -> tuple[int | None, int | None] | None:
        if (await self._settings.get(chat_id)).price <= 0:
            return None
        paid = _total(rows, {LedgerKind.PAID.value}, start, end)
        return paid, _total(rows, {LedgerKind.EXPIRED.value}, start, end)

    async def daily(self, chat_id: int, days: int) -> list[DayFigures]:
        """The daily series of the last `days` days, oldest first (/stats csv)."""
        today = self._today()
        start = today - timedelta(days=days - 1)
        rows, _ = await self._rows(chat_id, start)
        series = {day: DayFigures(day) for day in (start + timedelta(days=i) for i in range(days))}
        for user, day, kind, n in rows:
            if day in series:
                one = series[day]
                one.people[kind].add(user)
                one.counts[kind] += n
        return list(series.values())


def _per_day(rows: Rows, kind: str, start: date, days: int) -> list[int]:
    series = [0] * days
    for _, day, found, n in rows:
        index = (day - start).days
        if found == kind and 0 <= index < days:
            series[index] += n
    return series


def _total(rows: Rows, kinds: set[str], start: date, end: date) -> int | None:
    """How many times `kinds` happened in [start, end), if at least 3 people did them."""
    picked = [(user, n) for user, day, kind, n in rows if kind in kinds and start <= day < end]
    return guard(sum(n for _, n in picked), len({user for user, _ in picked}))


def _funnel(rows: Rows, start: date, end: date) -> Funnel:
    joined: dict[int, date] = {}
    for user, day, kind, _ in rows:
        if kind == LedgerKind.JOINED.value and start <= day < end:
            joined[user] = min(day, joined.get(user, day))
    verified = {u for u, d, k, _ in rows if k == LedgerKind.VERIFIED.value and u in joined}
    wrote = {
        u
        for u, d, k, _ in rows
        if k == LedgerKind.MESSAGE.value
        and u in joined
        and joined[u] <= d < joined[u] + timedelta(days=FIRST_WORDS_DAYS)
    }
    people = len(joined)
    return Funnel(guard(people, people), guard(len(verified), people), guard(len(wrote), people))


def _moderation(rows: Rows, start: date, end: date, alive: int) -> dict[str, int | None]:
    """Per kind: how many per 100 people alive in the period (None: fewer than 3 alive)."""
    result: dict[str, int | None] = {}
    for kind in MODERATION:
        total = sum(n for _, day, k, n in rows if k == kind.value and start <= day < end)
        if alive >= MIN_PEOPLE:
            result[kind.value] = round(total * 100 / alive)
        else:
            result[kind.value] = 0 if total == 0 and alive == 0 else None
    return result
