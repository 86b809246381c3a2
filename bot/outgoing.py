"""Queueing messages into the outbox, inside the caller's transaction (the worker that sends
them is `bot.outbox.Outbox`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Button, Keyboard
from models.outbox import OutboxMessage, OutboxRepository, OutboxStatus


async def queue(
    session: AsyncSession,
    key: str,
    chat_id: int,
    text: str,
    *,
    now: datetime,
    buttons: Keyboard | None = None,
    not_before: datetime | None = None,
    expires_at: datetime | None = None,
    photo: bytes | None = None,
) -> bool:
    """Queue one message in the caller's transaction; False if `key` was queued before.
    With `photo` (PNG bytes) it is sent as a picture with `text` as its caption."""
    encoded = _encode(buttons)
    return await OutboxRepository(session).add(
        key,
        chat_id,
        text,
        buttons=encoded,
        not_before=not_before or now,
        expires_at=expires_at,
        now=now,
        photo=photo,
    )


@dataclass(frozen=True)
class Outgoing:
    """One message for `queue_many`."""

    key: str
    chat_id: int
    text: str
    buttons: Keyboard | None = None


def _encode(buttons: Keyboard | None) -> str | None:
    if not buttons:
        return None
    return json.dumps(
        [[{"text": b.text, "data": b.data, "url": b.url} for b in row] for row in buttons]
    )


def decode_buttons(encoded: str | None) -> Keyboard | None:
    """A queued row's buttons back as a keyboard (the worker sends them)."""
    if not encoded:
        return None
    return [[Button(b["text"], b["data"], b["url"]) for b in row] for row in json.loads(encoded)]


async def queue_many(
    session: AsyncSession,
    messages: list[Outgoing],
    *,
    now: datetime,
    not_before: datetime | None = None,
    expires_at: datetime | None = None,
) -> int:
    """Queue many new messages in one statement (keys must be new, e.g. a round just opened)."""
    if not messages:
        return 0
    rows = [
        {
            "key": m.key,
            "chat_id": m.chat_id,
            "text": m.text,
            "buttons": _encode(m.buttons),
            "status": OutboxStatus.PENDING,
            "not_before": not_before or now,
            "expires_at": expires_at,
            "attempts": 0,
            "created_at": now,
        }
        for m in messages
    ]
    await session.execute(insert(OutboxMessage), rows)
    return len(rows)
