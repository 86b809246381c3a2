"""The simulated Telegram world: users, chats, memberships, messages and the update queue.

``World`` holds everything the fake server knows and implements the *user side* of the
fixture (people joining, posting, pressing buttons).  The Bot API side lives in
``methods.py``; the HTTP side in ``server.py``.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from .markup import detect_entities
from .objects import (
    DEFAULT_CHAT_PERMISSIONS,
    JSON,
    Member,
    bot_user_json,
    chat_member_json,
    chat_member_updated_json,
    group_chat_json,
    invite_link_json,
    make_member,
    private_chat_json,
    user_json,
)

# Update types of aiogram 3.31's Update, in Telegram's order.
ALL_UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "guest_message",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
    "managed_bot",
    "subscription",
    "stopped_message_generation",
)
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
DEFAULT_ALLOWED_UPDATES = frozenset(ALL_UPDATE_TYPES) - OPT_IN_UPDATE_TYPES

# After a join request the bot may write to the user for this long (seconds).
JOIN_REQUEST_DM_WINDOW = 300.0


@dataclass
class UserState:
    json: JSON
    started_bot: bool = False
    blocked: bool = False


@dataclass
class Topic:
    """A forum topic; its thread id is the id of the message that created it."""

    name: str
    closed: bool = False
    deleted: bool = False


@dataclass
class ChatState:
    chat: JSON
    join_by_request: bool = False
    permissions: dict[str, bool] = field(default_factory=lambda: dict(DEFAULT_CHAT_PERMISSIONS))
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, JSON] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    next_message_id: int = 1
    join_requests: dict[int, float] = field(default_factory=dict)  # user id -> monotonic time
    invite_links: dict[str, JSON] = field(default_factory=dict)
    primary_link: str | None = None
    pinned: list[int] = field(default_factory=list)
    description: str | None = None
    topics: dict[int, Topic] = field(default_factory=dict)  # forum: thread id -> topic
    migrated_to: int | None = None  # a group upgraded to this supergroup

    @property
    def id(self) -> int:
        return int(self.chat["id"])

    @property
    def type(self) -> str:
        return str(self.chat["type"])

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    @property
    def is_group(self) -> bool:
        return self.type in {"group", "supergroup"}

    @property
    def is_forum(self) -> bool:
        return bool(self.chat.get("is_forum"))


def update_type(update: JSON) -> str | None:
    """The payload key of an update (None for garbage without one)."""
    return next((key for key in update if key != "update_id"), None)


class World:
    def __init__(self, token: str, bot_username: str) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_user: JSON = bot_user_json(self.bot_id, bot_username)
        self.users: dict[int, UserState] = {self.bot_id: UserState(self.bot_user)}
        self.chats: dict[int, ChatState] = {}
        self.updates: list[JSON] = []
        self.bot_sent: list[tuple[int, int]] = []
        self.callback_answers: list[JSON] = []
        self.open_callback_queries: dict[str, JSON] = {}
        self.commands: dict[tuple[str, int | str | None, str], list[JSON]] = {}
        self.last_join_request: dict[int, float] = {}
        self.time_offset = 0.0
        self.waited = 0.0  # seconds the bot slept on a fake timer (see `wait_passes`)
        self.closing = False
        # edits of a group's messages count against its 20-a-minute limit (off by default:
        # Telegram documents the limit for messages; a test of an edit-heavy feature opts in)
        self.group_edits_limited = False
        self._next_update_id = 1
        self._query_ids = itertools.count(4_000_000_000_001)
        self._wakeup = asyncio.Event()

    # ------------------------------------------------------------------ clocks

    def now(self) -> int:
        """Unix time as Telegram puts it into ``date`` fields."""
        return int(time.time() + self.time_offset)

    def mono(self) -> float:
        return time.monotonic() + self.time_offset + self.waited

    def wait_passes(self, seconds: float) -> None:
        """The bot slept `seconds` on a fake timer (a retry pause): windows that run on the
        monotonic clock (rate limits, checkout timeouts) move on; message dates do not."""
        self.waited += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        """Move the fake's clocks forward (rate-limit windows, join-request windows, until_date)."""
        self.time_offset += seconds

    # ------------------------------------------------------------------ lookups

    def user(self, user_id: int) -> UserState:
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"fakegram: unknown user {user_id}; call add_user() first") from None

    def chat(self, chat_id: int) -> ChatState:
        try:
            return self.chats[chat_id]
        except KeyError:
            raise KeyError(
                f"fakegram: unknown chat {chat_id}; call add_chat() or add_user() first"
            ) from None

    def find_chat(self, chat_id: Any) -> ChatState | None:
        """Resolve a Bot API ``chat_id`` (int or "@username")."""
        if isinstance(chat_id, int) and not isinstance(chat_id, bool):
            return self.chats.get(chat_id)
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            for chat in self.chats.values():
                if str(chat.chat.get("username", "")).lower() == name:
                    return chat
        return None

    def get_member(self, chat: ChatState, user_id: int) -> Member:
        """The member record, with expired restrictions/bans lifted like Telegram does."""
        member = chat.members.get(user_id)
        if member is None:
            return Member()
        if member.status in {"restricted", "kicked"} and 0 < member.until_date <= self.now():
            stays = member.status == "restricted" and member.is_member
            member = Member(status="member" if stays else "left")
            chat.members[user_id] = member
        return member

    def member_json_of(self, chat: ChatState, user_id: int) -> JSON:
        return chat_member_json(self.user(user_id).json, self.get_member(chat, user_id))

    # ------------------------------------------------------------------ world setup

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        language_code: str | None = "ru",
        is_bot: bool = False,
        started_bot: bool = False,
    ) -> JSON:
        """Register a user (and their private chat with the bot); returns the User JSON."""
        user = user_json(
            user_id, first_name, username=username, language_code=language_code, is_bot=is_bot
        )
        self.users[user_id] = UserState(user, started_bot=started_bot)
        self.chats.setdefault(user_id, ChatState(private_chat_json(user)))
        return copy.deepcopy(user)

    def add_chat(
        self,
        chat_id: int,
        title: str,
        *,
        type: str = "supergroup",
        join_by_request: bool = False,
        is_forum: bool = False,
    ) -> JSON:
        """Register a group/supergroup/channel (a supergroup may be a forum); its Chat JSON."""
        if type not in {"group", "supergroup", "channel"}:
            raise ValueError("add_chat is for groups, supergroups and channels")
        if is_forum and type != "supergroup":
            raise ValueError("only a supergroup can be a forum")
        chat = ChatState(group_chat_json(chat_id, title, type), join_by_request=join_by_request)
        if is_forum:
            chat.chat["is_forum"] = True
        self.chats[chat_id] = chat
        return copy.deepcopy(chat.chat)

    def set_member(self, chat_id: int, user_id: int, status: str, **kw: Any) -> None:
        """Put a user into a status directly (no update). See objects.make_member for kw."""
        self.user(user_id)
        self.chat(chat_id).members[user_id] = make_member(status, **kw)

    def member_status(self, chat_id: int, user_id: int) -> str:
        return self.get_member(self.chat(chat_id), user_id).status

    def member(self, chat_id: int, user_id: int) -> JSON:
        return self.member_json_of(self.chat(chat_id), user_id)

    def add_bot_to_chat(
        self,
        chat_id: int,
        by_user_id: int,
        *,
        admin: bool = True,
        can_restrict_members: bool = True,
        can_delete_messages: bool = True,
        can_invite_users: bool = True,
    ) -> JSON:
        """A user adds the bot; enqueues and returns the my_chat_member update."""
        chat = self.chat(chat_id)
        if admin:
            new = make_member(
                "administrator",
                can_restrict_members=can_restrict_members,
                can_delete_messages=can_delete_messages,
                can_invite_users=can_invite_users,
            )
        else:
            new = make_member("member")
        update = self.change_member(chat, self.bot_id, new, actor=self.user(by_user_id).json)
        assert update is not None
        return update

    def promote(
        self, chat_id: int, user_id: int, *, by_user_id: int | None = None, **rights: bool
    ) -> JSON:
        """An owner/admin makes the user an administrator (``can_*`` override the defaults).

        Enqueues and returns the chat_member update (``from`` = ``by_user_id`` or the owner).
        """
        chat = self.chat(chat_id)
        self.user(user_id)
        if by_user_id is None:
            by_user_id = next(
                (uid for uid, m in chat.members.items() if m.status == "creator"), self.bot_id
            )
        new = make_member("administrator", **rights)
        update = self.change_member(chat, user_id, new, actor=self.user(by_user_id).json)
        assert update is not None, f"user {user_id} already has exactly these rights"
        return update

    def demote(self, chat_id: int, user_id: int, *, by_user_id: int | None = None) -> JSON:
        """An administrator becomes an ordinary member; returns the chat_member update."""
        chat = self.chat(chat_id)
        if by_user_id is None:
            by_user_id = next(
                (uid for uid, m in chat.members.items() if m.status == "creator"), self.bot_id
            )
        update = self.change_member(
            chat, user_id, Member(status="member"), actor=self.user(by_user_id).json
        )
        assert update is not None, f"user {user_id} is already a plain member"
        return update

    def block_bot(self, user_id: int) -> None:
        self.user(user_id).blocked = True

    # ------------------------------------------------------------------ membership changes

    def change_member(
        self, chat: ChatState, user_id: int, new: Member, *, actor: JSON, **extra: Any
    ) -> JSON | None:
        """Set a member and enqueue a chat_member (my_chat_member for the bot) update.

        Returns the update, or None when nothing changed.
        """
        old_json = self.member_json_of(chat, user_id)
        chat.members[user_id] = new
        new_json = self.member_json_of(chat, user_id)
        if old_json == new_json:
            return None
        kind = "my_chat_member" if user_id == self.bot_id else "chat_member"
        payload = chat_member_updated_json(
            chat.chat, actor, self.now(), old_json, new_json, **extra
        )
        return self.enqueue({kind: payload})

    def primary_invite_link(self, chat: ChatState) -> JSON:
        if chat.primary_link is None:
            link = f"https://t.me/+{secrets.token_urlsafe(12)}"
            creator = next(
                (
                    self.user(uid).json
                    for uid, member in chat.members.items()
                    if member.status == "creator"
                ),
                self.bot_user,
            )
            chat.invite_links[link] = invite_link_json(link, creator, is_primary=True)
            chat.primary_link = link
        return chat.invite_links[chat.primary_link]

    # ------------------------------------------------------------------ messages

    def store_message(self, chat: ChatState, sender: JSON | None, **fields: Any) -> JSON:
        """Create a message in ``chat`` with the next message_id and keep it."""
        message: JSON = {"message_id": chat.next_message_id}
        if sender is not None:
            message["from"] = sender
        message["chat"] = chat.chat
        message["date"] = self.now()
        message.update({k: v for k, v in fields.items() if v is not None})
        chat.messages[chat.next_message_id] = message
        chat.next_message_id += 1
        return message

    def reply_stub(self, chat: ChatState, message_id: int) -> JSON | None:
        """A stored message as it is embedded into reply_to_message (no nested reply)."""
        original = chat.messages.get(message_id)
        if original is None or message_id in chat.deleted:
            return None
        stub = copy.deepcopy(original)
        stub.pop("reply_to_message", None)
        return stub

    def can_post(self, chat: ChatState, user_id: int) -> bool:
        member = self.get_member(chat, user_id)
        if member.status in {"creator", "administrator"}:
            return True
        if member.status == "member":
            return chat.permissions.get("can_send_messages", True)
        if member.status == "restricted":
            return member.is_member and member.permissions.get("can_send_messages", False)
        return False

    # ------------------------------------------------------------------ simulated users

    def user_joins(self, chat_id: int, user_id: int, *, via_link: bool = False) -> JSON:
        """The user joins: chat_member update + new_chat_members service message."""
        chat = self.chat(chat_id)
        user = self.user(user_id).json
        current = self.get_member(chat, user_id)
        if current.status == "restricted":
            new = copy.deepcopy(current)
            new.is_member = True
        else:
            new = Member(status="member")
        link = copy.deepcopy(self.primary_invite_link(chat)) if via_link else None
        update = self.change_member(chat, user_id, new, actor=user, invite_link=link)
        assert update is not None, f"user {user_id} is already in chat {chat_id}"
        self._service_message(chat, user, new_chat_members=[user])
        return update

    def user_leaves(self, chat_id: int, user_id: int) -> JSON:
        """The user leaves: chat_member update + left_chat_member service message."""
        chat = self.chat(chat_id)
        user = self.user(user_id).json
        current = self.get_member(chat, user_id)
        if current.status == "restricted":
            new = copy.deepcopy(current)
            new.is_member = False
        else:
            new = Member(status="left")
        update = self.change_member(chat, user_id, new, actor=user)
        assert update is not None, f"user {user_id} is not in chat {chat_id}"
        self._service_message(chat, user, left_chat_member=user)
        return update

    def _service_message(self, chat: ChatState, user: JSON, **fields: Any) -> JSON:
        message = self.store_message(chat, user, **fields)
        return self.enqueue({"message": message})

    def send_message(
        self,
        chat_id: int,
        user_id: int,
        text: str | None,
        *,
        reply_to_message_id: int | None = None,
        sender_chat: JSON | None = None,
        force: bool = False,
        **extra: Any,
    ) -> JSON | None:
        """The user posts ``text`` (private chat: chat_id == user_id). Returns the update.

        Returns None when Telegram would not accept the message (not a member, or
        restricted) unless ``force``.  ``extra`` fields are merged into the message
        (e.g. ``entities=[...]`` replaces the auto-detected ones, ``photo=[...]``).
        """
        user_state = self.user(user_id)
        chat = self.chat(chat_id)
        if chat.is_private:
            if chat_id != user_id:
                raise ValueError("in a private chat chat_id must equal user_id")
            # a person can only write to a bot after pressing Start (which also unblocks it)
            user_state.blocked = False
            user_state.started_bot = True
        elif not force and not self.can_post(chat, user_id):
            return None
        fields: JSON = {"sender_chat": sender_chat, "text": text}
        if text:
            fields["entities"] = detect_entities(text) or None
        if reply_to_message_id is not None:
            fields["reply_to_message"] = self.reply_stub(chat, reply_to_message_id)
        fields.update(extra)
        message = self.store_message(chat, user_state.json, **fields)
        return self.enqueue({"message": message})

    def edit_message(self, chat_id: int, user_id: int, message_id: int, text: str) -> JSON:
        chat = self.chat(chat_id)
        message = chat.messages.get(message_id)
        if message is None or message.get("from", {}).get("id") != user_id:
            raise LookupError(f"no message {message_id} by user {user_id} in chat {chat_id}")
        message["text"] = text
        entities = detect_entities(text)
        if entities:
            message["entities"] = entities
        else:
            message.pop("entities", None)
        message["edit_date"] = self.now()
        return self.enqueue({"edited_message": message})

    def press_button(self, user_id: int, chat_id: int, message_id: int, data: str) -> JSON:
        """The user presses an inline button with ``data`` under a message."""
        user = self.user(user_id).json
        chat = self.chat(chat_id)
        message = chat.messages.get(message_id)
        if message is None:
            raise LookupError(f"no message {message_id} in chat {chat_id}")
        query_id = str(next(self._query_ids))
        query: JSON = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(abs(chat_id) * 7 + 1_000_003),
            "data": data,
        }
        self.open_callback_queries[query_id] = copy.deepcopy(query)
        return self.enqueue({"callback_query": query})

    def join_request(self, chat_id: int, user_id: int) -> JSON | None:
        """The user asks to join; the bot may DM them for 5 minutes afterwards.

        As in Telegram, a request still pending blocks another one: no new update (None)."""
        chat = self.chat(chat_id)
        user = self.user(user_id).json
        if user_id in chat.join_requests:
            return None
        now = self.mono()
        chat.join_requests[user_id] = now
        self.last_join_request[user_id] = now
        payload = {"chat": chat.chat, "from": user, "user_chat_id": user_id, "date": self.now()}
        return self.enqueue({"chat_join_request": payload})

    # ------------------------------------------------------------------ updates

    def enqueue(self, update: JSON) -> JSON:
        """Queue a raw update (assigning update_id if missing); returns the stored copy."""
        stored = copy.deepcopy(update)
        if "update_id" not in stored:
            stored = {"update_id": self._next_update_id, **stored}
        if isinstance(stored["update_id"], int):
            self._next_update_id = max(self._next_update_id, stored["update_id"] + 1)
        self.updates.append(stored)
        self.notify()
        return stored

    def notify(self) -> None:
        """Wake every long-poll waiting for updates."""
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    @property
    def wakeup(self) -> asyncio.Event:
        return self._wakeup

    def reset_wakeup(self) -> None:
        """Fresh event for a (possibly new) event loop."""
        self._wakeup = asyncio.Event()

    def clear_updates(self) -> None:
        """Forget every pending update (as if the bot had confirmed them)."""
        self.updates.clear()

    def confirm(self, offset: int) -> None:
        """Drop updates the bot confirmed via getUpdates(offset)."""
        if offset < 0:
            keep = -offset
            self.updates = self.updates[-keep:] if keep else []
            return
        self.updates = [u for u in self.updates if not _update_id_below(u, offset)]

    @property
    def pending_updates(self) -> int:
        return len(self.updates)

    # ------------------------------------------------------------------ inspection

    def sent_messages(self, chat_id: int | None = None) -> list[JSON]:
        """Messages the bot sent (deleted ones too), with later edits applied."""
        return [
            copy.deepcopy(self.chats[cid].messages[mid])
            for cid, mid in self.bot_sent
            if chat_id is None or cid == chat_id
        ]

    def live_messages(self, chat_id: int) -> list[JSON]:
        chat = self.chat(chat_id)
        return [
            copy.deepcopy(message)
            for mid, message in sorted(chat.messages.items())
            if mid not in chat.deleted
        ]

    def is_deleted(self, chat_id: int, message_id: int) -> bool:
        return message_id in self.chat(chat_id).deleted


def _update_id_below(update: JSON, offset: int) -> bool:
    update_id = update.get("update_id")
    return isinstance(update_id, int) and update_id < offset
