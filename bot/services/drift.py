"""Who is drifting away: members alive in the 30 days before the last 21 and silent since,
read from the activity ledger; and asking such a member's buddy to say hi (privately,
through the outbox, once a day). Nothing here ever writes into the group."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.i18n import pick_language
from bot.outgoing import queue
from bot.services.checkin_schedule import deliver_at
from bot.services.ledger import Ledger
from bot.services.settings import SettingsService
from bot.views import drift as views
from models.buddies import BuddyRepository
from models.chats import ChatRepository
from models.checkins import CheckinPerson
from models.ledger import LedgerRepository
from models.members import MemberRepository, MemberStatus
from models.users import UserRepository

SILENT_DAYS = 21  # silent for at least this long
ACTIVE_DAYS = 30  # ... after having been alive in the 30 days before that
MAX_SHOWN = 30


@dataclass(frozen=True)
class Drifter:
    """One member gone quiet: their name, days silent, and whether their buddy may be asked."""

    user_id: int
    name: str
    days_silent: int
    can_ask: bool


@dataclass(frozen=True)
class DriftReport:
    """`collecting_since` is set when the ledger holds too little history to tell."""

    drifters: list[Drifter]
    collecting_since: datetime | None = None


class AskOutcome(StrEnum):
    SENT = "sent"
    ALREADY = "already"
    UNREACHABLE = "unreachable"


class DriftService:
    """Finds members drifting away and asks their buddies to say hi."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        ledger: Ledger,
        settings: SettingsService,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._db = db
        self._clock = clock
        self._ledger = ledger
        self._settings = settings
        self._wake = wake_outbox

    async def at_risk(self, chat_id: int) -> DriftReport:
        """Members still in the chat, alive in the 30 days before the last 21 and silent in
        those 21, the most recently active first (at most 30); what is only counted in
        memory so far is written first."""
        await self._ledger.flush_quietly()
        now = self._clock.now()
        silent_since = now - timedelta(days=SILENT_DAYS)
        active_since = silent_since - timedelta(days=ACTIVE_DAYS)
        async with self._db.transaction() as session:
            ledger = LedgerRepository(session)
            first = await ledger.first_bucket(chat_id)
            if first is None or first > silent_since:
                return DriftReport([], collecting_since=first or now)
            found = await ledger.gone_quiet(chat_id, active_since, silent_since, MAX_SHOWN)
            users = UserRepository(session)
            drifters = []
            for user_id, last in found:
                user = await users.get(user_id)
                drifters.append(
                    Drifter(
                        user_id,
                        user.full_name if user else str(user_id),
                        (now - last).days,
                        await self._can_ask(session, chat_id, user_id, now),
                    )
                )
        return DriftReport(drifters)

    async def ask_buddy(self, chat_id: int, user_id: int) -> AskOutcome:
        """Queue one private nudge to the member's active buddy, at most one a day (the
        chat's day); the member must still be in the chat and accept nudges."""
        now = self._clock.now()
        config = await self._settings.get(chat_id)
        async with self._db.transaction() as session:
            member = await MemberRepository(session).get(chat_id, user_id)
            buddy_id = await BuddyRepository(session).active_buddy_of(chat_id, user_id)
            if member is None or member.status != MemberStatus.IN or buddy_id is None:
                return AskOutcome.UNREACHABLE
            users = UserRepository(session)
            buddy = await users.get(buddy_id)
            person = await users.get(user_id)
            can_ask = await self._can_ask(session, chat_id, user_id, now)
            if not can_ask or buddy is None or buddy.is_bot or not buddy.reachable:
                return AskOutcome.UNREACHABLE
            chat = await ChatRepository(session).get(chat_id)
            lang = pick_language(buddy.language_code, config.language)
            text = views.buddy_nudge(
                lang,
                person.full_name if person else str(user_id),
                chat.title if chat else str(chat_id),
            )
            day = now.astimezone(config.timezone).strftime("%Y%m%d")
            queued = await queue(
                session,
                f"drift:{chat_id}:{user_id}:{day}",
                buddy_id,
                text,
                now=now,
                not_before=deliver_at(config.quiet_hours, now, config.timezone),
            )
        if not queued:
            return AskOutcome.ALREADY
        self._wake()
        return AskOutcome.SENT

    async def _can_ask(
        self, session: AsyncSession, chat_id: int, user_id: int, now: datetime
    ) -> bool:
        """The member has an active buddy and accepts nudges (no check-in pause running)."""
        if await BuddyRepository(session).active_buddy_of(chat_id, user_id) is None:
            return False
        person = await session.get(CheckinPerson, user_id)
        paused = person.paused_until if person is not None else None
        return paused is None or paused <= now
