"""The activity ledger: counters per (chat, person, hour, kind). Never the text of a message.

Rows are hourly (`daily` false); the roll-up turns old hourly rows into one row per day
whose bucket is midnight UTC and `daily` true, so totals stay and hour-of-day figures can
leave the daily rows out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    Integer,
    String,
    Table,
    and_,
    delete,
    distinct,
    exists,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.members import Member, MemberStatus
from models.upsert import insert_or_add
from models.users import User

Key = tuple[int, int, datetime, str]
"""(chat_id, user_id, bucket, kind)"""


class LedgerKind(StrEnum):
    MESSAGE = "message"
    REACTION = "reaction"
    JOINED = "joined"
    VERIFIED = "verified"
    REMOVED = "removed"
    LEFT = "left"
    CHECKIN_ANSWERED = "checkin_answered"
    BUDDY_ASSIGNED = "buddy_assigned"
    BUDDY_FOLLOWUP = "buddy_followup"
    WARNED = "warned"
    MUTED = "muted"
    BANNED = "banned"
    REPORTED = "reported"
    PAID = "paid"
    EXPIRED = "expired"
    PROMOTED = "promoted"  # a newcomer became a member (probation over, or an admin)


ACTIVE_KINDS = (LedgerKind.MESSAGE, LedgerKind.REACTION, LedgerKind.CHECKIN_ANSWERED)
"""What makes a person "alive" on a day: they wrote, reacted or answered a check-in."""


class LedgerRow(Base):
    """How many times `user_id` did `kind` in `chat_id` during the hour (or day) `bucket`."""

    __tablename__ = "ledger"
    # the key leads with (chat, bucket), so a chat's period is one range scan and no second
    # index is needed; on SQLite the rows live in the key itself (WITHOUT ROWID): a busy
    # 1,000-member chat's year takes about 25 MB instead of 77 MB
    __table_args__ = ({"sqlite_with_rowid": False},)

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    bucket: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    daily: Mapped[bool] = mapped_column(Boolean, default=False)


TABLE = cast(Table, LedgerRow.__table__)
KEY = ["chat_id", "user_id", "bucket", "kind"]
COLUMNS = ["chat_id", "bucket", "user_id", "kind", "count", "daily"]
"""The order rows are written in: the table's key first, so sorting them sorts by the key."""


def hour_of(at: datetime) -> datetime:
    """The hourly bucket `at` falls in (UTC)."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_of(at: datetime) -> datetime:
    """The daily bucket `at` falls in: midnight UTC."""
    return hour_of(at).replace(hour=0)


class LedgerRepository:
    """Writes and reads the counters inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _dialect(self) -> str:
        bind = self.session.bind
        return bind.dialect.name if bind is not None else "sqlite"

    async def add(self, counts: Mapping[Key, int], *, daily: bool = False) -> None:
        """Add the counts to their rows (created at 0 when missing), in one statement."""
        if not counts:
            return
        # in the table's key order (chat, bucket, person, kind): each row lands next to the
        # previous one instead of on a random page (a 100,000-row batch took twice as long
        # unsorted on SQLite), and concurrent writers on PostgreSQL lock rows in one order
        rows = sorted((c, b, u, k, n, daily) for (c, u, b, k), n in counts.items())
        # a late hourly count never turns a rolled-up day back into an hour
        await insert_or_add(
            self.session,
            LedgerRow,
            COLUMNS,
            rows,
            key=KEY,
            add="count",
            also={"daily": True} if daily else None,
        )

    def day(self) -> ColumnElement[Any]:
        """The UTC day of a row's bucket, as SQL."""
        if self._dialect() == "postgresql":
            return func.timezone("UTC", TABLE.c.bucket).cast(Date)
        return func.date(TABLE.c.bucket)

    async def active_days(self, chat_id: int, since: datetime, until: datetime) -> dict[int, int]:
        """Per person: on how many distinct UTC days in [since, until) they were alive."""
        query = (
            select(TABLE.c.user_id, func.count(distinct(self.day())))
            .where(
                TABLE.c.chat_id == chat_id,
                TABLE.c.bucket >= since,
                TABLE.c.bucket < until,
                TABLE.c.kind.in_([k.value for k in ACTIVE_KINDS]),
            )
            .group_by(TABLE.c.user_id)
        )
        return {int(user): int(days) for user, days in (await self.session.execute(query)).all()}

    async def gone_quiet(
        self, chat_id: int, active_since: datetime, silent_since: datetime, limit: int
    ) -> list[tuple[int, datetime]]:
        """People still in the chat (not counted only in totals, see /privacy) whose latest
        activity (message, reaction, check-in answer) since `active_since` came before
        `silent_since`: (user, last active), the most recently active first, at most `limit`."""
        last = func.max(TABLE.c.bucket)
        same = and_(Member.chat_id == TABLE.c.chat_id, Member.user_id == TABLE.c.user_id)
        query = (
            select(TABLE.c.user_id, last)
            .join(Member, same)
            .where(
                TABLE.c.chat_id == chat_id,
                TABLE.c.bucket >= active_since,
                TABLE.c.kind.in_([k.value for k in ACTIVE_KINDS]),
                Member.status == MemberStatus.IN,
                ~exists().where(User.id == TABLE.c.user_id, User.totals_only.is_(True)),
            )
            .group_by(TABLE.c.user_id)
            .having(last < silent_since)
            .order_by(last.desc(), TABLE.c.user_id)
            .limit(limit)
        )
        return [(int(user), at) for user, at in (await self.session.execute(query)).all()]

    async def days_active(self, chat_id: int, user_id: int, days: int, now: datetime) -> int:
        """On how many of the last `days` days (today included, UTC) the person was alive."""
        since = day_of(now) - timedelta(days=days - 1)
        query = select(func.count(distinct(self.day()))).where(
            TABLE.c.chat_id == chat_id,
            TABLE.c.user_id == user_id,
            TABLE.c.bucket >= since,
            TABLE.c.kind.in_([k.value for k in ACTIVE_KINDS]),
        )
        return int((await self.session.execute(query)).scalar_one())

    async def chats_with_hourly_before(self, cutoff: datetime) -> list[int]:
        query = (
            select(TABLE.c.chat_id)
            .where(TABLE.c.daily.is_(False), TABLE.c.bucket < cutoff)
            .distinct()
            .order_by(TABLE.c.chat_id)
        )
        return [int(c) for c in (await self.session.execute(query)).scalars()]

    async def roll_up(self, chat_id: int, cutoff: datetime) -> int:
        """Turn the chat's hourly rows before `cutoff` into daily rows (adding to a daily row
        already there); returns how many hourly rows went. Running it again changes nothing."""
        old = and_(TABLE.c.chat_id == chat_id, TABLE.c.daily.is_(False), TABLE.c.bucket < cutoff)
        found = (
            await self.session.execute(
                select(TABLE.c.user_id, TABLE.c.bucket, TABLE.c.kind, TABLE.c.count).where(old)
            )
        ).all()
        if not found:
            return 0
        sums: dict[Key, int] = defaultdict(int)
        for user_id, bucket, kind, count in found:
            sums[(chat_id, int(user_id), day_of(bucket), str(kind))] += int(count)
        await self.session.execute(delete(TABLE).where(old))
        await self.add(sums, daily=True)
        return len(found)

    async def merge_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: add its counters to the new chat's (an hour both
        have is summed, not dropped) and delete the old ones."""
        columns = (TABLE.c.user_id, TABLE.c.bucket, TABLE.c.kind, TABLE.c.count, TABLE.c.daily)
        found = (
            await self.session.execute(select(*columns).where(TABLE.c.chat_id == old_id))
        ).all()
        for daily in (False, True):
            counts = {
                (new_id, int(user_id), bucket, str(kind)): int(count)
                for user_id, bucket, kind, count, is_daily in found
                if bool(is_daily) == daily
            }
            await self.add(counts, daily=daily)
        await self.session.execute(delete(TABLE).where(TABLE.c.chat_id == old_id))

    async def totals(self, chat_id: int) -> dict[str, int]:
        """Every kind's total in the chat (any period)."""
        query = (
            select(TABLE.c.kind, func.sum(TABLE.c.count))
            .where(TABLE.c.chat_id == chat_id)
            .group_by(TABLE.c.kind)
        )
        return {str(k): int(n) for k, n in (await self.session.execute(query)).all()}

    async def daily_counts(
        self, chat_id: int, since: datetime, until: datetime
    ) -> list[tuple[int, date, str, int]]:
        """(person, UTC day, kind, count) of the chat's rows in [since, until), summed per day."""
        day = self.day()
        query = (
            select(TABLE.c.user_id, day, TABLE.c.kind, func.sum(TABLE.c.count))
            .where(TABLE.c.chat_id == chat_id, TABLE.c.bucket >= since, TABLE.c.bucket < until)
            .group_by(TABLE.c.user_id, day, TABLE.c.kind)
        )
        return [
            (int(user), _as_date(when), str(kind), int(n))
            for user, when, kind, n in (await self.session.execute(query)).all()
        ]

    async def hourly_activity(
        self, chat_id: int, since: datetime, until: datetime
    ) -> tuple[list[tuple[datetime, int]], int]:
        """Messages and reactions per hourly bucket in [since, until) (rolled-up daily rows
        have no hour and are left out), and how many people made them."""
        kinds = [LedgerKind.MESSAGE.value, LedgerKind.REACTION.value]
        where = (
            TABLE.c.chat_id == chat_id,
            TABLE.c.bucket >= since,
            TABLE.c.bucket < until,
            TABLE.c.daily.is_(False),
            TABLE.c.kind.in_(kinds),
        )
        per_hour = select(TABLE.c.bucket, func.sum(TABLE.c.count)).where(*where)
        rows = (await self.session.execute(per_hour.group_by(TABLE.c.bucket))).all()
        people = select(func.count(distinct(TABLE.c.user_id))).where(*where)
        found = int((await self.session.execute(people)).scalar_one())
        return [(_as_datetime(bucket), int(n)) for bucket, n in rows], found

    async def first_bucket(self, chat_id: int) -> datetime | None:
        """When the chat's earliest counter was recorded (None: nothing yet)."""
        query = select(func.min(TABLE.c.bucket)).where(TABLE.c.chat_id == chat_id)
        found = (await self.session.execute(query)).scalar_one_or_none()
        return None if found is None else _as_datetime(found)


def _as_date(value: Any) -> date:
    """SQLite's date() gives text, PostgreSQL a date."""
    return date.fromisoformat(value) if isinstance(value, str) else cast(date, value)


def _as_datetime(value: Any) -> datetime:
    """min() may come back as text on SQLite (the column type is not applied to it)."""
    found = datetime.fromisoformat(value) if isinstance(value, str) else cast(datetime, value)
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)
