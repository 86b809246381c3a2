"""What buddy use cases answer; views turn these into words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Volunteer(StrEnum):
    ADDED = "added"
    ALREADY = "already"
    NOT_YET = "not_yet"
    NOT_IN_CHAT = "not_in_chat"


class Change(StrEnum):
    CHANGED = "changed"
    NO_BUDDY = "no_buddy"
    LIMIT = "limit"


class Followup(StrEnum):
    NO_BUDDY = "no_buddy"
    CONNECTED = "connected"
    NUDGED = "nudged"


@dataclass(frozen=True)
class VolunteerResult:
    outcome: Volunteer
    eligible_at: datetime | None = None
