"""Admin and membership calls of the notifier: holding, muting, removing and banning
people, join requests, and the chat's admins and default permissions (both cached), with
Telegram's errors turned into plain results."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    ChatPermissions,
)

from bot.clock import Timer
from bot.expiring import Expiring

ADMIN_CACHE_TTL = 300.0
HELD = ChatPermissions(
    can_send_messages=False,
    can_send_audios=False,
    can_send_documents=False,
    can_send_photos=False,
    can_send_videos=False,
    can_send_video_notes=False,
    can_send_voice_notes=False,
    can_send_polls=False,
    can_send_other_messages=False,
    can_add_web_page_previews=False,
    can_change_info=False,
    can_invite_users=False,
    can_pin_messages=False,
    can_manage_topics=False,
)
MEMBER_DEFAULT = ChatPermissions(
    can_send_messages=True,
    can_send_audios=True,
    can_send_documents=True,
    can_send_photos=True,
    can_send_videos=True,
    can_send_video_notes=True,
    can_send_voice_notes=True,
    can_send_polls=True,
    can_send_other_messages=True,
    can_add_web_page_previews=True,
    can_invite_users=True,
)


class Outcome(StrEnum):
    """What came of a moderation call."""

    DONE = "done"
    NO_RIGHTS = "no_rights"
    TARGET_ADMIN = "target_admin"
    NOT_SUPERGROUP = "not_supergroup"
    FAILED = "failed"


def _outcome(error: TelegramAPIError) -> Outcome:
    text = str(error.message).lower()
    if "not enough rights" in text or "chat_admin_required" in text:
        return Outcome.NO_RIGHTS
    if "administrator" in text or "chat owner" in text:
        return Outcome.TARGET_ADMIN
    if "supergroup" in text:
        return Outcome.NOT_SUPERGROUP
    return Outcome.FAILED


class TelegramUnavailable(Exception):
    """Telegram did not answer usefully (5xx, network, long 429) even after retries."""


def transient(error: TelegramAPIError) -> bool:
    """An outage (5xx, network, long 429), not a refusal: worth trying again later."""
    return not isinstance(error, TelegramBadRequest | TelegramForbiddenError)


class MemberCalls:
    """Restrictions, removals, join requests and admin lists for the notifier."""

    bot: Bot
    _timer: Timer
    _admins: Expiring[int, frozenset[int] | None]
    _permissions: dict[int, tuple[float, ChatPermissions]]

    async def _failed(self, what: str, chat_id: int, error: TelegramAPIError) -> None:
        raise NotImplementedError  # the notifier classifies and logs the failure

    async def hold(self, chat_id: int, user_id: int) -> bool:
        """Restrict a person from sending anything; False if Telegram refused (no rights).

        Raises TelegramUnavailable on an outage.
        """
        try:
            await self.bot.restrict_chat_member(
                chat_id, user_id, HELD, use_independent_chat_permissions=True
            )
        except TelegramAPIError as error:
            await self._failed("restrictChatMember", chat_id, error)
            if transient(error):
                raise TelegramUnavailable(str(error)) from error
            return False
        return True

    async def release(self, chat_id: int, user_id: int) -> bool:
        """Give a person the chat's default permissions back; False if Telegram refused."""
        return await self.unmute(chat_id, user_id) == Outcome.DONE

    async def expel(self, chat_id: int, user_id: int, now: datetime) -> Outcome:
        """Remove a person without a lasting ban, saying why it failed.

        Raises TelegramUnavailable on an outage (5xx, timeout), so the caller can retry.
        """
        try:
            await self.bot.ban_chat_member(chat_id, user_id, until_date=now + timedelta(minutes=1))
            await self.bot.unban_chat_member(chat_id, user_id, only_if_banned=True)
        except TelegramAPIError as error:
            await self._failed("banChatMember", chat_id, error)
            if transient(error):
                raise TelegramUnavailable(str(error)) from error
            return _outcome(error)
        return Outcome.DONE

    async def mute(self, chat_id: int, user_id: int, until: datetime | None) -> Outcome:
        """Stop a person from sending anything until `until` (None: until lifted)."""
        try:
            await self.bot.restrict_chat_member(
                chat_id, user_id, HELD, use_independent_chat_permissions=True, until_date=until
            )
        except TelegramAPIError as error:
            await self._failed("restrictChatMember", chat_id, error)
            return _outcome(error)
        return Outcome.DONE

    async def unmute(self, chat_id: int, user_id: int) -> Outcome:
        """Give a person the chat's default permissions back, saying why it failed."""
        permissions = await self._chat_permissions(chat_id)
        try:
            await self.bot.restrict_chat_member(
                chat_id, user_id, permissions, use_independent_chat_permissions=True
            )
        except TelegramAPIError as error:
            await self._failed("restrictChatMember", chat_id, error)
            return _outcome(error)
        return Outcome.DONE

    async def ban(self, chat_id: int, user_id: int, until: datetime | None) -> Outcome:
        """Ban until `until` (None: for good)."""
        try:
            await self.bot.ban_chat_member(chat_id, user_id, until_date=until)
        except TelegramAPIError as error:
            await self._failed("banChatMember", chat_id, error)
            return _outcome(error)
        return Outcome.DONE

    async def unban(self, chat_id: int, user_id: int) -> Outcome:
        try:
            await self.bot.unban_chat_member(chat_id, user_id, only_if_banned=True)
        except TelegramAPIError as error:
            await self._failed("unbanChatMember", chat_id, error)
            return _outcome(error)
        return Outcome.DONE

    async def kick(self, chat_id: int, user_id: int, now: datetime) -> Outcome:
        """Remove a person who may come back: ban, then unban at once."""
        outcome = await self.ban(chat_id, user_id, now + timedelta(minutes=1))
        if outcome is Outcome.DONE:
            await self.unban(chat_id, user_id)
        return outcome

    async def approve_request(self, chat_id: int, user_id: int) -> bool:
        """Approve a join request; False when Telegram refused it (e.g. no such request).
        True also when they are in the chat already (approved by an admin meanwhile).

        Raises TelegramUnavailable on an outage: the request may still be pending."""
        try:
            await self.bot.approve_chat_join_request(chat_id, user_id)
        except TelegramAPIError as error:
            if "user_already_participant" in str(error.message).lower():
                return True
            await self._failed("approveChatJoinRequest", chat_id, error)
            if transient(error):
                raise TelegramUnavailable(str(error)) from error
            return False
        return True

    async def decline_request(self, chat_id: int, user_id: int) -> bool:
        try:
            await self.bot.decline_chat_join_request(chat_id, user_id)
        except TelegramAPIError as error:
            await self._failed("declineChatJoinRequest", chat_id, error)
            return False
        return True

    async def admins(self, chat_id: int) -> frozenset[int] | None:
        """Ids of the chat's administrators, cached for 5 minutes; None if unknown. When the
        list runs out under a burst, one call to Telegram serves every update waiting."""
        return await self._admins.get(chat_id, lambda: self._ask_admins(chat_id))

    async def _ask_admins(self, chat_id: int) -> frozenset[int] | None:
        try:
            members = await self.bot.get_chat_administrators(chat_id)
        except TelegramAPIError as error:
            await self._failed("getChatAdministrators", chat_id, error)
            return None
        return frozenset(
            m.user.id for m in members if isinstance(m, ChatMemberAdministrator | ChatMemberOwner)
        )

    async def in_chat(self, chat_id: int, user_id: int) -> bool | None:
        """Whether Telegram counts the person in the chat now; None if it would not say."""
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramAPIError as error:
            await self._failed("getChatMember", chat_id, error)
            return None
        if isinstance(member, ChatMemberRestricted):
            return member.is_member
        return isinstance(member, ChatMemberOwner | ChatMemberAdministrator | ChatMemberMember)

    def forget_admins(self, chat_id: int) -> None:
        self._admins.forget(chat_id)

    def clear_admins(self) -> None:
        """Forget every chat's cached admin list (changes may have gone unheard)."""
        self._admins.clear()

    async def _chat_permissions(self, chat_id: int) -> ChatPermissions:
        cached = self._permissions.get(chat_id)
        if cached and cached[0] > self._timer.monotonic():
            return cached[1]
        try:
            chat = await self.bot.get_chat(chat_id)
        except TelegramAPIError as error:
            await self._failed("getChat", chat_id, error)
            return MEMBER_DEFAULT
        permissions = chat.permissions or MEMBER_DEFAULT
        self._permissions[chat_id] = (self._timer.monotonic() + ADMIN_CACHE_TTL, permissions)
        return permissions
