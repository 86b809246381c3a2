"""Shared plumbing of the Bot API handlers: errors, parameter access, common checks."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from typing import Any

from .limits import RateLimiter
from .markup import MAX_TEXT_LENGTH, EntityParseError, check_reply_markup, parse_html, utf16_len
from .objects import JSON, Member
from .state import JOIN_REQUEST_DM_WINDOW, ChatState, World

Params = dict[str, Any]
Handler = Callable[[Params], Any]
UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def envelope(self) -> JSON:
        reply: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            reply["parameters"] = self.parameters
        return reply


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def forbidden(description: str) -> ApiError:
    return ApiError(403, f"Forbidden: {description}")


# ---------------------------------------------------------------------- parameter access


def opt_int(params: Params, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value)
    raise bad(f"invalid {name} specified")


def req_int(params: Params, name: str) -> int:
    value = opt_int(params, name)
    if value is None:
        raise bad(f"{name} is empty")
    return value


def flag(params: Params, name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in {"true", "1"}
    return bool(value)


def sender_id(message: JSON) -> int | None:
    sender = message.get("from")
    return sender.get("id") if isinstance(sender, dict) else None


class ApiBase:
    """State and checks shared by every group of Bot API methods."""

    def __init__(self, world: World, limiter: RateLimiter) -> None:
        self.w = world
        self.limiter = limiter
        self.rate_limited = 0

    # ------------------------------------------------------------------ helpers

    @property
    def bot(self) -> JSON:
        return self.w.bot_user

    def chat(self, params: Params) -> ChatState:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad("chat_id is empty")
        chat = self.w.find_chat(chat_id)
        if chat is None:
            raise bad("chat not found")
        if chat.migrated_to is not None:  # aiogram raises TelegramMigrateToChat on this
            raise ApiError(400, UPGRADED, {"migrate_to_chat_id": chat.migrated_to})
        return chat

    def group(self, params: Params, *, private_error: str) -> ChatState:
        chat = self.chat(params)
        if chat.is_private:
            raise bad(private_error)
        return chat

    def target_user(self, params: Params) -> int:
        user_id = req_int(params, "user_id")
        if user_id not in self.w.users:
            raise bad("user not found")
        return user_id

    def bot_member(self, chat: ChatState) -> Member:
        return self.w.get_member(chat, self.w.bot_id)

    def require_bot_in_chat(self, chat: ChatState) -> Member:
        member = self.bot_member(chat)
        kind = "supergroup" if chat.type == "supergroup" else chat.type
        if member.status == "kicked":
            raise forbidden(f"bot was kicked from the {kind} chat")
        if not member.present:
            raise forbidden(f"bot is not a member of the {kind} chat")
        return member

    def require_right(self, chat: ChatState, right: str, error: str) -> None:
        member = self.require_bot_in_chat(chat)
        if not member.can(right):
            raise bad(error)

    def require_can_send(self, chat: ChatState) -> None:
        if chat.is_private:
            user = self.w.users[chat.id]
            if user.json.get("is_bot"):
                raise forbidden("bot can't send messages to bots")
            if user.blocked:
                raise forbidden("bot was blocked by the user")
            requested = self.w.last_join_request.get(chat.id)
            recent = requested is not None and self.w.mono() - requested <= JOIN_REQUEST_DM_WINDOW
            if not user.started_bot and not recent:
                raise forbidden("bot can't initiate conversation with a user")
            return
        member = self.require_bot_in_chat(chat)
        if chat.type == "channel":
            if not member.can("can_post_messages"):
                raise bad("need administrator rights in the channel chat")
            return
        if not self.w.can_post(chat, self.w.bot_id):
            raise bad("not enough rights to send text messages to the chat")

    def throttle(self, chat: ChatState) -> None:
        retry_after = self.limiter.check(chat.id, chat.type, self.w.mono())
        if retry_after is not None:
            self.rate_limited += 1
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )

    def format_text(self, params: Params, field: str = "text") -> tuple[str, list[JSON]]:
        """Text after parse_mode plus its entities; checks emptiness and length."""
        raw = params.get(field)
        if raw is None or raw == "":
            raise bad("message text is empty")
        text = raw if isinstance(raw, str) else str(raw)
        entities = params.get("entities")
        parse_mode = params.get("parse_mode")
        if isinstance(entities, list):
            if not all(
                isinstance(e, dict) and {"type", "offset", "length"} <= e.keys() for e in entities
            ):
                raise bad("can't parse entities JSON object")
            plain = text
        elif not parse_mode:
            plain, entities = text, []
        elif str(parse_mode).lower() == "html":
            try:
                plain, entities = parse_html(text, resolve_user=self._user_json_or_none)
            except EntityParseError as exc:
                raise bad(f"can't parse entities: {exc}") from None
        elif str(parse_mode).lower() in {"markdown", "markdownv2"}:
            plain, entities = text, []  # not parsed by the fake
        else:
            raise bad("unsupported parse_mode")
        if not plain.strip():
            raise bad("message text is empty")
        if utf16_len(plain) > MAX_TEXT_LENGTH:
            raise bad("message is too long")
        return plain, entities

    def _user_json_or_none(self, user_id: int) -> JSON | None:
        user = self.w.users.get(user_id)
        return copy.deepcopy(user.json) if user else None

    def inline_markup(self, params: Params) -> JSON | None:
        markup = params.get("reply_markup")
        error = check_reply_markup(markup)
        if error:
            raise ApiError(400, error)
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            return markup
        return None

    def reply_target(self, chat: ChatState, params: Params) -> JSON | None:
        reply = params.get("reply_parameters")
        allow = flag(params, "allow_sending_without_reply")
        if isinstance(reply, dict):
            message_id = opt_int(reply, "message_id")
            allow = allow or flag(reply, "allow_sending_without_reply")
            if reply.get("chat_id") not in (None, chat.id):
                source = self.w.find_chat(reply.get("chat_id"))
                if source is None:
                    raise bad("chat not found")
                chat = source
        else:
            message_id = opt_int(params, "reply_to_message_id")
        if message_id is None:
            return None
        stub = self.w.reply_stub(chat, message_id)
        if stub is None and not allow:
            raise bad("message to be replied not found")
        return stub

    def deliver(self, chat: ChatState, params: Params, **content: Any) -> JSON:
        """Common tail of every send*: checks, flood limits, storing the message."""
        reply = self.reply_target(chat, params)
        thread = self.thread_fields(chat, params, reply)
        markup = self.inline_markup(params)
        self.throttle(chat)
        message = self.w.store_message(
            chat,
            self.bot,
            reply_to_message=reply,
            **thread,
            **content,
            reply_markup=markup,
            has_protected_content=True if flag(params, "protect_content") else None,
        )
        self.w.bot_sent.append((chat.id, message["message_id"]))
        return message

    def thread_fields(self, chat: ChatState, params: Params, reply: JSON | None) -> JSON:
        """The thread fields of a message the bot sends (forum topics: see forum.py)."""
        thread = opt_int(params, "message_thread_id")
        if thread is None and chat.is_forum and reply is not None and reply.get("is_topic_message"):
            thread = int(reply["message_thread_id"])  # a reply stays in its message's topic
        if thread is None:
            return {}
        if not chat.is_forum:
            if chat.is_private or thread not in chat.messages:
                raise bad("message thread not found")
            return {"message_thread_id": thread}  # a reply thread of an ordinary supergroup
        topic = chat.topics.get(thread)
        if topic is None or topic.deleted:
            raise bad("message thread not found")
        if topic.closed and not self.bot_member(chat).can("can_manage_topics"):
            raise bad("TOPIC_CLOSED")
        return {"message_thread_id": thread, "is_topic_message": True}

    def own_message(self, chat: ChatState, params: Params, missing: str) -> JSON:
        if params.get("inline_message_id"):
            raise bad("MESSAGE_ID_INVALID")
        message_id = req_int(params, "message_id")
        message = chat.messages.get(message_id)
        if message is None or message_id in chat.deleted:
            raise bad(missing)
        if sender_id(message) != self.w.bot_id:
            raise bad("message can't be edited")
        return message

    def can_delete(self, chat: ChatState, message: JSON) -> bool:
        if chat.is_private or sender_id(message) == self.w.bot_id:
            return True
        return self.bot_member(chat).can("can_delete_messages")

    @staticmethod
    def true(_: Params) -> bool:
        return True
