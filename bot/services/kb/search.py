"""`/kb <words>`: notes and approved stories by Russian and English word forms; opening an
entry and "this helped" (both counted); the private suggestion to a newcomer whose question
in the group an entry answers well; entries nobody used for UNUSED_AFTER.

The question's text is never stored: it is stemmed, searched and dropped; only the moment of
the suggestion is kept, so a newcomer hears from the bot at most once a day.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.services.kb.text import coverage, stems, words
from bot.services.kb.values import Entry, Hit, entry_of
from models.kb import EntryStatus, KbEntry, KbRepository, KbSuggestion
from models.members import MemberRepository, MemberStatus
from models.upsert import upsert
from models.users import User

TOP = 5
SUGGEST_EVERY = timedelta(days=1)
SUGGEST_COVERAGE = 0.5  # at least half the question's words are in the entry...
SUGGEST_MATCHED = 2  # ...and at least two of them (or all, for a shorter question)
UNUSED_AFTER = timedelta(days=180)
UNUSED_LIMIT = 50
QUERY_WORDS = 12  # a long question is cut: the first words say what it is about
PRESSES_KEPT = 50_000  # (entry, person) pairs remembered for "this helped", newest kept


class Helped(StrEnum):
    """What a "this helped" press did (the value is the locale key of the answer)."""

    COUNTED = "thanks"
    GONE = "gone"  # no live entry
    NOT_MEMBER = "helped_not_member"  # the presser is not in the entry's chat
    ALREADY = "helped_already"  # this person's press was counted already


class Search:
    """Search, views and "this helped", suggestions, the unused listing."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        # who pressed "this helped" on what: in memory (no person's id is stored for it), so
        # after a restart a press may count again; enough to stop repeated taps moving ranks
        self._pressed: OrderedDict[tuple[int, int], None] = OrderedDict()

    async def find(self, chat_id: int, query: str, limit: int = TOP) -> list[Hit]:
        """The best live entries of the chat for the words of `query`, best first."""
        return [hit for hit, _ in await self._ranked(chat_id, query, limit)]

    async def _ranked(self, chat_id: int, query: str, limit: int) -> list[tuple[Hit, float]]:
        found = words(query)[:QUERY_WORDS]
        query_stems = list(dict.fromkeys(stems(" ".join(found))))
        if not query_stems:
            return []
        async with self._db.transaction() as session:
            repo = KbRepository(session)
            ids = await repo.search(chat_id, query_stems, found, limit)
            rows = await repo.many(ids)
            names = await _authors(session, [rows[i] for i in ids if i in rows])
        ranked = []
        for entry_id in ids:
            row = rows.get(entry_id)
            if row is None:
                continue
            hit = Hit(entry_of(row, names.get(row.author_id or 0)), tuple(query_stems))
            ranked.append((hit, coverage(query_stems, row.stems)))
        return ranked

    async def chat_of(self, entry_id: int) -> int | None:
        """The chat a live entry belongs to."""
        async with self._db.transaction() as session:
            row = await session.get(KbEntry, entry_id)
        return row.chat_id if row is not None and row.status == EntryStatus.LIVE else None

    async def open(self, entry_id: int, chat_id: int) -> Entry | None:
        """A live entry of `chat_id`, counted as viewed."""
        async with self._db.transaction() as session:
            row = await session.get(KbEntry, entry_id)
            if row is None or row.status != EntryStatus.LIVE or row.chat_id != chat_id:
                return None
            await KbRepository(session).used(entry_id, self._clock.now())
            names = await _authors(session, [row])
            return entry_of(row, names.get(row.author_id or 0))

    async def helped(self, entry_id: int, user_id: int) -> Helped:
        """Count a "this helped" press: a live entry, a member of its chat, once a person."""
        key = (entry_id, user_id)
        async with self._db.transaction() as session:
            row = await session.get(KbEntry, entry_id)
            if row is None or row.status != EntryStatus.LIVE:
                return Helped.GONE
            member = await MemberRepository(session).get(row.chat_id, user_id)
            if member is None or member.status != MemberStatus.IN:
                return Helped.NOT_MEMBER
            if key in self._pressed:
                return Helped.ALREADY
            self._pressed[key] = None  # before the write: two quick presses count once
            while len(self._pressed) > PRESSES_KEPT:
                self._pressed.popitem(last=False)
            await KbRepository(session).used(entry_id, self._clock.now(), helped=True)
        return Helped.COUNTED

    async def suggest(self, chat_id: int, user_id: int, question: str) -> Hit | None:
        """The entry to point a newcomer to privately, if one answers the question well,
        they can be written to, and they were not pointed anywhere in the last day. The
        suggestion is recorded here (the caller sends it)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            last = await session.get(KbSuggestion, user_id)
            user = await session.get(User, user_id)
        if last is not None and last.suggested_at + SUGGEST_EVERY > now:
            return None
        if user is None or not user.reachable or user.is_bot:
            return None
        ranked = await self._ranked(chat_id, question, 1)
        if not ranked:
            return None
        hit, share = ranked[0]
        asked = len(hit.stems)
        if share < SUGGEST_COVERAGE or round(share * asked) < min(SUGGEST_MATCHED, asked):
            return None
        async with self._db.transaction() as session:
            await upsert(
                session,
                KbSuggestion,
                {"user_id": user_id, "suggested_at": now},
                key=["user_id"],
                update=["suggested_at"],
            )
        return hit

    async def unused(self, chat_id: int) -> list[Entry]:
        """Live entries nobody opened or found helpful for UNUSED_AFTER, oldest use first."""
        before = self._clock.now() - UNUSED_AFTER
        async with self._db.transaction() as session:
            rows = await KbRepository(session).unused(chat_id, before, UNUSED_LIMIT)
        return [entry_of(row) for row in rows]


async def _authors(session: AsyncSession, rows: list[KbEntry]) -> dict[int, str]:
    ids = {row.author_id for row in rows if row.author_id and not row.anonymous}
    if not ids:
        return {}
    found = await session.execute(select(User).where(User.id.in_(ids)))
    return {user.id: user.full_name for user in found.scalars()}
