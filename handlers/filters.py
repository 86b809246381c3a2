"""Where a command may be used and by whom, as aiogram filters that explain a refusal.

A refusing filter answers the sender (why not, and what to do instead) and returns False, so
the handler does not run. They are coroutines, like every filter on the per-message path:
aiogram runs plain callables in a worker thread. Put them after the `Command(...)` filter, so
they are only consulted for the command they guard.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram.filters import Filter
from aiogram.types import Message

from bot.commands import ALL_COMMANDS
from bot.context import Hearth
from bot.convert import thread_of
from bot.middlewares.language import reply_language
from bot.views import common as views

GROUP_TYPES = ("group", "supergroup")

MessageCheck = Callable[[Message], Awaitable[bool]]
PRECHECKS: set[MessageCheck] = set()
"""Filters that look at the message alone (no I/O, no side effects, no data for handlers):
`handlers.build_router` may ask them before a message enters a router, to pass over routers
that could not take it without aiogram's per-router work."""


def precheck(check: MessageCheck) -> MessageCheck:
    """Mark a filter as one that may be asked ahead (see PRECHECKS)."""
    PRECHECKS.add(check)
    return check


@precheck
async def private_chat(message: Message) -> bool:
    """A private chat with the bot. Not refusing: elsewhere the next handler of the command
    decides (InPrivate is the refusing form)."""
    return message.chat.type == "private"


async def _refuse(
    hearth: Hearth, message: Message, refusal: Callable[[str], str], lang: str | None
) -> bool:
    # filters usually run before the inner language middleware has set `lang`: then the
    # language is looked up here, and only when there is something to say
    if lang is None:
        lang = await reply_language(hearth, message)
    await hearth.notifier.send(
        message.chat.id, refusal(lang), reply_to=message.message_id, thread=thread_of(message)
    )
    return False


async def sender_is_admin(hearth: Hearth, message: Message) -> bool:
    """A Telegram admin of the chat (anonymous admins included) or a configured owner;
    asked every time, never remembered past the notifier's short cache."""
    user_id = message.from_user.id if message.from_user else 0
    sender_chat = message.sender_chat.id if message.sender_chat else None
    return await hearth.admins.is_admin(message.chat.id, user_id, sender_chat)


class InGroup(Filter):
    """Only in a group; elsewhere the sender is told to use it in a group."""

    async def __call__(self, message: Message, hearth: Hearth, lang: str | None = None) -> bool:
        if message.chat.type in GROUP_TYPES:
            return True
        return await _refuse(hearth, message, views.group_only, lang)


class InPrivate(Filter):
    """Only in a private chat with the bot; elsewhere the sender is told so."""

    def __init__(self, refusal: Callable[[str], str] = views.private_only) -> None:
        self.refusal = refusal

    async def __call__(self, message: Message, hearth: Hearth, lang: str | None = None) -> bool:
        if await private_chat(message):
            return True
        return await _refuse(hearth, message, self.refusal, lang)


class GroupAdmin(Filter):
    """Only an admin of this group (or an owner from OWNER_IDS), checked on every use."""

    async def __call__(self, message: Message, hearth: Hearth, lang: str | None = None) -> bool:
        if message.chat.type not in GROUP_TYPES:
            return await _refuse(hearth, message, views.group_only, lang)
        if not await sender_is_admin(hearth, message):
            return await _refuse(hearth, message, views.not_admin, lang)
        return True


KNOWN_COMMANDS = frozenset({"start", *ALL_COMMANDS})


@precheck
async def unknown_private_command(message: Message) -> bool:
    """A command in a private chat that the bot does not have at all (a known command that a
    refusing filter turned away has been answered already)."""
    text = message.text or ""
    if message.chat.type != "private" or not text.startswith("/"):
        return False
    name = text[1:].split(maxsplit=1)[0].partition("@")[0].lower() if len(text) > 1 else ""
    return name not in KNOWN_COMMANDS
