"""Circles: `/circle add|del|link` (admins), `/circle join|leave|propose` (members),
`/circles` (the list in a group, the toggle list in private), `/call name text` and
`#name` in a group message; the buttons of the toggle list, proposals and dormancy notes."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.context import Hearth
from bot.convert import thread_of
from bot.services.circles import Added, Call, Called, CallResult, Menu, Proposed, Supported
from bot.views import circles as views
from bot.views import common as common_views
from bot.views.callbacks import CircleClose, CircleDelivery, CircleSupport, CircleToggle
from handlers.common import commands_only, passing, reply, reply_lines
from handlers.filters import GROUP_TYPES, InGroup, precheck, private_chat, sender_is_admin

ADMIN_OPS = ("add", "del", "link")


@precheck
async def hashtag_message(message: Message) -> bool:
    """A group message that may call a circle: the cheap test on the per-message path."""
    text = message.text or message.caption or ""
    return "#" in text and message.chat.type in GROUP_TYPES and not text.startswith("/")


def build_router() -> Router:
    router = Router(name="circles")
    commands = commands_only(Router(name="circles-commands"))
    router.include_router(commands)
    commands.message.register(circles_in_private, Command("circles"), private_chat)
    commands.message.register(circles, Command("circles"), InGroup())
    commands.message.register(circle, Command("circle"), InGroup())
    commands.message.register(call, Command("call"), InGroup())
    router.message.register(passing(hashtags), hashtag_message)
    router.callback_query.register(on_toggle, CircleToggle.filter())
    router.callback_query.register(on_delivery, CircleDelivery.filter())
    router.callback_query.register(on_support, CircleSupport.filter())
    router.callback_query.register(on_close, CircleClose.filter())
    return router


async def circles(message: Message, hearth: Hearth, lang: str) -> None:
    """The chat's circles with their member counts."""
    listed = await hearth.circles.book.listing(message.chat.id)
    await reply_lines(hearth, message, views.listing(lang, listed))


async def circles_in_private(message: Message, hearth: Hearth, lang: str) -> None:
    """The toggle list of each chat the person is in that has circles."""
    if message.from_user is None:
        return
    menus = await hearth.circles.book.menus(message.from_user.id)
    if not menus:
        await reply(hearth, message, views.say(lang, "none_private"))
    for menu in menus:
        text, keyboard = views.menu(lang, menu)
        await hearth.notifier.send(message.chat.id, text, keyboard)


async def circle(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """`/circle <op> <name> [...]`: admins' operations are checked against Telegram."""
    op, _, rest = (command.args or "").strip().partition(" ")
    name, _, more = rest.strip().partition(" ")
    op = op.lower()
    if not name or op not in (*ADMIN_OPS, "join", "leave", "propose"):
        await reply(hearth, message, views.say(lang, "usage"))
        return
    if op in ADMIN_OPS:  # anonymous admins too: sender_is_admin knows their sender chat
        if not await sender_is_admin(hearth, message):
            await reply(hearth, message, common_views.not_admin(lang))
            return
    elif message.from_user is None or message.sender_chat is not None:
        return  # joining, leaving and proposing are a person's own
    await OPS[op](message, hearth, lang, name, more.strip())


async def _add(message: Message, hearth: Hearth, lang: str, name: str, about: str) -> None:
    forum = bool(message.chat.is_forum)
    added, made = await hearth.circles.book.add(message.chat.id, name, about or None, forum)
    if added is Added.ADDED and made is not None:
        key = "added_topic" if made.topic is not None else "added"
        await reply(hearth, message, views.say(lang, key, name=name))
    elif added is Added.BAD_NAME:
        await reply(hearth, message, views.say(lang, "bad_name", name=name))
    else:
        await reply(hearth, message, views.say(lang, "duplicate", name=name))


async def _unknown(message: Message, hearth: Hearth, lang: str, name: str) -> None:
    listed = await hearth.circles.book.listing(message.chat.id)
    await reply_lines(hearth, message, views.unknown(lang, name, listed))


async def _delete(message: Message, hearth: Hearth, lang: str, name: str, _: str) -> None:
    if await hearth.circles.book.delete(message.chat.id, name):
        await reply(hearth, message, views.say(lang, "deleted", name=name))
    else:
        await _unknown(message, hearth, lang, name)


async def _link(message: Message, hearth: Hearth, lang: str, name: str, _: str) -> None:
    thread = thread_of(message)
    if thread is None:  # General, or not a forum: nothing to bind
        await reply(hearth, message, views.say(lang, "link_in_topic"))
    elif await hearth.circles.book.link(message.chat.id, name, thread):
        await reply(hearth, message, views.say(lang, "linked", name=name))
    else:
        await _unknown(message, hearth, lang, name)


async def _join(message: Message, hearth: Hearth, lang: str, name: str, _: str) -> None:
    assert message.from_user is not None
    joined = await hearth.circles.book.join(message.chat.id, message.from_user.id, name)
    if joined is None:
        await _unknown(message, hearth, lang, name)
    else:
        await reply(
            hearth, message, views.say(lang, "joined" if joined else "already_in", name=name)
        )


async def _leave(message: Message, hearth: Hearth, lang: str, name: str, _: str) -> None:
    assert message.from_user is not None
    left = await hearth.circles.book.leave(message.chat.id, message.from_user.id, name)
    if left is None:
        await _unknown(message, hearth, lang, name)
    else:
        await reply(hearth, message, views.say(lang, "left" if left else "not_in", name=name))


async def _propose(message: Message, hearth: Hearth, lang: str, name: str, _: str) -> None:
    assert message.from_user is not None
    proposed = await hearth.circles.proposals.propose(
        message.chat.id, message.from_user.id, name, thread_of(message)
    )
    if proposed is not Proposed.POSTED:
        await reply(hearth, message, views.say(lang, f"propose_{proposed.value}", name=name))


OPS = {
    "add": _add,
    "del": _delete,
    "link": _link,
    "join": _join,
    "leave": _leave,
    "propose": _propose,
}


async def _answer_call(
    hearth: Hearth, message: Message, lang: str, name: str, result: CallResult
) -> None:
    """A refused call: the caller hears why privately; the group sees nothing."""
    assert message.from_user is not None
    if result.outcome is Called.TOO_SOON and result.until is not None:
        zone = (await hearth.chat_settings.get(message.chat.id)).timezone
        text = views.too_soon(lang, name, result.until, zone)
        await hearth.notifier.send(message.from_user.id, text)
    elif result.outcome is Called.NOT_ALLOWED:
        await hearth.notifier.send(message.from_user.id, views.say(lang, "not_allowed", name=name))


def _call_of(message: Message, text: str | None = None) -> Call | None:
    if message.from_user is None or message.sender_chat is not None:
        return None
    return Call(message.chat.id, message.from_user.id, message.message_id, thread_of(message), text)


async def call(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """`/call name text`: an unknown name is answered with the list of circles."""
    name, _, text = (command.args or "").strip().partition(" ")
    made = _call_of(message, text.strip() or None)
    if not name or made is None:
        await reply(hearth, message, views.say(lang, "call_usage"))
        return
    result = await hearth.circles.calls.call(made, name.lstrip("#"))
    if result.outcome is Called.UNKNOWN:
        await _unknown(message, hearth, lang, name)
    elif result.outcome is Called.TOO_LONG:  # nothing was used up: shorten and call again
        await reply(hearth, message, views.call_too_long(lang))
    else:
        await _answer_call(hearth, message, lang, name, result)


async def hashtags(message: Message, hearth: Hearth, lang: str) -> None:
    """`#name` in an ordinary message calls the circle (hashtags naming none are words).
    Only a call over its limit is answered (privately): from someone outside the circle
    `#name` is an ordinary hashtag, not a call to refuse."""
    made = _call_of(message)
    if made is None:
        return
    text = message.text or message.caption or ""
    for name, result in await hearth.circles.hashtags(made, text):
        if result.outcome is Called.TOO_SOON:
            await _answer_call(hearth, message, lang, name, result)


async def _edit_menu(query: CallbackQuery, hearth: Hearth, lang: str, menu: Menu | None) -> None:
    if menu is None:
        await hearth.notifier.answer(query.id, views.say(lang, "gone"), alert=True)
        return
    await hearth.notifier.answer(query.id, "")
    if query.message is not None:
        text, keyboard = views.menu(lang, menu)
        await hearth.notifier.edit(query.from_user.id, query.message.message_id, text, keyboard)


async def on_toggle(
    query: CallbackQuery, callback_data: CircleToggle, hearth: Hearth, lang: str
) -> None:
    menu = await hearth.circles.book.toggle(callback_data.circle_id, query.from_user.id)
    await _edit_menu(query, hearth, lang, menu)


async def on_delivery(
    query: CallbackQuery, callback_data: CircleDelivery, hearth: Hearth, lang: str
) -> None:
    book = hearth.circles.book
    menu = await book.set_delivery(callback_data.chat_id, query.from_user.id, callback_data.how)
    if menu is not None and not menu.mine:  # the choice is kept with each circle joined
        await hearth.notifier.answer(query.id, views.say(lang, "delivery_first"), alert=True)
        return
    await _edit_menu(query, hearth, lang, menu)


async def on_support(
    query: CallbackQuery, callback_data: CircleSupport, hearth: Hearth, lang: str
) -> None:
    """ "I'm in" under a proposal (the post itself is updated by the service)."""
    support = await hearth.circles.proposals.support(callback_data.circle_id, query.from_user.id)
    text = views.say(
        lang, f"support_{support.outcome.value}", n=support.count, quorum=support.quorum
    )
    await hearth.notifier.answer(query.id, text, alert=support.outcome is Supported.NOT_MEMBER)


async def on_close(
    query: CallbackQuery, callback_data: CircleClose, hearth: Hearth, lang: str
) -> None:
    """An admin closes a dormant circle: admin rights are checked again on press."""
    book = hearth.circles.book
    found = await book.chat_of(callback_data.circle_id)
    if found is None:
        await hearth.notifier.answer(query.id, views.say(lang, "gone"))
        return
    if not await hearth.admins.is_admin(found, query.from_user.id):
        await hearth.notifier.answer(query.id, common_views.not_admin(lang), alert=True)
        return
    closed = await book.close(callback_data.circle_id)
    name = closed[1] if closed is not None else ""
    await hearth.notifier.answer(query.id, views.say(lang, "closed", name=name))
