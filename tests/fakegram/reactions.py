"""Reactions to messages, and the updates Telegram sends about them.

As in Telegram: `message_reaction` (who set which reactions, with the previous ones) and
`message_reaction_count` (anonymous totals) reach a bot only in a chat where it is an
administrator, and only when it listed them in `allowed_updates` (getUpdates filters
them; they are opt-in). A reaction by an anonymous admin carries `actor_chat` instead of
`user`. A user who is not Premium sets at most one reaction, Premium at most three.
The bot's own reaction (setMessageReaction) is `ReactionMethods`, part of the Bot API.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .apibase import ApiBase, Params, bad, req_int
from .limits import RateLimiter
from .objects import JSON
from .state import ChatState, World

ADMIN_STATUSES = frozenset({"administrator", "creator"})
MAX_REACTIONS = 3  # Premium; one for everyone else


def emoji(value: str) -> JSON:
    """A ReactionTypeEmoji."""
    return {"type": "emoji", "emoji": value}


@dataclass
class Reactions:
    """The reactions set on every message, per person (or anonymous admin's chat)."""

    world: World
    by_message: dict[tuple[int, int], dict[int, list[str]]] = field(default_factory=dict)

    def react(
        self,
        chat_id: int,
        user_id: int,
        message_id: int,
        emojis: list[str],
        *,
        anonymous: bool = False,
    ) -> JSON | None:
        """The user sets `emojis` (replacing their earlier ones; [] takes them back) on a
        message. Returns the message_reaction update, or None when the bot gets none
        (not an admin there). `anonymous`: an anonymous admin, shown as the group."""
        if len(emojis) > MAX_REACTIONS:
            raise ValueError(f"at most {MAX_REACTIONS} reactions per person")
        chat = self.world.chat(chat_id)
        self._check_message(chat, message_id)
        actor = chat_id if anonymous else user_id
        mine = self.by_message.setdefault((chat_id, message_id), {})
        old = mine.get(actor, [])
        mine[actor] = list(emojis)
        if not self._bot_is_admin(chat):
            return None
        payload: JSON = {
            "chat": copy.deepcopy(chat.chat),
            "message_id": message_id,
            "date": self.world.now(),
            "old_reaction": [emoji(e) for e in old],
            "new_reaction": [emoji(e) for e in emojis],
        }
        if anonymous:
            payload["actor_chat"] = copy.deepcopy(chat.chat)
        else:
            payload["user"] = copy.deepcopy(self.world.user(user_id).json)
        return self.world.enqueue({"message_reaction": payload})

    def counts_update(self, chat_id: int, message_id: int) -> JSON | None:
        """The anonymous totals of a message's reactions (Telegram sends them with a delay;
        a test calls this when it wants one). None when the bot is not an admin there."""
        chat = self.world.chat(chat_id)
        self._check_message(chat, message_id)
        if not self._bot_is_admin(chat):
            return None
        totals: Counter[str] = Counter()
        for emojis in self.by_message.get((chat_id, message_id), {}).values():
            totals.update(emojis)
        payload: JSON = {
            "chat": copy.deepcopy(chat.chat),
            "message_id": message_id,
            "date": self.world.now(),
            "reactions": [
                {"type": emoji(e), "total_count": n} for e, n in totals.most_common() if n
            ],
        }
        return self.world.enqueue({"message_reaction_count": payload})

    def _bot_is_admin(self, chat: ChatState) -> bool:
        return self.world.get_member(chat, self.world.bot_id).status in ADMIN_STATUSES

    @staticmethod
    def _check_message(chat: ChatState, message_id: int) -> None:
        if not chat.is_group:
            raise ValueError("reaction updates are for groups and supergroups")
        if message_id not in chat.messages or message_id in chat.deleted:
            raise LookupError(f"no message {message_id} in chat {chat.id}")


# The emoji a ReactionTypeEmoji may carry (Bot API, "ReactionTypeEmoji").
_EMOJI_ROWS = (
    "❤ 👍 👎 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢",
    "🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳",
    "❤\u200d🔥 🌚 🌭 💯 🤣 ⚡ 🍌 🏆 💔 🤨 😐 🍓",
    "🍾 💋 🖕 😈 😴 😭 🤓 👻 👨\u200d💻 👀 🎃 🙈",
    "😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿",
    "🆒 💘 🙉 🦄 😘 💊 🙊 😎 👾 🤷\u200d♂ 🤷 🤷\u200d♀",
    "😡",
)
ALLOWED_EMOJI = frozenset(word for row in _EMOJI_ROWS for word in row.split())
BOT_MAX_REACTIONS = 1  # a bot is not Premium


class ReactionMethods(ApiBase):
    """setMessageReaction: the bot's own reaction. As in Telegram, it must be able to see
    the message, only the standard emoji are accepted, a bot sets one at most, and no
    message_reaction update is sent for a bot's reaction."""

    def __init__(self, world: World, limiter: RateLimiter) -> None:
        super().__init__(world, limiter)
        self.bot_reactions: dict[tuple[int, int], list[str]] = {}

    def reaction_handlers(self) -> dict[str, Any]:
        return {"setMessageReaction": self.set_message_reaction}

    def set_message_reaction(self, params: Params) -> bool:
        chat = self.chat(params)
        if not chat.is_private:
            self.require_bot_in_chat(chat)
        message_id = req_int(params, "message_id")
        if message_id not in chat.messages or message_id in chat.deleted:
            raise bad("MESSAGE_ID_INVALID")
        reaction = params.get("reaction") or []
        if not isinstance(reaction, list):
            raise bad("can't parse reaction types")
        emojis = []
        for item in reaction:
            if not isinstance(item, dict) or item.get("type") != "emoji":
                raise bad("REACTION_INVALID")
            if item.get("emoji") not in ALLOWED_EMOJI:
                raise bad("REACTION_INVALID")
            emojis.append(str(item["emoji"]))
        if len(emojis) > BOT_MAX_REACTIONS:
            raise bad("REACTIONS_TOO_MANY")
        if emojis:
            self.bot_reactions[(chat.id, message_id)] = emojis
        else:
            self.bot_reactions.pop((chat.id, message_id), None)
        return True
