"""What thanks send privately, always through the outbox and never more than needed:

* `ReceiverNotes.tick` (every few minutes): a person thanked gets at most one note a day
  ("thanked 3 times in “Chat”, for …" with links to the messages), once the thanks are
  `SETTLE` old so a burst makes one note, held during the chat's quiet hours. Thanks for
  someone told within the last `TOLD` are not even read (so however many of them wait, they
  never crowd other people's notes out of a tick's `BATCH`); they come in the next note a
  day after the last. The outbox key names the person and the day, so a second note that
  day is refused by the key in any case.
* `FarmingNotes.tick` (hourly): once a week each chat's admins get the pairs where more than
  half of someone's thanks (at least `FARM_MIN` in `FARM_WINDOW`) come from one person. The
  week is claimed by a compare-and-set on a hidden chat setting in the transaction that
  queues the notes (as the health digest does), so restarts and other processes never send
  it twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.db import Database
from bot.i18n import pick_language
from bot.notifier import Notifier
from bot.outgoing import queue
from bot.services.checkin_schedule import deliver_at, week_of
from bot.services.core import Sending
from bot.services.settings import SettingsService
from bot.views import thanks as views
from models.chats import ChatRepository
from models.thanks import Thanks, ThanksRepository
from models.users import UserRepository

log = logging.getLogger(__name__)

SETTLE = timedelta(minutes=30)
BATCH = 2000
TOLD = timedelta(days=1)  # a person told within this waits: one note a day
NOTE_KEEP = timedelta(days=2)  # an unsent note older than this is stale
FARM_WINDOW = timedelta(days=30)
FARM_MIN = 3
FARM_MARK = "thanks_farming_week"  # hidden chat setting: the last week whose note went


def message_link(chat_id: int, message_id: int) -> str | None:
    """t.me/c/… for a supergroup's message (a basic group's messages have no links)."""
    text = str(chat_id)
    if not text.startswith("-100"):
        return None
    return f"https://t.me/c/{text[4:]}/{message_id}"


@dataclass(frozen=True)
class Farmed:
    """A receiver more than half of whose thanks came from one giver."""

    receiver: str
    giver: str
    from_giver: int
    total: int


class ReceiverNotes:
    """The daily private note to people who were thanked."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: SettingsService,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._wake = wake_outbox

    async def tick(self) -> int:
        """Queue the notes that are due; how many were queued."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            rows = await ThanksRepository(session).unnoted(now - SETTLE, now - TOLD, BATCH)
        by_receiver: defaultdict[int, list[Thanks]] = defaultdict(list)
        for row in rows:
            by_receiver[row.receiver_id].append(row)
        queued = 0
        for receiver, thanks in by_receiver.items():
            try:
                queued += await self._note(receiver, thanks, now)
            except Exception:  # one person's trouble must not hold up the others
                log.exception("thanks note to %s failed", receiver)
        if queued:
            self._wake()
        return queued

    async def _note(self, receiver: int, thanks: list[Thanks], now: datetime) -> int:
        config = await self._settings.get(thanks[0].chat_id)
        day = now.astimezone(config.timezone).strftime("%Y%m%d")
        per_chat: defaultdict[int, list[int]] = defaultdict(list)
        for row in thanks:
            per_chat[row.chat_id].append(row.message_id)
        async with self._db.transaction() as session:
            user = await UserRepository(session).get(receiver)
            repo = ThanksRepository(session)
            if user is None or not user.reachable:
                await repo.mark_noted([row.id for row in thanks], now)
                return 0
            chats = ChatRepository(session)
            lines = []
            for chat_id, messages in per_chat.items():
                chat = await chats.get(chat_id)
                links = [link for m in messages if (link := message_link(chat_id, m))]
                title = chat.title if chat is not None else ""
                lines.append((title, len(messages), links))
            lang = pick_language(user.language_code, config.language)
            queued = await queue(
                session,
                f"thanks:{receiver}:{day}",
                receiver,
                views.note(lang, lines),
                now=now,
                not_before=deliver_at(config.quiet_hours, now, config.timezone),
                expires_at=now + NOTE_KEEP,
            )
            if queued:  # else today's note went already: these wait for tomorrow's
                await repo.mark_noted([row.id for row in thanks], now)
        return int(queued)


class FarmingNotes(Sending):
    """The weekly private note to each chat's admins about lopsided thanks."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        wake_outbox: Callable[[], None],
    ) -> None:
        super().__init__(db, clock, notifier, settings, wake_outbox)
        self._done: dict[int, str] = {}  # chat -> the week known claimed: no query

    async def tick(self) -> int:
        """Claim this week in each chat with recent thanks; how many chats' notes went."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            chat_ids = await ThanksRepository(session).chats_since(now - FARM_WINDOW)
        return await self._each_chat(chat_ids, now, "thanks farming note")

    async def lopsided(self, chat_id: int, now: datetime) -> list[Farmed]:
        """Receivers with at least `FARM_MIN` thanks in `FARM_WINDOW`, more than half of
        them from one giver."""
        async with self._db.transaction() as session:
            pairs = await ThanksRepository(session).pairs(chat_id, now - FARM_WINDOW)
            totals: defaultdict[int, int] = defaultdict(int)
            for receiver, _giver, n in pairs:
                totals[receiver] += n
            found = [
                (receiver, giver, n, totals[receiver])
                for receiver, giver, n in pairs
                if totals[receiver] >= FARM_MIN and 2 * n > totals[receiver]
            ]
            ids = {r for r, *_ in found} | {g for _, g, *_ in found}
            names = {u.id: u.full_name for u in await UserRepository(session).many(ids)}
        found.sort(key=lambda f: (-f[2], f[0]))
        return [Farmed(names.get(r, str(r)), names.get(g, str(g)), n, t) for r, g, n, t in found]

    async def _chat(self, chat_id: int, now: datetime) -> int:
        config = await self._settings.get(chat_id)
        week = week_of(now, config.timezone)
        if self._done.get(chat_id) == week:
            return 0
        stored = await self._mark(chat_id, FARM_MARK)
        if stored == week:
            self._done[chat_id] = week
            return 0
        farmed = await self.lopsided(chat_id, now)
        admins: frozenset[int] = frozenset()
        if farmed:
            found = await self._notifier.admins(chat_id)
            if found is None:
                return 0  # Telegram would not list the admins: the next tick tries again
            admins = found
        async with self._db.transaction() as session:
            if not await ChatRepository(session).claim_setting(chat_id, FARM_MARK, stored, week):
                return 0
            chat = await ChatRepository(session).get(chat_id)
            people = await UserRepository(session).many(set(admins))
            when = deliver_at(config.quiet_hours, now, config.timezone)
            for admin in sorted(
                (p for p in people if p.reachable and not p.is_bot), key=lambda p: p.id
            ):
                lang = pick_language(admin.language_code, config.language)
                await queue(
                    session,
                    f"thanks:farm:{chat_id}:{week}:{admin.id}",
                    admin.id,
                    views.farming(lang, chat.title if chat else "", farmed),
                    now=now,
                    not_before=when,
                    expires_at=when + NOTE_KEEP,
                )
        self._done[chat_id] = week
        return int(bool(farmed))
