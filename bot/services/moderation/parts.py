"""What every part of moderation works with, built once by the facade."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.db import Database
from bot.locks import Locks
from bot.notifier import Notifier
from bot.services.members import AdminGuard
from bot.services.moderation.audit import AuditLog
from bot.services.pace import Pace
from bot.services.settings import SettingsService


@dataclass(frozen=True)
class Deps:
    db: Database
    clock: Clock
    notifier: Notifier
    settings: SettingsService
    admins: AdminGuard
    pace: Pace
    audit: AuditLog
    locks: Locks  # steps of one person that must not interleave (warnings)


class Part:
    """A moderation part: keeps the shared collaborators under the names its methods use."""

    def __init__(self, deps: Deps) -> None:
        self._db = deps.db
        self._clock = deps.clock
        self._notifier = deps.notifier
        self._settings = deps.settings
        self._admins = deps.admins
        self._pace = deps.pace
        self._audit = deps.audit
        self._locks = deps.locks
