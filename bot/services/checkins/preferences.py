"""Who takes part: the offer after verification, opting in and out, pauses, streaks and
status; the chat's own questions; and withdrawing held invites nobody wants any more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services.checkins import keys
from bot.services.checkins.common import (
    Deps,
    chat_title,
    language_of,
    questions_for,
    withdraw_prompts,
)
from bot.services.checkins.questions import Question, encode
from bot.views import checkins as views
from models.chats import ChatRepository
from models.checkin_repository import CheckinRepository
from models.checkins import EntryState
from models.members import MemberRepository, MemberStatus, TrustLevel
from models.outbox import OutboxRepository
from models.users import UserRepository

MAX_PAUSE = timedelta(days=365)


@dataclass
class Streak:
    current: int
    best: int
    opted_in: bool


class Preferences:
    """A person's part in check-ins, and a chat's questions."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def offer(self, chat_id: int, user_id: int) -> None:
        """After verification: offer check-ins once, if the chat holds them."""
        config = await self._deps.settings.get(chat_id)
        slot = config.checkin
        if slot is None:
            return
        async with self._deps.db.transaction() as session:
            member = await CheckinRepository(session).ensure_member(chat_id, user_id)
            if member.offered or member.opted_in:
                return
            member.offered = True
            lang = await language_of(session, user_id, config)
            title = await chat_title(session, chat_id)
        text, buttons = views.offer(lang, title, chat_id, slot)
        await self._deps.notifier.send(user_id, text, buttons)

    async def set_opt_in(
        self, user_id: int, on: bool, chat_id: int | None = None, *, in_private: bool = True
    ) -> list[str]:
        """Opt in or out in one chat, or every chat the person is in; returns the chat titles.

        Said in private, it also shows the person can be written to again (after a block)."""
        async with self._deps.db.transaction() as session:
            if in_private:
                await UserRepository(session).set_reachable(user_id, True)
            members = MemberRepository(session)
            if chat_id is not None:
                member = await members.get(chat_id, user_id)
                chats = [member] if member is not None and member.status == MemberStatus.IN else []
            else:
                chats = await members.for_user(user_id)
            repo = CheckinRepository(session)
            titles = []
            for member in chats:
                if member.trust == TrustLevel.PENDING:
                    continue
                row = await repo.ensure_member(member.chat_id, user_id)
                row.opted_in = on
                row.offered = True
                chat = await ChatRepository(session).get(member.chat_id)
                titles.append(chat.title if chat else str(member.chat_id))
            if not on and chats:
                rounds = await repo.open_round_ids(user_id, [m.chat_id for m in chats])
                await withdraw_prompts(session, user_id, rounds)
        return titles

    async def pause(self, user_id: int, length: timedelta | None) -> datetime | None:
        """Pause check-in messages and nudges for `length` (None resumes); returns the end.

        A pause during an open round counts as a paused week for it (the streak is kept), and
        its queued invites, reminders and nudges are withdrawn."""
        until = self._deps.clock.now() + length if length is not None else None
        async with self._deps.db.transaction() as session:
            await UserRepository(session).set_reachable(user_id, True)
            repo = CheckinRepository(session)
            person = await repo.person(user_id)
            person.paused_until = until
            if until is not None:
                for entry in await repo.unanswered_open(user_id):
                    entry.state = EntryState.PAUSED
                await withdraw_prompts(session, user_id, await repo.open_round_ids(user_id))
                await OutboxRepository(session).withdraw_prefix(
                    user_id, keys.NUDGE_PREFIX, exclude_suffix=keys.BUDDY_SUFFIX
                )
        return until

    async def sweep_held(self) -> int:
        """Withdraw invites and reminders held (quiet hours) for people who meanwhile left the
        chat, opted out, paused or answered; returns how many were withdrawn."""
        now = self._deps.clock.now()
        async with self._deps.db.transaction() as session:
            repo = CheckinRepository(session)
            outbox = OutboxRepository(session)
            wanted: dict[int, tuple[int, int]] = {}
            for row_id, raw in await outbox.held(keys.PREFIX, now):
                key = keys.parse(raw)
                if isinstance(key, keys.Invite | keys.Reminder):
                    wanted[row_id] = (key.round_id, key.user_id)
            if not wanted:
                return 0
            ok = await repo.still_invited({r for r, _ in wanted.values()}, now)
            stale = [row_id for row_id, pair in wanted.items() if pair not in ok]
            if stale:
                await outbox.expire_pending(stale)
        return len(stale)

    async def zone(self, user_id: int) -> ZoneInfo:
        """The time zone to show a person's own dates in: their (first) chat's."""
        async with self._deps.db.transaction() as session:
            chats = await MemberRepository(session).for_user(user_id)
        if not chats:
            return self._deps.settings.defaults().timezone
        return (await self._deps.settings.get(min(m.chat_id for m in chats))).timezone

    async def status(self, user_id: int, chat_id: int | None = None) -> list[tuple[str, bool]]:
        """Each chat the person is in (or just `chat_id`: asked in a group, the others are
        nobody else's business) by title, and whether they take part in its check-ins."""
        async with self._deps.db.transaction() as session:
            return await CheckinRepository(session).standing(user_id, chat_id)

    async def streaks(self, chat_id: int, user_id: int) -> Streak | None:
        """The person's streak in the chat; None if they never took part."""
        async with self._deps.db.transaction() as session:
            row = await CheckinRepository(session).member(chat_id, user_id)
        if row is None or (not row.opted_in and not row.best_streak):
            return None
        return Streak(row.streak, row.best_streak, row.opted_in)

    async def paused_until(self, user_id: int) -> datetime | None:
        """The end of the person's pause, if one is running."""
        async with self._deps.db.transaction() as session:
            person = await CheckinRepository(session).existing_person(user_id)
        until = person.paused_until if person else None
        return until if until is not None and until > self._deps.clock.now() else None

    async def questions(self, chat_id: int, language: str) -> tuple[list[Question], bool]:
        """The chat's questions and whether they are its own (not the defaults)."""
        async with self._deps.db.transaction() as session:
            raw = await CheckinRepository(session).questions(chat_id)
        return questions_for(raw, language), raw is not None

    async def set_questions(self, chat_id: int, questions: list[Question] | None) -> None:
        """The chat's own questions from the next round on; None restores the defaults."""
        async with self._deps.db.transaction() as session:
            raw = encode(questions) if questions is not None else None
            await CheckinRepository(session).set_questions(chat_id, raw)
