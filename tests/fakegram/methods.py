"""Bot API methods of the fake Telegram server.

``BotApi`` maps canonical method names (``sendMessage``…) to handlers.  A handler takes
the decoded request parameters and returns the ``result`` of the reply, or raises
``ApiError`` which becomes ``{"ok": false, "error_code": …, "description": …}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
from typing import Any
from urllib.parse import urlsplit

from .apibase import ApiError, Handler, Params, bad, flag, opt_int, req_int
from .files import FileMethods
from .forum import ForumMethods
from .limits import RateLimiter
from .members import MemberMethods
from .objects import JSON, get_me_json
from .payments import PaymentMethods
from .photos import PhotoMethods
from .reactions import ReactionMethods
from .state import ALL_UPDATE_TYPES, DEFAULT_ALLOWED_UPDATES, World, update_type

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_POLLING = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
# Fields of a message that copyMessage/forwardMessage carry over.
_CONTENT_SKIP = frozenset(
    {
        "message_id",
        "from",
        "sender_chat",
        "chat",
        "date",
        "edit_date",
        "reply_to_message",
        "reply_markup",
        "forward_origin",
        "has_protected_content",
    }
)


class BotApi(
    MemberMethods, PaymentMethods, ForumMethods, PhotoMethods, ReactionMethods, FileMethods
):
    """Every Bot API method the fake implements, by canonical name."""

    def __init__(self, world: World, limiter: RateLimiter) -> None:
        super().__init__(world, limiter)
        self.allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self.webhook: JSON = {}
        self.bot_texts: dict[tuple[str, str], str] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        self._poll_seq = 0
        self.handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "logOut": self.true,
            "close": self.true,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setMyName": self._text_setter("name"),
            "getMyName": self._text_getter("name"),
            "setMyDescription": self._text_setter("description"),
            "getMyDescription": self._text_getter("description"),
            "setMyShortDescription": self._text_setter("short_description"),
            "getMyShortDescription": self._text_getter("short_description"),
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
            "sendMessage": self.send_message,
            "forwardMessage": self.forward_message,
            "copyMessage": self.copy_message,
            "sendChatAction": self.send_chat_action,
            "editMessageText": self.edit_message_text,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "deleteMessages": self.delete_messages,
            "pinChatMessage": self.pin_chat_message,
            "unpinChatMessage": self.unpin_chat_message,
            "unpinAllChatMessages": self.unpin_all_chat_messages,
            "answerCallbackQuery": self.answer_callback_query,
            "restrictChatMember": self.restrict_chat_member,
            "banChatMember": self.ban_chat_member,
            "unbanChatMember": self.unban_chat_member,
            "promoteChatMember": self.promote_chat_member,
            "setChatPermissions": self.set_chat_permissions,
            "approveChatJoinRequest": self.approve_chat_join_request,
            "declineChatJoinRequest": self.decline_chat_join_request,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatAdministrators": self.get_chat_administrators,
            "getChatMemberCount": self.get_chat_member_count,
            "leaveChat": self.leave_chat,
            "createChatInviteLink": self.create_chat_invite_link,
            "editChatInviteLink": self.edit_chat_invite_link,
            "revokeChatInviteLink": self.revoke_chat_invite_link,
            "exportChatInviteLink": self.export_chat_invite_link,
        }
        self.handlers.update(self.payment_handlers())
        self.handlers.update(self.forum_handlers())
        self.handlers.update(self.photo_handlers())
        self.handlers.update(self.reaction_handlers())
        self.handlers.update(self.file_handlers())  # by file_id; uploads as above
        self._canonical = {name.lower(): name for name in self.handlers}

    def canonical(self, method: str) -> str | None:
        """Canonical camelCase name of a (case-insensitive) method, None if unknown."""
        return self._canonical.get(method.lower())

    async def call(self, method: str, params: Params) -> Any:
        result = self.handlers[method](params)
        if inspect.isawaitable(result):
            result = await result
        return result

    # ------------------------------------------------------------------ bot & updates

    def get_me(self, _: Params) -> JSON:
        return get_me_json(self.bot)

    async def get_updates(self, params: Params) -> list[JSON]:
        if self.webhook.get("url"):
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = opt_int(params, "offset")
        limit = min(100, max(1, opt_int(params, "limit") or 100))
        timeout = max(0, opt_int(params, "timeout") or 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
        if offset is not None:
            self.w.confirm(offset)
        self._poll_seq += 1
        mine = self._poll_seq
        self.w.notify()  # an older long-poll must notice it was superseded
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if mine != self._poll_seq:
                raise ApiError(409, CONFLICT_POLLING)
            wakeup = self.w.wakeup
            batch = self._deliverable(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self.w.closing:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), remaining)

    def _deliverable(self, limit: int) -> list[JSON]:
        """Pending updates the bot asked for; updates of unwanted types are dropped."""
        kept: list[JSON] = []
        for update in self.w.updates:
            kind = update_type(update)
            if kind in ALL_UPDATE_TYPES and kind not in self.allowed_updates:
                continue
            kept.append(update)
        self.w.updates = kept
        return kept[:limit]

    def set_webhook(self, params: Params) -> bool:
        url = str(params.get("url") or "")
        if url and not _webhook_url_ok(url):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
        if flag(params, "drop_pending_updates"):
            self.w.updates.clear()
        self.webhook = {
            "url": url,
            "max_connections": opt_int(params, "max_connections") or 40,
            "secret_token": params.get("secret_token"),
        }
        self.w.notify()
        return True

    def delete_webhook(self, params: Params) -> bool:
        if flag(params, "drop_pending_updates"):
            self.w.updates.clear()
        self.webhook = {}
        return True

    def get_webhook_info(self, _: Params) -> JSON:
        info: JSON = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": self.w.pending_updates,
        }
        if info["url"]:
            info["max_connections"] = self.webhook["max_connections"]
            info["allowed_updates"] = sorted(self.allowed_updates)
        return info

    # ------------------------------------------------------------------ commands & profile

    @staticmethod
    def _scope_key(params: Params) -> tuple[str, int | str | None, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise bad("can't parse BotCommandScope JSON object")
        chat_id = scope.get("chat_id")
        if scope["type"] in {"chat", "chat_administrators", "chat_member"} and chat_id is None:
            raise bad("chat_id is empty")
        return str(scope["type"]), chat_id, str(params.get("language_code") or "")

    def set_my_commands(self, params: Params) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JSON] = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad("can't parse BotCommand JSON object")
            command = str(item.get("command", "")).removeprefix("/")
            description = str(item.get("description", ""))
            valid_chars = all(c.islower() or c.isdigit() or c == "_" for c in command)
            if not 1 <= len(command) <= 32 or not valid_chars or not command.isascii():
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": command, "description": description})
        key = self._scope_key(params)
        if cleaned:
            self.w.commands[key] = cleaned
        else:
            self.w.commands.pop(key, None)
        return True

    def get_my_commands(self, params: Params) -> list[JSON]:
        return copy.deepcopy(self.w.commands.get(self._scope_key(params), []))

    def delete_my_commands(self, params: Params) -> bool:
        self.w.commands.pop(self._scope_key(params), None)
        return True

    def _text_setter(self, field: str) -> Handler:
        def handler(params: Params) -> bool:
            self.bot_texts[(field, str(params.get("language_code") or ""))] = str(
                params.get(field) or ""
            )
            return True

        return handler

    def _text_getter(self, field: str) -> Handler:
        def handler(params: Params) -> JSON:
            language = str(params.get("language_code") or "")
            value = self.bot_texts.get((field, language), self.bot_texts.get((field, ""), ""))
            if field == "name" and not value:
                value = self.bot["first_name"]
            return {field: value}

        return handler

    def set_chat_menu_button(self, params: Params) -> bool:
        button = params.get("menu_button") or {"type": "default"}
        self.menu_buttons[opt_int(params, "chat_id")] = button
        return True

    def get_chat_menu_button(self, params: Params) -> JSON:
        chat_id = opt_int(params, "chat_id")
        default = self.menu_buttons.get(None, {"type": "commands"})
        return self.menu_buttons.get(chat_id, default)

    # ------------------------------------------------------------------ messages

    def send_message(self, params: Params) -> JSON:
        chat = self.chat(params)
        self.require_can_send(chat)
        text, entities = self.format_text(params)
        return self.deliver(chat, params, text=text, entities=entities or None)

    def _source_message(self, params: Params, missing: str) -> JSON:
        source = self.w.find_chat(params.get("from_chat_id"))
        if source is None:
            raise bad("chat not found")
        message_id = req_int(params, "message_id")
        message = source.messages.get(message_id)
        if message is None or message_id in source.deleted:
            raise bad(missing)
        return message

    def forward_message(self, params: Params) -> JSON:
        chat = self.chat(params)
        original = self._source_message(params, "message to forward not found")
        self.require_can_send(chat)
        content = {k: copy.deepcopy(v) for k, v in original.items() if k not in _CONTENT_SKIP}
        sender = original.get("from")
        origin: JSON = (
            {"type": "user", "sender_user": sender, "date": original["date"]}
            if sender
            else {"type": "hidden_user", "sender_user_name": "Hidden", "date": original["date"]}
        )
        return self.deliver(chat, {}, forward_origin=origin, **content)

    def copy_message(self, params: Params) -> JSON:
        chat = self.chat(params)
        original = self._source_message(params, "message to copy not found")
        self.require_can_send(chat)
        content = {k: copy.deepcopy(v) for k, v in original.items() if k not in _CONTENT_SKIP}
        if params.get("caption") is not None and "caption" in content:
            content["caption"], entities = self.format_text(params, "caption")
            content["caption_entities"] = entities or None
        message = self.deliver(chat, params, **content)
        return {"message_id": message["message_id"]}

    def send_chat_action(self, params: Params) -> bool:
        chat = self.chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        self.require_can_send(chat)
        return True

    def edit_message_text(self, params: Params) -> JSON:
        chat = self.chat(params)
        message = self.own_message(chat, params, "message to edit not found")
        if "text" not in message:
            raise bad("there is no text in the message to edit")
        text, entities = self.format_text(params)
        markup = self.inline_markup(params)
        if (
            message.get("text") == text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == markup
        ):
            raise bad(NOT_MODIFIED)
        message["text"] = text
        self._set_or_drop(message, "entities", entities or None)
        self._set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = self.w.now()
        return message

    def edit_message_reply_markup(self, params: Params) -> JSON:
        chat = self.chat(params)
        message = self.own_message(chat, params, "message to edit not found")
        markup = self.inline_markup(params)
        if message.get("reply_markup") == markup:
            raise bad(NOT_MODIFIED)
        if self.w.group_edits_limited and chat.is_group:
            self.throttle(chat)
        self._set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = self.w.now()
        return message

    @staticmethod
    def _set_or_drop(message: JSON, key: str, value: Any) -> None:
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value

    def delete_message(self, params: Params) -> bool:
        chat = self.chat(params)
        message_id = req_int(params, "message_id")
        message = chat.messages.get(message_id)
        if message is None or message_id in chat.deleted:
            raise bad("message to delete not found")
        if not chat.is_private:
            self.require_bot_in_chat(chat)
        if not self.can_delete(chat, message):
            raise bad("message can't be deleted")
        chat.deleted.add(message_id)
        return True

    def delete_messages(self, params: Params) -> bool:
        chat = self.chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad("message_ids must be a non-empty array of at most 100 elements")
        if not chat.is_private:
            self.require_bot_in_chat(chat)
        found = [
            chat.messages[mid]
            for mid in ids
            if isinstance(mid, int) and mid in chat.messages and mid not in chat.deleted
        ]
        if not all(self.can_delete(chat, message) for message in found):
            raise bad("message can't be deleted")
        chat.deleted.update(message["message_id"] for message in found)
        return True

    def pin_chat_message(self, params: Params) -> bool:
        chat = self.chat(params)
        message_id = req_int(params, "message_id")
        if not chat.is_private:
            self.require_right(
                chat, "can_pin_messages", "not enough rights to manage pinned messages in the chat"
            )
        if message_id not in chat.messages or message_id in chat.deleted:
            raise bad("message to pin not found")
        if message_id in chat.pinned:
            chat.pinned.remove(message_id)
        chat.pinned.append(message_id)
        return True

    def unpin_chat_message(self, params: Params) -> bool:
        chat = self.chat(params)
        if not chat.is_private:
            self.require_right(
                chat, "can_pin_messages", "not enough rights to manage pinned messages in the chat"
            )
        message_id = opt_int(params, "message_id")
        if message_id is None:
            if chat.pinned:
                chat.pinned.pop()
        elif message_id in chat.pinned:
            chat.pinned.remove(message_id)
        else:
            raise bad("message to unpin not found")
        return True

    def unpin_all_chat_messages(self, params: Params) -> bool:
        chat = self.chat(params)
        if not chat.is_private:
            self.require_right(
                chat, "can_pin_messages", "not enough rights to manage pinned messages in the chat"
            )
        chat.pinned.clear()
        return True

    def answer_callback_query(self, params: Params) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if self.w.open_callback_queries.pop(query_id, None) is None:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        self.w.callback_answers.append(dict(params))
        return True


def _webhook_url_ok(url: str) -> bool:
    """Telegram wants HTTPS; the fake also accepts plain HTTP on loopback for local tests."""
    parsed = urlsplit(url)
    if parsed.scheme == "https":
        return bool(parsed.hostname)
    return parsed.scheme == "http" and parsed.hostname in {"127.0.0.1", "localhost", "::1"}
