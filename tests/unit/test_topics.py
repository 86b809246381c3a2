"""Posting to a forum's chosen topic: the fallback to General never repeats a post."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import SendMessage

from bot.topics import CHOSEN, to_topic


class BrokenPolicy:
    """Chose topic 7; recording that it is gone fails (say, the database is down)."""

    async def topic(self, chat_id: int) -> int | None:
        return 7

    async def lost(self, chat_id: int, thread: int) -> str | None:
        raise RuntimeError("database is down")


async def test_a_post_that_fell_back_to_general_is_not_failed_by_its_notice() -> None:
    threads: list[int | None] = []

    async def send(thread: int | None) -> str:
        threads.append(thread)
        if thread is not None:
            method = SendMessage(chat_id=-100, text="post", message_thread_id=thread)
            raise TelegramBadRequest(method=method, message="Bad Request: TOPIC_CLOSED")
        return "sent"

    bot: Any = None  # never used: the notice is not reached
    assert await to_topic(bot, BrokenPolicy(), -100, CHOSEN, None, send) == "sent"
    assert threads == [7, None]  # once to the topic, once to General, never again


@pytest.mark.parametrize("thread", [None, 5])
async def test_an_explicit_thread_is_kept(thread: int | None) -> None:
    seen: list[int | None] = []

    async def send(value: int | None) -> None:
        seen.append(value)

    await to_topic(None, BrokenPolicy(), -100, thread, None, send)  # type: ignore[arg-type]
    assert seen == [thread]
