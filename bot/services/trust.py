"""Trust levels: what a person sees on /me, admin overrides, automatic promotion."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.db import Database
from bot.events import EventBus, MembersGraduated
from bot.services.members import MemberDirectory, remember_person
from bot.services.people import ChatRef, Person
from bot.services.settings import SettingsService
from models.chats import ChatRepository
from models.members import Member, MemberRepository, MemberStatus, TrustLevel
from models.users import UserRepository

log = logging.getLogger(__name__)

ASSIGNABLE = (TrustLevel.NEWCOMER, TrustLevel.MEMBER, TrustLevel.VETERAN)


@dataclass(frozen=True)
class Standing:
    """A person's standing in one chat, for /me."""

    chat_id: int
    chat_title: str
    level: TrustLevel
    since: datetime
    pinned: bool
    next_level: TrustLevel | None
    next_at: datetime | None


class NotInChat(LookupError):
    pass


class AmbiguousUsername(LookupError):
    """Two stored accounts carry the @username: name the person by reply or id instead."""


class StillPending(RuntimeError):
    """The person has not confirmed the rules yet; verification must finish first."""


class TrustService:
    """Computes and changes trust levels."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: SettingsService,
        directory: MemberDirectory,
        events: EventBus,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._directory = directory
        self._events = events

    async def standings(self, user_id: int) -> list[Standing]:
        async with self._db.transaction() as session:
            pairs = await MemberRepository(session).in_active_chats(user_id)
        result = []
        for member, chat in pairs:
            config = await self._settings.get(chat.id)
            level = TrustLevel(member.trust)
            next_level: TrustLevel | None = None
            next_at: datetime | None = None
            if not member.trust_pinned:
                if level == TrustLevel.NEWCOMER:
                    next_level, next_at = TrustLevel.MEMBER, member.level_since + config.probation
                elif level == TrustLevel.MEMBER:
                    next_level = TrustLevel.VETERAN
                    next_at = max(member.joined_at + config.veteran_after, self._clock.now())
            result.append(
                Standing(
                    chat.id,
                    chat.title,
                    level,
                    member.level_since,
                    member.trust_pinned,
                    next_level,
                    next_at,
                )
            )
        return result

    async def belongs(self, chat_id: int, user_id: int) -> bool:
        """Is the person in the chat, or waiting to get in (pending or requested)?"""
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat_id, user_id))
        return member is not None and member.status in (MemberStatus.IN, MemberStatus.REQUESTED)

    async def resolve_username(self, username: str) -> Person | None:
        """The one account known by this @username; None if unknown. Raises
        AmbiguousUsername when two stored accounts still carry it."""
        async with self._db.transaction() as session:
            users = await UserRepository(session).by_username(username)
        if not users:
            return None
        if len(users) > 1:
            raise AmbiguousUsername(username)
        user = users[0]
        return Person(user.id, user.first_name, user.last_name, user.username, user.language_code)

    async def known_person(self, user_id: int) -> Person | None:
        async with self._db.transaction() as session:
            user = await UserRepository(session).get(user_id)
        if user is None:
            return None
        return Person(user.id, user.first_name, user.last_name, user.username, user.language_code)

    async def assign(self, chat: ChatRef, person: Person, level: TrustLevel, seen: bool) -> None:
        """Admin override: set the level and stop automatic promotion for this person.

        `seen` means the person was seen in the chat just now (a reply), so a missing
        membership row is created; otherwise the person must be a known member.
        """
        now = self._clock.now()
        if seen:
            await self._directory.observe(chat, person)
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat.id, person.id))
            if member is None or member.status != MemberStatus.IN:
                raise NotInChat(person.id)
            if member.trust == TrustLevel.PENDING:
                raise StillPending(person.id)
            if seen:
                await remember_person(session, person, now)
            was_newcomer = member.trust == TrustLevel.NEWCOMER
            member.trust = level
            member.trust_pinned = True
            member.level_since = now
            if level != TrustLevel.PENDING and member.verified_at is None:
                member.verified_at = now
        self._directory.set(chat.id, person.id, level)
        if was_newcomer and level != TrustLevel.NEWCOMER:
            await self._events.publish(MembersGraduated(chat.id, (person.id,)))

    async def promote_early(self, chat_id: int, user_id: int) -> bool:
        """A newcomer becomes a member before probation ends (thanked by enough people):
        the same event as a promotion after probation, so the ledger and buddies follow.
        False when they are no longer an unpinned newcomer in the chat."""
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat_id, user_id))
            if (
                member is None
                or member.status != MemberStatus.IN
                or member.trust != TrustLevel.NEWCOMER
                or member.trust_pinned
            ):
                return False
            member.trust = TrustLevel.MEMBER
            member.level_since = self._clock.now()
        self._directory.set(chat_id, user_id, TrustLevel.MEMBER)
        await self._events.publish(MembersGraduated(chat_id, (user_id,)))
        return True

    async def promote_due(self) -> int:
        """Promote newcomers after probation and members after `veteran_after`."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            chat_ids = await ChatRepository(session).active_ids()
        promoted = 0
        for chat_id in chat_ids:
            config = await self._settings.get(chat_id)
            async with self._db.transaction() as session:
                graduates, count = await MemberRepository(session).promote(
                    chat_id, now, config.probation, config.veteran_after
                )
            if count:
                self._directory.forget_chat(chat_id)
                promoted += count
            if graduates:
                await self._events.publish(MembersGraduated(chat_id, tuple(graduates)))
        if promoted:
            log.info("promoted %d people", promoted)
        return promoted
