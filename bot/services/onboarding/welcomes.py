"""Welcomes: one message names everyone waiting, starts their deadline, and is shortened
to a greeting (or deleted) once nobody in it is pending any more."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.notifier import Keyboard, Notifier, TelegramUnavailable, utf16_length
from bot.services.members import MemberDirectory
from bot.services.people import Person
from bot.services.settings import ChatConfig, SettingsService
from bot.views import onboarding as views
from models.chats import Chat, ChatRepository
from models.deadlines import DeadlineRepository
from models.members import MemberRepository, TrustLevel, WelcomePost

log = logging.getLogger(__name__)

VERIFY = "verify"
"""Deadline kind: a newcomer named in a welcome who has not confirmed the rules yet."""
NAMES_PER_WELCOME = 50
WELCOME_MAX_LENGTH = 4000


class HoldRelease(Protocol):
    """Lifts a verification hold (moderation's keeps a running mute in place)."""

    def release(self, chat_id: int, user_id: int) -> Awaitable[object]: ...


@dataclass(frozen=True)
class ClosedWelcome:
    """A welcome nobody in it is pending in any more, and who of it stayed."""

    post: WelcomePost
    confirmed: list[tuple[int, str]]


def _welcome_chat(chat: Chat, config: ChatConfig) -> views.WelcomeChat:
    return views.WelcomeChat(
        chat.id, chat.title, chat.rules, chat.welcome, config.language, config.verify_timeout
    )


class Welcomes:
    """Posting, shortening and previewing welcomes."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        directory: MemberDirectory,
        releaser: HoldRelease,
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._settings = settings
        self._directory = directory
        self._releaser = releaser

    async def chats_awaiting_welcome(self) -> list[int]:
        async with self._db.transaction() as session:
            members = await MemberRepository(session).awaiting_welcome()
        return list(dict.fromkeys(m.chat_id for m in members))

    async def hold_awaiting(self) -> None:
        """After a restart: make sure everyone still waiting for a welcome is held."""
        async with self._db.transaction() as session:
            members = await MemberRepository(session).awaiting_welcome()
        for member in members:
            self._directory.set(member.chat_id, member.user_id, TrustLevel.PENDING)
            with contextlib.suppress(TelegramUnavailable):
                await self._notifier.hold(member.chat_id, member.user_id)

    def _fit(
        self, chat: views.WelcomeChat, people: list[tuple[int, str]]
    ) -> tuple[str, Keyboard, list[tuple[int, str]]]:
        """The welcome within Telegram's length: rules behind a button first, then fewer
        names (the rest get the next welcome)."""
        inline = True
        username = self._notifier.username
        text, buttons = views.welcome(chat, people, username, inline_rules=inline)
        while utf16_length(text) > WELCOME_MAX_LENGTH:
            if inline and chat.rules:
                inline = False
            elif len(people) > 1:
                people = people[: len(people) // 2]
            else:
                break
            text, buttons = views.welcome(chat, people, username, inline_rules=inline)
        return text, buttons, people

    async def post_welcome(self, chat_id: int) -> int:
        """Post one welcome naming everyone in the chat still waiting for one.

        Returns how many people it named. The verification deadline starts when the
        welcome is out; if it cannot be posted, nobody is removed for not answering it.
        """
        async with self._db.transaction() as session:
            chat = await ChatRepository(session).get(chat_id)
            people = await MemberRepository(session).unwelcomed(chat_id, NAMES_PER_WELCOME)
        if chat is None or not people:
            return 0
        config = await self._settings.get(chat_id)
        text, buttons, people = self._fit(_welcome_chat(chat, config), people)
        # an outage raises here: the pacer tries again later and nobody is let in unverified
        message_id = await self._notifier.send(chat_id, text, buttons, raise_transient=True)
        ids = [user_id for user_id, _ in people]
        if message_id is None:
            await self._welcome_failed(chat_id, ids)
            return len(ids)
        now = self._clock.now()
        async with self._db.transaction() as session:
            post = WelcomePost(chat_id=chat_id, message_id=message_id, posted_at=now, closed=False)
            session.add(post)
            await session.flush()
            named = await MemberRepository(session).pending_among(chat_id, ids)
            deadlines = DeadlineRepository(session)
            for member in named:
                member.welcome_id = post.id
                await deadlines.schedule(
                    VERIFY, chat_id, member.user_id, now + config.verify_timeout
                )
            if not named:
                post.closed = True
        if not named:
            await self._notifier.delete(chat_id, message_id)
        return len(ids)

    async def preview(self, chat_id: int, sample: Person) -> str:
        """The welcome as a newcomer would see it, with `sample` as the newcomer."""
        async with self._db.transaction() as session:
            chat = await ChatRepository(session).get(chat_id)
        if chat is None:
            return ""
        config = await self._settings.get(chat_id)
        welcome_chat = _welcome_chat(chat, config)
        people = [(sample.id, sample.full_name)]
        username = self._notifier.username
        text, _ = views.welcome(welcome_chat, people, username)
        if utf16_length(text) > WELCOME_MAX_LENGTH:
            text, _ = views.welcome(welcome_chat, people, username, inline_rules=False)
        return text

    async def _welcome_failed(self, chat_id: int, user_ids: list[int]) -> None:
        log.warning("chat %s: welcome could not be posted; letting %d in", chat_id, len(user_ids))
        now = self._clock.now()
        async with self._db.transaction() as session:
            members = MemberRepository(session)
            released = await members.pending_among(chat_id, user_ids, present=False)
            for member in released:
                member.trust = TrustLevel.NEWCOMER
                member.level_since = now
                member.source = "unverified"
        for member in released:
            self._directory.set(chat_id, member.user_id, TrustLevel.NEWCOMER)
            await self._releaser.release(chat_id, member.user_id)

    @staticmethod
    async def close_if_done(session: AsyncSession, welcome_id: int | None) -> ClosedWelcome | None:
        """Within a transaction: close the welcome when nobody in it is pending any more."""
        if welcome_id is None:
            return None
        await session.flush()
        members = MemberRepository(session)
        post = await members.welcome(welcome_id)
        if post is None or post.closed or await members.pending_in_welcome(welcome_id):
            return None
        post.closed = True
        return ClosedWelcome(post, await members.confirmed_in_welcome(welcome_id))

    async def finish(self, closed: ClosedWelcome | None) -> None:
        """Shorten a finished welcome to a greeting, or delete it if nobody stayed."""
        if closed is None or closed.post.message_id is None:
            return
        post = closed.post
        assert post.message_id is not None
        if not closed.confirmed:
            await self._notifier.delete(post.chat_id, post.message_id)
            return
        config = await self._settings.get(post.chat_id)
        text = views.welcome_done(config.language, closed.confirmed)
        await self._notifier.edit(post.chat_id, post.message_id, text)
