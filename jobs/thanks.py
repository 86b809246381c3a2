"""The thanks jobs: the receivers' daily notes and the admins' weekly farming note. Both are
whole-table passes (`shared`): with several processes only the leader runs them."""

from __future__ import annotations

from datetime import timedelta

from bot.services.thanks import Thanking
from jobs.schedule import Job

NOTES_EVERY = timedelta(minutes=5)
FARMING_EVERY = timedelta(hours=1)


def thanks_jobs(thanks: Thanking) -> list[Job]:
    return [
        Job("thanks_notes", thanks.notes.tick, NOTES_EVERY, shared=True),
        Job("thanks_farming", thanks.farming.tick, FARMING_EVERY, shared=True),
    ]
