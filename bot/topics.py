"""Forum topics on the way out: where a group post goes, and what a lost topic looks like.

A post to a group goes to the topic the chat chose (`/set topic here`), else to General
(no thread id); a reply to a command goes to the topic the command came from; a reply to a
message goes where that message is (Telegram's rule). When the chosen topic is closed or
deleted, the post goes to General and the policy is told once (`TopicPolicy.lost`), so a
closed topic never silently swallows verification prompts."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Final, Protocol, TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

log = logging.getLogger(__name__)
T = TypeVar("T")

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


async def to_topic(
    bot: Bot,
    policy: TopicPolicy | None,
    chat_id: int,
    thread: Thread,
    reply_to: int | None,
    send: Callable[[int | None], Awaitable[T]],
) -> T:
    """`send(thread id)` where the post belongs; if the chosen topic is closed or gone, to
    General instead, and the admins hear of it there once. Telegram's errors propagate."""
    topic = await resolve(policy, chat_id, thread, reply_to)
    try:
        return await send(topic)
    except TelegramBadRequest as error:
        if topic is None or not topic_gone(error):
            raise
        log.warning("topic %s of chat %s refused a post: %s", topic, chat_id, error.message)
    sent = await send(None)
    try:  # the post itself is out: a failing notice must not fail (or repeat) it
        notice = await policy.lost(chat_id, topic) if policy is not None else None
        if notice is not None:
            await bot.send_message(chat_id, notice)
    except TelegramAPIError as error:
        log.warning("could not tell chat %s its topic is gone: %s", chat_id, error.message)
    except Exception:
        log.exception("could not record that topic %s of chat %s is gone", topic, chat_id)
    return sent
