"""Buddies: the pool and matching (service), what people are told (messages), and what
/buddy and /buddies show (readouts). The names below are its interface."""

from bot.services.buddies.outcomes import Change, Followup, Volunteer, VolunteerResult
from bot.services.buddies.readouts import BuddyView, Overview
from bot.services.buddies.service import FOLLOWUP, BuddyService

__all__ = [
    "FOLLOWUP",
    "BuddyService",
    "BuddyView",
    "Change",
    "Followup",
    "Overview",
    "Volunteer",
    "VolunteerResult",
]
