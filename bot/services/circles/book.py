"""Circles of a chat: admins add, delete and link them; members join and leave them (by
command or by the private toggle list) and choose how calls reach them; proposals open
when enough people say "I'm in".

The keys of each chat's open circles are cached (every group message with a `#` asks),
dropped here on every change and in other processes through bot/invalidation.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.clock import Clock, SystemTimer, Timer
from bot.db import Database
from bot.expiring import Expiring
from bot.i18n import pick_language
from bot.invalidation import Changes, Kind
from bot.notifier import Notifier
from bot.outgoing import queue
from bot.services.circles.rules import MAX_DESCRIPTION, circle_key, valid_name
from bot.services.core import Sending
from bot.services.settings import CACHE_TTL, SettingsService
from bot.views import circles as views
from models.chats import ChatRepository
from models.circles import Circle, CircleRepository, CircleStatus, Delivery
from models.members import MemberRepository, MemberStatus, TrustLevel
from models.users import UserRepository

log = logging.getLogger(__name__)


class Added(StrEnum):
    ADDED = "added"
    BAD_NAME = "bad_name"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class CircleInfo:
    id: int
    name: str
    description: str | None
    members: int
    topic: int | None


@dataclass(frozen=True)
class Menu:
    """One chat's circles as the private toggle list shows them to one person."""

    chat_id: int
    title: str
    circles: list[CircleInfo]
    mine: frozenset[int]
    delivery: str


def info(circle: Circle, counts: dict[int, int]) -> CircleInfo:
    return CircleInfo(
        circle.id, circle.name, circle.description, counts.get(circle.id, 0), circle.topic
    )


class CircleBook(Sending):
    """Adding, listing, joining and leaving circles; the proposal flow is in proposals.py."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        wake_outbox: Callable[[], None],
        *,
        timer: Timer | None = None,
        changes: Changes | None = None,
    ) -> None:
        super().__init__(db, clock, notifier, settings, wake_outbox)
        self._timer: Timer = timer or SystemTimer()
        self._changes = changes
        self._keys: Expiring[int, frozenset[str]] = Expiring(CACHE_TTL, self._timer)

    # ---- the cache the per-message path reads
    async def keys(self, chat_id: int) -> frozenset[str]:
        """The keys of the chat's open circles (cached for `CACHE_TTL`)."""
        return await self._keys.get(chat_id, lambda: self._read_keys(chat_id))

    async def _read_keys(self, chat_id: int) -> frozenset[str]:
        async with self._db.transaction() as session:
            circles = await CircleRepository(session).of_chat(chat_id)
        return frozenset(c.key for c in circles)

    def forget(self, chat_id: int) -> None:
        self._keys.forget(chat_id)

    def clear(self) -> None:
        self._keys.clear()

    async def changed(self, chat_id: int) -> None:
        """After a commit that changed the chat's circles: every process drops its keys."""
        self.forget(chat_id)
        if self._changes is not None:
            await self._changes.publish(Kind.CIRCLES, chat_id)

    # ---- admins
    async def add(
        self, chat_id: int, name: str, description: str | None, forum: bool
    ) -> tuple[Added, CircleInfo | None]:
        """A new open circle; in a forum the bot tries to create its topic (it may lack the
        right to manage topics: then the circle has none until `/circle link`)."""
        if not valid_name(name):
            return Added.BAD_NAME, None
        now = self._clock.now()
        key = circle_key(name)
        async with self._db.transaction() as session:
            if await CircleRepository(session).by_key(chat_id, key) is not None:
                return Added.DUPLICATE, None
        topic = await self._notifier.create_topic(chat_id, name) if forum else None
        circle = Circle(
            chat_id=chat_id,
            name=name,
            key=key,
            description=(description or None) and description[:MAX_DESCRIPTION],
            status=CircleStatus.OPEN,
            topic=topic,
            created_at=now,
            active_at=now,
        )
        async with self._db.transaction() as session:
            if not await CircleRepository(session).add(circle):
                return Added.DUPLICATE, None  # added by someone else meanwhile
        await self.changed(chat_id)
        return Added.ADDED, CircleInfo(0, name, circle.description, 0, topic)

    async def delete(self, chat_id: int, name: str) -> bool:
        async with self._db.transaction() as session:
            circles = CircleRepository(session)
            circle = await circles.by_key(chat_id, circle_key(name))
            if circle is None:
                return False
            await circles.remove(circle.id)
        await self.changed(chat_id)
        return True

    async def close(self, circle_id: int) -> tuple[int, str] | None:
        """Delete a circle by id (the dormancy note's button): its (chat, name)."""
        async with self._db.transaction() as session:
            circles = CircleRepository(session)
            circle = await circles.get(circle_id)
            if circle is None:
                return None
            found = (circle.chat_id, circle.name)
            await circles.remove(circle_id)
        await self.changed(found[0])
        return found

    async def chat_of(self, circle_id: int) -> int | None:
        async with self._db.transaction() as session:
            circle = await CircleRepository(session).get(circle_id)
        return circle.chat_id if circle is not None else None

    async def link(self, chat_id: int, name: str, thread: int | None) -> bool:
        """Calls of the circle go to this forum topic (None: back to the chat's own)."""
        async with self._db.transaction() as session:
            circle = await CircleRepository(session).by_key(chat_id, circle_key(name))
            if circle is None or circle.status != CircleStatus.OPEN:
                return False
            circle.topic = thread
        return True

    async def listing(self, chat_id: int) -> list[CircleInfo]:
        """The chat's open circles with their member counts."""
        async with self._db.transaction() as session:
            circles = CircleRepository(session)
            counts = await circles.counts(chat_id)
            return [info(c, counts) for c in await circles.of_chat(chat_id)]

    # ---- members
    async def _in_chat(self, chat_id: int, user_id: int) -> bool:
        async with self._db.transaction() as session:
            member = await MemberRepository(session).get(chat_id, user_id)
        return (
            member is not None
            and member.status == MemberStatus.IN
            and member.trust != TrustLevel.PENDING
        )

    async def join(self, chat_id: int, user_id: int, name: str) -> bool | None:
        """Join an open circle by name: None for no such circle, else whether they were
        not in it before."""
        async with self._db.transaction() as session:
            circles = CircleRepository(session)
            circle = await circles.by_key(chat_id, circle_key(name))
            if circle is None or circle.status != CircleStatus.OPEN:
                return None
            delivery = next(iter((await circles.memberships(chat_id, user_id)).values()), None)
            joined = await circles.join(
                circle.id, user_id, delivery or Delivery.MENTION, self._clock.now()
            )
            if joined:
                circle.active_at = self._clock.now()
            return joined

    async def leave(self, chat_id: int, user_id: int, name: str) -> bool | None:
        async with self._db.transaction() as session:
            circles = CircleRepository(session)
            circle = await circles.by_key(chat_id, circle_key(name))
            if circle is None or circle.status != CircleStatus.OPEN:
                return None
            return await circles.leave(circle.id, user_id)

    async def toggle(self, circle_id: int, user_id: int) -> Menu | None:
        """Join the circle, or leave it if in; the chat's list afterwards (None when the
        circle is gone or the person is not a member of its chat)."""
        async with self._db.transaction() as session:
            circle = await CircleRepository(session).get(circle_id)
        if circle is None or circle.status != CircleStatus.OPEN:
            return None
        if not await self._in_chat(circle.chat_id, user_id):
            return None
        async with self._db.transaction() as session:
            circles = CircleRepository(session)
            if not await circles.leave(circle_id, user_id):
                mine = await circles.memberships(circle.chat_id, user_id)
                delivery = next(iter(mine.values()), Delivery.MENTION)
                await circles.join(circle_id, user_id, delivery, self._clock.now())
                joined = await circles.get(circle_id)
                if joined is not None:
                    joined.active_at = self._clock.now()
        return await self.menu(circle.chat_id, user_id)

    async def set_delivery(self, chat_id: int, user_id: int, how: str) -> Menu | None:
        if how not in tuple(Delivery):
            return None
        async with self._db.transaction() as session:
            await CircleRepository(session).set_delivery(chat_id, user_id, how)
        return await self.menu(chat_id, user_id)

    async def menu(self, chat_id: int, user_id: int) -> Menu | None:
        """The chat's circles as the person sees them; None when it has none."""
        async with self._db.transaction() as session:
            circles = CircleRepository(session)
            counts = await circles.counts(chat_id)
            found = [info(c, counts) for c in await circles.of_chat(chat_id)]
            mine = await circles.memberships(chat_id, user_id)
            chat = await ChatRepository(session).get(chat_id)
        if not found:
            return None
        delivery = next(iter(mine.values()), Delivery.MENTION)
        title = chat.title if chat is not None else str(chat_id)
        return Menu(chat_id, title, found, frozenset(mine), delivery)

    async def menus(self, user_id: int) -> list[Menu]:
        """/circles in private: the list of each chat the person is in that has circles."""
        async with self._db.transaction() as session:
            chats = await MemberRepository(session).in_active_chats(user_id)
        menus = []
        for member, chat in chats:
            if member.trust == TrustLevel.PENDING:
                continue
            menu = await self.menu(chat.id, user_id)
            if menu is not None:
                menus.append(menu)
        return menus

    async def offer(self, chat_id: int, user_id: int) -> bool:
        """After verification: the chat's circles as toggle buttons, privately through the
        outbox (only when the chat has circles)."""
        menu = await self.menu(chat_id, user_id)
        if menu is None:
            return False
        config = await self._settings.get(chat_id)
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await UserRepository(session).get(user_id)
            lang = pick_language(user.language_code if user else None, config.language)
            text, buttons = views.menu(lang, menu, offer=True)
            queued = await queue(
                session,
                f"circles:offer:{chat_id}:{user_id}",
                user_id,
                text,
                now=now,
                buttons=buttons,
            )
        if queued:
            self._wake()
        return queued

    async def member_left(self, chat_id: int, user_id: int) -> None:
        """Someone left the chat: they leave its circles."""
        async with self._db.transaction() as session:
            circles = CircleRepository(session)
            for circle_id in await circles.memberships(chat_id, user_id):
                await circles.leave(circle_id, user_id)
