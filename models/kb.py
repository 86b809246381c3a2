"""The knowledge base: notes and stories (one table, searched together), consents a story's
author has not given yet, and when a newcomer was last pointed at an entry.

Search: every entry stores the distinct stems of its name, text and tags (`stems`, computed
in Python on write). SQLite searches those with `LIKE '% stem %'` and counts the stems each
entry holds; PostgreSQL keeps a `tsv` column, `to_tsvector('russian', …) ||
to_tsvector('english', …)` of the same words, behind a GIN index, and ranks with `ts_rank`.
On SQLite `tsv` stays empty (its type there is plain text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime

SEARCH_TYPE = Text().with_variant(TSVECTOR(), "postgresql")


class EntryKind(StrEnum):
    NOTE = "note"
    STORY = "story"


class Media(StrEnum):
    TEXT = "text"
    PHOTO = "photo"
    DOCUMENT = "document"
    VOICE = "voice"


class EntryStatus(StrEnum):
    LIVE = "live"
    PENDING = "pending"  # a story its author agreed to share, not approved yet


class KbEntry(Base):
    __tablename__ = "kb_entries"
    __table_args__ = (
        UniqueConstraint("chat_id", "name"),  # names of notes; stories have none (NULL)
        Index("ix_kb_entries_listing", "chat_id", "kind", "status"),
        Index("ix_kb_entries_tsv", "tsv", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    media: Mapped[str] = mapped_column(String(10), default=Media.TEXT)
    file_ref: Mapped[str | None] = mapped_column(String(255), nullable=True)  # a file_id
    body: Mapped[str] = mapped_column(Text, default="")  # HTML: the text, or the caption
    tags: Mapped[str] = mapped_column(String(200), default="")
    author_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    added_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(8), default=EntryStatus.LIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)
    views: Mapped[int] = mapped_column(Integer, default=0)
    helped: Mapped[int] = mapped_column(Integer, default=0)
    stems: Mapped[str] = mapped_column(Text, default=" ")
    tsv: Mapped[Any] = mapped_column(SEARCH_TYPE, nullable=True)


class KbConsent(Base):
    """A story asked for: the author has not answered yet. It holds the message's text for
    at most CONSENT_TTL (a deadline row deletes it), so a "yes" can store it; a "no" deletes
    it at once."""

    __tablename__ = "kb_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[int] = mapped_column(BigInteger, index=True)
    asked_by: Mapped[int] = mapped_column(BigInteger, index=True)
    tags: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KbSuggestion(Base):
    """When a newcomer was last pointed privately at an entry (at most once a day)."""

    __tablename__ = "kb_suggestions"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    suggested_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Found:
    """One search hit: the entry and its share of the query's stems."""

    entry: KbEntry
    coverage: float


def tsv_of(text: str) -> ColumnElement[Any]:
    """PostgreSQL's search vector of `text`: Russian and English word forms together."""
    return func.to_tsvector("russian", text).op("||")(func.to_tsvector("english", text))


def _tsquery(words: list[str]) -> ColumnElement[Any]:
    """Any of the words, in Russian or English forms (OR: a question rarely has them all)."""
    parts: list[ColumnElement[Any]] = []
    for word in words:
        parts.append(func.plainto_tsquery("russian", word))
        parts.append(func.plainto_tsquery("english", word))
    query = parts[0]
    for part in parts[1:]:
        query = query.op("||")(part)
    return query


class KbRepository:
    """Reads and writes the knowledge base inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def postgres(self) -> bool:
        bind = self.session.bind
        return bind is not None and bind.dialect.name == "postgresql"

    def searchable(self, entry: KbEntry, text: str) -> None:
        """Set the PostgreSQL vector from the entry's plain words (SQLite: stems alone)."""
        entry.tsv = tsv_of(text) if self.postgres else None

    async def note(self, chat_id: int, name: str) -> KbEntry | None:
        result = await self.session.execute(
            select(KbEntry).where(
                KbEntry.chat_id == chat_id, KbEntry.kind == EntryKind.NOTE, KbEntry.name == name
            )
        )
        return result.scalar_one_or_none()

    async def names(self, chat_id: int) -> list[str]:
        result = await self.session.execute(
            select(KbEntry.name)
            .where(KbEntry.chat_id == chat_id, KbEntry.kind == EntryKind.NOTE)
            .order_by(KbEntry.name)
        )
        return [str(name) for name in result.scalars()]

    async def stories(
        self, chat_id: int, status: str, tag: str | None, limit: int
    ) -> list[KbEntry]:
        where = [KbEntry.chat_id == chat_id, KbEntry.kind == EntryKind.STORY]
        where.append(KbEntry.status == status)
        if tag:
            where.append(literal(" ").concat(KbEntry.tags).concat(" ").contains(f" {tag} "))
        result = await self.session.execute(
            select(KbEntry).where(*where).order_by(KbEntry.id.desc()).limit(limit)
        )
        return list(result.scalars())

    async def search(
        self, chat_id: int, stems: list[str], words: list[str], limit: int
    ) -> list[int]:
        """The ids of the best live entries of the chat for the query, best first."""
        live = and_(KbEntry.chat_id == chat_id, KbEntry.status == EntryStatus.LIVE)
        if self.postgres:
            query = _tsquery(words)
            rank = func.ts_rank(KbEntry.tsv, query)
            stmt = select(KbEntry.id).where(live, KbEntry.tsv.op("@@")(query))
            stmt = stmt.order_by(rank.desc(), KbEntry.helped.desc(), KbEntry.id.desc())
        else:
            # SQLite: instr() finds a whole stem (spaces around it) faster than LIKE
            hits = [func.instr(KbEntry.stems, f" {s} ") > 0 for s in stems]
            score = sum((case((hit, 1), else_=0) for hit in hits), literal(0))
            stmt = select(KbEntry.id).where(live, or_(*hits))
            stmt = stmt.order_by(score.desc(), KbEntry.helped.desc(), KbEntry.id.desc())
        return list((await self.session.execute(stmt.limit(limit))).scalars())

    async def story_of(self, chat_id: int, author_id: int, body: str) -> KbEntry | None:
        result = await self.session.execute(
            select(KbEntry).where(
                KbEntry.chat_id == chat_id,
                KbEntry.kind == EntryKind.STORY,
                KbEntry.author_id == author_id,
                KbEntry.body == body,
            )
        )
        return result.scalars().first()

    async def many(self, ids: list[int]) -> dict[int, KbEntry]:
        if not ids:
            return {}
        result = await self.session.execute(select(KbEntry).where(KbEntry.id.in_(ids)))
        return {entry.id: entry for entry in result.scalars()}

    async def used(self, entry_id: int, now: datetime, *, helped: bool = False) -> None:
        """Count a view (or a "this helped"); either makes the entry recently used."""
        counter = KbEntry.helped if helped else KbEntry.views
        await self.session.execute(
            update(KbEntry)
            .where(KbEntry.id == entry_id)
            .values({counter: counter + 1, "used_at": now})
        )

    async def unused(self, chat_id: int, before: datetime, limit: int) -> list[KbEntry]:
        result = await self.session.execute(
            select(KbEntry)
            .where(
                KbEntry.chat_id == chat_id,
                KbEntry.status == EntryStatus.LIVE,
                KbEntry.used_at < before,
            )
            .order_by(KbEntry.used_at)
            .limit(limit)
        )
        return list(result.scalars())

    async def offered(self, chat_id: int, message_id: int) -> bool:
        """Was this message offered as a story already: a consent (waiting, or answered in
        the last CONSENT_TTL), or a story made of it?"""
        consent = select(KbConsent.id).where(
            KbConsent.chat_id == chat_id, KbConsent.message_id == message_id
        )
        story = select(KbEntry.id).where(
            KbEntry.chat_id == chat_id,
            KbEntry.kind == EntryKind.STORY,
            KbEntry.message_id == message_id,
        )
        found = await self.session.execute(consent.union_all(story).limit(1))
        return found.first() is not None

    async def asked_since(self, asked_by: int, since: datetime) -> int:
        """How many stories the person offered since then (consent rows live longer)."""
        result = await self.session.execute(
            select(func.count())
            .select_from(KbConsent)
            .where(KbConsent.asked_by == asked_by, KbConsent.created_at > since)
        )
        return int(result.scalar_one())

    async def expired_consents(self, chat_id: int, author_id: int, now: datetime) -> int:
        """Delete the author's expired consents in the chat; the count of those left."""
        mine = and_(KbConsent.chat_id == chat_id, KbConsent.author_id == author_id)
        await self.session.execute(delete(KbConsent).where(mine, KbConsent.expires_at <= now))
        left = await self.session.execute(select(func.count()).select_from(KbConsent).where(mine))
        return int(left.scalar_one())

    async def next_expiry(self, chat_id: int, author_id: int) -> datetime | None:
        result = await self.session.execute(
            select(func.min(KbConsent.expires_at)).where(
                KbConsent.chat_id == chat_id, KbConsent.author_id == author_id
            )
        )
        value = result.scalar_one_or_none()
        return value if isinstance(value, datetime) else None
