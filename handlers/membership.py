"""Joins, leaves, join requests and the bot's own membership."""

from __future__ import annotations

from aiogram import Router
from aiogram.enums import ChatMemberStatus
from aiogram.filters import IS_MEMBER, IS_NOT_MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatJoinRequest, ChatMemberAdministrator, ChatMemberUpdated, Message

from bot.context import Hearth
from bot.convert import chat_ref, is_upgrade, person
from bot.services.chats import NEEDED_RIGHTS
from bot.views import onboarding as views
from handlers.common import group_joined, group_left
from handlers.filters import GROUP_TYPES, precheck

ADMIN_STATUSES = {ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.CREATOR}
GONE = (ChatMemberStatus.LEFT, ChatMemberStatus.KICKED)


async def in_group(event: ChatMemberUpdated) -> bool:
    return event.chat.type in GROUP_TYPES


async def bot_membership(event: ChatMemberUpdated, hearth: Hearth) -> None:
    """The bot was added, promoted, demoted or removed: register the chat, check rights."""
    new = event.new_chat_member
    chat = chat_ref(event.chat)
    if new.status in GONE:
        await hearth.chats.bot_removed(chat.id)
        await hearth.admins.admin_changed(chat.id)
        return
    was_in = event.old_chat_member.status not in GONE
    await hearth.chats.bot_added(chat)
    await hearth.admins.admin_changed(chat.id)
    language = (await hearth.chat_settings.get(chat.id)).language
    if isinstance(new, ChatMemberAdministrator):
        missing = [right for right in NEEDED_RIGHTS if not getattr(new, right, False)]
        if missing:
            await hearth.requests.warn_missing_rights(chat.id, missing, force=True)
        elif not was_in or event.old_chat_member.status != ChatMemberStatus.ADMINISTRATOR:
            await hearth.notifier.send(chat.id, views.rights_ok(language))
    elif not was_in:
        await hearth.notifier.send(chat.id, views.rights_not_admin(language, list(NEEDED_RIGHTS)))


async def joined(event: ChatMemberUpdated, hearth: Hearth) -> None:
    new = event.new_chat_member
    if new.status in ADMIN_STATUSES:
        await hearth.admins.admin_changed(event.chat.id)
    await hearth.onboarding.on_join(
        chat_ref(event.chat),
        person(new.user),
        privileged=new.status in ADMIN_STATUSES,
        joined_at=event.date,
    )


async def left(event: ChatMemberUpdated, hearth: Hearth) -> None:
    if event.old_chat_member.status in ADMIN_STATUSES:
        await hearth.admins.admin_changed(event.chat.id)
    user_id = event.new_chat_member.user.id
    removed = event.new_chat_member.status == ChatMemberStatus.KICKED or (
        event.from_user.id != user_id
    )
    await hearth.onboarding.on_leave(event.chat.id, user_id, removed=removed)


async def changed(event: ChatMemberUpdated, hearth: Hearth) -> None:
    """Any other change: only an admin list that may have changed matters."""
    statuses = {event.old_chat_member.status, event.new_chat_member.status}
    if statuses & ADMIN_STATUSES:
        await hearth.admins.admin_changed(event.chat.id)


async def joined_message(message: Message, hearth: Hearth) -> None:
    """Fallback for chats where chat_member updates don't reach the bot."""
    chat = chat_ref(message.chat)
    for user in message.new_chat_members or []:
        if message.bot is not None and user.id == message.bot.id:
            continue
        await hearth.onboarding.on_join(chat, person(user), joined_at=message.date)


async def left_message(message: Message, hearth: Hearth) -> None:
    if message.left_chat_member is not None:
        gone = message.left_chat_member.id
        removed = message.from_user is not None and message.from_user.id != gone
        await hearth.onboarding.on_leave(message.chat.id, gone, removed=removed)


async def group_upgraded(message: Message, hearth: Hearth) -> None:
    """The group became a supergroup: its state moves to the new id. Telegram says so in
    both chats (the old one with `migrate_to_chat_id`, the new one with
    `migrate_from_chat_id`); whichever comes first moves it, the other finds it moved."""
    if message.migrate_to_chat_id is not None:
        old_id, new_id = message.chat.id, message.migrate_to_chat_id
    else:
        assert message.migrate_from_chat_id is not None
        old_id, new_id = message.migrate_from_chat_id, message.chat.id
    await hearth.upgrades.upgraded(old_id, new_id, message.chat.title or "")


async def join_request(request: ChatJoinRequest, hearth: Hearth) -> None:
    await hearth.onboarding.on_join_request(
        chat_ref(request.chat), person(request.from_user), request.user_chat_id
    )


def build_router() -> Router:
    router = Router(name="membership")
    router.my_chat_member.register(bot_membership, in_group)
    router.chat_member.register(
        joined, in_group, ChatMemberUpdatedFilter(IS_NOT_MEMBER >> IS_MEMBER)
    )
    router.chat_member.register(left, in_group, ChatMemberUpdatedFilter(IS_MEMBER >> IS_NOT_MEMBER))
    router.chat_member.register(changed, in_group)
    router.message.register(joined_message, group_joined)
    router.message.register(left_message, group_left)
    router.message.register(group_upgraded, precheck(is_upgrade))
    router.chat_join_request.register(join_request)
    return router
