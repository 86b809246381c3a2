"""The one door out to Telegram for services and jobs.

Services pass plain values (ids, text, `Button`s) and get plain results; Telegram's
errors are classified here: 403 from a person marks them unreachable, "not found"
style 400s are harmless, everything else is logged with the method name. The admin and
membership calls live in bot/member_calls.py, the Stars calls in bot/stars.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import (
    BufferedInputFile,
    ChatPermissions,
    LinkPreviewOptions,
    ReactionTypeEmoji,
    ReactionTypeUnion,
    ReplyParameters,
)

from bot.clock import SystemTimer, Timer
from bot.expiring import Expiring
from bot.member_calls import ADMIN_CACHE_TTL, MemberCalls, Outcome, TelegramUnavailable, transient
from bot.messages import (
    MESSAGE_LIMIT,
    Button,
    Keyboard,
    markup,
    plain_text,
    send_text,
    split_lines,
    utf16_length,
)
from bot.stars import StarsCalls, StarTx
from bot.topics import CHOSEN, Thread, TopicPolicy, to_topic

# re-exported: services and handlers import message values and outcomes from here
__all__ = [
    "ADMIN_CACHE_TTL",
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

CHANNEL_CACHE_SIZE = 10_000


_HARMLESS = (
    "message to delete not found",
    "message to edit not found",
    "message is not modified",
    "message can't be deleted",
    "hide_requester_missing",
    "user_already_participant",
    "query is too old",
)


class Notifier(MemberCalls, StarsCalls):
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
        # an unknown list (Telegram would not say) is not kept: the next update asks again
        self._admins: Expiring[int, frozenset[int] | None] = Expiring(
            ADMIN_CACHE_TTL, self._timer, keep=lambda ids: ids is not None
        )
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
                lambda topic: send_text(self.bot, chat_id, text, topic, markup(buttons), reply_to),
            )
        except TelegramAPIError as error:
            await self._failed("sendMessage", chat_id, error)
            if raise_transient and transient(error):
                raise TelegramUnavailable(str(error)) from error
            return None
        return message.message_id

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

    async def edit_buttons(self, chat_id: int, message_id: int, buttons: Keyboard | None) -> bool:
        """Replace a message's buttons (None removes them). True if they now show
        `buttons`; False if Telegram refused for good (the message is gone); an outage
        raises TelegramUnavailable, so the caller can try again later."""
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=markup(buttons)
            )
        except TelegramAPIError as error:
            if "message is not modified" in str(error.message).lower():
                return True
            await self._failed("editMessageReplyMarkup", chat_id, error)
            if transient(error):
                raise TelegramUnavailable(str(error)) from error
            return False
        return True

    async def delete(self, chat_id: int, message_id: int) -> bool:
        try:
            await self.bot.delete_message(chat_id, message_id)
        except TelegramAPIError as error:
            await self._failed("deleteMessage", chat_id, error)
            return False
        return True

    async def react(self, chat_id: int, message_id: int, emoji: str | None) -> bool:
        """Set the bot's reaction on a message (None: take it away); whether it was set."""
        reaction: list[ReactionTypeUnion] = [ReactionTypeEmoji(emoji=emoji)] if emoji else []
        try:
            await self.bot.set_message_reaction(chat_id, message_id, reaction)
        except TelegramAPIError as error:
            await self._failed("setMessageReaction", chat_id, error)
            return False
        return True

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

    async def answer(self, callback_id: str, text: str, alert: bool = False) -> None:
        try:
            await self.bot.answer_callback_query(
                callback_id, text=plain_text(text)[:200], show_alert=alert
            )
        except TelegramAPIError as error:
            await self._failed("answerCallbackQuery", 0, error)

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

    async def create_topic(self, chat_id: int, name: str) -> int | None:
        """A new forum topic's thread id; None where the bot may not manage topics."""
        try:
            topic = await self.bot.create_forum_topic(chat_id, name)
        except TelegramAPIError as error:
            await self._failed("createForumTopic", chat_id, error)
            return None
        return topic.message_thread_id

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

    async def send_photo(
        self, chat_id: int, png: bytes, caption: str | None = None, filename: str = "card.png"
    ) -> int | None:
        """Upload a picture with an HTML caption (at most 1,024 characters); its message id,
        or None if it could not be delivered."""
        try:
            message = await self.bot.send_photo(
                chat_id, BufferedInputFile(png, filename=filename), caption=caption
            )
        except TelegramAPIError as error:
            await self._failed("sendPhoto", chat_id, error)
            return None
        return message.message_id

    async def send_file(
        self,
        chat_id: int,
        kind: str,
        file_id: str,
        caption: str | None = None,
        reply_to: int | None = None,
        *,
        buttons: Keyboard | None = None,
        thread: Thread = CHOSEN,
    ) -> int | None:
        """Send a file Telegram already has (`kind`: photo, document or voice) by its
        file_id, with an HTML caption; its message id, or None if it was not delivered."""
        senders = {
            "photo": lambda topic: self.bot.send_photo(
                chat_id, file_id, caption=caption, **_extra(topic, reply_to, buttons)
            ),
            "document": lambda topic: self.bot.send_document(
                chat_id, file_id, caption=caption, **_extra(topic, reply_to, buttons)
            ),
            "voice": lambda topic: self.bot.send_voice(
                chat_id, file_id, caption=caption, **_extra(topic, reply_to, buttons)
            ),
        }
        try:
            message = await to_topic(
                self.bot, self._topics, chat_id, thread, reply_to, senders[kind]
            )
        except TelegramAPIError as error:
            await self._failed(f"send {kind}", chat_id, error)
            return None
        return message.message_id


def _extra(topic: int | None, reply_to: int | None, buttons: Keyboard | None) -> dict[str, Any]:
    """The options every send by file_id takes: topic, reply (even if it is gone), buttons."""
    return {
        "message_thread_id": topic,
        "reply_markup": markup(buttons),
        "reply_parameters": ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
        if reply_to
        else None,
    }
