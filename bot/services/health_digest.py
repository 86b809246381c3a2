"""The weekly health note: at the chat's `health_digest` moment (default Monday 10:00 in the
chat's time zone) each of the chat's Telegram admins gets the /stats card for the last 7 days
and a ten-line summary, privately, through the outbox and its limits.

Exactly once a week per chat, restarts and several processes included: the week is claimed
by a compare-and-set on a hidden chat setting in the same transaction that queues the notes,
and each note's outbox key names the chat, the week and the admin. An admin who never
started the bot (or blocked it) gets a 403, which marks them unreachable; later weeks skip
them until they write to the bot again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.db import Database
from bot.i18n import pick_language
from bot.notifier import Notifier
from bot.outgoing import queue
from bot.services.checkin_schedule import latest_slot, week_of
from bot.services.core import Sending
from bot.services.health import HealthService
from bot.services.health_rhythm import HealthRhythm
from bot.services.settings import ChatConfig, SettingsService
from bot.views import stats_card as views
from models.chats import ChatRepository
from models.users import UserRepository

log = logging.getLogger(__name__)

DIGEST_DAYS = 7
LATE = timedelta(days=1)  # the bot was down longer than this past the moment: next week
KEEP = timedelta(days=1)  # a note still unsent a day later is stale (the outbox expires it)
MARK = "health_digest_week"  # hidden chat setting: the last week whose notes were queued


@dataclass(frozen=True)
class Note:
    admin_id: int
    text: str
    png: bytes


def note_key(chat_id: int, week: str, admin_id: int) -> str:
    return f"digest:{chat_id}:{week}:{admin_id}"


class HealthDigest(Sending):
    """Queues the weekly notes of every chat whose moment has come (the scheduler's tick)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        health: HealthService,
        rhythm: HealthRhythm,
        wake_outbox: Callable[[], None],
    ) -> None:
        super().__init__(db, clock, notifier, settings, wake_outbox)
        self._health = health
        self._rhythm = rhythm
        self._done: dict[int, str] = {}  # chat -> the week known queued: no query

    async def tick(self) -> int:
        """Queue the notes of each chat whose weekly moment has come and whose week is not
        claimed yet; returns how many chats' weeks this call claimed."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            chat_ids = await ChatRepository(session).active_ids()
        return await self._each_chat(chat_ids, now, "health digest")

    async def _due(self, chat_id: int, now: datetime) -> tuple[ChatConfig, str, str | None] | None:
        """(settings, week, the week stored before) when the chat's note is due now."""
        config = await self._settings.get(chat_id)
        slot = config.health_digest
        if slot is None:
            return None
        moment = latest_slot(slot, now, config.timezone)
        week = week_of(moment, config.timezone)
        if now - moment > LATE or self._done.get(chat_id) == week:
            return None
        stored = await self._mark(chat_id, MARK)
        if stored == week:
            self._done[chat_id] = week
            return None
        return config, week, stored

    async def _chat(self, chat_id: int, now: datetime) -> int:
        due = await self._due(chat_id, now)
        if due is None:
            return 0
        config, week, stored = due
        notes = await self._notes(chat_id, config)
        if notes is None:
            return 0  # Telegram would not list the admins: try again on the next tick
        async with self._db.transaction() as session:
            if not await ChatRepository(session).claim_setting(chat_id, MARK, stored, week):
                return 0  # another process (or an earlier tick) claimed the week
            for note in notes:
                await queue(
                    session,
                    note_key(chat_id, week, note.admin_id),
                    note.admin_id,
                    note.text,
                    now=now,
                    expires_at=now + KEEP,
                    photo=note.png,
                )
        self._done[chat_id] = week
        log.info("health digest of chat %s for %s: %d notes queued", chat_id, week, len(notes))
        return 1

    async def _notes(self, chat_id: int, config: ChatConfig) -> list[Note] | None:
        """The note of each reachable admin in their language; [] when there is nothing to
        say (no data yet, nobody to tell); None when the admins are unknown."""
        admins = await self._notifier.admins(chat_id)
        if admins is None:
            return None
        async with self._db.transaction() as session:
            people = await UserRepository(session).many(set(admins))
            chat = await ChatRepository(session).get(chat_id)
        people = [p for p in people if p.reachable and not p.is_bot]
        report = await self._health.report(chat_id, DIGEST_DAYS) if people else None
        if report is None:
            return []
        rhythm = await self._rhythm.rhythm(chat_id, DIGEST_DAYS)
        title = chat.title if chat is not None else str(chat_id)
        made: dict[str, tuple[str, bytes]] = {}
        notes = []
        for person in sorted(people, key=lambda p: p.id):
            lang = pick_language(person.language_code, config.language)
            if lang not in made:
                png = await views.render_card(report, rhythm, lang, title)
                made[lang] = (views.digest_text(lang, title, report, rhythm), png)
            text, png = made[lang]
            notes.append(Note(person.id, text, png))
        return notes
