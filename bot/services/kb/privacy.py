"""The knowledge base's part of /forget and /mydata (bot/services/privacy calls these inside
its own transaction).

/forget: stories shared with the author's name are deleted; anonymous ones stay for the
community without the author's id; unanswered consents (their texts) are deleted; notes
someone saved and stories they approved stay, without their id; the suggestion marker goes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.kb import EntryKind, KbConsent, KbEntry, KbSuggestion


async def forget(session: AsyncSession, user_id: int) -> int:
    """Erase the person from the knowledge base; the number of rows deleted."""
    gone = 0
    for stmt in (
        delete(KbEntry).where(KbEntry.author_id == user_id, KbEntry.anonymous.is_(False)),
        delete(KbConsent).where(or_(KbConsent.author_id == user_id, KbConsent.asked_by == user_id)),
        delete(KbSuggestion).where(KbSuggestion.user_id == user_id),
    ):
        result = await session.execute(stmt.execution_options(synchronize_session=False))
        gone += int(getattr(result, "rowcount", 0) or 0)
    for column in (KbEntry.author_id, KbEntry.added_by):
        await session.execute(
            update(KbEntry)
            .where(column == user_id)
            .values({column: None})
            .execution_options(synchronize_session=False)
        )
    return gone


async def export(session: AsyncSession, user_id: int, title: dict[int, str]) -> dict[str, Any]:
    """The person's stories (with their text), stories waiting for their answer, and the
    names of notes they saved, per chat title."""
    stories = await session.execute(
        select(KbEntry).where(KbEntry.author_id == user_id, KbEntry.kind == EntryKind.STORY)
    )
    saved = await session.execute(
        select(KbEntry.chat_id, KbEntry.name).where(
            KbEntry.added_by == user_id, KbEntry.kind == EntryKind.NOTE
        )
    )
    asked = await session.execute(  # answered ones keep no text: nothing to show
        select(KbConsent).where(KbConsent.author_id == user_id, KbConsent.text != "")
    )
    return {
        "kb_stories": [
            {
                "chat": title.get(row.chat_id, ""),
                "text": row.body,
                "tags": row.tags,
                "anonymous": row.anonymous,
                "status": row.status,
                "created_at": row.created_at.isoformat(),
            }
            for row in stories.scalars()
        ],
        "kb_stories_awaiting_your_answer": [
            {
                "chat": title.get(row.chat_id, ""),
                "text": row.text,
                "expires_at": row.expires_at.isoformat(),
            }
            for row in asked.scalars()
        ],
        "kb_notes_saved": [
            {"chat": title.get(int(chat_id), ""), "name": name} for chat_id, name in saved.all()
        ],
    }
