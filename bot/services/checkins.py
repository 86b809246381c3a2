"""Weekly check-ins, small wins and gentle nudges.

Every deadline is a column of a `checkin_rounds` row (start, reminder, close); `tick()` is the
one periodic job: it plans the next round of each chat, then starts, reminds and closes the
rounds that are due, each step claimed by a conditional UPDATE in the same transaction that
queues its messages in the outbox, so a step runs once even across restarts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from html import escape
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, func, insert, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock, as_utc
from bot.db import Database
from bot.i18n import format_moment, pick_language, t
from bot.notifier import MESSAGE_LIMIT, Button, Keyboard, Notifier, utf16_length
from bot.outbox import Outgoing, queue, queue_many
from bot.services.activity import ActivityTracker
from bot.services.checkin_schedule import deliver_at, latest_slot, next_slot, week_of
from bot.services.settings import ChatConfig, SettingsService
from models.buddies import BuddyPair
from models.chats import Chat, ChatSetting
from models.checkins import (
    CheckinEntry,
    CheckinMember,
    CheckinPerson,
    CheckinQuestions,
    CheckinRepository,
    CheckinRound,
    EntryState,
    RoundStatus,
)
from models.members import Member, MemberRepository, MemberStatus, TrustLevel
from models.outbox import OutboxMessage, OutboxRepository, OutboxStatus
from models.upsert import insert_ignore
from models.users import User, UserRepository

log = logging.getLogger(__name__)

MILESTONES = (4, 12, 26, 52)
MAX_QUESTIONS = 5
MAX_QUESTION_LENGTH = 300
MAX_ANSWER_LENGTH = 1000
DIGEST_LIMIT = 3500  # UTF-16 code units, as Telegram counts (its limit is 4096)
SUMMARY_LIMIT = MESSAGE_LIMIT - 400  # the "Saved" summary, leaving room for its frame
MAX_PAUSE = timedelta(days=365)
PREFIX = "ci:"
BEGIN = "ci:a:"
SKIP = "ci:k:"
SHARE = "ci:s:"
OPT = "ci:o:"
DEEP_LINK = "ci_"
SHARE_CHOICES = ("name", "anon", "no")
NUDGE_CHECK_EVERY = timedelta(minutes=1)
NUDGE_BATCH = 500  # per chat and pass; the next pass (a minute later) takes the next ones
ADMINS_GRACE = timedelta(hours=6)  # how long a close waits for the admins list to be known


@dataclass(frozen=True)
class Question:
    text: str
    support: bool = False  # answers go privately to the buddy or the admins; skippable


@dataclass(frozen=True)
class Prompt:
    """A direct answer to the person's own command or button: text and buttons."""

    text: str
    buttons: Keyboard | None = None


class StartNow(StrEnum):
    STARTED = "started"
    ALREADY_OPEN = "already_open"


@dataclass(frozen=True)
class StartResult:
    outcome: StartNow
    closes_at: datetime


@dataclass
class Streak:
    current: int
    best: int
    opted_in: bool


@dataclass
class _Close:
    participants: int = 0
    milestones: list[tuple[str, int]] = field(default_factory=list)
    wins: list[tuple[str, str | None]] = field(default_factory=list)


def default_questions(language: str) -> list[Question]:
    return [
        Question(t(language, "checkin.questions.well")),
        Question(t(language, "checkin.questions.hard")),
        Question(t(language, "checkin.questions.support"), support=True),
    ]


def parse_questions(text: str) -> list[Question]:
    """One question per line; a line starting with `?` is the (skippable) support question.

    ValueError when there are not 1–5 questions or one is too long."""
    questions = []
    for line in text.splitlines():
        line = line.strip().lstrip("-•").strip()
        if not line:
            continue
        support = line.startswith("?")
        line = line.lstrip("?").strip()
        if not line or len(line) > MAX_QUESTION_LENGTH:
            raise ValueError("empty or too long")
        questions.append(Question(line, support))
    if not 1 <= len(questions) <= MAX_QUESTIONS:
        raise ValueError("1 to 5 questions")
    if all(q.support for q in questions):
        raise ValueError("the win shared in the digest must not be a support request")
    return questions


def _encode_questions(questions: list[Question]) -> str:
    return json.dumps([{"text": q.text, "support": q.support} for q in questions])


def _decode_questions(raw: str | None, language: str) -> list[Question]:
    if raw is None:
        return default_questions(language)
    return [Question(str(q["text"]), bool(q.get("support"))) for q in json.loads(raw)]


def _answers(entry: CheckinEntry) -> list[str | None]:
    value = json.loads(entry.answers or "[]")
    return [a if isinstance(a, str) else None for a in value]


def _clip(text: str, units: int) -> str:
    """`text` cut to at most `units` UTF-16 code units (an ellipsis marks the cut)."""
    if utf16_length(text) <= units:
        return text
    out, size = [], 1
    for char in text:
        size += utf16_length(char)
        if size > units:
            break
        out.append(char)
    return "".join(out).rstrip() + "…"


def _capped(lines: list[str], budget: int) -> tuple[list[str], int]:
    """As many of `lines` as fit in `budget` UTF-16 units; and how many were left out."""
    kept: list[str] = []
    used = 0
    for line in lines:
        size = utf16_length(line) + 1
        if used + size > budget:
            break
        kept.append(line)
        used += size
    return kept, len(lines) - len(kept)


def _name(user: User | None, user_id: int) -> str:
    return escape(user.full_name if user else str(user_id))


class CheckinService:
    """Check-in rounds, the private flow, opt-in, pauses, streaks and nudges."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        activity: ActivityTracker,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._settings = settings
        self._activity = activity
        self._wake = wake_outbox
        self._nudges_checked: datetime | None = None
        self._planned: dict[int, tuple[object, ...]] = {}  # per chat: what it was planned for
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    # ----- the periodic job ----------------------------------------------------------------

    async def tick(self) -> int:
        """Plan, start, remind, close and nudge whatever is due; returns the steps taken."""
        steps = 0
        for name, stage in (
            ("planning", self.plan),
            ("starting", self.start_due),
            ("reminding", self.remind_due),
            ("closing", self.close_due),
        ):
            try:
                steps += await stage() or 0
            except Exception:
                log.exception("check-ins: %s failed", name)
        now = self._clock.now()
        if self._nudges_checked is None or now - self._nudges_checked >= NUDGE_CHECK_EVERY:
            self._nudges_checked = now
            try:
                steps += await self.nudge_due()
            except Exception:
                log.exception("check-ins: nudging failed")
            try:
                await self.sweep_held()
            except Exception:
                log.exception("check-ins: sweeping held messages failed")
        if steps:
            self._wake()
        return steps

    async def plan(self) -> int:
        """Keep one planned round per chat at its next slot; follow changes of the setting."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            enabled = set(
                (
                    await session.execute(
                        select(ChatSetting.chat_id)
                        .join(Chat, Chat.id == ChatSetting.chat_id)
                        .where(
                            ChatSetting.key == "checkin",
                            ChatSetting.value != "off",
                            Chat.active.is_(True),
                        )
                    )
                ).scalars()
            )
            planned = list(
                (
                    await session.execute(
                        select(CheckinRound).where(
                            CheckinRound.status == RoundStatus.PLANNED,
                            CheckinRound.manual.is_(False),
                            CheckinRound.starts_at > now,
                        )
                    )
                ).scalars()
            )
        chats = enabled | {r.chat_id for r in planned}
        self._planned = {c: v for c, v in self._planned.items() if c in chats}
        for chat_id in sorted(chats):
            try:
                config = await self._settings.get(chat_id)
                stamp = self._plan_stamp(config, now)
                if self._planned.get(chat_id) == stamp:
                    continue  # nothing that planning depends on changed since the last tick
                async with self._db.transaction() as session:
                    await self._plan_chat(session, chat_id, config, now)
                self._planned[chat_id] = stamp
            except Exception:
                log.exception("chat %s: planning its check-in failed", chat_id)
        return 0

    @staticmethod
    def _plan_stamp(config: ChatConfig, now: datetime) -> tuple[object, ...]:
        """What `_plan_chat` depends on besides the rounds themselves (which it writes)."""
        slot, zone = config.checkin, config.timezone
        if slot is None:
            return (tuple(sorted(config.values.items())),)
        latest = latest_slot(slot, now, zone)
        return (
            tuple(sorted(config.values.items())),
            next_slot(slot, now, zone),
            latest,
            now < latest + config.checkin_window,
        )

    async def _plan_chat(
        self, session: AsyncSession, chat_id: int, config: ChatConfig, now: datetime
    ) -> None:
        slot, zone = config.checkin, config.timezone
        wanted: list[datetime] = []
        if slot is not None:
            nxt = next_slot(slot, now, zone)
            wanted.append(nxt)
            latest = latest_slot(slot, now, zone)
            if now < latest + config.checkin_window:
                # a slot that passed while the bot was down: only if check-ins ran before it
                earlier = await session.execute(
                    select(func.count())
                    .select_from(CheckinRound)
                    .where(CheckinRound.chat_id == chat_id, CheckinRound.starts_at < latest)
                )
                if int(earlier.scalar_one()):
                    wanted.append(latest)
        # planned future rounds that no longer match the setting go away
        await session.execute(
            delete(CheckinRound).where(
                CheckinRound.chat_id == chat_id,
                CheckinRound.status == RoundStatus.PLANNED,
                CheckinRound.manual.is_(False),
                CheckinRound.starts_at > now,
                CheckinRound.starts_at.not_in(wanted) if wanted else CheckinRound.id.is_not(None),
            )
        )
        for start in wanted:
            week = week_of(start, zone)
            values = self._round_values(chat_id, week, start, config, manual=False)
            existing = await CheckinRepository(session).by_week(chat_id, week)
            if existing is None:
                await insert_ignore(session, CheckinRound, values, key=["chat_id", "week"])
            elif existing.status == RoundStatus.PLANNED and not existing.manual:
                # follow changes of checkin (within the week), checkin_window, checkin_reminder
                closes, remind = self._deadlines(start, config)
                if existing.starts_at != start:
                    existing.starts_at = start
                if existing.closes_at != closes:
                    existing.closes_at = closes
                if existing.remind_at != remind:
                    existing.remind_at = remind

    @staticmethod
    def _deadlines(start: datetime, config: ChatConfig) -> tuple[datetime, datetime | None]:
        """When a round starting at `start` closes, and when its reminder goes (if any)."""
        reminder, window = config.checkin_reminder, config.checkin_window
        remind = start + reminder if reminder is not None and reminder < window else None
        return start + window, remind

    @staticmethod
    def _round_values(
        chat_id: int, week: str, start: datetime, config: ChatConfig, *, manual: bool
    ) -> dict[str, object]:
        closes, remind = CheckinService._deadlines(start, config)
        return {
            "chat_id": chat_id,
            "week": week,
            "status": RoundStatus.PLANNED,
            "starts_at": start,
            "closes_at": closes,
            "remind_at": remind,
            "reminded": False,
            "manual": manual,
        }

    async def _rounds(self, *conditions: ColumnElement[bool]) -> list[CheckinRound]:
        """Rounds matching the conditions, read in one short transaction."""
        async with self._db.transaction() as session:
            result = await session.execute(select(CheckinRound).where(*conditions))
            return list(result.scalars())

    # ----- starting ------------------------------------------------------------------------

    async def start_due(self) -> int:
        now = self._clock.now()
        due = await self._rounds(
            CheckinRound.status == RoundStatus.PLANNED,
            CheckinRound.starts_at <= now,
        )
        started = 0
        for row in due:
            try:
                if row.closes_at <= now:
                    async with self._db.transaction() as session:
                        await self._move(session, row.id, RoundStatus.PLANNED, RoundStatus.MISSED)
                    log.info(
                        "chat %s: check-in %s was missed while the bot was down",
                        row.chat_id,
                        row.week,
                    )
                    continue
                if await self._open(row.id):
                    started += 1
            except Exception:
                log.exception("chat %s: opening check-in %s failed", row.chat_id, row.id)
        return started

    async def start_now(self, chat_id: int) -> StartResult:
        """`/checkin_now`: open a round at once (it counts as this week's check-in)."""
        now = self._clock.now()
        config = await self._settings.get(chat_id)
        async with self._db.transaction() as session:
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
            values = self._round_values(chat_id, week, now, config, manual=True)
            if existing is not None:
                for name, value in values.items():
                    setattr(existing, name, value)
                round_id = existing.id
            else:
                row = CheckinRound(**values)
                session.add(row)
                await session.flush()
                round_id = row.id
            closes_at = now + config.checkin_window
        await self._open(round_id)
        self._wake()
        return StartResult(StartNow.STARTED, closes_at)

    async def _open(self, round_id: int) -> bool:
        """Open a planned round: the group post and the private prompts, queued atomically."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            row = await session.get(CheckinRound, round_id)
            if row is None:
                return False
            chat_id = row.chat_id
        config = await self._settings.get(chat_id)
        async with self._db.transaction() as session:
            if not await self._move(session, round_id, RoundStatus.PLANNED, RoundStatus.OPEN):
                return False
            row = await session.get(CheckinRound, round_id)
            assert row is not None
            row.questions = await CheckinRepository(session).questions(chat_id)
            if row.remind_at is not None and row.remind_at <= now:
                row.reminded = True  # opened late (start-up): the invite is reminder enough
            chat = await session.get(Chat, chat_id)
            title = escape(chat.title if chat else str(chat_id))
            people = await session.execute(
                select(User, CheckinPerson.paused_until)
                .join(CheckinMember, CheckinMember.user_id == User.id)
                .join(
                    Member,
                    (Member.user_id == User.id) & (Member.chat_id == CheckinMember.chat_id),
                )
                .outerjoin(CheckinPerson, CheckinPerson.user_id == User.id)
                .where(
                    CheckinMember.chat_id == chat_id,
                    CheckinMember.opted_in.is_(True),
                    Member.status == MemberStatus.IN,
                    User.reachable.is_(True),
                    User.is_bot.is_(False),
                )
            )
            entries: list[dict[str, object]] = []
            prompts: list[Outgoing] = []
            closes = row.closes_at
            for user, paused_until in people.all():
                paused = paused_until is not None and paused_until > now
                entries.append(
                    {
                        "round_id": round_id,
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
                text = t(
                    lang,
                    "checkin.invite",
                    chat=title,
                    until=format_moment(lang, closes, config.timezone),
                )
                button = [[Button(t(lang, "checkin.answer_button"), data=f"{BEGIN}{round_id}")]]
                prompts.append(Outgoing(f"ci:{round_id}:p:{user.id}", user.id, text, button))
            if entries:
                await session.execute(insert(CheckinEntry), entries)
            when = deliver_at(config.quiet_hours, now, config.timezone)
            post_buttons: Keyboard | None = None
            if self._notifier.username:
                link = f"https://t.me/{self._notifier.username}?start={DEEP_LINK}{round_id}"
                post_buttons = [[Button(t(config.language, "checkin.post_button"), url=link)]]
            await queue(
                session,
                f"ci:{round_id}:g",
                chat_id,
                t(
                    config.language,
                    "checkin.post",
                    until=format_moment(config.language, closes, config.timezone),
                ),
                now=now,
                buttons=post_buttons,
                not_before=when,
                expires_at=closes,
            )
            await queue_many(session, prompts, now=now, not_before=when, expires_at=closes)
        log.info("chat %s: check-in %s opened for %d people", chat_id, round_id, len(prompts))
        return True

    @staticmethod
    async def _move(
        session: AsyncSession, round_id: int, old: RoundStatus, new: RoundStatus
    ) -> bool:
        """The claim: change the status only if it still is `old`."""
        result = await session.execute(
            update(CheckinRound)
            .where(CheckinRound.id == round_id, CheckinRound.status == old)
            .values(status=new)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    # ----- the reminder --------------------------------------------------------------------

    async def remind_due(self) -> int:
        now = self._clock.now()
        due = await self._rounds(
            CheckinRound.status == RoundStatus.OPEN,
            CheckinRound.reminded.is_(False),
            CheckinRound.remind_at <= now,
            CheckinRound.closes_at > now,
        )
        done = 0
        for row in due:
            try:
                done += await self._remind(row, now)
            except Exception:
                log.exception("chat %s: the reminder of check-in %s failed", row.chat_id, row.id)
        return done

    async def _remind(self, row: CheckinRound, now: datetime) -> int:
        config = await self._settings.get(row.chat_id)
        async with self._db.transaction() as session:
            claimed = await session.execute(
                update(CheckinRound)
                .where(CheckinRound.id == row.id, CheckinRound.reminded.is_(False))
                .values(reminded=True)
                .execution_options(synchronize_session=False)
            )
            if not getattr(claimed, "rowcount", 0):
                return 0
            chat = await session.get(Chat, row.chat_id)
            title = escape(chat.title if chat else str(row.chat_id))
            people = await session.execute(
                select(User, CheckinPerson.paused_until)
                .join(CheckinEntry, CheckinEntry.user_id == User.id)
                .join(Member, (Member.user_id == User.id) & (Member.chat_id == row.chat_id))
                .join(
                    CheckinMember,
                    (CheckinMember.user_id == User.id) & (CheckinMember.chat_id == row.chat_id),
                )
                .outerjoin(CheckinPerson, CheckinPerson.user_id == User.id)
                .where(
                    CheckinEntry.round_id == row.id,
                    CheckinMember.opted_in.is_(True),  # not those who opted out meanwhile
                    Member.status == MemberStatus.IN,  # not those who left meanwhile
                    CheckinEntry.state == EntryState.INVITED,
                    CheckinEntry.done.is_(False),
                    User.reachable.is_(True),
                )
            )
            reminders = []
            for user, paused_until in people.all():
                if paused_until is not None and paused_until > now:
                    continue
                lang = pick_language(user.language_code, config.language)
                text = t(
                    lang,
                    "checkin.reminder",
                    chat=title,
                    until=format_moment(lang, row.closes_at, config.timezone),
                )
                button = [[Button(t(lang, "checkin.answer_button"), data=f"{BEGIN}{row.id}")]]
                reminders.append(Outgoing(f"ci:{row.id}:r:{user.id}", user.id, text, button))
            await queue_many(
                session,
                reminders,
                now=now,
                not_before=deliver_at(config.quiet_hours, now, config.timezone),
                expires_at=row.closes_at,
            )
        return 1

    # ----- closing: streaks, the digest, support requests ----------------------------------

    async def close_due(self) -> int:
        now = self._clock.now()
        due = await self._rounds(
            CheckinRound.status == RoundStatus.OPEN,
            CheckinRound.closes_at <= now,
        )
        closed = 0
        for row in due:
            try:
                if await self._close(row.id, row.chat_id):
                    closed += 1
            except Exception:
                log.exception("chat %s: closing check-in %s failed", row.chat_id, row.id)
        return closed

    async def _close(self, round_id: int, chat_id: int) -> bool:
        now = self._clock.now()
        config = await self._settings.get(chat_id)
        found = await self._notifier.admins(chat_id)
        if found is None:
            async with self._db.transaction() as session:
                closing = await session.get(CheckinRound, round_id)
                overdue = closing is None or closing.closes_at + ADMINS_GRACE <= now
            if not overdue:
                # support requests would have nowhere to go: try again on the next tick
                log.warning("chat %s: admins unknown, check-in %s closes later", chat_id, round_id)
                return False
            log.error("chat %s: admins still unknown, closing check-in %s", chat_id, round_id)
        bot_id = self._notifier.bot.id
        admins = frozenset(a for a in found or () if a != bot_id)
        result = _Close()
        async with self._db.transaction() as session:
            if not await self._move(session, round_id, RoundStatus.OPEN, RoundStatus.CLOSED):
                return False
            row = await session.get(CheckinRound, round_id)
            assert row is not None
            chat = await session.get(Chat, chat_id)
            title = escape(chat.title if chat else str(chat_id))
            repo = CheckinRepository(session)
            questions = _decode_questions(row.questions, config.language)
            support_index = [i for i, q in enumerate(questions) if q.support]
            win_index = next((i for i, q in enumerate(questions) if not q.support), None)
            supports: list[Outgoing] = []
            # a second /checkin_now in a week ("2026-W49a"): a round, but not another week
            extra = row.week[-1:].isalpha()
            for entry in await repo.entries(round_id):
                if not extra:
                    member = await repo.ensure_member(chat_id, entry.user_id)
                    if entry.state == EntryState.PAUSED and not entry.done:
                        continue  # a paused week keeps the streak as it was
                    if not entry.done:
                        member.streak = 0
                        continue
                    member.streak += 1
                    member.best_streak = max(member.best_streak, member.streak)
                if not entry.done:
                    continue
                user = await session.get(User, entry.user_id)
                name = _name(user, entry.user_id)
                result.participants += 1
                if not extra and member.streak in MILESTONES:
                    result.milestones.append((name, member.streak))
                answers = _answers(entry)
                win = (
                    answers[win_index]
                    if win_index is not None and win_index < len(answers)
                    else None
                )
                if win and entry.share in ("name", "anon"):
                    result.wins.append((escape(win), name if entry.share == "name" else None))
                for index in support_index:
                    request = answers[index] if index < len(answers) else None
                    if request:
                        supports += await self._support(
                            session,
                            round_id,
                            chat_id,
                            title,
                            entry.user_id,
                            name,
                            request,
                            admins,
                            config,
                            index,
                        )
            await queue(
                session,
                f"ci:{round_id}:d",
                chat_id,
                self._digest(config.language, result),
                now=now,
                not_before=deliver_at(config.quiet_hours, now, config.timezone),
            )
            await queue_many(
                session,
                supports,
                now=now,
                not_before=deliver_at(config.quiet_hours, now, config.timezone),
            )
        log.info(
            "chat %s: check-in %s closed, %d took part", chat_id, round_id, result.participants
        )
        return True

    async def _support(
        self,
        session: AsyncSession,
        round_id: int,
        chat_id: int,
        title: str,
        user_id: int,
        name: str,
        request: str,
        admins: frozenset[int],
        config: ChatConfig,
        index: int,
    ) -> list[Outgoing]:
        """A support request goes to the person's buddy, else to the admins; never the group."""
        pair = (
            await session.execute(
                select(BuddyPair.buddy_id).where(
                    BuddyPair.chat_id == chat_id,
                    BuddyPair.newcomer_id == user_id,
                    BuddyPair.active.is_(True),
                )
            )
        ).scalar_one_or_none()
        recipients = [pair] if pair is not None else sorted(admins - {user_id})
        key = "checkin.support_buddy" if pair is not None else "checkin.support_admins"
        out = []
        for recipient in recipients:
            user = await session.get(User, recipient)
            if user is not None and (not user.reachable or user.is_bot):
                continue
            lang = pick_language(user.language_code if user else None, config.language)
            text = t(lang, key, name=name, chat=title, request=escape(request))
            # one message per support question and recipient: two questions, two keys
            out.append(Outgoing(f"ci:{round_id}:h:{user_id}:{index}:{recipient}", recipient, text))
        return out

    @staticmethod
    def _digest(language: str, result: _Close) -> str:
        """The group digest, within `DIGEST_LIMIT` UTF-16 units: milestones take at most half,
        wins the rest; whatever does not fit is counted as "…and N more"."""
        lines = [t(language, "checkin.digest_title", n=result.participants)]
        budget = DIGEST_LIMIT - utf16_length(lines[0]) - 200  # headings, "more" lines, slack
        if result.milestones:
            shown, more = _capped(
                [
                    t(language, "checkin.digest_milestone", name=who, weeks=weeks)
                    for who, weeks in result.milestones
                ],
                budget // 2 if result.wins else budget,
            )
            lines += ["", t(language, "checkin.digest_milestones"), *shown]
            if more:
                lines.append(t(language, "checkin.digest_more", n=more))
            budget -= sum(utf16_length(x) + 1 for x in shown)
        if result.wins:
            shown, more = _capped(
                [
                    t(language, "checkin.digest_win", win=win, name=name)
                    if name
                    else t(language, "checkin.digest_win_anon", win=win)
                    for win, name in result.wins
                ],
                budget,
            )
            lines += ["", t(language, "checkin.digest_wins"), *shown]
            if more:
                lines.append(t(language, "checkin.digest_more", n=more))
        if not result.participants:
            lines.append(t(language, "checkin.digest_nobody"))
        return "\n".join(lines)

    # ----- the private flow ----------------------------------------------------------------

    async def _language(self, session: AsyncSession, user_id: int, config: ChatConfig) -> str:
        user = await session.get(User, user_id)
        return pick_language(user.language_code if user else None, config.language)

    def _lock(self, user_id: int) -> asyncio.Lock:
        """One step of a person's private flow at a time (updates are handled concurrently)."""
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = asyncio.Lock()
        return lock

    async def begin(self, round_id: int, user_id: int) -> Prompt:
        """The person opened the check-in (button or link): ask the first question."""
        async with self._lock(user_id):
            return await self._begin(round_id, user_id)

    async def _begin(self, round_id: int, user_id: int) -> Prompt:
        now = self._clock.now()
        async with self._db.transaction() as session:
            row = await session.get(CheckinRound, round_id)
            config = await self._settings.get(row.chat_id) if row else self._settings.defaults()
            lang = await self._language(session, user_id, config)
            if row is None or row.status != RoundStatus.OPEN or row.closes_at <= now:
                return Prompt(t(lang, "checkin.closed"))
            member = await MemberRepository(session).get(row.chat_id, user_id)
            if member is None or member.status != MemberStatus.IN:
                return Prompt(t(lang, "checkin.not_member"))
            await insert_ignore(
                session,
                CheckinEntry,
                {
                    "round_id": round_id,
                    "user_id": user_id,
                    "state": EntryState.INVITED,
                    "answers": "[]",
                    "step": -1,
                    "done": False,
                },
                key=["round_id", "user_id"],
            )
            entry = await CheckinRepository(session).entry(round_id, user_id)
            assert entry is not None
            entry.step = 0
            await UserRepository(session).set_reachable(user_id, True)  # they are here, in private
            person = await CheckinRepository(session).person(user_id)
            person.focus_round_id = round_id
            questions = _decode_questions(row.questions, lang)
            chat = await session.get(Chat, row.chat_id)
            title = escape(chat.title if chat else str(row.chat_id))
            intro = t(lang, "checkin.intro", chat=title, n=len(questions))
            if entry.done:
                intro = t(lang, "checkin.editing", chat=title)
            return self._ask(lang, round_id, questions, 0, _answers(entry), intro)

    def _ask(
        self,
        lang: str,
        round_id: int,
        questions: list[Question],
        step: int,
        previous: list[str | None],
        intro: str = "",
    ) -> Prompt:
        question = questions[step]
        text = t(
            lang, "checkin.question", n=step + 1, total=len(questions), text=escape(question.text)
        )
        old = previous[step] if step < len(previous) else None
        if old:
            text += t(lang, "checkin.previous", answer=escape(old))
        if intro:
            text = f"{intro}\n\n{text}"
        buttons = (
            [[Button(t(lang, "checkin.skip_button"), data=f"{SKIP}{round_id}")]]
            if question.support
            else None
        )
        return Prompt(text, buttons)

    async def answer_text(self, user_id: int, text: str) -> Prompt | None:
        """A private message: the answer to the question being asked, or None if none is."""
        return await self._advance(user_id, None, text)

    async def skip(self, round_id: int, user_id: int) -> Prompt:
        return await self._advance(user_id, round_id, None) or Prompt("")

    async def _advance(self, user_id: int, round_id: int | None, text: str | None) -> Prompt | None:
        async with self._lock(user_id):
            return await self._step(user_id, round_id, text)

    async def _step(self, user_id: int, round_id: int | None, text: str | None) -> Prompt | None:
        now = self._clock.now()
        async with self._db.transaction() as session:
            repo = CheckinRepository(session)
            person = await session.get(CheckinPerson, user_id)
            focus = (
                round_id if round_id is not None else (person.focus_round_id if person else None)
            )
            if focus is None:
                return None
            row = await session.get(CheckinRound, focus)
            entry = await repo.entry(focus, user_id)
            if row is None or entry is None or entry.step < 0:
                return None
            config = await self._settings.get(row.chat_id)
            lang = await self._language(session, user_id, config)
            if row.status != RoundStatus.OPEN or row.closes_at <= now:
                entry.step = -1
                if person is not None:
                    person.focus_round_id = None
                return Prompt(t(lang, "checkin.closed"))
            questions = _decode_questions(row.questions, lang)
            if entry.step >= len(questions):
                return Prompt(t(lang, "checkin.choose_share"), self._share_buttons(lang, focus))
            current = questions[entry.step]
            if text is None and not current.support:
                return Prompt(t(lang, "checkin.cannot_skip"))
            answers = _answers(entry)
            answers += [None] * (len(questions) - len(answers))
            answers[entry.step] = text.strip()[:MAX_ANSWER_LENGTH] if text else None
            cut = text is not None and len(text.strip()) > MAX_ANSWER_LENGTH
            entry.answers = json.dumps(answers, ensure_ascii=False)
            entry.step += 1
            entry.updated_at = now
            if entry.step < len(questions):
                prompt = self._ask(lang, focus, questions, entry.step, answers)
            else:
                prompt = Prompt(t(lang, "checkin.share_question"), self._share_buttons(lang, focus))
            if cut:
                note = t(lang, "checkin.answer_cut", limit=MAX_ANSWER_LENGTH)
                prompt = Prompt(f"{note}\n\n{prompt.text}", prompt.buttons)
            return prompt

    @staticmethod
    def _share_buttons(lang: str, round_id: int) -> Keyboard:
        return [
            [Button(t(lang, f"checkin.share_{c}"), data=f"{SHARE}{round_id}:{c}")]
            for c in SHARE_CHOICES
        ]

    async def share(self, round_id: int, user_id: int, choice: str) -> Prompt:
        """The last step: whether to share the win; the answers are stored as final."""
        async with self._lock(user_id):
            return await self._share(round_id, user_id, choice)

    async def _share(self, round_id: int, user_id: int, choice: str) -> Prompt:
        now = self._clock.now()
        async with self._db.transaction() as session:
            row = await session.get(CheckinRound, round_id)
            entry = await CheckinRepository(session).entry(round_id, user_id)
            config = await self._settings.get(row.chat_id) if row else self._settings.defaults()
            lang = await self._language(session, user_id, config)
            if row is None or row.status != RoundStatus.OPEN or row.closes_at <= now:
                return Prompt(t(lang, "checkin.closed"))
            questions = _decode_questions(row.questions, lang)
            if entry is None or entry.step < len(questions) or choice not in SHARE_CHOICES:
                return Prompt(t(lang, "checkin.stale"))
            entry.share = choice
            entry.done = True
            entry.step = -1
            entry.updated_at = now
            person = await CheckinRepository(session).person(user_id)
            if person.focus_round_id == round_id:
                person.focus_round_id = None
            await self._withdraw(session, user_id, [round_id])  # no reminder after answering
            answers = _answers(entry)
            pairs = list(zip(questions, answers + [None] * len(questions), strict=False))
            room = SUMMARY_LIMIT - sum(utf16_length(q.text) + 10 for q, _ in pairs)
            each = max(40, room // max(1, len(pairs)))
            shortened = any(a and utf16_length(a) > each for _, a in pairs)
            if not shortened:
                each = SUMMARY_LIMIT
            summary = "\n".join(
                t(
                    lang,
                    "checkin.summary_line",
                    question=escape(q.text),
                    answer=escape(_clip(answer, each)) if answer else "—",
                )
                for q, answer in pairs
            )
            if shortened:
                summary += "\n" + t(lang, "checkin.summary_cut")
            text = t(
                lang,
                "checkin.thanks",
                summary=summary,
                share=t(lang, f"checkin.shared_{choice}"),
                until=format_moment(lang, row.closes_at, config.timezone),
            )
            buttons = [[Button(t(lang, "checkin.edit_button"), data=f"{BEGIN}{round_id}")]]
            return Prompt(text, buttons)

    # ----- opt-in, pause, streaks, questions -----------------------------------------------

    async def offer(self, chat_id: int, user_id: int) -> None:
        """After verification: offer check-ins once, if the chat holds them."""
        config = await self._settings.get(chat_id)
        if config.checkin is None:
            return
        async with self._db.transaction() as session:
            member = await CheckinRepository(session).ensure_member(chat_id, user_id)
            if member.offered or member.opted_in:
                return
            member.offered = True
            lang = await self._language(session, user_id, config)
            chat = await session.get(Chat, chat_id)
            title = escape(chat.title if chat else str(chat_id))
        slot = config.checkin
        text = t(
            lang,
            "checkin.offer",
            chat=title,
            when=t(lang, f"checkin.weekday.{slot.weekday}"),
            at=f"{slot.at:%H:%M}",
        )
        buttons = [
            [
                Button(t(lang, "checkin.offer_yes"), data=f"{OPT}{chat_id}:1"),
                Button(t(lang, "checkin.offer_no"), data=f"{OPT}{chat_id}:0"),
            ]
        ]
        await self._notifier.send(user_id, text, buttons)

    async def set_opt_in(
        self, user_id: int, on: bool, chat_id: int | None = None, *, in_private: bool = True
    ) -> list[str]:
        """Opt in or out in one chat, or every chat the person is in; returns the chat titles.

        Said in private, it also shows the person can be written to again (after a block)."""
        async with self._db.transaction() as session:
            if in_private:
                await UserRepository(session).set_reachable(user_id, True)
            if chat_id is not None:
                member = await MemberRepository(session).get(chat_id, user_id)
                chats = [member] if member is not None and member.status == MemberStatus.IN else []
            else:
                chats = await MemberRepository(session).for_user(user_id)
            titles = []
            for member in chats:
                if member.trust == TrustLevel.PENDING:
                    continue
                row = await CheckinRepository(session).ensure_member(member.chat_id, user_id)
                row.opted_in = on
                row.offered = True
                chat = await session.get(Chat, member.chat_id)
                titles.append(escape(chat.title if chat else str(member.chat_id)))
            if not on and chats:
                await self._withdraw(session, user_id, None, [m.chat_id for m in chats])
        return titles

    async def pause(self, user_id: int, length: timedelta | None) -> datetime | None:
        """Pause check-in messages and nudges for `length` (None resumes); returns the end.

        A pause during an open round counts as a paused week for it (the streak is kept), and
        its queued invites, reminders and nudges are withdrawn."""
        until = self._clock.now() + length if length is not None else None
        async with self._db.transaction() as session:
            await UserRepository(session).set_reachable(user_id, True)
            person = await CheckinRepository(session).person(user_id)
            person.paused_until = until
            if until is not None:
                entries = (
                    await session.execute(
                        select(CheckinEntry)
                        .join(CheckinRound, CheckinRound.id == CheckinEntry.round_id)
                        .where(
                            CheckinEntry.user_id == user_id,
                            CheckinEntry.done.is_(False),
                            CheckinRound.status == RoundStatus.OPEN,
                        )
                    )
                ).scalars()
                for entry in entries:
                    entry.state = EntryState.PAUSED
                await self._withdraw(session, user_id, None)
                await OutboxRepository(session).withdraw_prefix(
                    user_id, "nudge:", exclude_suffix=":b"
                )
        return until

    async def sweep_held(self) -> int:
        """Withdraw invites and reminders held (quiet hours) for people who meanwhile left the
        chat, opted out, paused or answered; returns how many were withdrawn."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            held = (
                await session.execute(
                    select(OutboxMessage.id, OutboxMessage.key).where(
                        OutboxMessage.status == OutboxStatus.PENDING,
                        OutboxMessage.key.startswith(PREFIX, autoescape=True),
                        OutboxMessage.not_before > now,
                    )
                )
            ).all()
            wanted: dict[int, tuple[int, int]] = {}
            for row_id, key in held:
                parts = key.split(":")
                if len(parts) == 4 and parts[2] in ("p", "r") and parts[1].isdigit():
                    wanted[row_id] = (int(parts[1]), int(parts[3]))
            if not wanted:
                return 0
            rounds = {r for r, _ in wanted.values()}
            found = (
                await session.execute(
                    select(CheckinEntry.round_id, CheckinEntry.user_id)
                    .join(CheckinRound, CheckinRound.id == CheckinEntry.round_id)
                    .join(
                        Member,
                        (Member.chat_id == CheckinRound.chat_id)
                        & (Member.user_id == CheckinEntry.user_id),
                    )
                    .join(
                        CheckinMember,
                        (CheckinMember.chat_id == CheckinRound.chat_id)
                        & (CheckinMember.user_id == CheckinEntry.user_id),
                    )
                    .outerjoin(CheckinPerson, CheckinPerson.user_id == CheckinEntry.user_id)
                    .where(
                        CheckinEntry.round_id.in_(rounds),
                        CheckinEntry.done.is_(False),
                        CheckinEntry.state == EntryState.INVITED,
                        Member.status == MemberStatus.IN,
                        CheckinMember.opted_in.is_(True),
                        or_(
                            CheckinPerson.paused_until.is_(None),
                            CheckinPerson.paused_until <= now,
                        ),
                    )
                )
            ).all()
            ok = {(int(r), int(u)) for r, u in found}
            stale = [row_id for row_id, pair in wanted.items() if pair not in ok]
            if stale:
                await session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id.in_(stale),
                        OutboxMessage.status == OutboxStatus.PENDING,
                    )
                    .values(status=OutboxStatus.EXPIRED)
                    .execution_options(synchronize_session=False)
                )
        return len(stale)

    @staticmethod
    async def _withdraw(
        session: AsyncSession,
        user_id: int,
        round_ids: list[int] | None,
        chat_ids: list[int] | None = None,
    ) -> None:
        """Expire queued invites and reminders for this person (all open rounds if None)."""
        if round_ids is None:
            query = (
                select(CheckinRound.id)
                .join(CheckinEntry, CheckinEntry.round_id == CheckinRound.id)
                .where(CheckinEntry.user_id == user_id, CheckinRound.status == RoundStatus.OPEN)
            )
            if chat_ids is not None:
                query = query.where(CheckinRound.chat_id.in_(chat_ids))
            round_ids = list((await session.execute(query)).scalars())
        keys = [f"ci:{r}:{kind}:{user_id}" for r in round_ids for kind in ("p", "r")]
        await OutboxRepository(session).withdraw(user_id, keys)

    async def zone(self, user_id: int) -> ZoneInfo:
        """The time zone to show a person's own dates in: their (first) chat's."""
        async with self._db.transaction() as session:
            chats = await MemberRepository(session).for_user(user_id)
        if not chats:
            return self._settings.defaults().timezone
        return (await self._settings.get(min(m.chat_id for m in chats))).timezone

    async def status(self, user_id: int, chat_id: int | None = None) -> list[tuple[str, bool]]:
        """Each chat the person is in (or just `chat_id`: asked in a group, the others are
        nobody else's business), and whether they take part in its check-ins."""
        async with self._db.transaction() as session:
            query = (
                select(Chat.title, CheckinMember.opted_in)
                .join(Member, Member.chat_id == Chat.id)
                .outerjoin(
                    CheckinMember,
                    (CheckinMember.chat_id == Member.chat_id)
                    & (CheckinMember.user_id == Member.user_id),
                )
                .where(
                    Member.user_id == user_id,
                    Member.status == MemberStatus.IN,
                    Member.trust != TrustLevel.PENDING,
                )
                .order_by(Chat.title)
            )
            if chat_id is not None:
                query = query.where(Member.chat_id == chat_id)
            rows = await session.execute(query)
            return [(escape(title), bool(opted)) for title, opted in rows.all()]

    async def streaks(self, chat_id: int, user_id: int) -> Streak | None:
        async with self._db.transaction() as session:
            row = await CheckinRepository(session).member(chat_id, user_id)
        if row is None or (not row.opted_in and not row.best_streak):
            return None
        return Streak(row.streak, row.best_streak, row.opted_in)

    async def paused_until(self, user_id: int) -> datetime | None:
        async with self._db.transaction() as session:
            person = await session.get(CheckinPerson, user_id)
        until = person.paused_until if person else None
        return until if until is not None and until > self._clock.now() else None

    async def questions(self, chat_id: int, language: str) -> tuple[list[Question], bool]:
        """The chat's questions and whether they are its own (not the defaults)."""
        async with self._db.transaction() as session:
            raw = await CheckinRepository(session).questions(chat_id)
        return _decode_questions(raw, language), raw is not None

    async def set_questions(self, chat_id: int, questions: list[Question] | None) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                delete(CheckinQuestions).where(CheckinQuestions.chat_id == chat_id)
            )
            if questions is not None:
                session.add(
                    CheckinQuestions(chat_id=chat_id, questions=_encode_questions(questions))
                )

    # ----- nudges --------------------------------------------------------------------------

    async def nudge_due(self) -> int:
        """One gentle private message to members silent for `nudge_after`; their buddy is told."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            chat_ids = list(
                (await session.execute(select(Chat.id).where(Chat.active.is_(True)))).scalars()
            )
        nudged = 0
        for chat_id in chat_ids:
            config = await self._settings.get(chat_id)
            if config.nudge_after is None:
                continue
            nudged += await self._nudge_chat(chat_id, config, now, now - config.nudge_after)
        return nudged

    async def _nudge_chat(
        self, chat_id: int, config: ChatConfig, now: datetime, silent_since: datetime
    ) -> int:
        seen = func.coalesce(Member.last_active_at, Member.verified_at, Member.joined_at)
        recent = self._activity.unflushed(chat_id)
        async with self._db.transaction() as session:
            rows = (
                await session.execute(
                    select(
                        Member.user_id, seen, CheckinMember.nudged_at, CheckinPerson.paused_until
                    )
                    .join(User, User.id == Member.user_id)
                    .outerjoin(
                        CheckinMember,
                        (CheckinMember.chat_id == Member.chat_id)
                        & (CheckinMember.user_id == Member.user_id),
                    )
                    .outerjoin(CheckinPerson, CheckinPerson.user_id == Member.user_id)
                    .where(
                        Member.chat_id == chat_id,
                        Member.status == MemberStatus.IN,
                        Member.trust != TrustLevel.PENDING,
                        seen < silent_since,
                        User.is_bot.is_(False),
                        User.reachable.is_(True),
                        # not nudged for this silence yet, not paused, not active just now
                        or_(CheckinMember.nudged_at.is_(None), CheckinMember.nudged_at < seen),
                        or_(
                            CheckinPerson.paused_until.is_(None),
                            CheckinPerson.paused_until <= now,
                        ),
                        Member.user_id.not_in(list(recent)) if recent else true(),
                    )
                    .order_by(seen, Member.user_id)
                    .limit(NUDGE_BATCH)
                )
            ).all()
            chat = await session.get(Chat, chat_id)
            title = escape(chat.title if chat else str(chat_id))
            when = deliver_at(config.quiet_hours, now, config.timezone)
            count = 0
            for user_id, last_seen, nudged_at, paused_until in rows:
                if user_id in recent:
                    continue
                if nudged_at is not None and (last_seen is None or nudged_at >= as_utc(last_seen)):
                    continue  # nudged once for this silence already
                if paused_until is not None and paused_until > now:
                    continue
                member = await CheckinRepository(session).ensure_member(chat_id, user_id)
                member.nudged_at = now
                user = await session.get(User, user_id)
                lang = pick_language(user.language_code if user else None, config.language)
                day = now.strftime("%Y%m%d")
                await queue(
                    session,
                    f"nudge:{chat_id}:{user_id}:{day}",
                    user_id,
                    t(lang, "checkin.nudge", chat=title),
                    now=now,
                    not_before=when,
                )
                buddy = (
                    await session.execute(
                        select(BuddyPair.buddy_id).where(
                            BuddyPair.chat_id == chat_id,
                            BuddyPair.newcomer_id == user_id,
                            BuddyPair.active.is_(True),
                        )
                    )
                ).scalar_one_or_none()
                if buddy is not None:
                    buddy_user = await session.get(User, buddy)
                    buddy_lang = pick_language(
                        buddy_user.language_code if buddy_user else None, config.language
                    )
                    await queue(
                        session,
                        f"nudge:{chat_id}:{user_id}:{day}:b",
                        buddy,
                        t(buddy_lang, "checkin.nudge_buddy", name=_name(user, user_id), chat=title),
                        now=now,
                        not_before=when,
                    )
                count += 1
        return count
