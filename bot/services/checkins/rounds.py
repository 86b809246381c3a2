"""A round's life: opening it (the group post and the private invites), the reminder, and
closing it (streaks, the digest, support requests routed to the buddy or the admins).

Each step is claimed by a conditional UPDATE in the same transaction that queues its messages
in the outbox, so it runs once even across restarts; Telegram is only ever reached by the
outbox, after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import pick_language
from bot.outbox import Outgoing, queue, queue_many
from bot.services.checkin_schedule import deliver_at, week_of
from bot.services.checkins import digest, keys, support
from bot.services.checkins.common import Deps, chat_title, questions_for
from bot.services.checkins.planning import round_values
from bot.services.checkins.questions import decode_answers
from bot.services.settings import ChatConfig
from bot.views import checkins as views
from models.checkin_repository import CheckinRepository
from models.checkins import CheckinEntry, CheckinRound, EntryState, RoundStatus
from models.thanks import ThanksRepository
from models.users import UserRepository

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)  # the digest counts the week's thanks


async def _each(
    rows: list[CheckinRound], step: Callable[[CheckinRound], Awaitable[bool | int]], what: str
) -> int:
    """Run `step` for each due round, one chat's failure not stopping the others; how many
    steps did something."""
    done = 0
    for row in rows:
        try:
            done += int(await step(row))
        except Exception:
            log.exception("chat %s: %s check-in %s failed", row.chat_id, what, row.id)
    return done


ADMINS_GRACE = timedelta(hours=6)  # how long a close waits for the admins list to be known


async def _invite(
    repo: CheckinRepository, row: CheckinRound, config: ChatConfig, title: str, now: datetime
) -> list[Outgoing]:
    """An entry for each invitee of the round (paused ones wait it out); the private invites
    to queue for the others."""
    entries: list[dict[str, object]] = []
    prompts: list[Outgoing] = []
    for user, paused_until in await repo.invitees(row.chat_id):
        paused = paused_until is not None and paused_until > now
        entries.append(
            {
                "round_id": row.id,
                "user_id": user.id,
                "state": EntryState.PAUSED if paused else EntryState.INVITED,
                "answers": "[]",
                "step": -1,
                "done": False,
            }
        )
        if paused:
            continue
        lang = pick_language(user.language_code, config.language)
        text, button = views.invite(lang, title, row.id, row.closes_at, config.timezone)
        key = keys.Invite(row.id, user.id).encode()
        prompts.append(Outgoing(key, user.id, text, button))
    await repo.add_entries(entries)
    return prompts


class StartNow(StrEnum):
    STARTED = "started"
    ALREADY_OPEN = "already_open"


@dataclass(frozen=True)
class StartResult:
    outcome: StartNow
    closes_at: datetime


@dataclass(frozen=True)
class _Closing:
    """What closing one round needs to know besides its rows."""

    round_id: int
    chat_id: int
    title: str
    admins: frozenset[int]
    config: ChatConfig


class Rounds:
    """Opens, reminds and closes rounds; `/checkin_now`."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def start_due(self) -> int:
        """Open the planned rounds whose start has come (or mark missed those whose whole
        window passed while the bot was down)."""
        now = self._deps.clock.now()
        async with self._deps.db.transaction() as session:
            due = await CheckinRepository(session).due_to_start(now)
        return await _each(due, lambda row: self._start(row, now), "opening")

    async def _start(self, row: CheckinRound, now: datetime) -> bool:
        if row.closes_at > now:
            return await self.open(row.id)
        async with self._deps.db.transaction() as session:
            await CheckinRepository(session).move(row.id, RoundStatus.PLANNED, RoundStatus.MISSED)
        log.info("chat %s: check-in %s was missed while the bot was down", row.chat_id, row.week)
        return False

    async def start_now(self, chat_id: int) -> StartResult:
        """`/checkin_now`: open a round at once (it counts as this week's check-in)."""
        now = self._deps.clock.now()
        config = await self._deps.settings.get(chat_id)
        async with self._deps.db.transaction() as session:
            repo = CheckinRepository(session)
            running = await repo.open_round(chat_id)
            if running is not None:
                return StartResult(StartNow.ALREADY_OPEN, running.closes_at)
            week = week_of(now, config.timezone)
            existing = await repo.by_week(chat_id, week)
            suffix = 0
            while existing is not None and existing.status != RoundStatus.PLANNED:
                suffix += 1
                week = f"{week_of(now, config.timezone)}{chr(ord('a') + suffix)}"
                existing = await repo.by_week(chat_id, week)
            values = round_values(chat_id, week, now, config, manual=True)
            if existing is not None:
                for name, value in values.items():
                    setattr(existing, name, value)
                round_id = existing.id
            else:
                round_id = await repo.add_round(values)
            closes_at = now + config.checkin_window
        await self.open(round_id)
        self._deps.wake()
        return StartResult(StartNow.STARTED, closes_at)

    async def open(self, round_id: int) -> bool:
        """Open a planned round: the group post and the private prompts, queued atomically."""
        now = self._deps.clock.now()
        async with self._deps.db.transaction() as session:
            row = await CheckinRepository(session).round(round_id)
            if row is None:
                return False
            chat_id = row.chat_id
        config = await self._deps.settings.get(chat_id)
        async with self._deps.db.transaction() as session:
            repo = CheckinRepository(session)
            if not await repo.move(round_id, RoundStatus.PLANNED, RoundStatus.OPEN):
                return False
            row = await repo.round(round_id)
            assert row is not None
            row.questions = await repo.questions(chat_id)
            if row.remind_at is not None and row.remind_at <= now:
                row.reminded = True  # opened late (start-up): the invite is reminder enough
            title = await chat_title(session, chat_id)
            closes, zone = row.closes_at, config.timezone
            prompts = await _invite(repo, row, config, title, now)
            when = deliver_at(config.quiet_hours, now, zone)
            text, buttons = views.group_post(
                config.language, round_id, closes, zone, self._deps.notifier.username
            )
            await queue(
                session,
                keys.GroupPost(round_id).encode(),
                chat_id,
                text,
                now=now,
                buttons=buttons,
                not_before=when,
                expires_at=closes,
            )
            await queue_many(session, prompts, now=now, not_before=when, expires_at=closes)
        log.info("chat %s: check-in %s opened for %d people", chat_id, round_id, len(prompts))
        return True

    async def remind_due(self) -> int:
        """Send the reminder of the open rounds whose reminder time has come."""
        now = self._deps.clock.now()
        async with self._deps.db.transaction() as session:
            due = await CheckinRepository(session).due_to_remind(now)
        return await _each(due, lambda row: self._remind(row, now), "the reminder of")

    async def _remind(self, row: CheckinRound, now: datetime) -> int:
        config = await self._deps.settings.get(row.chat_id)
        async with self._deps.db.transaction() as session:
            repo = CheckinRepository(session)
            if not await repo.claim_reminder(row.id):
                return 0
            title = await chat_title(session, row.chat_id)
            reminders = []
            for user, paused_until in await repo.to_remind(row.id, row.chat_id):
                if paused_until is not None and paused_until > now:
                    continue
                lang = pick_language(user.language_code, config.language)
                text, button = views.reminder(lang, title, row.id, row.closes_at, config.timezone)
                key = keys.Reminder(row.id, user.id).encode()
                reminders.append(Outgoing(key, user.id, text, button))
            await queue_many(
                session,
                reminders,
                now=now,
                not_before=deliver_at(config.quiet_hours, now, config.timezone),
                expires_at=row.closes_at,
            )
        return 1

    async def close_due(self) -> int:
        """Close the open rounds whose window has passed."""
        now = self._deps.clock.now()
        async with self._deps.db.transaction() as session:
            due = await CheckinRepository(session).due_to_close(now)
        return await _each(due, lambda row: self._close(row.id, row.chat_id), "closing")

    async def _admins(self, round_id: int, chat_id: int) -> frozenset[int] | None:
        """The chat's admins (the bot left out); None while unknown within the grace (the
        close is then tried again on the next tick), empty once the grace is over."""
        now = self._deps.clock.now()
        found = await self._deps.notifier.admins(chat_id)
        if found is None:
            async with self._deps.db.transaction() as session:
                closing = await CheckinRepository(session).round(round_id)
                overdue = closing is None or closing.closes_at + ADMINS_GRACE <= now
            if not overdue:
                # support requests would have nowhere to go: try again on the next tick
                log.warning("chat %s: admins unknown, check-in %s closes later", chat_id, round_id)
                return None
            log.error("chat %s: admins still unknown, closing check-in %s", chat_id, round_id)
        bot_id = self._deps.notifier.bot.id
        return frozenset(a for a in found or () if a != bot_id)

    async def _close(self, round_id: int, chat_id: int) -> bool:
        now = self._deps.clock.now()
        config = await self._deps.settings.get(chat_id)
        admins = await self._admins(round_id, chat_id)
        if admins is None:
            return False
        async with self._deps.db.transaction() as session:
            repo = CheckinRepository(session)
            if not await repo.move(round_id, RoundStatus.OPEN, RoundStatus.CLOSED):
                return False
            row = await repo.round(round_id)
            assert row is not None
            closing = _Closing(
                round_id, chat_id, await chat_title(session, chat_id), admins, config
            )
            tally, supports = await self._tally(session, row, closing)
            tally.thanks = await ThanksRepository(session).count_since(chat_id, now - WEEK)
            when = deliver_at(config.quiet_hours, now, config.timezone)
            text = views.digest(config.language, tally)
            await queue(
                session, keys.Digest(round_id).encode(), chat_id, text, now=now, not_before=when
            )
            await queue_many(session, supports, now=now, not_before=when)
        log.info("chat %s: check-in %s closed, %d took part", chat_id, round_id, tally.participants)
        return True

    async def _tally(
        self, session: AsyncSession, row: CheckinRound, closing: _Closing
    ) -> tuple[digest.Tally, list[Outgoing]]:
        """Streaks moved on, the digest's values, and the support requests to send."""
        repo = CheckinRepository(session)
        questions = questions_for(row.questions, closing.config.language)
        tally = digest.Tally()
        supports: list[Outgoing] = []
        # a second /checkin_now in a week ("2026-W49a"): a round, but not another week
        extra = row.week[-1:].isalpha()
        for entry in await repo.entries(row.id):
            streak = None
            if not extra:
                member = await repo.ensure_member(closing.chat_id, entry.user_id)
                paused = entry.state == EntryState.PAUSED
                moved = digest.next_streak(
                    digest.StreakCount(member.streak, member.best_streak),
                    done=entry.done,
                    paused=paused,
                )
                member.streak, member.best_streak = moved.current, moved.best
                streak = moved.current
            if not entry.done:
                continue
            user = await UserRepository(session).get(entry.user_id)
            name = user.full_name if user else str(entry.user_id)
            tally.participants += 1
            if streak is not None and digest.is_milestone(streak):
                tally.milestones.append((digest.milestone_name(entry.share, name), streak))
            answers = decode_answers(entry.answers)
            win = digest.shared_win(questions, answers, entry.share, name)
            if win is not None:
                tally.wins.append(win)
            for index, request in digest.support_requests(questions, answers):
                supports += await self._support(session, closing, entry, name, request, index)
        return tally, supports

    async def _support(
        self,
        session: AsyncSession,
        closing: _Closing,
        entry: CheckinEntry,
        name: str,
        request: str,
        index: int,
    ) -> list[Outgoing]:
        """A support request goes to the buddy, else to the admins; never the group."""
        found = support.Request(
            closing.round_id,
            closing.chat_id,
            closing.title,
            entry.user_id,
            name,
            index,
            request,
            closing.config,
        )
        return await support.route(session, found, closing.admins, now=self._deps.clock.now())
