"""Domain events and the bus that delivers them.

A service publishes what happened (a member joined, was verified, left, graduated); the
composition root's subscription table says who reacts. A subscriber's failure is logged and
never reaches the publisher or the other subscribers: follow-up work of another domain must
not undo the use case that has already committed.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bot.services.people import ChatRef, Person

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MemberJoined:
    """Someone joined a group; `privileged` for admins and owners, who skip verification."""

    chat: ChatRef
    person: Person
    privileged: bool


@dataclass(frozen=True)
class MemberArrived:
    """Someone became a member once (a join seen the first time, an admin or owner joining,
    or a join request approved); `MemberJoined` comes with every sighting of a join."""

    chat_id: int
    user_id: int


@dataclass(frozen=True)
class MemberVerified:
    """A newcomer confirmed the rules (in the group, or by accepting a join request)."""

    chat_id: int
    user_id: int


@dataclass(frozen=True)
class MemberLeft:
    """Someone who was in the group (or waiting to get in) left, or was `removed` by someone
    else (kicked or banned)."""

    chat_id: int
    user_id: int
    removed: bool = False


@dataclass(frozen=True)
class MembersGraduated:
    """Newcomers stopped being newcomers (probation over, or an admin raised their level)."""

    chat_id: int
    user_ids: tuple[int, ...]


@dataclass(frozen=True)
class WelcomeAwaited:
    """A held newcomer waits for a welcome in this chat (the welcome pacer should look)."""

    chat_id: int


@dataclass(frozen=True)
class MessageUndeliverable:
    """The outbox could not deliver a queued message: its recipient blocked the bot (403)."""

    key: str
    chat_id: int


E = TypeVar("E")
Handler = Callable[[E], Awaitable[object] | None]


@dataclass(frozen=True)
class Subscription(Generic[E]):
    """One row of the subscription table: who reacts to which event."""

    event: type[E]
    handler: Handler[E]


def on(event: type[E], handler: Handler[E]) -> Subscription[E]:
    """A typed table row: `on(MemberVerified, lambda e: checkins.offer(e.chat_id, e.user_id))`."""
    return Subscription(event, handler)


class EventBus:
    """Delivers each event to its subscribers in table order, isolating their failures."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Callable[[Any], Awaitable[object] | None]]] = {}

    def subscribe(self, subscriptions: Iterable[Subscription[Any]]) -> None:
        for row in subscriptions:
            self._handlers.setdefault(row.event, []).append(row.handler)

    async def publish(self, event: object) -> None:
        """Run every subscriber of the event's type; one that fails is logged and skipped."""
        for handler in self._handlers.get(type(event), ()):
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("a subscriber of %r failed", event)
