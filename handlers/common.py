"""Small helpers shared by command handlers."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.types import Message

from bot.context import Hearth
from bot.convert import person, thread_of
from bot.notifier import split_lines
from bot.services.people import Person
from handlers.filters import GROUP_TYPES, precheck

# Filters on the per-message path are coroutine functions: aiogram runs plain callables,
# magic `F` filters included, in a worker thread, which costs more than the rule itself.


@precheck
async def looks_like_command(message: Message) -> bool:
    return (message.text or message.caption or "").startswith("/")


@precheck
async def group_joined(message: Message) -> bool:
    return message.chat.type in GROUP_TYPES and bool(message.new_chat_members)


@precheck
async def group_left(message: Message) -> bool:
    return message.chat.type in GROUP_TYPES and message.left_chat_member is not None


@precheck
async def private_text(message: Message) -> bool:
    """Plain text (not a command) in a private chat."""
    text = message.text or ""
    return message.chat.type == "private" and bool(text) and not text.startswith("/")


@precheck
async def successful_payment(message: Message) -> bool:
    return message.successful_payment is not None


@precheck
async def refunded_payment(message: Message) -> bool:
    return message.refunded_payment is not None


def passing(
    handler: Callable[..., Awaitable[None]],
) -> Callable[..., Awaitable[None]]:
    """For handlers of ordinary group messages that each take their part of one message
    (a circle's `#name`, a note's `#name`, a thanks reply, a newcomer's question): after this
    one, aiogram goes on to the next matching handler instead of stopping at the first."""

    @functools.wraps(handler)
    async def handle_and_pass(*args: Any, **kwargs: Any) -> None:
        await handler(*args, **kwargs)
        raise SkipHandler

    return handle_and_pass


COMMAND_ROUTERS: weakref.WeakSet[Router] = weakref.WeakSet()
"""Routers made by `commands_only`: `handlers.build_router` gathers them under one filter."""


def commands_only(router: Router) -> Router:
    """Let only messages that start with a command into the router's message handlers, so
    ordinary chat messages skip its command filters (they sit on the per-message path)."""
    router.message.filter(looks_like_command)
    COMMAND_ROUTERS.add(router)
    return router


async def reply(hearth: Hearth, message: Message, text: str) -> None:
    """Answer a command in the chat (and forum topic) it came from, as a reply to it."""
    await hearth.notifier.send(
        message.chat.id, text, reply_to=message.message_id, thread=thread_of(message)
    )


async def reply_lines(hearth: Hearth, message: Message, lines: list[str]) -> None:
    """Answer with a long listing, split between lines into messages Telegram accepts."""
    for number, chunk in enumerate(split_lines(lines)):
        if number == 0:
            await reply(hearth, message, chunk)
        else:
            await hearth.notifier.send(message.chat.id, chunk, thread=thread_of(message))


async def resolve_target(hearth: Hearth, message: Message, token: str) -> Person | None:
    """The person a command is about: `@username` or numeric id in `token`, else the replied-to
    message's author. None if unknown."""
    token = token.strip().split()[0] if token.strip() else ""
    if token.startswith("@"):
        return await hearth.trust.resolve_username(token)
    user_id = parse_user_id(token)
    if user_id is not None:
        return await hearth.trust.known_person(user_id)
    replied = message.reply_to_message
    if not token and replied is not None and replied.from_user and not replied.from_user.is_bot:
        return person(replied.from_user)
    return None


def parse_user_id(token: str) -> int | None:
    """A Telegram id written in ASCII digits and within range, else None."""
    if not token.isascii() or not token.isdigit() or len(token) > 15:
        return None
    return int(token)


def parse_chat_id(token: str) -> int | None:
    """A chat id such as -1001234567890, else None."""
    digits = token.removeprefix("-")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 16:
        return None
    return int(token)


async def admin_chats(hearth: Hearth, user_id: int) -> list[tuple[int, str]]:
    """The chats (id, title) the person is in and administers (asked of Telegram each time),
    for commands that offer a choice of chat in private. Owners (OWNER_IDS) get every chat
    the bot is in, members of it or not."""
    owner = user_id in hearth.admins.owner_ids
    return [
        (chat_id, title)
        for chat_id, title in await hearth.directory.chats_of(user_id, every=owner)
        if await hearth.admins.is_admin(chat_id, user_id)
    ]
