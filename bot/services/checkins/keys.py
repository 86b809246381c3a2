"""The outbox keys of check-in messages, as a small typed codec.

A key makes a queued message unique (queueing it twice is a no-op) and lets it be withdrawn
later, so the strings are a stored format: rows already in the outbox carry them, and
`encode(parse(key)) == key` must hold for every key this module ever wrote.

    ci:{round}:g                                the group post opening a round
    ci:{round}:d                                the round's digest
    ci:{round}:p:{user}                         the private invite (prompt)
    ci:{round}:r:{user}                         the private reminder
    ci:{round}:h:{user}:{index}:{recipient}     a support request, per question and recipient
    nudge:{chat}:{user}:{yyyymmdd}[:b]          a nudge, or the word to the person's buddy
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "ci:"
NUDGE_PREFIX = "nudge:"
BUDDY_SUFFIX = ":b"


@dataclass(frozen=True)
class GroupPost:
    round_id: int

    def encode(self) -> str:
        return f"ci:{self.round_id}:g"


@dataclass(frozen=True)
class Digest:
    round_id: int

    def encode(self) -> str:
        return f"ci:{self.round_id}:d"


@dataclass(frozen=True)
class Invite:
    round_id: int
    user_id: int

    def encode(self) -> str:
        return f"ci:{self.round_id}:p:{self.user_id}"


@dataclass(frozen=True)
class Reminder:
    round_id: int
    user_id: int

    def encode(self) -> str:
        return f"ci:{self.round_id}:r:{self.user_id}"


@dataclass(frozen=True)
class Support:
    round_id: int
    user_id: int
    index: int  # which support question: two questions, two messages
    recipient: int

    def encode(self) -> str:
        return f"ci:{self.round_id}:h:{self.user_id}:{self.index}:{self.recipient}"


@dataclass(frozen=True)
class Nudge:
    chat_id: int
    user_id: int
    day: str  # yyyymmdd: one nudge per silence and day at most
    buddy: bool = False  # the copy that tells the person's buddy

    def encode(self) -> str:
        key = f"nudge:{self.chat_id}:{self.user_id}:{self.day}"
        return key + BUDDY_SUFFIX if self.buddy else key


Key = GroupPost | Digest | Invite | Reminder | Support | Nudge


def prompts(round_id: int, user_id: int) -> list[str]:
    """The keys of a person's invite and reminder for a round (what answering withdraws)."""
    return [Invite(round_id, user_id).encode(), Reminder(round_id, user_id).encode()]


def _number(token: str) -> int | None:
    digits = token.removeprefix("-")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 19:
        return None
    return int(token)


def _numbers(tokens: list[str]) -> list[int] | None:
    values = [_number(token) for token in tokens]
    return None if any(v is None for v in values) else [v for v in values if v is not None]


def parse(key: str) -> Key | None:
    """The typed key for an outbox key string, or None if it is not a check-in key."""
    parts = key.split(":")
    if parts[0] == "nudge":
        buddy = len(parts) == 5 and parts[4] == "b"
        ids = _numbers(parts[1:3]) if len(parts) == 4 or buddy else None
        if ids is None or len(parts[3]) != 8 or not parts[3].isdigit():
            return None
        return Nudge(ids[0], ids[1], parts[3], buddy)
    if parts[0] != "ci" or len(parts) < 3:
        return None
    kind, numbers = parts[2], _numbers([parts[1], *parts[3:]])
    if numbers is None:
        return None
    match kind, numbers:
        case "g", [round_id]:
            return GroupPost(round_id)
        case "d", [round_id]:
            return Digest(round_id)
        case "p", [round_id, user_id]:
            return Invite(round_id, user_id)
        case "r", [round_id, user_id]:
            return Reminder(round_id, user_id)
        case "h", [round_id, user_id, index, recipient]:
            return Support(round_id, user_id, index, recipient)
    return None
