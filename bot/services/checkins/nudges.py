"""Gentle nudges: one private message to a member silent for the chat's `nudge_after`, and a
word to their buddy; once per silence, never while paused, held during quiet hours."""

from __future__ import annotations

from datetime import datetime

from bot.clock import as_utc
from bot.i18n import pick_language
from bot.outbox import queue
from bot.services.checkin_schedule import deliver_at
from bot.services.checkins import keys
from bot.services.checkins.common import Deps, chat_title
from bot.services.settings import ChatConfig
from bot.views import checkins as views
from models.buddies import BuddyRepository
from models.checkin_repository import CheckinRepository
from models.users import UserRepository

NUDGE_BATCH = 500  # per chat and pass; the next pass (a minute later) takes the next ones


class Nudges:
    """Finds the silent members of each chat and queues their nudges."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def nudge_due(self) -> int:
        """One gentle private message to members silent for `nudge_after`; their buddy is told."""
        now = self._deps.clock.now()
        async with self._deps.db.transaction() as session:
            chat_ids = await CheckinRepository(session).active_chats()
        nudged = 0
        for chat_id in chat_ids:
            config = await self._deps.settings.get(chat_id)
            if config.nudge_after is None:
                continue
            nudged += await self._nudge_chat(chat_id, config, now, now - config.nudge_after)
        return nudged

    async def _nudge_chat(
        self, chat_id: int, config: ChatConfig, now: datetime, silent_since: datetime
    ) -> int:
        recent = self._deps.activity.unflushed(chat_id)
        async with self._deps.db.transaction() as session:
            repo = CheckinRepository(session)
            users = UserRepository(session)
            rows = await repo.silent(chat_id, silent_since, now, set(recent), NUDGE_BATCH)
            title = await chat_title(session, chat_id)
            when = deliver_at(config.quiet_hours, now, config.timezone)
            day = now.strftime("%Y%m%d")
            count = 0
            for user_id, last_seen, nudged_at, paused_until in rows:
                if user_id in recent:
                    continue
                if nudged_at is not None and (last_seen is None or nudged_at >= as_utc(last_seen)):
                    continue  # nudged once for this silence already
                if paused_until is not None and paused_until > now:
                    continue
                member = await repo.ensure_member(chat_id, user_id)
                member.nudged_at = now
                user = await users.get(user_id)
                lang = pick_language(user.language_code if user else None, config.language)
                await queue(
                    session,
                    keys.Nudge(chat_id, user_id, day).encode(),
                    user_id,
                    views.nudge(lang, title),
                    now=now,
                    not_before=when,
                )
                buddy = await BuddyRepository(session).active_buddy_of(chat_id, user_id)
                if buddy is not None:
                    buddy_user = await users.get(buddy)
                    buddy_lang = pick_language(
                        buddy_user.language_code if buddy_user else None, config.language
                    )
                    name = user.full_name if user else str(user_id)
                    await queue(
                        session,
                        keys.Nudge(chat_id, user_id, day, buddy=True).encode(),
                        buddy,
                        views.nudge_buddy(buddy_lang, name, title),
                        now=now,
                        not_before=when,
                    )
                count += 1
        return count
