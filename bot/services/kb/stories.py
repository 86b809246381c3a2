"""Members' stories, only with their author's consent.

Anyone replies `/story [tags]` to a message; its author is asked privately: share with my
name, anonymously, or not at all. Nothing of the message is stored before a yes: the author
gets a copy of it in their private chat, the question replies to that copy, and a yes reads
the text back from it. Meanwhile a consent row holds ids, the tags and a waiting mark, for at
most CONSENT_TTL (a deadline row deletes it then); an answered row stays until that time so the
same message is not offered again and an asker offers at most ASKS_PER_DAY a day.
A "yes" turns it into a story awaiting approval: an admin or a veteran approves it
(`/stories pending`, sent to them privately) and only then it is listed and searched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.services.kb.text import plain, stems_column
from bot.services.kb.values import Choice, Entry, entry_of
from models.deadlines import DeadlineRepository
from models.kb import EntryKind, EntryStatus, KbConsent, KbEntry, KbRepository
from models.members import MemberRepository, MemberStatus, TrustLevel
from models.users import User

CONSENT_TTL = timedelta(hours=48)
ASKS_PER_DAY = 5  # stories one person may offer a day: each one writes to an author
KB_CONSENT = "kb_consent"  # deadline kind: (chat, author) has consents to expire
LIST_LIMIT = 20


WAITING = "?"
"""The consent row's text while the author has not answered: a mark, never the message."""


@dataclass(frozen=True)
class Asked:
    """A consent waiting for the author's answer."""

    id: int
    chat_id: int
    author_id: int
    text: str
    tags: str


class Refused(StrEnum):
    """Why a story was not asked for (the value is the locale key)."""

    OFFERED = "story_exists"  # this message was offered already
    LIMIT = "story_limit"  # the asker offered ASKS_PER_DAY today


class Stories:
    """Consent, approval and listing of stories."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def ask(
        self, chat_id: int, message_id: int, author_id: int, asked_by: int, tags: str, text: str
    ) -> Asked | Refused:
        """Record that the author is asked (ids, tags, a waiting mark; `text` is not stored);
        refused for a message offered already, or past the asker's daily number."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            repo = KbRepository(session)
            if await repo.offered(chat_id, message_id):
                return Refused.OFFERED
            if await repo.asked_since(asked_by, now - timedelta(days=1)) >= ASKS_PER_DAY:
                return Refused.LIMIT
            consent = KbConsent(
                chat_id=chat_id,
                message_id=message_id,
                author_id=author_id,
                asked_by=asked_by,
                tags=tags,
                text=WAITING,
                created_at=now,
                expires_at=now + CONSENT_TTL,
            )
            session.add(consent)
            await session.flush()
            await self._plan_expiry(repo, DeadlineRepository(session), consent)
        return Asked(consent.id, chat_id, author_id, text, tags)

    async def withdraw(self, consent_id: int) -> None:
        """The author could not be asked: the text goes at once."""
        async with self._db.transaction() as session:
            consent = await session.get(KbConsent, consent_id)
            if consent is not None:
                await session.delete(consent)

    async def answer(
        self, consent_id: int, author_id: int, choice: Choice, text: str = ""
    ) -> Entry | None:
        """The author's answer; with a yes, `text` is the message as read back from the copy
        the author was sent: a story awaiting approval. None if there is nothing to answer
        (expired, answered, someone else, no text). Either way the row stays, answered,
        until it expires: the message is not offered again and the daily number holds."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            consent = await session.get(KbConsent, consent_id)
            if consent is None or consent.author_id != author_id or consent.expires_at <= now:
                return None
            if consent.text != WAITING:
                return None  # answered already
            tags = consent.tags
            consent.text, consent.tags = "", ""
            if choice is Choice.NO or not text.strip():
                return None
            story = KbEntry(
                chat_id=consent.chat_id,
                kind=EntryKind.STORY,
                body=text,
                tags=tags,
                author_id=author_id,
                anonymous=choice is Choice.ANONYMOUS,
                message_id=consent.message_id,
                status=EntryStatus.PENDING,
                created_at=now,
                used_at=now,
                views=0,
                helped=0,
                stems=stems_column(plain(text), tags),
            )
            KbRepository(session).searchable(story, f"{plain(text)} {tags}")
            session.add(story)
            await session.flush()
            return entry_of(story, await _name(session, author_id))

    async def may_approve(self, chat_id: int, user_id: int) -> bool:
        """A veteran of the chat (admins are checked by the caller, with Telegram)."""
        async with self._db.transaction() as session:
            member = await MemberRepository(session).get(chat_id, user_id)
        return (
            member is not None
            and member.status == MemberStatus.IN
            and member.trust == TrustLevel.VETERAN
        )

    async def chat_of_pending(self, story_id: int) -> int | None:
        """The chat of a story still waiting for approval (None if it is not waiting)."""
        async with self._db.transaction() as session:
            story = await session.get(KbEntry, story_id)
        if story is None or story.status != EntryStatus.PENDING:
            return None
        return story.chat_id

    async def decide(self, story_id: int, chat_id: int, approver: int, ok: bool) -> Entry | None:
        """Approve (listed and searched from now on) or reject (deleted) a waiting story;
        None if it is not waiting any more."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            story = await session.get(KbEntry, story_id)
            if story is None or story.chat_id != chat_id or story.status != EntryStatus.PENDING:
                return None
            author = await _name(session, story.author_id)
            if not ok:
                await session.delete(story)
                return entry_of(story, author)
            story.status, story.added_by, story.used_at = EntryStatus.LIVE, approver, now
            return entry_of(story, author)

    async def listing(self, chat_id: int, tag: str | None, *, pending: bool = False) -> list[Entry]:
        status = EntryStatus.PENDING if pending else EntryStatus.LIVE
        async with self._db.transaction() as session:
            rows = await KbRepository(session).stories(chat_id, status, tag, LIST_LIMIT)
            names = await _names(session, {r.author_id for r in rows if r.author_id})
        return [entry_of(row, names.get(row.author_id or 0)) for row in rows]

    async def expire(self, chat_id: int, author_id: int) -> None:
        """Deadline action: the author's unanswered consents past CONSENT_TTL are deleted
        (their texts with them); the deadline moves to the next one, if any."""
        async with self._db.transaction() as session:
            repo = KbRepository(session)
            left = await repo.expired_consents(chat_id, author_id, self._clock.now())
            if left:
                next_at = await repo.next_expiry(chat_id, author_id)
                if next_at is not None:
                    await DeadlineRepository(session).schedule(
                        KB_CONSENT, chat_id, author_id, next_at
                    )

    async def _plan_expiry(
        self, repo: KbRepository, deadlines: DeadlineRepository, consent: KbConsent
    ) -> None:
        """One deadline per (chat, author), due at their earliest consent's expiry."""
        first = await repo.next_expiry(consent.chat_id, consent.author_id)
        due = min(first, consent.expires_at) if first is not None else consent.expires_at
        await deadlines.schedule(KB_CONSENT, consent.chat_id, consent.author_id, due)


async def _name(session: AsyncSession, user_id: int | None) -> str | None:
    return (await _names(session, {user_id})).get(user_id) if user_id else None


async def _names(session: AsyncSession, user_ids: set[int]) -> dict[int, str]:
    """Authors' names, for stories shared with the name (forgotten people have none)."""
    if not user_ids:
        return {}
    rows = await session.execute(select(User).where(User.id.in_(user_ids)))
    return {user.id: user.full_name for user in rows.scalars()}
