"""Joins, leaves, join requests and the bot's own membership."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatMemberStatus
from aiogram.filters import IS_MEMBER, IS_NOT_MEMBER, ChatMemberUpdatedFilter
from aiogram.types import (
    ChatJoinRequest,
    ChatMemberAdministrator,
    ChatMemberUpdated,
    Message,
)

from bot.context import Hearth
from bot.convert import chat_ref, person
from bot.i18n import t
from bot.services.chats import NEEDED_RIGHTS
from handlers.common import group_joined, group_left

ADMIN_STATUSES = {ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.CREATOR}
GROUPS = F.chat.type.in_({"group", "supergroup"})


def build_router() -> Router:
    router = Router(name="membership")

    @router.my_chat_member(GROUPS)
    async def bot_membership(event: ChatMemberUpdated, hearth: Hearth) -> None:
        new = event.new_chat_member
        chat = chat_ref(event.chat)
        if new.status in (ChatMemberStatus.LEFT, ChatMemberStatus.KICKED):
            await hearth.chats.bot_removed(chat.id)
            hearth.admins.admin_changed(chat.id)
            return
        was_in = event.old_chat_member.status not in (
            ChatMemberStatus.LEFT,
            ChatMemberStatus.KICKED,
        )
        await hearth.chats.bot_added(chat)
        hearth.admins.admin_changed(chat.id)
        language = (await hearth.chat_settings.get(chat.id)).language
        if isinstance(new, ChatMemberAdministrator):
            missing = [right for right in NEEDED_RIGHTS if not getattr(new, right, False)]
            if missing:
                await hearth.onboarding.warn_missing_rights(chat.id, missing, force=True)
            elif not was_in or event.old_chat_member.status != ChatMemberStatus.ADMINISTRATOR:
                await hearth.notifier.send(chat.id, t(language, "rights.ok"))
        elif not was_in:
            rights = "\n".join(f"• {t(language, 'rights.' + right)}" for right in NEEDED_RIGHTS)
            await hearth.notifier.send(chat.id, t(language, "rights.not_admin", rights=rights))

    @router.chat_member(GROUPS, ChatMemberUpdatedFilter(IS_NOT_MEMBER >> IS_MEMBER))
    async def joined(event: ChatMemberUpdated, hearth: Hearth) -> None:
        new = event.new_chat_member
        if new.status in ADMIN_STATUSES:
            hearth.admins.admin_changed(event.chat.id)
        await hearth.onboarding.on_join(
            chat_ref(event.chat),
            person(new.user),
            privileged=new.status in ADMIN_STATUSES,
            joined_at=event.date,
        )

    @router.chat_member(GROUPS, ChatMemberUpdatedFilter(IS_MEMBER >> IS_NOT_MEMBER))
    async def left(event: ChatMemberUpdated, hearth: Hearth) -> None:
        if event.old_chat_member.status in ADMIN_STATUSES:
            hearth.admins.admin_changed(event.chat.id)
        await hearth.onboarding.on_leave(event.chat.id, event.new_chat_member.user.id)

    @router.chat_member(GROUPS)
    async def changed(event: ChatMemberUpdated, hearth: Hearth) -> None:
        statuses = {event.old_chat_member.status, event.new_chat_member.status}
        if statuses & ADMIN_STATUSES:
            hearth.admins.admin_changed(event.chat.id)

    @router.message(group_joined)
    async def joined_message(message: Message, hearth: Hearth) -> None:
        """Fallback for chats where chat_member updates don't reach the bot."""
        chat = chat_ref(message.chat)
        for user in message.new_chat_members or []:
            if message.bot is not None and user.id == message.bot.id:
                continue
            await hearth.onboarding.on_join(chat, person(user), joined_at=message.date)

    @router.message(group_left)
    async def left_message(message: Message, hearth: Hearth) -> None:
        if message.left_chat_member is not None:
            await hearth.onboarding.on_leave(message.chat.id, message.left_chat_member.id)

    @router.chat_join_request()
    async def join_request(request: ChatJoinRequest, hearth: Hearth) -> None:
        await hearth.onboarding.on_join_request(
            chat_ref(request.chat), person(request.from_user), request.user_chat_id
        )

    return router
