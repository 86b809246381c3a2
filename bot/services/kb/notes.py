"""Notes, as admins know them from Rose and Marie: `/save`, `/clear`, `/get`, `#name`, `/notes`.

A note is the chat's content (text with its formatting, or a photo, document or voice kept by
file_id); the only personal datum is who saved it. The names of each chat's notes are cached
for the per-message `#name` check and dropped (in every process) when a note changes.
"""

from __future__ import annotations

from bot.clock import Clock, SystemTimer, Timer
from bot.db import Database
from bot.expiring import Expiring
from bot.invalidation import Changes, Kind
from bot.services.kb.text import plain, stems_column
from bot.services.kb.values import Entry, NoteContent, entry_of
from models.kb import EntryKind, EntryStatus, KbEntry, KbRepository

NAMES_TTL = 60.0  # seconds: the fallback when another process's change was not heard
NAMES_CACHE = 10_000  # chats


class Notes:
    """Saving, clearing and reading notes; counting their views."""

    def __init__(self, db: Database, clock: Clock, changes: Changes, timer: Timer | None = None):
        self._db = db
        self._clock = clock
        self._changes = changes
        self._timer: Timer = timer if timer is not None else SystemTimer()
        self._names: Expiring[int, frozenset[str]] = Expiring(
            NAMES_TTL, self._timer, limit=NAMES_CACHE
        )

    async def save(
        self, chat_id: int, name: str, content: NoteContent, saver_id: int | None
    ) -> bool:
        """Store the note (a note of that name is replaced); True if it is new. `saver_id`
        is None for an admin posting anonymously (as the group)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            repo = KbRepository(session)
            entry = await repo.note(chat_id, name)
            created = entry is None
            if entry is None:
                entry = KbEntry(chat_id=chat_id, kind=EntryKind.NOTE, name=name, created_at=now)
                entry.views, entry.helped = 0, 0
                session.add(entry)
            entry.media, entry.body, entry.file_ref = content.media, content.body, content.file_id
            entry.status, entry.added_by, entry.used_at = EntryStatus.LIVE, saver_id, now
            entry.tags = ""
            entry.stems = stems_column(name, plain(content.body))
            repo.searchable(entry, f"{name} {plain(content.body)}")
        await self._changed(chat_id)
        return created

    async def clear(self, chat_id: int, name: str) -> bool:
        """Delete the note; False if there was none."""
        async with self._db.transaction() as session:
            entry = await KbRepository(session).note(chat_id, name)
            if entry is not None:
                await session.delete(entry)
        if entry is not None:
            await self._changed(chat_id)
        return entry is not None

    async def get(self, chat_id: int, name: str) -> Entry | None:
        """The note, counted as viewed."""
        async with self._db.transaction() as session:
            repo = KbRepository(session)
            entry = await repo.note(chat_id, name)
            if entry is None:
                return None
            await repo.used(entry.id, self._clock.now())
            return entry_of(entry)

    async def names(self, chat_id: int) -> list[str]:
        async with self._db.transaction() as session:
            return await KbRepository(session).names(chat_id)

    async def cached_names(self, chat_id: int) -> frozenset[str]:
        """The chat's note names for the per-message `#name` check (cached)."""
        return await self._names.get(chat_id, lambda: self._frozen_names(chat_id))

    async def _frozen_names(self, chat_id: int) -> frozenset[str]:
        return frozenset(await self.names(chat_id))

    def forget(self, chat_id: int) -> None:
        """Drop the chat's cached names (another process changed its notes)."""
        self._names.forget(chat_id)

    def clear_cache(self) -> None:
        self._names.clear()

    async def _changed(self, chat_id: int) -> None:
        self.forget(chat_id)
        await self._changes.publish(Kind.KB_NOTES, chat_id)
