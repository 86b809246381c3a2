"""Once a week per chat: the digest of calls (a private summary for members who chose the
digest; members known to have blocked the bot get none, it would not arrive either, they
are counted in the log), and the note to the admins listing the
circles silent for 30 days, each with a button to close it.

The week is claimed by a compare-and-set on a hidden chat setting in the transaction that
queues the messages (as the health digest does), so several processes and restarts send
each week's messages once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import pick_language
from bot.outgoing import queue
from bot.services.checkin_schedule import deliver_at, week_of
from bot.services.circles.rules import DORMANT_AFTER, PROPOSAL_TTL, message_link
from bot.services.core import Sending
from bot.views import circles as views
from models.chats import ChatRepository
from models.circles import CircleRepository, Delivery
from models.users import User, UserRepository

log = logging.getLogger(__name__)

MARK = "circles_week"  # hidden chat setting: the last week whose messages were queued
WEEK = timedelta(days=7)
KEEP = timedelta(days=2)
KEEP_CALLS = timedelta(days=8)  # the privacy registry says so (circle_calls)


class CircleWeekly(Sending):
    """The scheduler's weekly pass over every chat with circles."""

    async def tick(self) -> int:
        """Queue this week's digest and dormancy note of each chat not claimed yet; how
        many chats' weeks this call claimed."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            chat_ids = await ChatRepository(session).active_ids()
            await CircleRepository(session).prune_calls(now - KEEP_CALLS)
            await CircleRepository(session).lapse_proposals(now - PROPOSAL_TTL)
        return await self._each_chat(chat_ids, now, "circles' weekly pass")

    async def _chat(self, chat_id: int, now: datetime) -> int:
        config = await self._settings.get(chat_id)
        week = week_of(now, config.timezone)
        async with self._db.transaction() as session:
            stored = (await ChatRepository(session).settings(chat_id)).get(MARK)
            has_circles = bool(await CircleRepository(session).of_chat(chat_id, None))
        if stored == week or not has_circles:
            return 0
        admins = await self._notifier.admins(chat_id)
        if admins is None:
            return 0  # Telegram would not list the admins: the next tick tries again
        async with self._db.transaction() as session:
            if not await ChatRepository(session).claim_setting(chat_id, MARK, stored, week):
                return 0
            lang = config.language
            # the week turns at midnight: private messages wait for the quiet hours' end
            when = deliver_at(config.quiet_hours, now, config.timezone)
            digests = await self._digests(session, chat_id, (now, when), lang, week)
            notes = await self._dormant(session, chat_id, (now, when), lang, week, admins)
        log.info("circles of chat %s, %s: %d digests, %d notes", chat_id, week, digests, notes)
        return 1

    async def _digests(
        self,
        session: AsyncSession,
        chat_id: int,
        moments: tuple[datetime, datetime],
        lang: str,
        week: str,
    ) -> int:
        now, when = moments  # now, and when private messages may go out
        circles = CircleRepository(session)
        lines: dict[int, list[tuple[str, str]]] = {}
        names = {c.id: c.name for c in await circles.of_chat(chat_id)}
        calls = [
            c for c in await circles.chat_calls_since(chat_id, now - WEEK) if c.circle_id in names
        ]
        members = {
            circle_id: await circles.members(circle_id)
            for circle_id in {c.circle_id for c in calls}
        }
        ids = {m.user_id for found in members.values() for m in found}
        people = {u.id: u for u in await UserRepository(session).many(ids)}
        blocked: set[int] = set()
        for call in calls:
            for member in members[call.circle_id]:
                user = people.get(member.user_id)
                if user is not None and not user.reachable and member.delivery != Delivery.OFF:
                    blocked.add(member.user_id)  # a private note they cannot get: not queued
                    continue
                if member.user_id == call.caller_id or not _digest(member.delivery, user):
                    continue
                link = message_link(call.chat_id, call.message_id)
                lines.setdefault(member.user_id, []).append((names[call.circle_id], link))
        for user_id, found in lines.items():
            user = people.get(user_id)
            text = views.digest(pick_language(user.language_code if user else None, lang), found)
            key = f"circles:digest:{chat_id}:{week}:{user_id}"
            await queue(
                session, key, user_id, text, now=now, not_before=when, expires_at=when + KEEP
            )
        if blocked:
            log.info("circles of chat %s: %d members unreachable, no digest", chat_id, len(blocked))
        return len(lines)

    async def _dormant(
        self,
        session: AsyncSession,
        chat_id: int,
        moments: tuple[datetime, datetime],
        lang: str,
        week: str,
        admins: frozenset[int],
    ) -> int:
        now, when = moments
        dormant = await CircleRepository(session).dormant(chat_id, now - DORMANT_AFTER)
        if not dormant:
            return 0
        chat = await ChatRepository(session).get(chat_id)
        title = chat.title if chat is not None else str(chat_id)
        people = await UserRepository(session).many(set(admins))
        told = 0
        for admin in sorted((p for p in people if p.reachable and not p.is_bot), key=_id):
            text, buttons = views.dormant(
                pick_language(admin.language_code, lang), title, [(c.id, c.name) for c in dormant]
            )
            key = f"circles:dormant:{chat_id}:{week}:{admin.id}"
            await queue(
                session,
                key,
                admin.id,
                text,
                now=now,
                buttons=buttons,
                not_before=when,
                expires_at=when + KEEP,
            )
            told += 1
        return told


def _digest(delivery: str, user: User | None) -> bool:
    """The digest is the member's choice, or the way left to reach someone the bot does
    not know (someone known to have blocked it gets nothing: the digest is private too)."""
    if delivery == Delivery.OFF:
        return False
    return delivery == Delivery.DIGEST or user is None


def _id(user: User) -> int:
    return user.id
