"""Newcomer verification: hold on joining, confirm or remove, and asking join requesters."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.clock import Clock
from bot.db import Database
from bot.events import (
    EventBus,
    MemberArrived,
    MemberJoined,
    MemberLeft,
    MemberVerified,
    WelcomeAwaited,
)
from bot.i18n import pick_language
from bot.notifier import Notifier, Outcome, TelegramUnavailable
from bot.services.members import SEEN, MemberDirectory, remember_person
from bot.services.onboarding.requests import REQUEST, JoinRequests
from bot.services.onboarding.welcomes import VERIFY, HoldRelease, Welcomes
from bot.services.people import ChatRef, Person
from bot.services.settings import SettingsService
from bot.views import onboarding as views
from models.chats import ChatRepository
from models.deadlines import DeadlineRepository
from models.members import Member, MemberRepository, MemberStatus, TrustLevel

log = logging.getLogger(__name__)

JOIN_CLOCK_SKEW = timedelta(seconds=5)
UNREACHABLE_REQUEST_WAIT = timedelta(days=1)
"""How long a request whose sender the bot cannot write to waits for the admins."""


class Confirm(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY = "already"
    NOT_YOURS = "not_yours"
    EXPIRED = "expired"  # the timeout came first


class RemovalFailed(Exception):
    """Telegram refused the removal; the sweeper retries the deadline with backoff."""


def _refusal(member: Member | None) -> Confirm:
    """Why a press did not verify anyone."""
    if member is None:
        return Confirm.NOT_YOURS
    if member.trust != TrustLevel.PENDING:
        return Confirm.ALREADY if member.status == MemberStatus.IN else Confirm.NOT_YOURS
    # still pending but marked as gone: the timeout came first
    return Confirm.EXPIRED if member.status == MemberStatus.LEFT else Confirm.NOT_YOURS


class JoinRequestGate(Protocol):
    """Asked first about every join request (paid membership); True when it handled it."""

    async def join_request(self, chat: ChatRef, person: Person, user_chat_id: int) -> bool: ...


class Onboarding:
    """Verification of people who join a group or ask to join it."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        directory: MemberDirectory,
        events: EventBus,
        requests: JoinRequests,
        releaser: HoldRelease,
        gate: JoinRequestGate | None = None,
        owner_ids: frozenset[int] = frozenset(),
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._settings = settings
        self._directory = directory
        self._events = events
        self._requests = requests
        # lifts the verification hold; moderation's keeps a mute that outlives a rejoin
        self._releaser = releaser
        self._gate = gate
        self._owner_ids = owner_ids
        self.welcomes = Welcomes(db, clock, notifier, settings, directory, releaser)

    # the welcome pacer and the restart recovery call these
    async def chats_awaiting_welcome(self) -> list[int]:
        return await self.welcomes.chats_awaiting_welcome()

    async def post_welcome(self, chat_id: int) -> int:
        return await self.welcomes.post_welcome(chat_id)

    async def hold_awaiting(self) -> None:
        await self.welcomes.hold_awaiting()

    async def preview(self, chat_id: int, sample: Person) -> str:
        return await self.welcomes.preview(chat_id, sample)

    async def on_join(
        self,
        chat: ChatRef,
        person: Person,
        *,
        privileged: bool = False,
        joined_at: datetime | None = None,
    ) -> bool:
        """Someone joined the group (at `joined_at`, Telegram's time of the event).

        Returns True when a verification started.
        """
        now = self._clock.now()
        privileged = privileged or person.id in self._owner_ids
        await self._events.publish(MemberJoined(chat, person, privileged))
        if person.is_bot or privileged:
            if await self._admit_without_check(chat, person, now) and not person.is_bot:
                await self._events.publish(MemberArrived(chat.id, person.id))
            return False
        async with self._db.transaction() as session:
            await ChatRepository(session).ensure(chat.id, chat.title, chat.type, now)
            await remember_person(session, person, now)
            not_before = joined_at - JOIN_CLOCK_SKEW if joined_at is not None else None
            claimed = await MemberRepository(session).claim(
                chat.id, person.id, MemberStatus.IN, "join", now, not_before, SEEN
            )
            if not claimed:
                return False  # the same join seen twice, or already let in through a request
            await DeadlineRepository(session).cancel(REQUEST, chat.id, person.id)
        self._directory.set(chat.id, person.id, TrustLevel.PENDING)
        await self._events.publish(MemberArrived(chat.id, person.id))
        try:
            held = await self._notifier.hold(chat.id, person.id)
        except TelegramUnavailable:
            # still pending: whatever they post is deleted, and the welcome lets them confirm
            log.warning("chat %s: could not restrict %s (Telegram unavailable)", chat.id, person.id)
            held = True
        if not held:
            await self._cannot_hold(chat, person)
            return False
        await self._events.publish(WelcomeAwaited(chat.id))
        return True

    async def _admit_without_check(self, chat: ChatRef, person: Person, now: datetime) -> bool:
        """Let an admin, owner or bot in; True when they were not in before."""
        async with self._db.transaction() as session:
            await ChatRepository(session).ensure(chat.id, chat.title, chat.type, now)
            await remember_person(session, person, now)
            member = await session.get(Member, (chat.id, person.id))
            if member is None:
                session.add(
                    Member(
                        chat_id=chat.id,
                        user_id=person.id,
                        status=MemberStatus.IN,
                        trust=TrustLevel.MEMBER,
                        trust_pinned=False,
                        level_since=now,
                        joined_at=now,
                        source="admin" if not person.is_bot else "bot",
                    )
                )
                level, arrived = TrustLevel.MEMBER, True
            else:
                arrived = member.status != MemberStatus.IN
                member.status = MemberStatus.IN
                if member.trust == TrustLevel.PENDING:
                    member.trust = TrustLevel.MEMBER
                level = TrustLevel(member.trust)
        self._directory.set(chat.id, person.id, level)
        return arrived

    async def _cannot_hold(self, chat: ChatRef, person: Person) -> None:
        """Without the right to restrict, verification is impossible: let them in, say why."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat.id, person.id))
            if member is not None and member.trust == TrustLevel.PENDING:
                member.trust = TrustLevel.NEWCOMER
                member.level_since = now
                member.source = "unverified"
        self._directory.set(chat.id, person.id, TrustLevel.NEWCOMER)
        log.warning(
            "chat %s: cannot restrict newcomer %s; verification skipped", chat.id, person.id
        )
        await self._requests.warn_missing_rights(chat.id, ["can_restrict_members"])

    # the join-request use cases live in `requests`; these keep the older entry points
    async def warn_missing_rights(
        self, chat_id: int, missing: list[str], force: bool = False
    ) -> None:
        await self._requests.warn_missing_rights(chat_id, missing, force)

    async def confirm(self, chat: ChatRef, person: Person) -> Confirm:
        """The newcomer pressed the button. Only their own verification is affected.

        A conditional update (still in the chat and still pending) decides a race with the
        timeout: the press either wins and cancels the deadline, or loses cleanly (EXPIRED).
        """
        now = self._clock.now()
        async with self._db.transaction() as session:
            members = MemberRepository(session)
            if not await members.verify(chat.id, person.id, now):
                return _refusal(await members.get(chat.id, person.id))
            await DeadlineRepository(session).cancel(VERIFY, chat.id, person.id)
            await remember_person(session, person, now)
            member = await members.get(chat.id, person.id)
            welcome_id = member.welcome_id if member is not None else None
            closed = await Welcomes.close_if_done(session, welcome_id)
        self._directory.set(chat.id, person.id, TrustLevel.NEWCOMER)
        await self._releaser.release(chat.id, person.id)
        await self.welcomes.finish(closed)
        await self._events.publish(MemberVerified(chat.id, person.id))
        return Confirm.CONFIRMED

    async def expire(self, chat_id: int, user_id: int) -> None:
        """The verification deadline passed: remove the person without a lasting ban.

        The row is marked first, so a button press racing with the removal is refused
        instead of being thanked and then removed anyway. If the removal fails on an outage
        or for a missing right, the mark is undone and this raises, so the sweeper keeps the
        deadline and retries with backoff; the group hears about a missing right only when
        that is the reason.
        """
        async with self._db.transaction() as session:
            marked = await MemberRepository(session).move(
                chat_id, user_id, MemberStatus.IN, MemberStatus.LEFT, pending_only=True
            )
        if not marked:
            return
        try:
            outcome = await self._notifier.expel(chat_id, user_id, self._clock.now())
        except TelegramUnavailable:
            await self._unmark(chat_id, user_id)
            raise
        if outcome == Outcome.NO_RIGHTS:  # an admin may grant the right: keep trying
            await self._unmark(chat_id, user_id)
            await self._requests.warn_missing_rights(chat_id, ["can_restrict_members"])
            raise RemovalFailed(f"chat {chat_id}: no right to remove unverified {user_id}")
        if outcome == Outcome.TARGET_ADMIN:  # made an admin meanwhile: nothing to verify
            await self._unmark(chat_id, user_id, TrustLevel.MEMBER)
            log.info("chat %s: %s became an admin before the deadline", chat_id, user_id)
            return
        if outcome != Outcome.DONE:  # gone already (or removed in a basic group): stays marked
            log.warning("chat %s: removing %s answered %s", chat_id, user_id, outcome)
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat_id, user_id))
            closed = None
            if member is not None and member.trust == TrustLevel.PENDING:
                closed = await Welcomes.close_if_done(session, member.welcome_id)
            await DeadlineRepository(session).cancel(VERIFY, chat_id, user_id)
        self._directory.set(chat_id, user_id, None)
        log.info("chat %s: removed %s who did not confirm the rules", chat_id, user_id)
        await self.welcomes.finish(closed)

    async def _unmark(self, chat_id: int, user_id: int, trust: TrustLevel | None = None) -> None:
        """The removal failed: they are still here, held (or at `trust`, e.g. an admin)."""
        async with self._db.transaction() as session:
            await MemberRepository(session).move(
                chat_id, user_id, MemberStatus.LEFT, MemberStatus.IN, pending_only=True
            )
            member = await session.get(Member, (chat_id, user_id))
            if trust is not None and member is not None:
                member.trust = trust
                member.level_since = self._clock.now()
        if trust is not None:
            self._directory.set(chat_id, user_id, trust)

    async def on_leave(self, chat_id: int, user_id: int, *, removed: bool = False) -> None:
        """Someone left or was `removed`: stop any verification and forget their level."""
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat_id, user_id))
            if member is None or member.status == MemberStatus.LEFT:
                return
            was_pending = member.trust == TrustLevel.PENDING
            member.status = MemberStatus.LEFT
            await DeadlineRepository(session).cancel(VERIFY, chat_id, user_id)
            closed = (
                await Welcomes.close_if_done(session, member.welcome_id) if was_pending else None
            )
        self._directory.set(chat_id, user_id, None)
        await self.welcomes.finish(closed)
        await self._events.publish(MemberLeft(chat_id, user_id, removed))

    async def on_join_request(self, chat: ChatRef, person: Person, user_chat_id: int) -> bool:
        """Someone asked to join: write to them privately with the rules and a button."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            chats = ChatRepository(session)
            await chats.ensure(chat.id, chat.title, chat.type, now)
            await remember_person(session, person, now)
            if not await MemberRepository(session).claim(
                chat.id, person.id, MemberStatus.REQUESTED, "request", now
            ):
                return False
            stored = await chats.get(chat.id)
            rules = stored.rules if stored else None
        if self._gate is not None and await self._gate.join_request(chat, person, user_chat_id):
            return True
        config = await self._settings.get(chat.id)
        language = pick_language(person.language_code, config.language)
        text, buttons = views.join_request(
            language, chat.id, chat.title, rules, config.verify_timeout, self._notifier.username
        )
        message_id = await self._notifier.send(user_chat_id, text, buttons)
        wait = config.verify_timeout
        if message_id is None:  # admins may let them in by hand; declined after a day
            log.info("chat %s: cannot write to requester %s; admins decide", chat.id, person.id)
            wait = max(wait, UNREACHABLE_REQUEST_WAIT)
        async with self._db.transaction() as session:
            await DeadlineRepository(session).schedule(
                REQUEST, chat.id, person.id, self._clock.now() + wait
            )
            if message_id is None:
                return False
            # its button goes when the request expires (requests.expire_request)
            member = await session.get(Member, (chat.id, person.id))
            if member is not None and member.status == MemberStatus.REQUESTED:
                member.request_message_id = message_id
        return True
