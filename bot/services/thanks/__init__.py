"""Thanks: gratitude bound to a message, limited so it cannot be farmed, counted as how many
different people thanked someone in the last 90 days (giving.py); the receiver's daily note
and the admins' weekly farming note (notes.py); recent message authors for reactions
(authors.py; in Redis, authors_redis.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

from bot.config import Settings
from bot.services.activity import ActivityTracker
from bot.services.core import ServiceCore
from bot.services.thanks.authors import Authors, RecentAuthors
from bot.services.thanks.authors_redis import SharedAuthors
from bot.services.thanks.giving import Given, Named, Promote, Source, ThanksService
from bot.services.thanks.notes import FarmingNotes, ReceiverNotes

__all__ = [
    "Authors",
    "FarmingNotes",
    "Given",
    "Named",
    "Promote",
    "ReceiverNotes",
    "RecentAuthors",
    "SharedAuthors",
    "Source",
    "Thanking",
    "ThanksService",
    "build_authors",
    "build_thanking",
]


@dataclass(frozen=True)
class Thanking:
    """The thanks feature as the application holds it: the service and its two notes."""

    service: ThanksService
    notes: ReceiverNotes
    farming: FarmingNotes


class SharedStore(Protocol):
    """What the authors' store is chosen by (the composition root's Core)."""

    @property
    def redis(self) -> Redis | None: ...

    @property
    def settings(self) -> Settings: ...


def build_authors(core: SharedStore) -> Authors:
    """Recent authors in Redis (shared by every process of the bot) with a client, else in
    this process's memory."""
    if core.redis is None:
        return RecentAuthors()
    return SharedAuthors(core.redis, f"hearth:authors:{core.settings.bot_id}:")


def build_thanking(
    core: ServiceCore, activity: ActivityTracker, promote: Promote, authors: Authors | None = None
) -> Thanking:
    """The service and its notes, for the composition root."""
    db, clock, notifier, settings = core.db, core.clock, core.notifier, core.chat_settings
    return Thanking(
        ThanksService(db, clock, notifier, settings, activity, promote, authors),
        ReceiverNotes(db, clock, settings, core.outbox.wake),
        FarmingNotes(db, clock, notifier, settings, core.outbox.wake),
    )
