"""The activity ledger: who did what in which chat, counted per hour, never what they wrote.

`count()` only adds to a dict in memory, so the per-message path writes nothing; `flush()`
writes everything counted since the last flush in one transaction (the activity flush job,
shutdown and a supergroup move call it). A failed flush keeps its counts for the next try.
`roll_up()` (daily job) turns hourly rows older than each chat's `ledger_hourly` setting (or
`hourly_days` when built without settings) into daily rows.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.db import Database
from models.ledger import Key, LedgerKind, LedgerRepository, day_of, hour_of

__all__ = ["LEDGER_HOURLY_DAYS", "Ledger", "LedgerKind", "flush_each"]

log = logging.getLogger(__name__)

LEDGER_HOURLY_DAYS = 90
MIN_HOURLY = timedelta(days=1)  # the least the `ledger_hourly` setting accepts
ME_DAYS = 30  # /me: "active on N of the last 30 days"


class Ledger:
    """Buffers counters in memory and writes them in batches; reads what /me shows."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        hourly_days: int = LEDGER_HOURLY_DAYS,
        hourly_for: Callable[[int], Awaitable[timedelta]] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._hourly_days = hourly_days
        self._hourly_for = hourly_for  # a chat's `ledger_hourly` setting
        self._pending: dict[Key, int] = defaultdict(int)

    def count(
        self, chat_id: int, user_id: int, kind: LedgerKind, at: datetime | None = None
    ) -> None:
        """Count one `kind` for the person in the chat at `at` (now by default). Memory only."""
        when = at if at is not None else self._clock.now()
        self._pending[(chat_id, user_id, hour_of(when), kind.value)] += 1

    def count_each(self, chat_id: int, user_ids: Iterable[int], kind: LedgerKind) -> None:
        """Count one `kind` for each of the people (newcomers promoted together, say)."""
        for user_id in user_ids:
            self.count(chat_id, user_id, kind)

    def left(self, chat_id: int, user_id: int, *, removed: bool) -> None:
        """Someone left the chat, or was removed from it by someone else."""
        self.count(chat_id, user_id, LedgerKind.REMOVED if removed else LedgerKind.LEFT)

    def forget_person(self, user_id: int) -> int:
        """Drop what is counted in memory for the person (/forget); how many counters went."""
        mine = [key for key in self._pending if key[1] == user_id]
        for key in mine:
            del self._pending[key]
        return len(mine)

    def pending(self) -> int:
        """How many counters wait for the next flush."""
        return len(self._pending)

    async def flush(self) -> int:
        """Write what was counted since the last flush; returns how many counters it wrote."""
        if not self._pending:
            return 0
        batch, self._pending = self._pending, defaultdict(int)
        try:
            async with self._db.transaction() as session:
                await LedgerRepository(session).add(batch)
        except Exception:
            for key, n in batch.items():  # keep them for the next try
                self._pending[key] += n
            raise
        return len(batch)

    async def days_active(self, chat_id: int, user_id: int, days: int = ME_DAYS) -> int:
        """On how many of the last `days` days the person wrote, reacted or answered a
        check-in in the chat (what is still in memory included)."""
        await self.flush_quietly()
        async with self._db.transaction() as session:
            return await LedgerRepository(session).days_active(
                chat_id, user_id, days, self._clock.now()
            )

    async def roll_up(self) -> int:
        """Scheduled daily: hourly rows of days older than the chat's limit become one row
        per day (midnight UTC, `daily`), one transaction per chat; returns the hourly rows
        gone. Totals stay; running it twice changes nothing."""
        today = day_of(self._clock.now())
        # the shortest limit a chat may choose: every chat with older hours is looked at
        earliest = today - (MIN_HOURLY if self._hourly_for else timedelta(self._hourly_days))
        async with self._db.transaction() as session:
            chats = await LedgerRepository(session).chats_with_hourly_before(earliest)
        gone = 0
        for chat_id in chats:
            cutoff = today - await self._hourly_limit(chat_id)
            async with self._db.transaction() as session:
                gone += await LedgerRepository(session).roll_up(chat_id, cutoff)
        if gone:
            log.info("ledger: %d hourly rows of %d chats rolled up", gone, len(chats))
        return gone

    async def _hourly_limit(self, chat_id: int) -> timedelta:
        if self._hourly_for is None:
            return timedelta(days=self._hourly_days)
        # a whole number of days: a day is rolled up whole or not at all
        return timedelta(days=max(1, (await self._hourly_for(chat_id)).days))

    async def flush_quietly(self) -> None:
        """Flush before reading; a failure is logged, and the read goes on with what is stored."""
        try:
            await self.flush()
        except Exception:
            log.exception("could not store the ledger's counters")


def flush_each(*flushes: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[int]]:
    """One flush that runs every given one (activity, ledger) even when one fails, then
    raises the first failure; it returns how many rows they wrote."""

    async def flush() -> int:
        failure: Exception | None = None
        written = 0
        for one in flushes:
            try:
                written += await one()
            except Exception as error:
                failure = failure or error
        if failure is not None:
            raise failure
        return written

    return flush
