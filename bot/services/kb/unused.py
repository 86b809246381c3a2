"""Once a month per chat: the knowledge base's entries nobody opened or found helpful for
180 days, listed privately to the chat's admins (after quiet hours), so old notes get a look.
`/kb unused` gives the same list on demand.

The month is claimed by a compare-and-set on a hidden chat setting in the transaction that
queues the notes (as the weekly health note does): several processes and restarts send each
month's notes once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.db import Database
from bot.i18n import pick_language
from bot.notifier import Notifier
from bot.outgoing import queue
from bot.services.checkin_schedule import deliver_at
from bot.services.core import Sending
from bot.services.kb.search import Search
from bot.services.settings import SettingsService
from bot.views import kb as views
from models.chats import ChatRepository
from models.users import UserRepository

log = logging.getLogger(__name__)

MARK = "kb_unused_month"  # hidden chat setting: the last month whose notes were queued
KEEP = timedelta(days=3)


class UnusedNote(Sending):
    """The scheduler's monthly pass: a private list of unused entries to each chat's admins."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        wake_outbox: Callable[[], None],
        search: Search,
    ) -> None:
        super().__init__(db, clock, notifier, settings, wake_outbox)
        self._search = search

    async def tick(self) -> int:
        """Queue this month's note of each chat not claimed yet; how many chats had one."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            chat_ids = await ChatRepository(session).active_ids()
        return await self._each_chat(chat_ids, now, "knowledge base note")

    async def _chat(self, chat_id: int, now: datetime) -> int:
        config = await self._settings.get(chat_id)
        month = now.astimezone(config.timezone).strftime("%Y-%m")
        stored = await self._mark(chat_id, MARK)
        if stored == month:
            return 0
        entries = await self._search.unused(chat_id)
        admins = await self._notifier.admins(chat_id) if entries else frozenset()
        if admins is None:
            return 0  # Telegram would not list the admins: the next pass tries again
        when = deliver_at(config.quiet_hours, now, config.timezone)
        async with self._db.transaction() as session:
            if not await ChatRepository(session).claim_setting(chat_id, MARK, stored, month):
                return 0  # another process (or an earlier pass) claimed the month
            chat = await ChatRepository(session).get(chat_id)
            title = chat.title if chat is not None else str(chat_id)
            for admin in await UserRepository(session).many(set(admins)):
                if not admin.reachable or admin.is_bot:
                    continue
                lang = pick_language(admin.language_code, config.language)
                text = "\n".join(views.unused_list(lang, title, entries))
                key = f"kb:unused:{chat_id}:{month}:{admin.id}"
                await queue(
                    session, key, admin.id, text, now=now, not_before=when, expires_at=when + KEEP
                )
        return 1 if entries and admins else 0
