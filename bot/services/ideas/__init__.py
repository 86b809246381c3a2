"""The ideas board: `/idea <text>` posts a member's idea to the group with 👍/👎 buttons, one
vote per person (pressing the same button again takes it back), `/ideas` lists the open
ones by score, and admins mark an idea planned, done or declined: its author and everyone
who voted 👍 hear it privately through the outbox (quiet hours respected).

Votes never edit the post themselves: a vote marks the idea dirty (a column, so a restart
loses nothing) and the edit job (edits.py) brings the buttons up to date at most once per
`EDIT_EVERY` per idea, so a popular idea stays far inside Telegram's limits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.clock import Clock
from bot.db import Database
from bot.notifier import Notifier
from bot.services.core import Sending
from bot.services.ideas.cards import IdeaCard, card_of, names_of
from bot.services.ideas.edits import EDIT_EVERY, ButtonEdits
from bot.services.ideas.notices import queue_notices
from bot.services.members import MemberDirectory
from bot.services.people import ChatRef, Person
from bot.services.settings import SettingsService
from bot.topics import Thread
from bot.views import ideas as views
from models.ideas import IdeaRepository, IdeaStatus
from models.members import Member, MemberStatus, TrustLevel

__all__ = [
    "DAILY_LIMIT",
    "EDIT_EVERY",
    "MAX_TEXT",
    "Board",
    "Decided",
    "IdeaBoard",
    "IdeaCard",
    "Posted",
    "Refused",
    "Vote",
    "Voted",
]

MAX_TEXT = 1000  # characters of an idea
DAILY_LIMIT = 3  # ideas per person per chat in any 24 hours
DAY = timedelta(days=1)
SHOWN = 10  # ideas /ideas lists


class Refused(StrEnum):
    """Why an idea was not posted, or a decision not made."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_YET = "not_yet"  # not verified yet
    NEWCOMERS_OFF = "newcomers_off"  # newcomers may not post here (ideas_newcomers off)
    LIMIT = "limit"  # DAILY_LIMIT reached
    NOT_POSTED = "not_posted"  # Telegram did not take the post
    UNKNOWN = "unknown"  # no such idea in this chat
    SAME = "same"  # the idea already has this status


@dataclass(frozen=True)
class Posted:
    idea_id: int


class Vote(StrEnum):
    """What a press of 👍/👎 did."""

    UP = "up"
    DOWN = "down"
    CHANGED_UP = "changed_up"  # was 👎, now 👍
    CHANGED_DOWN = "changed_down"
    TAKEN_BACK = "taken_back"  # the same button again
    CLOSED = "closed"  # the idea was decided: voting is over
    GONE = "gone"  # no such idea (any more)
    NOT_YET = "not_yet"  # not verified in the chat yet
    NOT_MEMBER = "not_member"  # not in the chat (never seen there, or left)


@dataclass(frozen=True)
class Voted:
    vote: Vote
    up: int = 0
    down: int = 0


@dataclass(frozen=True)
class Decided:
    card: IdeaCard
    told: int  # people queued a private notice


@dataclass(frozen=True)
class Board:
    ideas: list[IdeaCard]
    total: int  # open ideas in all


class IdeaBoard(Sending):
    """Posting ideas, votes, decisions and the board; the button edits run in `edits`."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        directory: MemberDirectory,
        wake_outbox: Callable[[], None],
    ) -> None:
        super().__init__(db, clock, notifier, settings, wake_outbox)
        self._directory = directory
        self.edits = ButtonEdits(db, clock, notifier, settings)

    async def post(
        self, chat: ChatRef, person: Person, text: str, reply_to: int, thread: Thread
    ) -> Posted | Refused:
        """Post the idea to the group with its vote buttons. Members and veterans may, and
        newcomers unless `ideas_newcomers off`; at most DAILY_LIMIT in any 24 hours (counted
        from the rows, so a restart does not reset it). Nothing stays stored if Telegram
        does not take the post."""
        text = text.strip()
        if not text:
            return Refused.EMPTY
        if len(text) > MAX_TEXT:
            return Refused.TOO_LONG
        config = await self._settings.get(chat.id)
        level = await self._directory.observe(chat, person)
        if level == TrustLevel.PENDING:
            return Refused.NOT_YET
        if level == TrustLevel.NEWCOMER and not config.ideas_newcomers:
            return Refused.NEWCOMERS_OFF
        now = self._clock.now()
        async with self._db.transaction() as session:
            repo = IdeaRepository(session)
            # the person's membership row is locked first (PostgreSQL), so two /idea sent at
            # once are counted one after the other and cannot both pass the limit
            await session.get(Member, (chat.id, person.id), with_for_update=True)
            if await repo.posted_since(chat.id, person.id, now - DAY) >= DAILY_LIMIT:
                return Refused.LIMIT
            idea = await repo.add(chat.id, person.id, text, now)
            card = card_of(idea, person.full_name)
        body, buttons = views.post(config.language, card)
        message_id = await self._notifier.send(chat.id, body, buttons, reply_to, thread=thread)
        async with self._db.transaction() as session:
            repo = IdeaRepository(session)
            stored = await repo.get(card.id)
            if stored is None:  # forgotten meanwhile
                return Refused.NOT_POSTED
            if message_id is None:  # not posted: nothing is kept, the limit is not used up
                await session.delete(stored)
                return Refused.NOT_POSTED
            stored.message_id = message_id
        return Posted(card.id)

    async def vote(self, chat: ChatRef, idea_id: int, person: Person, up: bool) -> Voted:
        """One vote per person, changeable; the same button again takes it back. The idea
        is locked while its counts are recounted, so concurrent votes never lose one.
        Only people in the chat vote: a button press also comes from people outside the group
        (a forwarded post) or who left. Someone with no membership row yet (in the chat since
        before the bot, never written since) is asked about at Telegram and registered if in."""
        voted = await self._vote(chat, idea_id, person, up)
        if voted is None:
            if not await self._notifier.in_chat(chat.id, person.id):
                return Voted(Vote.NOT_MEMBER)
            await self._directory.observe(chat, person)
            voted = await self._vote(chat, idea_id, person, up)
        return voted or Voted(Vote.NOT_MEMBER)

    async def _vote(self, chat: ChatRef, idea_id: int, person: Person, up: bool) -> Voted | None:
        """The vote, in one transaction; None if the person has no membership row."""
        pressed = 1 if up else -1
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat.id, person.id))
            if member is None:
                return None
            if member.status != MemberStatus.IN:
                return Voted(Vote.NOT_MEMBER)
            if member.trust == TrustLevel.PENDING:
                return Voted(Vote.NOT_YET)
            repo = IdeaRepository(session)
            idea = await repo.get(idea_id, lock=True)
            if idea is None or idea.chat_id != chat.id:
                return Voted(Vote.GONE)
            if idea.status != IdeaStatus.OPEN:
                return Voted(Vote.CLOSED, idea.up, idea.down)
            before = await repo.vote_of(idea_id, person.id)
            after = 0 if before == pressed else pressed
            await repo.set_vote(idea_id, person.id, after, self._clock.now())
            await session.refresh(idea)
            counts = (idea.up, idea.down)
        if after == 0:
            vote = Vote.TAKEN_BACK
        elif before == 0:
            vote = Vote.UP if up else Vote.DOWN
        else:
            vote = Vote.CHANGED_UP if up else Vote.CHANGED_DOWN
        return Voted(vote, *counts)

    async def decide(
        self, chat_id: int, idea_id: int, status: IdeaStatus, comment: str
    ) -> Decided | Refused:
        """An admin's decision: the status and comment stored, voting closed, the author and
        every 👍 voter told privately (outbox, after the chat's quiet hours), the post edited
        to show the decision."""
        if len(comment) > MAX_TEXT:
            return Refused.TOO_LONG
        now = self._clock.now()
        config = await self._settings.get(chat_id)
        async with self._db.transaction() as session:
            repo = IdeaRepository(session)
            idea = await repo.get(idea_id, lock=True)
            if idea is None or idea.chat_id != chat_id:
                return Refused.UNKNOWN
            if idea.status == status and (idea.comment or "") == comment:
                return Refused.SAME
            idea.status, idea.comment, idea.decided_at = status, comment or None, now
            idea.dirty = False  # the status edit below shows the final counts
            names = await names_of(session, [idea.author_id])
            card = card_of(idea, names.get(idea.author_id))
            told = await queue_notices(session, config, card, await repo.supporters(idea_id), now)
            message_id = idea.message_id
        if message_id is not None:
            body, buttons = views.post(config.language, card)
            await self._notifier.edit(chat_id, message_id, body, buttons)
        if told:
            self._wake()
        return Decided(card, told)

    async def board(self, chat_id: int) -> Board:
        """The chat's open ideas by score (at most SHOWN) and how many are open in all."""
        async with self._db.transaction() as session:
            ideas, total = await IdeaRepository(session).open_ideas(chat_id, SHOWN)
            names = await names_of(session, [idea.author_id for idea in ideas])
        return Board([card_of(idea, names.get(idea.author_id)) for idea in ideas], total)

    async def flush(self) -> int:
        """Bring stale vote buttons up to date (the edit job); the number of edits made."""
        return await self.edits.flush()
