"""Read-side aggregates of the activity ledger for /stats, computed in SQL.

A 10,000-member chat keeps about a million ledger rows a year; reading every (person, day,
kind) row of four months into Python took seconds. These queries count distinct people and
sum counters per period, day or week in the database, each in one range scan of the key
(chat, bucket, ...), and return small results. Periods are half-open [since, until) of
UTC datetimes compared as bucket ranges, so the same SQL runs on SQLite and PostgreSQL.
One plain COUNT(DISTINCT) per period is several times cheaper on SQLite than one scan
with a CASE per period (measured with bench/bench_stats.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.ledger import TABLE, LedgerKind, LedgerRepository, _as_date, _as_datetime
from models.members import Member

JOINERS_PER_QUERY = 5_000  # bound parameters per statement stay well within SQLite's limit
Span = tuple[datetime, datetime]
"""[since, until)"""


@dataclass(frozen=True)
class Tally:
    """How many times something happened, and how many distinct people did it."""

    total: int
    people: int


def _values(kinds: Iterable[LedgerKind | str]) -> list[str]:
    return [str(k.value if isinstance(k, LedgerKind) else k) for k in kinds]


def _within(span: Span) -> ColumnElement[bool]:
    return and_(TABLE.c.bucket >= span[0], TABLE.c.bucket < span[1])


class LedgerFigures:
    """Aggregates of one chat's counters, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._ledger = LedgerRepository(session)

    async def people(
        self, chat_id: int, kinds: Iterable[LedgerKind | str], span: Span, *, cap: int = 0
    ) -> int:
        """How many distinct people did any of `kinds` in the span; with `cap`, counting
        stops there (enough to know whether a figure has 3 people behind it)."""
        found = (
            select(TABLE.c.user_id)
            .where(TABLE.c.chat_id == chat_id, _within(span), TABLE.c.kind.in_(_values(kinds)))
            .distinct()
        )
        if cap:
            found = found.limit(cap)
        query = select(func.count()).select_from(found.subquery())
        return int((await self.session.execute(query)).scalar_one())

    async def totals(
        self, chat_id: int, kinds: Iterable[LedgerKind | str], span: Span
    ) -> dict[str, int]:
        """Per kind of `kinds`: its total in the span (rare kinds: cheap to group)."""
        query = (
            select(TABLE.c.kind, func.sum(TABLE.c.count))
            .where(TABLE.c.chat_id == chat_id, _within(span), TABLE.c.kind.in_(_values(kinds)))
            .group_by(TABLE.c.kind)
        )
        return {str(k): int(n) for k, n in (await self.session.execute(query)).all()}

    async def daily_totals(self, chat_id: int, kind: LedgerKind, span: Span) -> dict[date, int]:
        """Per UTC day: the kind's total. Grouped by bucket, which follows the key's order
        (no per-row date function, no sort), and folded into days here."""
        query = (
            select(TABLE.c.bucket, func.sum(TABLE.c.count))
            .where(TABLE.c.chat_id == chat_id, _within(span), TABLE.c.kind == kind.value)
            .group_by(TABLE.c.bucket)
        )
        days: dict[date, int] = defaultdict(int)
        for bucket, n in (await self.session.execute(query)).all():
            days[_as_datetime(bucket).date()] += int(n)
        return days

    async def by_day(
        self, chat_id: int, kinds: Iterable[LedgerKind | str], span: Span
    ) -> dict[date, Tally]:
        """Per UTC day with any of `kinds` in the span: their total and distinct people."""
        day = self._ledger.day()
        query = (
            select(day, func.sum(TABLE.c.count), func.count(distinct(TABLE.c.user_id)))
            .where(TABLE.c.chat_id == chat_id, _within(span), TABLE.c.kind.in_(_values(kinds)))
            .group_by(day)
        )
        rows = (await self.session.execute(query)).all()
        return {_as_date(when): Tally(int(total), int(people)) for when, total, people in rows}

    async def by_day_and_kind(self, chat_id: int, span: Span) -> dict[tuple[date, str], Tally]:
        """Per (UTC day, kind) in the span: the total and distinct people."""
        day = self._ledger.day()
        query = (
            select(
                day,
                TABLE.c.kind,
                func.sum(TABLE.c.count),
                func.count(distinct(TABLE.c.user_id)),
            )
            .where(TABLE.c.chat_id == chat_id, _within(span))
            .group_by(day, TABLE.c.kind)
        )
        rows = (await self.session.execute(query)).all()
        return {
            (_as_date(when), str(kind)): Tally(int(total), int(people))
            for when, kind, total, people in rows
        }

    async def newcomers(
        self, chat_id: int, joined: Span, until: datetime
    ) -> list[tuple[int, date, str, datetime]]:
        """The ledger of people who joined in `joined`, from the span's start to `until`:
        (person, UTC day, kind, the day's first bucket). Only joiners' rows come back, so it
        stays small in a large quiet chat. Every kind (no kind filter): the filter cost
        more per row than the few extra rows it saves."""
        joiners = (
            select(TABLE.c.user_id)
            .where(TABLE.c.chat_id == chat_id, _within(joined), TABLE.c.kind == "joined")
            .distinct()
        )
        # the joiners first, then their rows by a list: a subquery here let PostgreSQL
        # pick a nested loop (one range scan per joiner) whenever its estimates were off
        people = [int(u) for u in (await self.session.execute(joiners)).scalars()]
        day = self._ledger.day()
        rows: list[Any] = []
        for chunk in range(0, len(people), JOINERS_PER_QUERY):
            query = (
                select(TABLE.c.user_id, day, TABLE.c.kind, func.min(TABLE.c.bucket))
                .where(
                    TABLE.c.chat_id == chat_id,
                    TABLE.c.bucket >= joined[0],
                    TABLE.c.bucket < until,
                    TABLE.c.user_id.in_(people[chunk : chunk + JOINERS_PER_QUERY]),
                )
                .group_by(TABLE.c.user_id, day, TABLE.c.kind)
            )
            rows.extend((await self.session.execute(query)).all())
        return [
            (int(user), _as_date(when), str(kind), _as_datetime(first))
            for user, when, kind, first in rows
        ]

    async def first_reply_waits(self, chat_id: int, span: Span) -> tuple[list[float], int]:
        """Newcomers whose first message was in the span: the minutes each waited for a
        reply from someone else (those who got one), and how many wrote in all."""
        query = select(Member.first_message_at, Member.first_reply_at).where(
            Member.chat_id == chat_id,
            Member.first_message_at >= span[0],
            Member.first_message_at < span[1],
        )
        rows: list[Any] = list((await self.session.execute(query)).all())
        waits = [
            max(0.0, (replied - wrote).total_seconds() / 60)
            for wrote, replied in rows
            if replied is not None
        ]
        return waits, len(rows)
