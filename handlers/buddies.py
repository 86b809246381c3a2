"""Buddy commands: /volunteer, /interests, /buddy, /setbuddy, /buddies, and follow-up buttons."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.context import Hearth
from bot.convert import person
from bot.i18n import format_moment
from bot.services.people import Person
from bot.views import buddies as views
from bot.views import common
from bot.views.callbacks import BuddyFollowup
from handlers.common import commands_only, reply, reply_lines, resolve_target
from handlers.filters import GROUP_TYPES, GroupAdmin, InGroup, sender_is_admin

OFF_WORDS = ("off", "выкл")
CLEAR_WORDS = ("off", "clear", "-")
CHANGE_WORDS = ("change", "сменить")


async def volunteer(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """/volunteer (yourself), /volunteer @someone or as a reply (admins), /volunteer off."""
    if message.from_user is None:
        await reply(hearth, message, common.group_only(lang))
        return
    args = (command.args or "").strip()
    chat_id = message.chat.id
    if args.lower() in OFF_WORDS:
        left = await hearth.buddies.leave_pool(chat_id, message.from_user.id)
        await reply(hearth, message, views.volunteer_off(lang, left))
        return
    target: Person = person(message.from_user)
    added_by: int | None = None
    if args or (message.reply_to_message is not None and message.reply_to_message.from_user):
        if not await sender_is_admin(hearth, message):
            await reply(hearth, message, common.not_admin(lang))
            return
        found = await resolve_target(hearth, message, args)
        if found is None:
            await reply(hearth, message, common.unknown_target(lang))
            return
        target, added_by = found, message.from_user.id
    result = await hearth.buddies.volunteer(chat_id, target, added_by)
    eligible = None
    if result.eligible_at is not None:
        zone = (await hearth.chat_settings.get(chat_id)).timezone
        eligible = format_moment(lang, result.eligible_at, zone)
    await reply(
        hearth, message, views.volunteer_result(lang, result.outcome, target.mention, eligible)
    )


async def interests(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    if message.from_user is None:
        return
    text = (command.args or "").strip()
    user_id = message.from_user.id
    if not text:
        current = await hearth.buddies.interests(user_id)
        await reply(hearth, message, views.interests_usage(lang, current))
        return
    await hearth.directory.remember(person(message.from_user))
    if text.lower() in CLEAR_WORDS:
        await hearth.buddies.set_interests(user_id, "")
        await reply(hearth, message, views.interests_cleared(lang))
        return
    tags = await hearth.buddies.set_interests(user_id, text)
    await reply(
        hearth,
        message,
        views.interests_saved(lang, tags) if tags else views.interests_usage(lang, []),
    )


async def buddy(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """/buddy shows your pair; /buddy change <reason> asks for someone else. In private:
    the pairs of every chat (one handler, so the group-only refusal never comes first)."""
    if message.chat.type == "private":
        await buddy_private(message, command, hearth, lang)
        return
    if message.from_user is None or message.chat.type not in GROUP_TYPES:
        await reply(hearth, message, common.group_only(lang))
        return
    chat_id, user_id = message.chat.id, message.from_user.id
    word, _, reason = (command.args or "").strip().partition(" ")
    if word.lower() in CHANGE_WORDS:
        outcome = await hearth.buddies.change(chat_id, user_id, reason)
        await reply(hearth, message, views.change_result(lang, outcome))
        return
    view = await hearth.buddies.view(chat_id, user_id)
    text = views.buddy_view(lang, view.buddy, view.newcomers, view.waiting, view.volunteer)
    await reply(hearth, message, text)


async def buddy_private(
    message: Message, command: CommandObject, hearth: Hearth, lang: str
) -> None:
    """/buddy in private: the person's buddy and newcomers in every chat, as /me shows."""
    if message.from_user is None:
        return
    if (command.args or "").strip().partition(" ")[0].lower() in CHANGE_WORDS:
        await reply(hearth, message, views.change_in_group(lang))
        return
    chats = await hearth.buddies.everywhere(message.from_user.id)
    await reply_lines(hearth, message, views.buddy_everywhere(lang, chats))


async def set_buddy(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """Reply `/setbuddy @buddy` to the newcomer's message."""
    replied = message.reply_to_message
    args = (command.args or "").strip()
    if replied is None or replied.from_user is None or replied.from_user.is_bot or not args:
        await reply(hearth, message, views.setbuddy_usage(lang))
        return
    chosen = await resolve_target(hearth, message, args)
    if chosen is None:
        await reply(hearth, message, common.unknown_target(lang))
        return
    newcomer = person(replied.from_user)
    if not await hearth.buddies.set_buddy(message.chat.id, newcomer, chosen):
        await reply(hearth, message, views.setbuddy_failed(lang))
        return
    await reply(hearth, message, views.setbuddy_done(lang, chosen, newcomer))


async def overview(message: Message, hearth: Hearth, lang: str) -> None:
    data = await hearth.buddies.overview(message.chat.id)
    zone = (await hearth.chat_settings.get(message.chat.id)).timezone
    lines = views.overview(lang, zone, data.pairs, data.loads, data.waiting)
    await reply_lines(hearth, message, lines)


async def followup(
    query: CallbackQuery, callback_data: BuddyFollowup, hearth: Hearth, lang: str
) -> None:
    answer = await hearth.buddies.followup_answer(
        callback_data.chat_id, query.from_user.id, callback_data.answer == "y"
    )
    text = views.followup_answer(lang, answer)
    await hearth.notifier.answer(query.id, text[:200])
    if query.message is not None:
        await hearth.notifier.edit(query.message.chat.id, query.message.message_id, text)


def build_router() -> Router:
    router = commands_only(Router(name="buddies"))
    router.message.register(volunteer, Command("volunteer"), InGroup())
    router.message.register(interests, Command("interests"))
    router.message.register(buddy, Command("buddy"))
    router.message.register(set_buddy, Command("setbuddy"), GroupAdmin())
    router.message.register(overview, Command("buddies"), GroupAdmin())
    router.callback_query.register(followup, BuddyFollowup.filter())
    return router
