"""What a feature's services are built with: the core the composition root assembles
(`bot/assembly.py`'s `Core`), seen by features as a protocol so they need not import it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.clock import Clock, Timer
from bot.db import Database
from bot.invalidation import Invalidations
from bot.notifier import Notifier
from bot.outbox import Outbox
from bot.services.settings import SettingsService


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
