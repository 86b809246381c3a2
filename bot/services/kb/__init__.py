"""The knowledge base: notes (notes.py), members' stories with consent (stories.py) and a
search over both that knows Russian and English word forms (search.py, text.py)."""

from __future__ import annotations

from bot.clock import Clock, Timer
from bot.db import Database
from bot.invalidation import Changes
from bot.services.kb.notes import Notes
from bot.services.kb.search import Search
from bot.services.kb.stories import KB_CONSENT, Stories
from bot.services.kb.values import Choice, Entry, Hit, Media, NoteContent
from bot.services.kb.wins import Wins

__all__ = [
    "KB_CONSENT",
    "Choice",
    "Entry",
    "Hit",
    "KnowledgeBase",
    "Media",
    "NoteContent",
]


class KnowledgeBase:
    """The three parts, built together; handlers reach them as `hearth.kb.notes` and so on."""

    def __init__(self, db: Database, clock: Clock, changes: Changes, timer: Timer) -> None:
        self.notes = Notes(db, clock, changes, timer)
        self.stories = Stories(db, clock)
        self.search = Search(db, clock)
        self.wins = Wins(db, clock)
