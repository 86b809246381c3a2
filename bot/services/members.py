"""Who is who: trust levels in memory for the per-message path, users, admins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.invalidation import Changes, Kind
from bot.notifier import Notifier
from bot.services.people import ChatRef, Person
from models.chats import ChatRepository
from models.members import Member, MemberRepository, MemberStatus, TrustLevel
from models.upsert import insert_ignore
from models.users import UserRepository

SEEN = "seen"
"""`Member.source` of people first seen by a message (already in the chat before the bot)."""


class MemberDirectory:
    """Trust levels by (chat, user), read once from the database and kept in memory.

    The per-message path asks `observe()`; it never writes except the first time a
    person is seen in a chat (people already there before the bot count as members).
    """

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._levels: dict[tuple[int, int], str] = {}
        self._known_chats: set[int] = set()
        # the @username last stored for each person (lowercase, "" for none): a change is
        # written at once, so `/ban @name` never finds the name's previous holder
        self._usernames: dict[int, str] = {}

    def set(self, chat_id: int, user_id: int, level: str | None) -> None:
        if level is None:
            self._levels.pop((chat_id, user_id), None)
        else:
            self._levels[(chat_id, user_id)] = level

    async def chats_of(self, user_id: int, *, every: bool = False) -> list[tuple[int, str]]:
        """The chats (id, title) the bot is in where the person is a member, by title; with
        `every`, all the chats the bot is in (for owners, who need not be members)."""
        async with self._db.transaction() as session:
            if every:
                return await ChatRepository(session).active_titles()
            rows = await MemberRepository(session).in_active_chats(user_id)
        return [(chat.id, chat.title) for _, chat in rows]

    def forget_chat(self, chat_id: int) -> None:
        """Drop what is cached about the chat (it moved to a supergroup id)."""
        self._known_chats.discard(chat_id)
        for key in [key for key in self._levels if key[0] == chat_id]:
            del self._levels[key]

    def cached(self, chat_id: int, user_id: int) -> str | None:
        return self._levels.get((chat_id, user_id))

    async def remember(self, person: Person) -> None:
        """Store a person met outside any group (e.g. in private)."""
        async with self._db.transaction() as session:
            previous = await remember_person(session, person, self._clock.now())
        self._usernames[person.id] = _username(person)
        for user_id in previous:  # they lost the name: store it again if they still use it
            self._usernames.pop(user_id, None)

    async def _remember_if_renamed(self, person: Person) -> None:
        """Store the person again if their @username differs from the one last stored
        (once per person per process, and on every change)."""
        if self._usernames.get(person.id) != _username(person):
            await self.remember(person)

    async def ensure_chat(self, chat: ChatRef) -> None:
        if chat.id in self._known_chats:
            return
        async with self._db.transaction() as session:
            await ChatRepository(session).ensure(chat.id, chat.title, chat.type, self._clock.now())
        self._known_chats.add(chat.id)

    async def observe(self, chat: ChatRef, person: Person) -> str:
        """The person's trust level in the chat; registers people seen for the first time."""
        level = self._levels.get((chat.id, person.id))
        if level is not None:
            await self._remember_if_renamed(person)
            return level
        await self.ensure_chat(chat)
        now = self._clock.now()
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat.id, person.id))
            previous: list[int] = []
            if member is None:
                previous = await remember_person(session, person, now)
                await insert_ignore(
                    session,
                    Member,
                    {
                        "chat_id": chat.id,
                        "user_id": person.id,
                        "status": MemberStatus.IN,
                        "trust": TrustLevel.MEMBER,
                        "trust_pinned": False,
                        "level_since": now,
                        "joined_at": now,
                        "source": SEEN,
                    },
                    key=["chat_id", "user_id"],
                )
                level = TrustLevel.MEMBER
                stored: str | None = _username(person)
            else:
                # never rewrite a known membership here: a join being verified owns it
                level = TrustLevel(member.trust)
                user = await UserRepository(session).get(person.id)
                stored = (user.username or "") if user is not None else None
        if stored is not None:
            self._usernames[person.id] = stored
        for user_id in previous:
            self._usernames.pop(user_id, None)
        await self._remember_if_renamed(person)
        # a verification that started meanwhile has already put "pending" here: keep it
        return self._levels.setdefault((chat.id, person.id), level)


def _username(person: Person) -> str:
    return (person.username or "").lower()


async def remember_person(session: AsyncSession, person: Person, now: datetime) -> list[int]:
    """Store what Telegram told us about a person (inside the caller's transaction); the
    ids of the accounts that held the person's @username until now."""
    return await UserRepository(session).remember(
        person.id,
        first_name=person.first_name,
        last_name=person.last_name,
        username=person.username,
        language_code=person.language_code,
        is_bot=person.is_bot,
        now=now,
    )


class AdminGuard:
    """Decides who is an admin of a chat: Telegram admins, anonymous admins, owners.

    Telegram's admin lists are cached for 5 minutes in each process; a change one process
    hears of (a chat_member update) is published through `changes`, so the other processes
    drop their copy at once instead of letting a demoted admin in until it expires."""

    def __init__(
        self, notifier: Notifier, owner_ids: frozenset[int], changes: Changes | None = None
    ) -> None:
        self._notifier = notifier
        self.owner_ids = owner_ids
        self._changes = changes

    async def is_admin(self, chat_id: int, user_id: int, sender_chat_id: int | None = None) -> bool:
        if user_id in self.owner_ids:
            return True
        if sender_chat_id is not None and sender_chat_id == chat_id:
            return True  # an anonymous admin posts on behalf of the chat
        if chat_id > 0:
            return False
        admins = await self._notifier.admins(chat_id)
        return admins is not None and user_id in admins

    async def admin_changed(self, chat_id: int) -> None:
        """The chat's admins changed: drop the cached list here and in every other process."""
        self.forget(chat_id)
        if self._changes is not None:
            await self._changes.publish(Kind.ADMINS, chat_id)

    def forget(self, chat_id: int) -> None:
        """Drop this process's cached admin list of the chat (read again when next asked)."""
        self._notifier.forget_admins(chat_id)

    def clear(self) -> None:
        """Drop every cached admin list of this process."""
        self._notifier.clear_admins()
