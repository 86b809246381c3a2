"""What a feature's services are built with: the core the composition root assembles
(`bot/assembly.py`'s `Core`), seen by features as a protocol so they need not import it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from bot.clock import Clock, Timer
from bot.db import Database
from bot.invalidation import Invalidations
from bot.notifier import Notifier
from bot.outbox import Outbox
from bot.services.settings import SettingsService
from models.chats import ChatRepository

log = logging.getLogger(__name__)


class ServiceCore(Protocol):
    """Storage, time, chat settings and the send side (direct and queued)."""

    @property
    def db(self) -> Database: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def timer(self) -> Timer: ...
    @property
    def notifier(self) -> Notifier: ...
    @property
    def chat_settings(self) -> SettingsService: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def invalidations(self) -> Invalidations: ...


class Sending:
    """The base of services that read and write the database on the clock, answer through
    the notifier and queue private notes in the outbox (then wake it)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._settings = settings
        self._wake = wake_outbox

    async def _chat(self, chat_id: int, now: datetime) -> int:
        """One chat's part of a periodic pass (`_each_chat`): how many notes it queued."""
        raise NotImplementedError

    async def _each_chat(self, chat_ids: Iterable[int], now: datetime, what: str) -> int:
        """A periodic pass: `_chat` for each chat, one chat's failure logged without holding
        up the others; the outbox woken if anything was queued. The sum of what they did."""
        done = 0
        for chat_id in chat_ids:
            try:
                done += await self._chat(chat_id, now)
            except Exception:
                log.exception("%s for chat %s failed", what, chat_id)
        if done:
            self._wake()
        return done

    async def _mark(self, chat_id: int, key: str) -> str | None:
        """The period a pass last claimed in the chat (a hidden chat setting), if any."""
        async with self._db.transaction() as session:
            return (await ChatRepository(session).settings(chat_id)).get(key)
