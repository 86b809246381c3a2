"""Moderation: the automatic rules on every message, warnings, manual actions, reports and
the audit log.

The per-message path (`check`) reads only memory: settings and stop words are cached,
counters live in a `Pace` store. It writes to the database only when it acts (once per
episode), never per message.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from html import escape

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.i18n import format_moment, human_duration, pick_language, t
from bot.notifier import Button, Notifier, Outcome
from bot.services.members import AdminGuard
from bot.services.pace import Pace
from bot.services.people import Person, mention
from bot.services.settings import CACHE_TTL, ChatConfig, SettingsService
from models.chats import ChatRepository
from models.deadlines import DeadlineRepository
from models.members import TrustLevel
from models.moderation import ModAction, ModerationRepository, Report, StopWord, Warning_
from models.users import User

log = logging.getLogger(__name__)

UNPOST = "unpost"
"""Deadline kind: delete a bot notice (the deadline's user_id holds the message id)."""
NOTICE_TTL = timedelta(seconds=30)
FLOOD_MUTE_CAP = timedelta(days=1)
ESCALATION_WINDOW = timedelta(hours=24)
REPORTS_PER_HOUR = 5
EXPLAIN_EVERY = timedelta(minutes=10)
LOG_CHAT_KEY = "log_chat"
REPORT_PREFIX = "rep:"
REPORT_ACTIONS = ("delete", "warn", "mute", "ban", "dismiss")
REASON_LIMIT = 300
PHRASE_LIMIT = 100
MENTIONS_CHECKED = 3


class Action(StrEnum):
    WARN = "warn"
    UNWARN = "unwarn"
    MUTE = "mute"
    UNMUTE = "unmute"
    KICK = "kick"
    BAN = "ban"
    UNBAN = "unban"
    FLOOD = "flood_mute"
    DELETE = "delete"
    REPORT = "report"


PUNISHING = (Action.MUTE, Action.KICK, Action.BAN, Action.FLOOD)


@dataclass(frozen=True)
class Incoming:
    """One group message, as the rules see it."""

    chat_id: int
    message_id: int
    sender: Person
    level: str
    at: datetime
    text: str = ""
    has_link: bool = False
    mentions: tuple[str, ...] = ()
    from_channel: bool = False
    edited: bool = False
    command: bool = False


@dataclass(frozen=True)
class WarnResult:
    count: int
    limit: int
    applied: str | None = None
    outcome: Outcome = Outcome.DONE
    until: datetime | None = None


class ReportResult(StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"
    TOO_MANY = "too_many"


@dataclass
class _StopWords:
    phrases: list[str] = field(default_factory=list)
    pattern: re.Pattern[str] | None = None
    expires: float = 0.0


def normalise(text: str) -> str:
    """Case- and ё-insensitive form used for stop words."""
    return text.casefold().replace("ё", "е")


def _compile(phrases: Sequence[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    parts = [r"\s+".join(re.escape(word) for word in phrase.split()) for phrase in phrases]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


def message_link(chat_id: int, message_id: int) -> str | None:
    text = str(chat_id)
    if text.startswith("-100"):
        return f"https://t.me/c/{text[4:]}/{message_id}"
    return None


class ModerationService:
    """Applies the chat's rules and the admins' decisions, and records every action."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        admins: AdminGuard,
        pace: Pace,
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._settings = settings
        self._admins = admins
        self.pace = pace
        self._stop_words: dict[int, _StopWords] = {}
        self._stop_word_versions: dict[int, int] = {}
        self._log_chats: dict[int, tuple[float, int | None]] = {}
        self._warn_locks: dict[tuple[int, int], asyncio.Lock] = {}

    # ----- the per-message path ---------------------------------------------------------

    async def check(self, message: Incoming) -> bool:
        """Apply the automatic rules; False when the message was removed."""
        chat_id, user_id = message.chat_id, message.sender.id
        if message.level == TrustLevel.PENDING:
            return True  # the verification gate handles them
        config = await self._settings.get(chat_id)
        at = message.at.timestamp()
        episode = f"e:{chat_id}:{user_id}"
        if not message.edited and await self.pace.held(episode, at):
            await self._notifier.delete(chat_id, message.message_id)
            return False
        if message.text and await self._stop_word(chat_id, message.text):
            if await self._admins.is_admin(chat_id, user_id):
                return True
            await self._notifier.delete(chat_id, message.message_id)
            reason = t(config.language, "moderation.reason_stop_word")
            result = await self.warn(chat_id, message.sender, None, reason)
            notice = t(
                config.language,
                "moderation.stop_word_notice",
                name=message.sender.mention,
                count=result.count,
                limit=result.limit,
            )
            await self._notice(chat_id, notice)
            return False
        newcomer = message.level == TrustLevel.NEWCOMER
        if newcomer and await self._newcomer_limited(message, config):
            if await self._admins.is_admin(chat_id, user_id):
                return True
            await self._notifier.delete(chat_id, message.message_id)
            await self._explain(message, config)
            return False
        if message.edited:
            return True
        limit = config.newcomer_flood_limit if newcomer else config.flood_limit
        if limit is not None:
            count, window = limit
            if await self.pace.hit(f"f:{chat_id}:{user_id}", at, window.total_seconds()) > count:
                if await self._admins.is_admin(chat_id, user_id):
                    return True
                await self._notifier.delete(chat_id, message.message_id)
                await self._flood_episode(message, config, episode)
                return False
        slowmode = config.slowmode
        if slowmode is not None and not message.command:  # a command gets its answer
            seconds = slowmode.total_seconds()
            if not await self.pace.claim(f"s:{chat_id}:{user_id}", at, seconds):
                if await self._admins.is_admin(chat_id, user_id):
                    return True
                await self._notifier.delete(chat_id, message.message_id)
                if await self.pace.claim(f"sn:{chat_id}:{user_id}", at, seconds):
                    await self._slowmode_notice(message, config, slowmode)
                    await self._audit(
                        chat_id, None, user_id, Action.DELETE, "slow mode", post=False
                    )
                return False
        return True

    async def _newcomer_limited(self, message: Incoming, config: ChatConfig) -> bool:
        if config.newcomer_forwards and message.from_channel:
            return True
        if not config.newcomer_links:
            return False
        if message.has_link:
            return True
        for username in message.mentions[:MENTIONS_CHECKED]:
            if await self._notifier.is_channel(username):
                return True
        return False

    async def _explain(self, message: Incoming, config: ChatConfig) -> None:
        key = f"x:{message.chat_id}:{message.sender.id}"
        if not await self.pace.claim(key, message.at.timestamp(), EXPLAIN_EVERY.total_seconds()):
            return
        language = pick_language(message.sender.language_code, config.language)
        text = t(
            language,
            "moderation.newcomer_limited",
            name=message.sender.mention,
            probation=human_duration(language, config.probation),
        )
        await self._notice(message.chat_id, text)
        await self._audit(
            message.chat_id, None, message.sender.id, Action.DELETE, "newcomer limits", post=False
        )

    async def _flood_episode(self, message: Incoming, config: ChatConfig, episode: str) -> None:
        chat_id, user_id = message.chat_id, message.sender.id
        now = self._clock.now()
        async with self._db.transaction() as session:
            recent = await ModerationRepository(session).count_actions(
                chat_id, user_id, Action.FLOOD, now - ESCALATION_WINDOW
            )
        duration = min(config.flood_mute * (2**recent), FLOOD_MUTE_CAP)
        if not await self.pace.claim(episode, message.at.timestamp(), duration.total_seconds()):
            return  # another message of the same burst started the episode
        until = now + duration
        outcome = await self._notifier.mute(chat_id, user_id, until)
        language = config.language
        if outcome is not Outcome.DONE:
            log.info("chat %s: could not mute flooder %s (%s)", chat_id, user_id, outcome)
        text = t(
            language,
            "moderation.flood_notice",
            name=message.sender.mention,
            duration=human_duration(language, duration),
        )
        await self._notice(chat_id, text)
        await self._audit(chat_id, None, user_id, Action.FLOOD, "flood", until)

    async def _slowmode_notice(
        self, message: Incoming, config: ChatConfig, interval: timedelta
    ) -> None:
        language = pick_language(message.sender.language_code, config.language)
        text = t(
            language, "moderation.slowmode_private", interval=human_duration(language, interval)
        )
        if await self._notifier.send(message.sender.id, text) is None:
            short = t(
                config.language,
                "moderation.slowmode_notice",
                name=message.sender.mention,
                interval=human_duration(config.language, interval),
            )
            await self._notice(message.chat_id, short)

    async def _notice(self, chat_id: int, text: str) -> None:
        """Post a short notice in the group that removes itself after about 30 seconds."""
        message_id = await self._notifier.send(chat_id, text)
        if message_id is None:
            return
        async with self._db.transaction() as session:
            await DeadlineRepository(session).schedule(
                UNPOST, chat_id, message_id, self._clock.now() + NOTICE_TTL
            )

    async def prune_counters(self) -> None:
        """Scheduled: forget counters that can no longer matter."""
        await self.pace.prune(self._clock.now().timestamp())

    async def release(self, chat_id: int, user_id: int) -> None:
        """Lift a verification hold, unless a mute still runs (it outlives leaving and
        rejoining): then the mute is put back for the time it has left."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            latest = await ModerationRepository(session).latest_restriction(chat_id, user_id)
        still_muted = latest is not None and latest.action != Action.UNMUTE
        if latest is not None and still_muted and (latest.until is None or latest.until > now):
            await self._notifier.mute(chat_id, user_id, latest.until)
            return
        await self._notifier.release(chat_id, user_id)

    async def unpost(self, chat_id: int, message_id: int) -> None:
        """Deadline action: remove a notice."""
        await self._notifier.delete(chat_id, message_id)

    # ----- stop words ---------------------------------------------------------------------

    async def _words(self, chat_id: int) -> _StopWords:
        cached = self._stop_words.get(chat_id)
        if cached is None or cached.expires < time.monotonic():
            version = self._stop_word_versions.get(chat_id, 0)
            async with self._db.transaction() as session:
                phrases = await ModerationRepository(session).stop_words(chat_id)
            cached = _StopWords(phrases, _compile(phrases), time.monotonic() + CACHE_TTL)
            if self._stop_word_versions.get(chat_id, 0) == version:  # no change meanwhile
                self._stop_words[chat_id] = cached
        return cached

    def _stop_words_changed(self, chat_id: int) -> None:
        self._stop_word_versions[chat_id] = self._stop_word_versions.get(chat_id, 0) + 1
        self._stop_words.pop(chat_id, None)

    async def _stop_word(self, chat_id: int, text: str) -> bool:
        words = await self._words(chat_id)
        return words.pattern is not None and words.pattern.search(normalise(text)) is not None

    async def stop_words(self, chat_id: int) -> list[str]:
        return list((await self._words(chat_id)).phrases)

    async def add_stop_word(self, chat_id: int, phrase: str) -> str | None:
        """Store a phrase (normalised); None if it was there already."""
        value = " ".join(normalise(phrase).split())[:PHRASE_LIMIT]
        if not value:
            return None
        try:
            async with self._db.transaction() as session:
                session.add(StopWord(chat_id=chat_id, phrase=value))
        except IntegrityError:
            return None
        self._stop_words_changed(chat_id)
        return value

    async def remove_stop_word(self, chat_id: int, phrase: str) -> bool:
        value = " ".join(normalise(phrase).split())
        async with self._db.transaction() as session:
            row = (
                await session.execute(
                    select(StopWord).where(StopWord.chat_id == chat_id, StopWord.phrase == value)
                )
            ).scalar_one_or_none()
            if row is None:
                return False
            await session.delete(row)
        self._stop_words_changed(chat_id)
        return True

    # ----- warnings -----------------------------------------------------------------------

    async def warn(
        self, chat_id: int, target: Person, actor_id: int | None, reason: str
    ) -> WarnResult:
        """Add a warning; at `warn_limit` apply `warn_action` and start counting afresh.

        Warnings of one person are handled one at a time, so a burst of stop-word hits
        neither skips the limit nor punishes twice."""
        lock = self._warn_locks.setdefault((chat_id, target.id), asyncio.Lock())
        async with lock:
            return await self._warn(chat_id, target, actor_id, reason)

    async def _warn(
        self, chat_id: int, target: Person, actor_id: int | None, reason: str
    ) -> WarnResult:
        config = await self._settings.get(chat_id)
        now = self._clock.now()
        reason = reason[:REASON_LIMIT]
        async with self._db.transaction() as session:
            session.add(
                Warning_(
                    chat_id=chat_id,
                    user_id=target.id,
                    actor_id=actor_id,
                    reason=reason,
                    created_at=now,
                    expires_at=now + config.warn_expiry,
                    active=True,
                )
            )
            await session.flush()
            active = await ModerationRepository(session).active_warnings(chat_id, target.id, now)
        await self._audit(chat_id, actor_id, target.id, Action.WARN, reason)
        count = len(active)
        language = await self._language_of(target, config)
        private = t(
            language,
            "moderation.warned_private",
            chat=escape(await self._chat_title(chat_id)),
            reason=escape(reason) or "—",
            count=count,
            limit=config.warn_limit,
        )
        await self._notifier.send(target.id, private)
        if count < config.warn_limit:
            return WarnResult(count, config.warn_limit)
        action = Action(config.warn_action)
        duration = config.warn_mute if action is Action.MUTE else None
        label = t(config.language, "moderation.reason_warn_limit", limit=config.warn_limit)
        outcome, until = await self._apply(chat_id, target, None, action, duration, label)
        if outcome is Outcome.DONE:  # spent; if it failed they stay, so the next one escalates
            async with self._db.transaction() as session:
                await session.execute(
                    update(Warning_)
                    .where(Warning_.id.in_([w.id for w in active]))
                    .values(active=False)
                    .execution_options(synchronize_session=False)
                )
        return WarnResult(count, config.warn_limit, action, outcome, until)

    async def unwarn(self, chat_id: int, target_id: int, actor_id: int | None) -> int | None:
        """Remove the latest active warning; the number left, or None if there was none."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            active = await ModerationRepository(session).active_warnings(chat_id, target_id, now)
            if not active:
                return None
            active[-1].active = False
        await self._audit(chat_id, actor_id, target_id, Action.UNWARN, "")
        return len(active) - 1

    async def warnings(self, chat_id: int, user_id: int) -> list[Warning_]:
        async with self._db.transaction() as session:
            return await ModerationRepository(session).active_warnings(
                chat_id, user_id, self._clock.now()
            )

    # ----- manual actions -----------------------------------------------------------------

    async def act(
        self,
        chat_id: int,
        actor_id: int | None,
        target: Person,
        action: Action,
        duration: timedelta | None = None,
        reason: str = "",
    ) -> tuple[Outcome, datetime | None]:
        """Mute, unmute, kick, ban or unban; admins are never targets."""
        if await self._admins.is_admin(chat_id, target.id):
            return Outcome.TARGET_ADMIN, None
        return await self._apply(chat_id, target, actor_id, action, duration, reason[:REASON_LIMIT])

    async def _apply(
        self,
        chat_id: int,
        target: Person,
        actor_id: int | None,
        action: Action,
        duration: timedelta | None,
        reason: str,
    ) -> tuple[Outcome, datetime | None]:
        now = self._clock.now()
        until = now + duration if duration else None
        if action is Action.MUTE:
            outcome = await self._notifier.mute(chat_id, target.id, until)
        elif action is Action.UNMUTE:
            outcome = await self._notifier.unmute(chat_id, target.id)
        elif action is Action.KICK:
            outcome, until = await self._notifier.kick(chat_id, target.id, now), None
        elif action is Action.BAN:
            outcome = await self._notifier.ban(chat_id, target.id, until)
        elif action is Action.UNBAN:
            outcome = await self._notifier.unban(chat_id, target.id)
        else:
            raise ValueError(action)
        if outcome is not Outcome.DONE:
            return outcome, None
        if action in (Action.UNMUTE, Action.UNBAN):  # their next messages are welcome again
            await self.pace.release(f"e:{chat_id}:{target.id}")
        await self._audit(chat_id, actor_id, target.id, action, reason, until)
        if action in PUNISHING:
            config = await self._settings.get(chat_id)
            language = await self._language_of(target, config)
            await self._notifier.send(
                target.id,
                t(
                    language,
                    f"moderation.you_{action.value}",
                    chat=escape(await self._chat_title(chat_id)),
                    reason=escape(reason) or "—",
                    until=format_moment(language, until, config.timezone) if until else "∞",
                ),
            )
        return outcome, until

    # ----- reports ------------------------------------------------------------------------

    async def report(
        self,
        chat_id: int,
        message_id: int,
        reporter: Person,
        target: Person,
        text: str,
        reason: str,
    ) -> ReportResult:
        now = self._clock.now()
        try:
            async with self._db.transaction() as session:
                repo = ModerationRepository(session)
                hour_ago = now - timedelta(hours=1)
                if await repo.reports_since(chat_id, reporter.id, hour_ago) >= REPORTS_PER_HOUR:
                    return ReportResult.TOO_MANY
                row = Report(
                    chat_id=chat_id,
                    message_id=message_id,
                    reporter_id=reporter.id,
                    target_id=target.id,
                    reason=reason[:REASON_LIMIT],
                    text=text[:1000],
                    created_at=now,
                )
                session.add(row)
                await session.flush()
                report_id = row.id
        except IntegrityError:
            return ReportResult.DUPLICATE  # this person already reported this message
        await self._audit(chat_id, reporter.id, target.id, Action.REPORT, reason)
        await self._deliver_report(chat_id, report_id, message_id, reporter, target, text, reason)
        return ReportResult.SENT

    async def _deliver_report(
        self,
        chat_id: int,
        report_id: int,
        message_id: int,
        reporter: Person,
        target: Person,
        text: str,
        reason: str,
    ) -> None:
        config = await self._settings.get(chat_id)
        language = config.language
        link = message_link(chat_id, message_id)
        body = t(
            language,
            "moderation.report_card",
            chat=escape(await self._chat_title(chat_id)),
            reporter=reporter.mention,
            target=target.mention,
            reason=escape(reason) or "—",
            text=escape(text[:700]) or "—",
            link=f'<a href="{link}">{link}</a>' if link else "—",
        )
        buttons = [
            [
                Button(
                    t(language, f"moderation.report_{name}"),
                    data=f"{REPORT_PREFIX}{report_id}:{name}",
                )
                for name in REPORT_ACTIONS[:3]
            ],
            [
                Button(
                    t(language, f"moderation.report_{name}"),
                    data=f"{REPORT_PREFIX}{report_id}:{name}",
                )
                for name in REPORT_ACTIONS[3:]
            ],
        ]
        log_chat = await self.log_chat(chat_id)
        if log_chat is not None and await self._notifier.send(log_chat, body, buttons):
            return
        delivered = 0
        for admin_id in sorted(await self._notifier.admins(chat_id) or ()):
            if admin_id == reporter.id:
                continue
            if await self._notifier.send(admin_id, body, buttons):
                delivered += 1
        if not delivered:  # nobody reachable in private: ask in the group, without the reporter
            public = body.replace(reporter.mention, t(language, "moderation.report_anonymous"))
            await self._notifier.send(chat_id, public, buttons, reply_to=message_id)

    async def resolve_report(
        self, report_id: int, admin_id: int, choice: str
    ) -> tuple[str, Report | None]:
        """An admin pressed a report button. Returns (result, report): result is the action
        taken, `not_admin`, `handled` (someone was first) or `missing`."""
        async with self._db.transaction() as session:
            report = await session.get(Report, report_id)
        if report is None or choice not in REPORT_ACTIONS:
            return "missing", None
        if not await self._admins.is_admin(report.chat_id, admin_id):
            return "not_admin", report
        async with self._db.transaction() as session:
            claimed = await session.execute(
                update(Report)
                .where(Report.id == report_id, Report.handled.is_(None))
                .values(handled=choice)
                .execution_options(synchronize_session=False)
            )
            if not getattr(claimed, "rowcount", 0):
                return "handled", report
            target_user = await session.get(User, report.target_id)
        if choice in ("warn", "mute", "ban") and await self._admins.is_admin(
            report.chat_id, report.target_id
        ):
            async with self._db.transaction() as session:  # let another choice be made
                await session.execute(
                    update(Report).where(Report.id == report_id).values(handled=None)
                )
            return "target_admin", report
        target = Person(
            report.target_id,
            target_user.full_name if target_user else str(report.target_id),
            language_code=target_user.language_code if target_user else None,
        )
        reason = report.reason or t(
            (await self._settings.get(report.chat_id)).language, "moderation.reason_report"
        )
        if choice == "delete":
            await self._notifier.delete(report.chat_id, report.message_id)
            await self._audit(report.chat_id, admin_id, report.target_id, Action.DELETE, reason)
        elif choice == "warn":
            await self._notifier.delete(report.chat_id, report.message_id)
            await self.warn(report.chat_id, target, admin_id, reason)
        elif choice == "mute":
            config = await self._settings.get(report.chat_id)
            await self._notifier.delete(report.chat_id, report.message_id)
            await self.act(report.chat_id, admin_id, target, Action.MUTE, config.warn_mute, reason)
        elif choice == "ban":
            await self._notifier.delete(report.chat_id, report.message_id)
            await self.act(report.chat_id, admin_id, target, Action.BAN, None, reason)
        return choice, report

    # ----- the audit log ------------------------------------------------------------------

    async def _audit(
        self,
        chat_id: int,
        actor_id: int | None,
        target_id: int,
        action: Action,
        reason: str,
        until: datetime | None = None,
        *,
        post: bool = True,
    ) -> None:
        """Store an action; unless `post` is False, also post it to the chat's log chat."""
        entry = ModAction(
            chat_id=chat_id,
            actor_id=actor_id,
            target_id=target_id,
            action=action.value,
            reason=reason[:REASON_LIMIT],
            created_at=self._clock.now(),
            until=until,
        )
        async with self._db.transaction() as session:
            await ModerationRepository(session).log(entry)
            names = await self._names(session, [actor_id, target_id])
        log_chat = await self.log_chat(chat_id) if post else None
        if log_chat is not None:
            config = await self._settings.get(chat_id)
            line = self.render(config, entry, names, with_chat=await self._chat_title(chat_id))
            await self._notifier.send(log_chat, line)

    async def _names(self, session: AsyncSession, ids: Sequence[int | None]) -> dict[int, str]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        rows = await session.execute(select(User).where(User.id.in_(wanted)))
        return {user.id: user.full_name for user in rows.scalars()}

    def render(
        self,
        config: ChatConfig,
        entry: ModAction,
        names: dict[int, str],
        with_chat: str = "",
        public: bool = False,
    ) -> str:
        """One audit entry as a line; `public` hides who reported whom."""
        language = config.language
        if entry.actor_id is None:
            actor = t(language, "moderation.the_bot")
        elif public and entry.action == Action.REPORT:
            actor = t(language, "moderation.report_anonymous")
        else:
            actor = mention(entry.actor_id, names.get(entry.actor_id, str(entry.actor_id)))
        target = mention(entry.target_id, names.get(entry.target_id, str(entry.target_id)))
        return t(
            language,
            "moderation.log_line",
            when=format_moment(language, entry.created_at, config.timezone),
            chat=escape(with_chat) + " · " if with_chat else "",
            action=t(language, f"moderation.action_{entry.action}"),
            target=target,
            actor=actor,
            reason=" — " + escape(entry.reason) if entry.reason else "",
            until=(
                " "
                + t(
                    language,
                    "moderation.until",
                    until=format_moment(language, entry.until, config.timezone),
                )
                if entry.until
                else ""
            ),
        )

    async def modlog(self, chat_id: int, limit: int) -> list[str]:
        config = await self._settings.get(chat_id)
        async with self._db.transaction() as session:
            entries = await ModerationRepository(session).recent_actions(chat_id, limit)
            ids: list[int | None] = []
            for entry in entries:
                ids.extend((entry.actor_id, entry.target_id))
            names = await self._names(session, ids)
        return [self.render(config, entry, names, public=True) for entry in entries]

    async def log_chat(self, chat_id: int) -> int | None:
        cached = self._log_chats.get(chat_id)
        if cached is None or cached[0] < time.monotonic():
            async with self._db.transaction() as session:
                stored = (await ChatRepository(session).settings(chat_id)).get(LOG_CHAT_KEY)
            value = int(stored) if stored and stored != "off" else None
            cached = self._log_chats[chat_id] = (time.monotonic() + CACHE_TTL, value)
        return cached[1]

    async def set_log_chat(self, chat_id: int, log_chat_id: int | None) -> None:
        async with self._db.transaction() as session:
            await ChatRepository(session).put_setting(
                chat_id, LOG_CHAT_KEY, str(log_chat_id) if log_chat_id is not None else "off"
            )
        self._log_chats[chat_id] = (time.monotonic() + CACHE_TTL, log_chat_id)

    # ----- helpers ------------------------------------------------------------------------

    async def _chat_title(self, chat_id: int) -> str:
        async with self._db.transaction() as session:
            chat = await ChatRepository(session).get(chat_id)
        return chat.title if chat else str(chat_id)

    async def _language_of(self, person: Person, config: ChatConfig) -> str:
        code = person.language_code
        if code is None:
            async with self._db.transaction() as session:
                user = await session.get(User, person.id)
            code = user.language_code if user else None
        return pick_language(code, config.language)
