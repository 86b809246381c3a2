"""Vote buttons brought up to date in batches.

A vote only marks its idea dirty. This job, run every `EDIT_PASS`, edits the buttons of each
dirty idea at most once per `EDIT_EVERY`, and makes at most one edit per group per pass, so
100 votes in a minute on one idea cost about six editMessageReplyMarkup calls and several
popular ideas in one group still stay well inside Telegram's 20 messages a minute per group.
The edit is claimed in the database first (the mark cleared, the time stamped), so two
processes never edit the same idea twice; an outage puts the mark back for a later pass.
An idea whose author was forgotten (/forget) gets its whole post redrawn instead, decided or
not, so the group's post no longer names them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.db import Database
from bot.notifier import Notifier, TelegramUnavailable
from bot.services.ideas.cards import card_of, names_of
from bot.services.settings import SettingsService
from bot.views import ideas as views
from models.ideas import IdeaRepository, IdeaStatus
from models.users import FORMER_MEMBER

log = logging.getLogger(__name__)

EDIT_PASS = timedelta(seconds=5)  # how often the job runs
EDIT_EVERY = timedelta(seconds=10)  # the least time between two edits of one idea
BATCH = 50


class ButtonEdits:
    """The edit job of the ideas board."""

    def __init__(
        self, db: Database, clock: Clock, notifier: Notifier, settings: SettingsService
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._settings = settings

    async def flush(self) -> int:
        """One pass: the longest-waiting dirty idea of each group gets its buttons edited
        (if its last edit is EDIT_EVERY old); the number of edits made."""
        now = self._clock.now()
        before = now - EDIT_EVERY
        async with self._db.transaction() as session:
            due = await IdeaRepository(session).due_edits(before, BATCH)
        chosen: dict[int, tuple[int, int]] = {}  # chat -> (idea, message): one per group
        for idea in due:
            if idea.message_id is not None:
                chosen.setdefault(idea.chat_id, (idea.id, idea.message_id))
        edits = 0
        for chat_id, (idea_id, message_id) in chosen.items():
            edits += await self._edit(chat_id, idea_id, message_id, now, before)
        return edits

    async def _edit(
        self, chat_id: int, idea_id: int, message_id: int, now: datetime, before: datetime
    ) -> int:
        """Claim and make one idea's edit: its buttons, or the whole post when its author was
        forgotten (the post still shows the name); 1 if an edit was made."""
        async with self._db.transaction() as session:
            repo = IdeaRepository(session)
            if not await repo.claim_edit(idea_id, now, before):
                return 0  # another process took it
            stored = await repo.get(idea_id)
            if stored is None:
                return 0
            card = card_of(stored, None) if stored.author_id == FORMER_MEMBER else None
            counts = (stored.up, stored.down)
        lang = (await self._settings.get(chat_id)).language
        if card is not None:
            text, keyboard = views.post(lang, card)
            if not await self._notifier.edit(chat_id, message_id, text, keyboard):
                log.warning("ideas: the post of idea %s was not redrawn", idea_id)
                return 0
            if card.status != IdeaStatus.OPEN:
                return 1
        else:
            buttons = views.vote_buttons(lang, idea_id, *counts)
            try:
                await self._notifier.edit_buttons(chat_id, message_id, buttons)
            except TelegramUnavailable:
                log.warning("ideas: the buttons of idea %s wait for Telegram", idea_id)
                async with self._db.transaction() as session:
                    await IdeaRepository(session).mark_dirty(idea_id)
                return 0
        await self._decided_meanwhile(chat_id, idea_id, message_id, lang)
        return 1

    async def _decided_meanwhile(
        self, chat_id: int, idea_id: int, message_id: int, lang: str
    ) -> None:
        """An admin's decision that landed between the claim and the edit has been drawn
        over with vote buttons: draw the decision again."""
        async with self._db.transaction() as session:
            idea = await IdeaRepository(session).get(idea_id)
            if idea is None or idea.status == IdeaStatus.OPEN:
                return
            card = card_of(idea, (await names_of(session, [idea.author_id])).get(idea.author_id))
        text, buttons = views.post(lang, card)
        await self._notifier.edit(chat_id, message_id, text, buttons)
