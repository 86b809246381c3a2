"""Join requests once they are asked: accepting the rules in private, or timing out.

Depends on nothing of billing, so billing can be built on it (billing approves a paid
request here) and onboarding can be built on billing (billing gates new requests).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import update

from bot.clock import Clock
from bot.db import Database
from bot.events import EventBus, MemberArrived, MemberVerified
from bot.i18n import pick_language
from bot.notifier import Notifier, TelegramUnavailable
from bot.services.members import MemberDirectory
from bot.services.people import Person
from bot.services.settings import SettingsService
from bot.views import onboarding as views
from models.chats import ChatRepository
from models.deadlines import DeadlineRepository
from models.members import Member, MemberStatus, TrustLevel
from models.users import User

log = logging.getLogger(__name__)

REQUEST = "request"
"""Deadline kind: a join request nobody accepted in time."""
RIGHTS_WARNING_INTERVAL = 3600.0
APPROVAL_RETRY = timedelta(minutes=1)
"""When a request whose approval failed in an outage is looked at again."""


class Accept(StrEnum):
    APPROVED = "approved"
    ALREADY = "already"
    EXPIRED = "expired"
    LATER = "later"  # Telegram unavailable: the request still waits, its deadline retries


@dataclass(frozen=True)
class AcceptResult:
    outcome: Accept
    chat_title: str


class JoinRequests:
    """Approves or declines join requests, and tells a chat which rights the bot lacks."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        directory: MemberDirectory,
        events: EventBus,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._settings = settings
        self._directory = directory
        self._events = events
        self._monotonic = monotonic  # paces the rights warning (an injected timer's, in tests)
        self._rights_warned: dict[int, float] = {}

    async def accept_request(self, chat_id: int, person: Person) -> AcceptResult:
        """Approve the person's pending request as a newcomer (they accepted the rules, or
        paid). Its deadline stays until Telegram approved it: a request is never left
        pending without one. LATER: Telegram is unavailable, the request still waits."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            chat = await ChatRepository(session).get(chat_id)
            title = chat.title if chat else str(chat_id)
            member = await session.get(Member, (chat_id, person.id))
            if member is None:
                return AcceptResult(Accept.EXPIRED, title)
            if member.status == MemberStatus.IN:
                # marked in but the request's deadline is still there: a crash came between
                # the mark and Telegram's answer, so the request may still be pending
                if await DeadlineRepository(session).get(REQUEST, chat_id, person.id) is None:
                    return AcceptResult(Accept.ALREADY, title)
                interrupted = True
            elif member.status != MemberStatus.REQUESTED:
                return AcceptResult(Accept.EXPIRED, title)
            else:
                interrupted = False
                member.status = MemberStatus.IN
                member.trust = TrustLevel.NEWCOMER
                member.level_since = now
                member.joined_at = now
                member.verified_at = now
        if interrupted:
            return AcceptResult(await self.finish_approval(chat_id, person.id), title)
        self._directory.set(chat_id, person.id, TrustLevel.NEWCOMER)
        try:
            approved = await self._notifier.approve_request(chat_id, person.id)
        except TelegramUnavailable:
            await self._not_approved(chat_id, person.id, now, MemberStatus.REQUESTED)
            return AcceptResult(Accept.LATER, title)
        if approved:
            async with self._db.transaction() as session:
                await DeadlineRepository(session).cancel(REQUEST, chat_id, person.id)
            await self._events.publish(MemberArrived(chat_id, person.id))
            await self._events.publish(MemberVerified(chat_id, person.id))
            return AcceptResult(Accept.APPROVED, title)
        await self._not_approved(chat_id, person.id, now, MemberStatus.LEFT)
        return AcceptResult(Accept.EXPIRED, title)

    async def finish_approval(self, chat_id: int, user_id: int) -> Accept:
        """Finish an approval a crash interrupted (marked in, never confirmed): approve
        again. Telegram answers "already a participant" (done) or "no such request" (it was
        approved or withdrawn meanwhile: nothing is left pending either way)."""
        try:
            approved = await self._notifier.approve_request(chat_id, user_id)
        except TelegramUnavailable:
            return Accept.LATER  # the deadline stays and tries again
        async with self._db.transaction() as session:
            await DeadlineRepository(session).cancel(REQUEST, chat_id, user_id)
        if approved:
            await self._events.publish(MemberArrived(chat_id, user_id))
            await self._events.publish(MemberVerified(chat_id, user_id))
        log.info("chat %s: finished the interrupted approval of %s", chat_id, user_id)
        return Accept.APPROVED

    async def _not_approved(
        self, chat_id: int, user_id: int, at: datetime, status: MemberStatus
    ) -> None:
        """Undo the approval marked `at`: the request is gone (LEFT, its deadline with it)
        or still waits (REQUESTED, with a deadline that tries again)."""
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat_id, user_id))
            if member is not None and member.verified_at == at:
                member.status = status
                member.trust = TrustLevel.PENDING
                member.verified_at = None
            deadlines = DeadlineRepository(session)
            if status == MemberStatus.LEFT:
                await deadlines.cancel(REQUEST, chat_id, user_id)
            elif await deadlines.get(REQUEST, chat_id, user_id) is None:
                await deadlines.schedule(REQUEST, chat_id, user_id, at + APPROVAL_RETRY)
        self._directory.set(chat_id, user_id, None)

    async def expire_request(self, chat_id: int, user_id: int) -> None:
        """Nobody accepted within `verify_timeout`: decline the request and say so, in place
        of the message whose "I accept the rules" button would no longer work."""
        async with self._db.transaction() as session:
            marked = await session.execute(
                update(Member)
                .where(
                    Member.chat_id == chat_id,
                    Member.user_id == user_id,
                    Member.status == MemberStatus.REQUESTED,
                )
                .values(status=MemberStatus.LEFT)
                .execution_options(synchronize_session=False)
            )
            member = await session.get(Member, (chat_id, user_id))
            if not getattr(marked, "rowcount", 0):
                if member is None or member.status != MemberStatus.IN:
                    return  # withdrawn, or approved (which cancels this deadline)
                interrupted = True  # marked in, then a crash before Telegram's answer
            else:
                interrupted = False
                await DeadlineRepository(session).cancel(REQUEST, chat_id, user_id)
                chat = await ChatRepository(session).get(chat_id)
                user = await session.get(User, user_id)
                message_id = member.request_message_id if member is not None else None
        if interrupted:  # approve after all
            if await self.finish_approval(chat_id, user_id) == Accept.LATER:
                raise RuntimeError(f"could not approve {user_id} in {chat_id} yet")
            return
        if not await self._notifier.decline_request(chat_id, user_id):
            return  # already handled by an admin, or withdrawn: nothing to tell
        config = await self._settings.get(chat_id)
        language = pick_language(user.language_code if user else None, config.language)
        text = views.request_declined_expired(language, chat.title if chat else str(chat_id))
        # the private chat with a requester has the requester's id
        if message_id is None or not await self._notifier.edit(user_id, message_id, text):
            await self._notifier.send(user_id, text)

    async def warn_missing_rights(
        self, chat_id: int, missing: list[str], force: bool = False
    ) -> None:
        """Tell the chat which admin rights the bot lacks (at most once an hour unless forced)."""
        last = self._rights_warned.get(chat_id)
        now = self._monotonic()
        if not force and last is not None and now - last < RIGHTS_WARNING_INTERVAL:
            return
        self._rights_warned[chat_id] = now
        config = await self._settings.get(chat_id)
        await self._notifier.send(chat_id, views.rights_missing(config.language, missing))
