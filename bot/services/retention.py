"""Retention: what people wrote is kept only as long as each chat's settings say.

The daily job (`Retention.run`) deletes, chat by chat:

* check-in answers `answers_keep` after their round closed (whether someone answered, their
  sharing choice and their streaks stay: only the words go);
* the text of reported messages `reports_keep` after the report was resolved (who reported
  whom, the reason and the decision stay for the audit);
* the text of settled messages to people in the outbox (a delivered one is blanked when it is
  sent; this catches those given up on, and rows from before that);
* thanks older than 90 days (only the last 90 days count).

The ledger's roll-up, a job of its own, turns hourly rows into daily ones after each chat's
`ledger_hourly` (`hourly_limit` gives it the setting).

Every step is a conditional UPDATE of rows still holding words, so running it twice, or again
after a restart, changes nothing; one chat's failure does not stop the others.

People who leave are purged from the chat `LEFT_KEEP` after leaving unless they came back: a
deadline row per leaver (`member_left`), run by the deadline sweeper (`purge_left`). The
deletion itself, and what it keeps (active warnings, bans, payment records), belongs to the
personal data registry (`/forget`): it is the `purge_member` given at construction. Until one
is given, the deadlines wait a day at a time, so nobody who left is missed once it is.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.services.settings import ChatConfig, SettingsService
from models.checkin_repository import CheckinRepository
from models.deadlines import DeadlineRepository
from models.members import MemberRepository, MemberStatus
from models.moderation import ModerationRepository
from models.outbox import OutboxRepository
from models.thanks import KEEP as THANKS_KEEP
from models.thanks import ThanksRepository

log = logging.getLogger(__name__)

MIN_KEEP = timedelta(days=1)
"""The shortest `answers_keep` or `reports_keep` a chat may set: rows younger than this are
never looked at."""

PURGE_LEFT = "purge_left"
"""Deadline kind: someone who left a chat, to be purged from it `LEFT_KEEP` later."""
LEFT_KEEP = timedelta(days=30)
PURGE_WAIT = timedelta(days=1)
"""How long a due purge waits for another try while no deletion is wired."""

PurgeMember = Callable[[int, int], Awaitable[None]]
"""Deletes a person's personal rows in one chat, keeping what the registry says to keep."""
Find = Callable[[AsyncSession, datetime], Awaitable[list[int]]]
Clear = Callable[[AsyncSession, int, datetime], Awaitable[int]]


@dataclass(frozen=True)
class Swept:
    """What one run deleted: entries whose answers went, reports whose text went, outbox
    rows blanked."""

    answers: int = 0
    reports: int = 0
    outbox: int = 0
    thanks: int = 0

    @property
    def total(self) -> int:
        return self.answers + self.reports + self.outbox + self.thanks


def hourly_limit(settings: SettingsService) -> Callable[[int], Awaitable[timedelta]]:
    """A chat's `ledger_hourly` setting, for the ledger's roll-up."""

    async def limit(chat_id: int) -> timedelta:
        return (await settings.get(chat_id)).ledger_hourly

    return limit


class Retention:
    """Deletes the words each chat's retention settings no longer allow to be kept."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: SettingsService,
        *,
        purge_member: PurgeMember | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._purge_member = purge_member

    async def member_left(self, chat_id: int, user_id: int) -> None:
        """Someone left the chat (or was removed): their rows in it go `LEFT_KEEP` from now,
        unless they come back (leaving again moves the date)."""
        due = self._clock.now() + LEFT_KEEP
        async with self._db.transaction() as session:
            await DeadlineRepository(session).schedule(PURGE_LEFT, chat_id, user_id, due)

    async def purge_left(self, chat_id: int, user_id: int) -> None:
        """The `PURGE_LEFT` deadline: purge the person from the chat unless they are back
        (in, or asking to join again)."""
        async with self._db.transaction() as session:
            member = await MemberRepository(session).get(chat_id, user_id)
            back = member is not None and member.status != MemberStatus.LEFT
            if not back and self._purge_member is None:
                wait = self._clock.now() + PURGE_WAIT  # kept for when a deletion is wired
                await DeadlineRepository(session).schedule(PURGE_LEFT, chat_id, user_id, wait)
        if not back and self._purge_member is not None:
            await self._purge_member(chat_id, user_id)

    async def run(self) -> int:
        """Scheduled daily: every retention rule once; how many rows lost their words."""
        swept = await self.sweep()
        if swept.total:
            log.info(
                "retention: answers of %d entries, %d report texts, %d outbox texts, %d thanks "
                "deleted",
                swept.answers,
                swept.reports,
                swept.outbox,
                swept.thanks,
            )
        return swept.total

    async def sweep(self) -> Swept:
        """Each rule once, at the clock's now."""
        now = self._clock.now()
        answers = await self._per_chat(
            now,
            lambda s, before: CheckinRepository(s).chats_with_answers_closed_before(before),
            lambda s, chat_id, before: CheckinRepository(s).clear_answers(chat_id, before),
            lambda config: config.answers_keep,
            "check-in answers",
        )
        reports = await self._per_chat(
            now,
            lambda s, before: ModerationRepository(s).chats_with_reports_handled_before(before),
            lambda s, chat_id, before: ModerationRepository(s).clear_report_texts(chat_id, before),
            lambda config: config.reports_keep,
            "report texts",
        )
        async with self._db.transaction() as session:
            outbox = await OutboxRepository(session).blank_private_settled()
        async with self._db.transaction() as session:  # only the last 90 days count
            thanks = await ThanksRepository(session).purge(now - THANKS_KEEP)
        return Swept(answers, reports, outbox, thanks)

    async def _per_chat(
        self,
        now: datetime,
        find: Find,
        clear: Clear,
        keep: Callable[[ChatConfig], timedelta],
        what: str,
    ) -> int:
        """Find the chats that may hold rows past the shortest limit, then clear each chat's
        rows past its own limit in a transaction of its own."""
        async with self._db.transaction() as session:
            chats = await find(session, now - MIN_KEEP)
        cleared = 0
        for chat_id in chats:
            try:
                config = await self._settings.get(chat_id)
                async with self._db.transaction() as session:
                    cleared += await clear(session, chat_id, now - keep(config))
            except Exception:
                log.exception("chat %s: deleting old %s failed", chat_id, what)
        return cleared
