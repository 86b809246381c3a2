"""A check-in win its author chose to share, offered to them as a story the same way: they
are the one asked, so the offer itself is the consent question. Nothing is copied until they
say yes; then the win (read from their check-in answer) becomes a story awaiting approval,
like any other."""

from __future__ import annotations

from html import escape

from bot.clock import Clock
from bot.db import Database
from bot.services.checkins.common import questions_for
from bot.services.checkins.digest import SHARED, win_of
from bot.services.checkins.questions import decode_answers
from bot.services.kb.text import stems_column
from bot.services.kb.values import Entry, entry_of
from models.checkin_repository import CheckinRepository
from models.kb import EntryKind, EntryStatus, KbEntry, KbRepository

WIN_TAG = "win"


class Wins:
    """Check-in wins as stories, with their author's yes."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def shared_win(self, round_id: int, user_id: int) -> tuple[int, str] | None:
        """(chat, win) if the person finished the round and chose to share a win."""
        async with self._db.transaction() as session:
            repo = CheckinRepository(session)
            row, entry = await repo.round(round_id), await repo.entry(round_id, user_id)
            if row is None or entry is None or not entry.done or entry.share not in SHARED:
                return None
            win = win_of(questions_for(row.questions, "en"), decode_answers(entry.answers))
        return (row.chat_id, win) if win and win.strip() else None

    async def keep(self, round_id: int, user_id: int, anonymous: bool) -> Entry | None:
        """The author said yes: their win waits for approval as a story (once per round);
        None if there is no shared win (any more) or it is kept already."""
        found = await self.shared_win(round_id, user_id)
        if found is None:
            return None
        chat_id, win = found
        now = self._clock.now()
        async with self._db.transaction() as session:
            repo = KbRepository(session)
            if await repo.story_of(chat_id, user_id, escape(win)) is not None:
                return None
            story = KbEntry(
                chat_id=chat_id,
                kind=EntryKind.STORY,
                body=escape(win),  # bodies are HTML; the answer is plain text
                tags=WIN_TAG,
                author_id=user_id,
                anonymous=anonymous,
                status=EntryStatus.PENDING,
                created_at=now,
                used_at=now,
                views=0,
                helped=0,
                stems=stems_column(win, WIN_TAG),
            )
            repo.searchable(story, win)
            session.add(story)
            await session.flush()
            return entry_of(story)
