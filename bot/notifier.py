"""The one door out to Telegram for services and jobs.

Services pass plain values (ids, text, `Button`s) and get plain results; Telegram's
errors are classified here: 403 from a person marks them unreachable, "not found"
style 400s are harmless, everything else is logged with the method name.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    BufferedInputFile,
    ChatMemberAdministrator,
    ChatMemberOwner,
    ChatPermissions,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)

from bot.clock import SystemTimer, Timer
from bot.messages import (
    MESSAGE_LIMIT,
    Button,
    Keyboard,
    markup,
    plain_text,
    split_lines,
    utf16_length,
)
from bot.stars import StarsCalls, StarTx
from bot.topics import CHOSEN, Thread, TopicPolicy, to_topic

# re-exported: services and handlers import message values from here
__all__ = [
    "MESSAGE_LIMIT",
    "Button",
    "Keyboard",
    "Notifier",
    "Outcome",
    "StarTx",
    "TelegramUnavailable",
    "split_lines",
    "utf16_length",
]

log = logging.getLogger(__name__)

ADMIN_CACHE_TTL = 300.0
CHANNEL_CACHE_SIZE = 10_000
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


_HARMLESS = (
    "message to delete not found",
    "message to edit not found",
    "message is not modified",
    "message can't be deleted",
    "hide_requester_missing",
    "user_already_participant",
    "query is too old",
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


def _transient(error: TelegramAPIError) -> bool:
    return not isinstance(error, TelegramBadRequest | TelegramForbiddenError)


class Notifier(StarsCalls):
    """Telegram calls used by services and jobs, with errors turned into plain results."""

    def __init__(
        self,
        bot: Bot,
        on_unreachable: Callable[[int], Awaitable[None]],
        *,
        timer: Timer | None = None,
        topics: TopicPolicy | None = None,
    ) -> None:
        self.bot = bot
        self._topics = topics
        self._timer: Timer = timer if timer is not None else SystemTimer()
        self._on_unreachable = on_unreachable
        self._admins: dict[int, tuple[float, frozenset[int]]] = {}
        self._permissions: dict[int, tuple[float, ChatPermissions]] = {}
        self._channels: dict[str, tuple[float, bool]] = {}
        self.username: str = ""

    async def _failed(self, what: str, chat_id: int, error: TelegramAPIError) -> None:
        text = str(error.message).lower()
        if isinstance(error, TelegramForbiddenError) and chat_id > 0:
            log.info("%s: user %s cannot be reached (%s)", what, chat_id, error.message)
            await self._on_unreachable(chat_id)
        elif any(marker in text for marker in _HARMLESS):
            log.debug("%s in %s: %s", what, chat_id, error.message)
        else:
            log.warning("%s in chat %s failed: %s", what, chat_id, error.message)

    async def send(
        self,
        chat_id: int,
        text: str,
        buttons: Keyboard | None = None,
        reply_to: int | None = None,
        *,
        thread: Thread = CHOSEN,
        raise_transient: bool = False,
    ) -> int | None:
        """Send an HTML message; its id, or None if it could not be delivered.

        A group post goes to `thread` (by default the chat's chosen topic; see bot.topics).
        With `raise_transient`, an outage raises TelegramUnavailable instead of returning None,
        so the caller can try again later rather than treat it as a permanent refusal.
        """
        try:
            message = await to_topic(
                self.bot,
                self._topics,
                chat_id,
                thread,
                reply_to,
                lambda topic: self._send_message(chat_id, text, buttons, reply_to, topic),
            )
        except TelegramAPIError as error:
            await self._failed("sendMessage", chat_id, error)
            if raise_transient and _transient(error):
                raise TelegramUnavailable(str(error)) from error
            return None
        return message.message_id

    async def _send_message(
        self,
        chat_id: int,
        text: str,
        buttons: Keyboard | None,
        reply_to: int | None,
        thread: int | None,
    ) -> Message:
        return await self.bot.send_message(
            chat_id,
            text,
            message_thread_id=thread,
            reply_markup=markup(buttons),
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            reply_parameters=(
                ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                if reply_to
                else None
            ),
        )

    async def edit(
        self, chat_id: int, message_id: int, text: str, buttons: Keyboard | None = None
    ) -> bool:
        try:
            await self.bot.edit_message_text(
                text=text,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=markup(buttons),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except TelegramAPIError as error:
            await self._failed("editMessageText", chat_id, error)
            return False
        return True

    async def delete(self, chat_id: int, message_id: int) -> bool:
        try:
            await self.bot.delete_message(chat_id, message_id)
        except TelegramAPIError as error:
            await self._failed("deleteMessage", chat_id, error)
            return False
        return True

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
            if _transient(error):
                raise TelegramUnavailable(str(error)) from error
            return False
        return True

    async def release(self, chat_id: int, user_id: int) -> bool:
        """Give a person the chat's default permissions back."""
        permissions = await self._chat_permissions(chat_id)
        try:
            await self.bot.restrict_chat_member(
                chat_id, user_id, permissions, use_independent_chat_permissions=True
            )
        except TelegramAPIError as error:
            await self._failed("restrictChatMember", chat_id, error)
            return False
        return True

    async def expel(self, chat_id: int, user_id: int, now: datetime) -> Outcome:
        """Remove a person without a lasting ban, saying why it failed.

        Raises TelegramUnavailable on an outage (5xx, timeout), so the caller can retry.
        """
        try:
            await self.bot.ban_chat_member(chat_id, user_id, until_date=now + timedelta(minutes=1))
            await self.bot.unban_chat_member(chat_id, user_id, only_if_banned=True)
        except TelegramAPIError as error:
            await self._failed("banChatMember", chat_id, error)
            if _transient(error):
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

    async def member_count(self, chat_id: int) -> int | None:
        try:
            return await self.bot.get_chat_member_count(chat_id)
        except TelegramAPIError as error:
            await self._failed("getChatMemberCount", chat_id, error)
            return None

    async def is_channel(self, username: str) -> bool:
        """Whether `@username` names a public channel (cached; users are never found)."""
        key = username.lower()
        cached = self._channels.get(key)
        if cached is not None and cached[0] > self._timer.monotonic():
            return cached[1]
        try:
            chat = await self.bot.get_chat(f"@{username}")
        except TelegramAPIError:
            found = False
        else:
            found = chat.type == "channel"
        if len(self._channels) > CHANNEL_CACHE_SIZE:
            self._channels.clear()
        self._channels[key] = (self._timer.monotonic() + ADMIN_CACHE_TTL, found)
        return found

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
            if _transient(error):
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

    async def answer(self, callback_id: str, text: str, alert: bool = False) -> None:
        try:
            await self.bot.answer_callback_query(
                callback_id, text=plain_text(text)[:200], show_alert=alert
            )
        except TelegramAPIError as error:
            await self._failed("answerCallbackQuery", 0, error)

    async def admins(self, chat_id: int) -> frozenset[int] | None:
        """Ids of the chat's administrators, cached for 5 minutes; None if unknown."""
        cached = self._admins.get(chat_id)
        if cached and cached[0] > self._timer.monotonic():
            return cached[1]
        try:
            members = await self.bot.get_chat_administrators(chat_id)
        except TelegramAPIError as error:
            await self._failed("getChatAdministrators", chat_id, error)
            return None
        ids = frozenset(
            m.user.id for m in members if isinstance(m, ChatMemberAdministrator | ChatMemberOwner)
        )
        self._admins[chat_id] = (self._timer.monotonic() + ADMIN_CACHE_TTL, ids)
        return ids

    def forget_admins(self, chat_id: int) -> None:
        self._admins.pop(chat_id, None)

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

    async def join_link(self, chat_id: int, name: str) -> str | None:
        """An invite link that creates join requests (the bot approves them)."""
        try:
            link = await self.bot.create_chat_invite_link(
                chat_id, name=name[:32], creates_join_request=True
            )
        except TelegramAPIError as error:
            await self._failed("createChatInviteLink", chat_id, error)
            return None
        return link.invite_link

    async def send_document(
        self, chat_id: int, filename: str, data: bytes, caption: str | None = None
    ) -> int | None:
        try:
            message = await self.bot.send_document(
                chat_id, BufferedInputFile(data, filename=filename), caption=caption
            )
        except TelegramAPIError as error:
            await self._failed("sendDocument", chat_id, error)
            return None
        return message.message_id
