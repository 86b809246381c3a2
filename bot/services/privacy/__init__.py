"""Privacy and data rights: what Hearth keeps (the registry), /privacy's "count me only in
totals", /mydata's export (at most once a day) and /forget."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update

from bot.clock import Clock
from bot.db import Database
from bot.services.activity import ActivityTracker
from bot.services.ledger import Ledger
from bot.services.members import MemberDirectory, remember_person
from bot.services.people import Person
from bot.services.privacy.export import Document, collect
from bot.services.privacy.forget import Erased, Kept, erase
from models.members import MemberRepository
from models.users import User

__all__ = ["EXPORT_EVERY", "Erased", "Export", "Kept", "PrivacyService", "TooSoon"]

log = logging.getLogger(__name__)

EXPORT_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Export:
    """The person's data: the document and its JSON bytes (None: nothing is stored)."""

    document: Document | None

    def json_bytes(self) -> bytes:
        return json.dumps(self.document, ensure_ascii=False, indent=2).encode()


@dataclass(frozen=True)
class TooSoon:
    """/mydata was asked within a day of the last one: when it may be asked again."""

    next_at: datetime


class PrivacyService:
    """/privacy's switch, /mydata's export and /forget for one person at a time."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        directory: MemberDirectory,
        activity: ActivityTracker,
        ledger: Ledger,
        reassign: Callable[[int, int], Awaitable[object]],
    ) -> None:
        """`reassign(chat_id, newcomer_id)` finds a new buddy for a newcomer whose buddy
        was forgotten (BuddyService.assign)."""
        self._db = db
        self._clock = clock
        self._directory = directory
        self._activity = activity
        self._ledger = ledger
        self._reassign = reassign

    async def totals_only(self, user_id: int) -> bool:
        """Whether the person asked to be counted only in totals."""
        async with self._db.transaction() as session:
            user = await session.get(User, user_id)
            return bool(user and user.totals_only)

    async def set_totals_only(self, person: Person, on: bool) -> None:
        """Turn "count me only in totals" on or off (the person is stored if new)."""
        async with self._db.transaction() as session:
            await remember_person(session, person, self._clock.now())
            await session.execute(update(User).where(User.id == person.id).values(totals_only=on))

    async def export(self, user_id: int) -> Export | TooSoon:
        """Everything stored about the person (see export.py), at most once per
        EXPORT_EVERY; the moment is stored with the export, in one transaction."""
        now = self._clock.now()
        await self._ledger.flush_quietly()  # the counts still in memory belong in it too
        async with self._db.transaction() as session:
            user = await session.get(User, user_id, with_for_update=True)
            if user is None:
                return Export(None)
            if user.exported_at is not None and user.exported_at + EXPORT_EVERY > now:
                return TooSoon(user.exported_at + EXPORT_EVERY)
            document = await collect(session, user, now)
            user.exported_at = now
        return Export(document)

    async def forget_person(self, user_id: int) -> Erased:
        """Erase the person from every chat in one transaction (see forget.py); what is
        only counted in memory for them is dropped first and again after, so nothing
        comes back with a later flush; newcomers whose buddy they were get a new one (or
        wait for one). The retention job may call this too."""
        # counts other processes already handed to Redis are written now, so erased below
        await self._ledger.flush_quietly()
        self._ledger.forget_person(user_id)
        self._activity.forget_person(user_id)
        async with self._db.transaction() as session:
            erased = await erase(session, user_id, self._clock.now())
        self._ledger.forget_person(user_id)  # counted while the transaction ran
        self._activity.forget_person(user_id)
        for chat_id in erased.chats:
            self._directory.set(chat_id, user_id, None)  # seen again = seen for the first time
        for chat_id, newcomer_id in erased.orphans:
            try:
                await self._reassign(chat_id, newcomer_id)
            except Exception:
                log.exception("could not find a new buddy for a newcomer in %s", chat_id)
        return erased

    async def purge_left(self, chat_id: int, user_id: int) -> None:
        """Retention: someone left `chat_id` 30 days ago and did not come back. If the bot
        knows them from no other chat, they are forgotten as /forget would (active warnings,
        bans and payments stay); otherwise nothing goes yet, since their profile serves the
        other chats."""
        async with self._db.transaction() as session:
            elsewhere = await MemberRepository(session).in_active_chats(user_id)
        if any(chat.id != chat_id for _, chat in elsewhere):
            log.info("retention: %s left chat %s but is still in another chat", user_id, chat_id)
            return
        await self.forget_person(user_id)
