"""Forum topics and group upgrades: the user side (`ForumWorld`) and the Bot API side
(`ForumMethods`).

Like Telegram: a topic's thread id is the id of the service message that created it; a
message in a topic carries `message_thread_id` and `is_topic_message`; a message without a
thread id goes to General; a reply without one goes to the topic of the message it answers;
a closed topic refuses the bot's messages ("TOPIC_CLOSED") unless it may manage topics; an
unknown or deleted one answers "message thread not found". Upgrading a group makes a new
supergroup, sends `migrate_to_chat_id` into the old group and `migrate_from_chat_id` into
the new one, and from then on the old id answers every call with a 400 that carries
`parameters.migrate_to_chat_id`.
"""

from __future__ import annotations

import copy
from typing import Any

from .apibase import ApiBase, Params, bad, req_int
from .objects import JSON
from .state import ChatState, Topic, World

ICON_COLOR = 7322096  # Telegram's default topic colour


class ForumWorld(World):
    """People creating and closing topics, posting in them, and upgrading groups."""

    def create_topic(self, chat_id: int, name: str, by_user_id: int) -> int:
        """A user creates a topic; returns its thread id (a forum_topic_created message)."""
        chat = self.chat(chat_id)
        if not chat.is_forum:
            raise ValueError(f"chat {chat_id} is not a forum")
        thread = chat.next_message_id
        chat.topics[thread] = Topic(name)
        created = {"name": name, "icon_color": ICON_COLOR}
        self._in_topic(chat, by_user_id, thread, forum_topic_created=created)
        return thread

    def close_topic(self, chat_id: int, thread: int, by_user_id: int) -> None:
        chat = self.chat(chat_id)
        chat.topics[thread].closed = True
        self._in_topic(chat, by_user_id, thread, forum_topic_closed={})

    def delete_topic(self, chat_id: int, thread: int) -> None:
        """The topic and its messages are gone (Telegram tells bots nothing)."""
        drop_topic(self.chat(chat_id), thread)

    def post_in_topic(
        self, chat_id: int, user_id: int, thread: int, text: str, **extra: Any
    ) -> JSON | None:
        """The user posts in a topic (None when Telegram would refuse, as `send_message`)."""
        chat = self.chat(chat_id)
        topic = chat.topics.get(thread)
        if topic is None or topic.deleted:
            raise LookupError(f"no topic {thread} in chat {chat_id}")
        if topic.closed and not self.get_member(chat, user_id).is_admin:
            return None  # only admins write in a closed topic
        return self.send_message(
            chat_id, user_id, text, message_thread_id=thread, is_topic_message=True, **extra
        )

    def _in_topic(self, chat: ChatState, user_id: int, thread: int, **fields: Any) -> JSON:
        user = self.user(user_id).json
        message = self.store_message(
            chat, user, message_thread_id=thread, is_topic_message=True, **fields
        )
        return self.enqueue({"message": message})

    def upgrade_group(self, chat_id: int, new_id: int, by_user_id: int) -> JSON:
        """An admin upgrades a basic group: the members move to a new supergroup, both chats
        get their service message, the old id is dead from now on. Returns the new Chat."""
        old = self.chat(chat_id)
        if old.type != "group" or old.migrated_to is not None:
            raise ValueError(f"chat {chat_id} is not a basic group")
        title = str(old.chat.get("title", ""))
        self.add_chat(new_id, title, type="supergroup", join_by_request=old.join_by_request)
        new = self.chat(new_id)
        new.members = copy.deepcopy(old.members)
        new.permissions = dict(old.permissions)
        old.migrated_to = new_id
        user = self.user(by_user_id).json
        self.enqueue({"message": self.store_message(old, user, migrate_to_chat_id=new_id)})
        self.enqueue({"message": self.store_message(new, user, migrate_from_chat_id=chat_id)})
        return copy.deepcopy(new.chat)


class ForumMethods(ApiBase):
    """createForumTopic, closeForumTopic, reopenForumTopic, deleteForumTopic."""

    def forum_handlers(self) -> dict[str, Any]:
        return {
            "createForumTopic": self.create_forum_topic,
            "closeForumTopic": self._topic_setter(closed=True),
            "reopenForumTopic": self._topic_setter(closed=False),
            "deleteForumTopic": self.delete_forum_topic,
        }

    def _forum(self, params: Params) -> ChatState:
        chat = self.group(params, private_error="the chat is not a forum")
        if not chat.is_forum:
            raise bad("the chat is not a forum")
        self.require_right(chat, "can_manage_topics", "not enough rights to manage topics")
        return chat

    def create_forum_topic(self, params: Params) -> JSON:
        chat = self._forum(params)
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise bad("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
        thread = chat.next_message_id
        chat.topics[thread] = Topic(name)
        created = {"name": name, "icon_color": ICON_COLOR}
        message = self.w.store_message(
            chat,
            self.bot,
            message_thread_id=thread,
            is_topic_message=True,
            forum_topic_created=created,
        )
        self.w.bot_sent.append((chat.id, message["message_id"]))
        return {"message_thread_id": thread, **created}

    def _topic(self, chat: ChatState, params: Params) -> Topic:
        topic = chat.topics.get(req_int(params, "message_thread_id"))
        if topic is None or topic.deleted:
            raise bad("message thread not found")
        return topic

    def _topic_setter(self, *, closed: bool) -> Any:
        def handler(params: Params) -> bool:
            topic = self._topic(self._forum(params), params)
            if topic.closed == closed:
                raise bad("TOPIC_NOT_MODIFIED")
            topic.closed = closed
            return True

        return handler

    def delete_forum_topic(self, params: Params) -> bool:
        chat = self._forum(params)
        self._topic(chat, params)
        drop_topic(chat, req_int(params, "message_thread_id"))
        return True


def drop_topic(chat: ChatState, thread: int) -> None:
    chat.topics[thread].deleted = True
    chat.deleted.update(
        mid for mid, m in chat.messages.items() if m.get("message_thread_id") == thread
    )
