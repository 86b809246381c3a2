"""What the knowledge base hands to views and handlers: plain values, no rows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from models.kb import KbEntry, Media

__all__ = ["Choice", "Entry", "Hit", "Media", "NoteContent", "entry_of"]


class Choice(StrEnum):
    """A story's author's answer."""

    NAMED = "n"
    ANONYMOUS = "a"
    NO = "x"


@dataclass(frozen=True)
class NoteContent:
    """What a note keeps: HTML text, or a Telegram file (by file_id) with an HTML caption."""

    media: Media
    body: str
    file_id: str | None = None


@dataclass(frozen=True)
class Entry:
    id: int
    chat_id: int
    kind: str
    name: str | None
    media: Media
    body: str
    file_id: str | None
    tags: str
    author: str | None  # the author's name for a story shared with it; None otherwise
    message_id: int | None
    views: int
    helped: int

    @property
    def is_note(self) -> bool:
        return self.kind == "note"


@dataclass(frozen=True)
class Hit:
    """A search result: the entry and the query's stems (for the snippet)."""

    entry: Entry
    stems: tuple[str, ...]


def entry_of(row: KbEntry, author: str | None = None) -> Entry:
    return Entry(
        id=row.id,
        chat_id=row.chat_id,
        kind=row.kind,
        name=row.name,
        media=Media(row.media),
        body=row.body,
        file_id=row.file_ref,
        tags=row.tags,
        author=None if row.anonymous else author,
        message_id=row.message_id,
        views=row.views,
        helped=row.helped,
    )
