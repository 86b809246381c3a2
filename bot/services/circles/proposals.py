"""Proposed circles: a member proposes one, the group sees a post with an "I'm in" button,
and the circle opens once `circle_quorum` people (the proposer included) are in; they are
its first members. A proposal lapses after `PROPOSAL_TTL` (its name is free again; the
weekly pass removes lapsed rows), and a member has one proposal open at a time."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.clock import Clock
from bot.db import Database
from bot.notifier import Notifier
from bot.services.circles.book import CircleBook
from bot.services.circles.rules import PROPOSAL_TTL, circle_key, valid_name
from bot.services.settings import SettingsService
from bot.views import circles as views
from models.circles import Circle, CircleRepository, CircleStatus, Delivery
from models.members import MemberRepository, MemberStatus, TrustLevel

QUORUM = "circle_quorum"


class Proposed(StrEnum):
    POSTED = "posted"
    BAD_NAME = "bad_name"
    DUPLICATE = "duplicate"
    NOT_MEMBER = "not_member"
    ONE_OPEN = "one_open"  # the proposer has a proposal open already


class Supported(StrEnum):
    JOINED = "joined"
    OPENED = "opened"
    ALREADY = "already"
    GONE = "gone"  # no such proposal any more (opened circles still take members)
    NOT_MEMBER = "not_member"


@dataclass(frozen=True)
class Support:
    outcome: Supported
    count: int = 0
    quorum: int = 0


class Proposals:
    """`/circle propose` and the "I'm in" button."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        book: CircleBook,
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._settings = settings
        self._book = book

    async def _quorum(self, chat_id: int) -> int:
        return int((await self._settings.get(chat_id)).values[QUORUM])

    async def _member(self, chat_id: int, user_id: int) -> bool:
        async with self._db.transaction() as session:
            member = await MemberRepository(session).get(chat_id, user_id)
        return (
            member is not None
            and member.status == MemberStatus.IN
            and member.trust != TrustLevel.PENDING
        )

    async def propose(self, chat_id: int, user_id: int, name: str, thread: int | None) -> Proposed:
        """Record the proposal (the proposer its first supporter) and post it in the group."""
        if not valid_name(name):
            return Proposed.BAD_NAME
        if not await self._member(chat_id, user_id):
            return Proposed.NOT_MEMBER
        now = self._clock.now()
        circle = Circle(
            chat_id=chat_id,
            name=name,
            key=circle_key(name),
            status=CircleStatus.PROPOSED,
            proposed_by=user_id,
            created_at=now,
            active_at=now,
        )
        async with self._db.transaction() as session:
            circles = CircleRepository(session)
            await circles.lapse_proposals(now - PROPOSAL_TTL, chat_id)  # old ones free names
            if await circles.proposals_by(chat_id, user_id):
                return Proposed.ONE_OPEN
            if not await circles.add(circle):
                return Proposed.DUPLICATE
            added = await circles.by_key(chat_id, circle.key)
            assert added is not None
            await circles.join(added.id, user_id, Delivery.MENTION, now)
            circle_id = added.id
        config = await self._settings.get(chat_id)
        quorum = await self._quorum(chat_id)
        text, buttons = views.proposal(config.language, name, circle_id, 1, quorum)
        message_id = await self._notifier.send(chat_id, text, buttons, thread=thread)
        async with self._db.transaction() as session:
            stored = await CircleRepository(session).get(circle_id)
            if stored is not None:
                stored.proposal_message_id = message_id
        return Proposed.POSTED

    async def support(self, circle_id: int, user_id: int) -> Support:
        """ "I'm in": the person joins the proposal; at the quorum the circle opens."""
        async with self._db.transaction() as session:
            circle = await CircleRepository(session).get(circle_id)
        now = self._clock.now()
        if (
            circle is None
            or circle.status != CircleStatus.PROPOSED
            or circle.created_at <= now - PROPOSAL_TTL  # lapsed, not yet removed
        ):
            return Support(Supported.GONE)
        if not await self._member(circle.chat_id, user_id):
            return Support(Supported.NOT_MEMBER)
        quorum = await self._quorum(circle.chat_id)
        async with self._db.transaction() as session:
            circles = CircleRepository(session)
            joined = await circles.join(circle_id, user_id, Delivery.MENTION, now)
            count = len(await circles.members(circle_id))
            stored = await circles.get(circle_id)
            opened = joined and stored is not None and count >= quorum
            if opened and stored is not None:
                stored.status = CircleStatus.OPEN
                stored.active_at = now
        if not joined:
            return Support(Supported.ALREADY, count, quorum)
        await self._update_post(circle, count, quorum, opened)
        if opened:
            await self._book.changed(circle.chat_id)
        return Support(Supported.OPENED if opened else Supported.JOINED, count, quorum)

    async def _update_post(self, circle: Circle, count: int, quorum: int, opened: bool) -> None:
        if circle.proposal_message_id is None:
            return
        lang = (await self._settings.get(circle.chat_id)).language
        if opened:
            text, buttons = views.proposal_opened(lang, circle.name, count), None
        else:
            text, buttons = views.proposal(lang, circle.name, circle.id, count, quorum)
        await self._notifier.edit(circle.chat_id, circle.proposal_message_id, text, buttons)
