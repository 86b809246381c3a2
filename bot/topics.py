"""Forum topics on the way out: where a group post goes, and what a lost topic looks like.

A post to a group goes to the topic the chat chose (`/set topic here`), else to General
(no thread id); a reply to a command goes to the topic the command came from; a reply to a
message goes where that message is (Telegram's rule). When the chosen topic is closed or
deleted, the post goes to General and the policy is told once (`TopicPolicy.lost`), so a
closed topic never silently swallows verification prompts."""

from __future__ import annotations

from enum import Enum
from typing import Final, Protocol

from aiogram.exceptions import TelegramBadRequest

_GONE = ("topic_closed", "topic_deleted", "message thread not found", "topic_id_invalid")


class _Chosen(Enum):
    TOPIC = "chosen"


CHOSEN: Final = _Chosen.TOPIC
"""`thread` for a send: the chat's chosen topic (the default for group posts)."""

Thread = int | None | _Chosen
"""Where a send goes: a topic's thread id, None for General, or CHOSEN."""


class TopicPolicy(Protocol):
    """Knows each chat's chosen topic; hears when it turns out to be closed or gone."""

    async def topic(self, chat_id: int) -> int | None:
        """The thread id posts to this chat go to; None for General."""

    async def lost(self, chat_id: int, thread: int) -> str | None:
        """`thread` refused a post: fall back to General; the notice to post there for the
        admins, the first time only (None after that)."""


def topic_gone(error: TelegramBadRequest) -> bool:
    """Telegram refused a send because its topic is closed, deleted or unknown."""
    text = str(error.message).lower()
    return any(marker in text for marker in _GONE)


async def resolve(
    policy: TopicPolicy | None, chat_id: int, thread: Thread, reply_to: int | None
) -> int | None:
    """The thread id to send with (None: General, or wherever the replied message is)."""
    if thread is not CHOSEN:
        return thread
    if chat_id > 0 or reply_to is not None or policy is None:
        return None
    return await policy.topic(chat_id)
