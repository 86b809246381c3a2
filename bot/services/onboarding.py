"""Newcomer verification: hold, welcome, confirm or remove; join requests in private."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from html import escape

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.i18n import human_duration, pick_language, t, template
from bot.notifier import Button, Keyboard, Notifier, TelegramUnavailable, utf16_length
from bot.services.members import SEEN, MemberDirectory, remember_person
from bot.services.people import ChatRef, Person, mention
from bot.services.settings import ChatConfig, SettingsService
from models.chats import Chat, ChatRepository
from models.deadlines import DeadlineRepository
from models.members import Member, MemberRepository, MemberStatus, TrustLevel, WelcomePost
from models.upsert import insert_ignore
from models.users import User

log = logging.getLogger(__name__)

VERIFY = "verify"
REQUEST = "request"
VERIFY_BUTTON = "hearth:verify"
ACCEPT_PREFIX = "hearth:accept:"
NAMES_PER_WELCOME = 50
RULES_INLINE_LIMIT = 2500
RIGHTS_WARNING_INTERVAL = 3600.0
JOIN_CLOCK_SKEW = timedelta(seconds=5)
WELCOME_MAX_LENGTH = 4000


class Confirm(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY = "already"
    NOT_YOURS = "not_yours"


class Accept(StrEnum):
    APPROVED = "approved"
    ALREADY = "already"
    EXPIRED = "expired"


@dataclass(frozen=True)
class AcceptResult:
    outcome: Accept
    chat_title: str


def _rules_block(language: str, rules: str | None) -> str:
    if not rules:
        return t(language, "welcome.no_rules")
    if len(rules) > RULES_INLINE_LIMIT:
        return t(language, "welcome.rules_too_long")
    return escape(rules)


class Onboarding:
    """Verification of people who join a group or ask to join it."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        directory: MemberDirectory,
        owner_ids: frozenset[int] = frozenset(),
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._settings = settings
        self._directory = directory
        self._owner_ids = owner_ids
        self._rights_warned: dict[int, float] = {}
        self._wake: Callable[[], None] = lambda: None
        self.on_verified: list[Callable[[int, int], Awaitable[object]]] = []
        self.on_left: list[Callable[[int, int], Awaitable[object]]] = []
        # lifts the verification hold; moderation replaces it so a mute outlives a rejoin
        self.release: Callable[[int, int], Awaitable[object]] = notifier.release
        # paid membership: told about every join (chat, person, privileged), and asked first
        # about join requests (True when it handled the request itself)
        self.on_joined: list[Callable[[ChatRef, Person, bool], Awaitable[object]]] = []
        self.paid_gate: Callable[[ChatRef, Person, int], Awaitable[bool]] | None = None

    def set_waker(self, wake: Callable[[], None]) -> None:
        """The welcome pacer's wake-up call, run after someone starts waiting for a welcome."""
        self._wake = wake

    # ----- joining -------------------------------------------------------------------------

    async def on_join(
        self,
        chat: ChatRef,
        person: Person,
        *,
        privileged: bool = False,
        joined_at: datetime | None = None,
    ) -> bool:
        """Someone joined the group (at `joined_at`, Telegram's time of the event).

        Returns True when a verification started.
        """
        now = self._clock.now()
        for hook in self.on_joined:
            try:
                await hook(chat, person, privileged or person.id in self._owner_ids)
            except Exception:
                log.exception("chat %s: join follow-up for %s failed", chat.id, person.id)
        if person.is_bot or privileged or person.id in self._owner_ids:
            await self._admit_without_check(chat, person, now)
            return False
        async with self._db.transaction() as session:
            await ChatRepository(session).ensure(chat.id, chat.title, chat.type, now)
            await remember_person(session, person, now)
            claimed = await self._claim(
                session, chat.id, person.id, MemberStatus.IN, "join", now, joined_at
            )
            if not claimed:
                return False  # the same join seen twice, or already let in through a request
            await DeadlineRepository(session).cancel(REQUEST, chat.id, person.id)
        self._directory.set(chat.id, person.id, TrustLevel.PENDING)
        try:
            held = await self._notifier.hold(chat.id, person.id)
        except TelegramUnavailable:
            # still pending: whatever they post is deleted, and the welcome lets them confirm
            log.warning("chat %s: could not restrict %s (Telegram unavailable)", chat.id, person.id)
            held = True
        if not held:
            await self._cannot_hold(chat, person)
            return False
        self._wake()
        return True

    async def _claim(
        self,
        session: AsyncSession,
        chat_id: int,
        user_id: int,
        status: MemberStatus,
        source: str,
        now: datetime,
        joined_at: datetime | None = None,
    ) -> bool:
        """Start a verification unless one is running or the person is already in.

        Atomic on both dialects: two copies of the same join cannot both win. A row that a
        message created after this join (`source="seen"`) does not count as "already in".
        """
        placeholder = {
            "chat_id": chat_id,
            "user_id": user_id,
            "status": MemberStatus.LEFT,
            "trust": TrustLevel.PENDING,
            "trust_pinned": False,
            "level_since": now,
            "joined_at": now,
            "source": source,
        }
        await insert_ignore(session, Member, placeholder, key=["chat_id", "user_id"])
        blocked = [MemberStatus.IN] if status == MemberStatus.IN else [MemberStatus.IN, status]
        claimable: ColumnElement[bool] = Member.status.not_in(blocked)
        if joined_at is not None:
            seen_after_join = (Member.source == SEEN) & (
                Member.joined_at >= joined_at - JOIN_CLOCK_SKEW
            )
            claimable = claimable | seen_after_join
        result = await session.execute(
            update(Member)
            .where(Member.chat_id == chat_id, Member.user_id == user_id, claimable)
            .values(
                status=status,
                trust=TrustLevel.PENDING,
                trust_pinned=False,
                level_since=now,
                joined_at=now,
                verified_at=None,
                welcome_id=None,
                source=source,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def _admit_without_check(self, chat: ChatRef, person: Person, now: datetime) -> None:
        async with self._db.transaction() as session:
            await ChatRepository(session).ensure(chat.id, chat.title, chat.type, now)
            await remember_person(session, person, now)
            member = await session.get(Member, (chat.id, person.id))
            if member is None:
                session.add(
                    Member(
                        chat_id=chat.id,
                        user_id=person.id,
                        status=MemberStatus.IN,
                        trust=TrustLevel.MEMBER,
                        trust_pinned=False,
                        level_since=now,
                        joined_at=now,
                        source="admin" if not person.is_bot else "bot",
                    )
                )
                level = TrustLevel.MEMBER
            else:
                member.status = MemberStatus.IN
                if member.trust == TrustLevel.PENDING:
                    member.trust = TrustLevel.MEMBER
                level = TrustLevel(member.trust)
        self._directory.set(chat.id, person.id, level)

    async def _cannot_hold(self, chat: ChatRef, person: Person) -> None:
        """Without the right to restrict, verification is impossible: let them in, say why."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat.id, person.id))
            if member is not None and member.trust == TrustLevel.PENDING:
                member.trust = TrustLevel.NEWCOMER
                member.level_since = now
                member.source = "unverified"
        self._directory.set(chat.id, person.id, TrustLevel.NEWCOMER)
        log.warning(
            "chat %s: cannot restrict newcomer %s; verification skipped", chat.id, person.id
        )
        await self.warn_missing_rights(chat.id, ["can_restrict_members"])

    async def warn_missing_rights(
        self, chat_id: int, missing: list[str], force: bool = False
    ) -> None:
        """Tell the chat which admin rights the bot lacks (at most once an hour unless forced)."""
        last = self._rights_warned.get(chat_id, 0.0)
        if not force and time.monotonic() - last < RIGHTS_WARNING_INTERVAL:
            return
        self._rights_warned[chat_id] = time.monotonic()
        config = await self._settings.get(chat_id)
        language = config.language
        rights = "\n".join(f"• {t(language, 'rights.' + name)}" for name in missing)
        await self._notifier.send(chat_id, t(language, "rights.missing", rights=rights))

    # ----- welcomes ------------------------------------------------------------------------

    async def chats_awaiting_welcome(self) -> list[int]:
        async with self._db.transaction() as session:
            members = await MemberRepository(session).awaiting_welcome()
        return list(dict.fromkeys(m.chat_id for m in members))

    async def hold_awaiting(self) -> None:
        """After a restart: make sure everyone still waiting for a welcome is held."""
        async with self._db.transaction() as session:
            members = await MemberRepository(session).awaiting_welcome()
        for member in members:
            self._directory.set(member.chat_id, member.user_id, TrustLevel.PENDING)
            with contextlib.suppress(TelegramUnavailable):
                await self._notifier.hold(member.chat_id, member.user_id)

    async def post_welcome(self, chat_id: int) -> int:
        """Post one welcome naming everyone in the chat still waiting for one.

        Returns how many people it named. The verification deadline starts when the
        welcome is out; if it cannot be posted, nobody is removed for not answering it.
        """
        async with self._db.transaction() as session:
            chat = await ChatRepository(session).get(chat_id)
            rows = await session.execute(
                select(Member, User)
                .join(User, User.id == Member.user_id)
                .where(
                    Member.chat_id == chat_id,
                    Member.trust == TrustLevel.PENDING,
                    Member.status == MemberStatus.IN,
                    Member.welcome_id.is_(None),
                )
                .order_by(Member.joined_at)
                .limit(NAMES_PER_WELCOME)
            )
            people = [(member.user_id, user.full_name) for member, user in rows.all()]
        if chat is None or not people:
            return 0
        config = await self._settings.get(chat_id)
        inline = True
        text, buttons = self._render_welcome(chat, config, people, inline_rules=inline)
        while utf16_length(text) > WELCOME_MAX_LENGTH:
            if inline and chat.rules:
                inline = False  # the rules move behind a button
            elif len(people) > 1:
                people = people[: len(people) // 2]  # the rest get the next welcome
            else:
                break
            text, buttons = self._render_welcome(chat, config, people, inline_rules=inline)
        # an outage raises here: the pacer tries again later and nobody is let in unverified
        message_id = await self._notifier.send(chat_id, text, buttons, raise_transient=True)
        ids = [user_id for user_id, _ in people]
        if message_id is None:
            await self._welcome_failed(chat_id, ids)
            return len(ids)
        now = self._clock.now()
        async with self._db.transaction() as session:
            post = WelcomePost(chat_id=chat_id, message_id=message_id, posted_at=now, closed=False)
            session.add(post)
            await session.flush()
            result = await session.execute(
                select(Member).where(
                    Member.chat_id == chat_id,
                    Member.user_id.in_(ids),
                    Member.trust == TrustLevel.PENDING,
                    Member.status == MemberStatus.IN,
                    Member.welcome_id.is_(None),
                )
            )
            named = list(result.scalars())
            deadlines = DeadlineRepository(session)
            for member in named:
                member.welcome_id = post.id
                await deadlines.schedule(
                    VERIFY, chat_id, member.user_id, now + config.verify_timeout
                )
            if not named:
                post.closed = True
        if not named:
            await self._notifier.delete(chat_id, message_id)
        return len(ids)

    def _render_welcome(
        self,
        chat: Chat,
        config: ChatConfig,
        people: list[tuple[int, str]],
        *,
        inline_rules: bool = True,
    ) -> tuple[str, Keyboard]:
        language = config.language
        rules, custom = chat.rules, chat.welcome
        inline = inline_rules and bool(rules) and len(rules or "") <= RULES_INLINE_LIMIT
        if not rules:
            rules_block = t(language, "welcome.no_rules")
        elif inline:
            rules_block = escape(rules)
        else:
            rules_block = t(language, "welcome.rules_too_long")
        names = ", ".join(mention(user_id, name) for user_id, name in people)
        body = escape(custom) if custom else template(language, "welcome.default")
        body = (
            body.replace("{name}", names)
            .replace("{chat}", escape(chat.title))
            .replace("{rules}", rules_block)
        )
        if custom and "{name}" not in custom:
            body = f"{names}\n{body}"
        timeout = human_duration(language, config.verify_timeout)
        footer = t(language, "welcome.instruction", timeout=timeout)
        buttons: Keyboard = [[Button(t(language, "welcome.button"), data=VERIFY_BUTTON)]]
        if rules and not inline and self._notifier.username:
            link = f"https://t.me/{self._notifier.username}?start=rules_{chat.id}"
            buttons.append([Button(t(language, "welcome.rules_button"), url=link)])
        return f"{body}\n\n{footer}", buttons

    async def preview(self, chat_id: int, sample: Person) -> str:
        """The welcome as a newcomer would see it, with `sample` as the newcomer."""
        async with self._db.transaction() as session:
            chat = await ChatRepository(session).get(chat_id)
        if chat is None:
            return ""
        config = await self._settings.get(chat_id)
        people = [(sample.id, sample.full_name)]
        text, _ = self._render_welcome(chat, config, people)
        if utf16_length(text) > WELCOME_MAX_LENGTH:
            text, _ = self._render_welcome(chat, config, people, inline_rules=False)
        return text

    async def _welcome_failed(self, chat_id: int, user_ids: list[int]) -> None:
        log.warning("chat %s: welcome could not be posted; letting %d in", chat_id, len(user_ids))
        now = self._clock.now()
        async with self._db.transaction() as session:
            result = await session.execute(
                select(Member).where(
                    Member.chat_id == chat_id,
                    Member.user_id.in_(user_ids),
                    Member.trust == TrustLevel.PENDING,
                    Member.welcome_id.is_(None),
                )
            )
            released = list(result.scalars())
            for member in released:
                member.trust = TrustLevel.NEWCOMER
                member.level_since = now
                member.source = "unverified"
        for member in released:
            self._directory.set(chat_id, member.user_id, TrustLevel.NEWCOMER)
            await self.release(chat_id, member.user_id)

    async def _close_welcome_if_done(
        self, session: AsyncSession, welcome_id: int | None
    ) -> tuple[WelcomePost, list[tuple[int, str]]] | None:
        """Within a transaction: close the welcome when nobody in it is pending any more."""
        if welcome_id is None:
            return None
        await session.flush()
        members = MemberRepository(session)
        post = await members.welcome(welcome_id)
        if post is None or post.closed or await members.pending_in_welcome(welcome_id):
            return None
        post.closed = True
        rows = await session.execute(
            select(Member.user_id, User)
            .join(User, User.id == Member.user_id)
            .where(
                Member.welcome_id == welcome_id,
                Member.status == MemberStatus.IN,
                Member.trust != TrustLevel.PENDING,
            )
        )
        return post, [(user_id, user.full_name) for user_id, user in rows.all()]

    async def _finish_welcome(
        self, closed: tuple[WelcomePost, list[tuple[int, str]]] | None
    ) -> None:
        """Shorten a finished welcome to a greeting, or delete it if nobody stayed."""
        if closed is None:
            return
        post, confirmed = closed
        if post.message_id is None:
            return
        if not confirmed:
            await self._notifier.delete(post.chat_id, post.message_id)
            return
        config = await self._settings.get(post.chat_id)
        names = ", ".join(mention(user_id, name) for user_id, name in confirmed)
        await self._notifier.edit(
            post.chat_id, post.message_id, t(config.language, "welcome.done", names=names)
        )

    # ----- confirming and timing out -------------------------------------------------------

    async def confirm(self, chat: ChatRef, person: Person) -> Confirm:
        """The newcomer pressed the button. Only their own verification is affected."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat.id, person.id))
            if member is None or member.status != MemberStatus.IN:
                return Confirm.NOT_YOURS
            if member.trust != TrustLevel.PENDING:
                return Confirm.ALREADY
            member.trust = TrustLevel.NEWCOMER
            member.level_since = now
            member.verified_at = now
            await DeadlineRepository(session).cancel(VERIFY, chat.id, person.id)
            await remember_person(session, person, now)
            closed = await self._close_welcome_if_done(session, member.welcome_id)
        self._directory.set(chat.id, person.id, TrustLevel.NEWCOMER)
        await self.release(chat.id, person.id)
        await self._finish_welcome(closed)
        await self._emit(self.on_verified, chat.id, person.id)
        return Confirm.CONFIRMED

    async def expire(self, chat_id: int, user_id: int) -> None:
        """The verification deadline passed: remove the person without a lasting ban.

        The row is marked first, so a button press racing with the removal is refused
        instead of being thanked and then removed anyway.
        """
        async with self._db.transaction() as session:
            marked = await session.execute(
                update(Member)
                .where(
                    Member.chat_id == chat_id,
                    Member.user_id == user_id,
                    Member.trust == TrustLevel.PENDING,
                    Member.status == MemberStatus.IN,
                )
                .values(status=MemberStatus.LEFT)
                .execution_options(synchronize_session=False)
            )
        if not getattr(marked, "rowcount", 0):
            return
        if not await self._notifier.remove(chat_id, user_id, self._clock.now()):
            async with self._db.transaction() as session:
                member = await session.get(Member, (chat_id, user_id))
                if member is not None and member.trust == TrustLevel.PENDING:
                    member.status = MemberStatus.IN  # still here and still held
            log.warning("chat %s: could not remove unverified %s", chat_id, user_id)
            await self.warn_missing_rights(chat_id, ["can_restrict_members"])
            return
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat_id, user_id))
            closed = None
            if member is not None and member.trust == TrustLevel.PENDING:
                closed = await self._close_welcome_if_done(session, member.welcome_id)
            await DeadlineRepository(session).cancel(VERIFY, chat_id, user_id)
        self._directory.set(chat_id, user_id, None)
        log.info("chat %s: removed %s who did not confirm the rules", chat_id, user_id)
        await self._finish_welcome(closed)

    async def on_leave(self, chat_id: int, user_id: int) -> None:
        """Someone left or was removed: stop any verification and forget their level."""
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat_id, user_id))
            if member is None or member.status == MemberStatus.LEFT:
                return
            was_pending = member.trust == TrustLevel.PENDING
            member.status = MemberStatus.LEFT
            await DeadlineRepository(session).cancel(VERIFY, chat_id, user_id)
            closed = (
                await self._close_welcome_if_done(session, member.welcome_id)
                if was_pending
                else None
            )
        self._directory.set(chat_id, user_id, None)
        await self._finish_welcome(closed)
        await self._emit(self.on_left, chat_id, user_id)

    async def _emit(
        self, hooks: list[Callable[[int, int], Awaitable[object]]], chat_id: int, user_id: int
    ) -> None:
        """Run follow-up work of other services; their failure never undoes this one."""
        for hook in hooks:
            try:
                await hook(chat_id, user_id)
            except Exception:
                log.exception("chat %s: follow-up for %s failed", chat_id, user_id)

    # ----- join requests -------------------------------------------------------------------

    async def on_join_request(self, chat: ChatRef, person: Person, user_chat_id: int) -> bool:
        """Someone asked to join: write to them privately with the rules and a button."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            chats = ChatRepository(session)
            await chats.ensure(chat.id, chat.title, chat.type, now)
            await remember_person(session, person, now)
            if not await self._claim(
                session, chat.id, person.id, MemberStatus.REQUESTED, "request", now
            ):
                return False
            stored = await chats.get(chat.id)
            rules = stored.rules if stored else None
        if self.paid_gate is not None and await self.paid_gate(chat, person, user_chat_id):
            return True
        config = await self._settings.get(chat.id)
        language = pick_language(person.language_code, config.language)
        text = t(
            language,
            "request.intro",
            chat=escape(chat.title),
            rules=_rules_block(language, rules),
            timeout=human_duration(language, config.verify_timeout),
        )
        buttons = [[Button(t(language, "request.button"), data=f"{ACCEPT_PREFIX}{chat.id}")]]
        if rules and len(rules) > RULES_INLINE_LIMIT and self._notifier.username:
            link = f"https://t.me/{self._notifier.username}?start=rules_{chat.id}"
            buttons.append([Button(t(language, "welcome.rules_button"), url=link)])
        if await self._notifier.send(user_chat_id, text, buttons) is None:
            log.info("chat %s: cannot write to requester %s; admins decide", chat.id, person.id)
            return False
        async with self._db.transaction() as session:
            await DeadlineRepository(session).schedule(
                REQUEST, chat.id, person.id, self._clock.now() + config.verify_timeout
            )
        return True

    async def accept_request(self, chat_id: int, person: Person) -> AcceptResult:
        """The requester accepted the rules in private: approve them as a newcomer."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            chat = await ChatRepository(session).get(chat_id)
            title = chat.title if chat else str(chat_id)
            member = await session.get(Member, (chat_id, person.id))
            if member is None:
                return AcceptResult(Accept.EXPIRED, title)
            if member.status == MemberStatus.IN:
                return AcceptResult(Accept.ALREADY, title)
            if member.status != MemberStatus.REQUESTED:
                return AcceptResult(Accept.EXPIRED, title)
            member.status = MemberStatus.IN
            member.trust = TrustLevel.NEWCOMER
            member.level_since = now
            member.joined_at = now
            member.verified_at = now
            await DeadlineRepository(session).cancel(REQUEST, chat_id, person.id)
        self._directory.set(chat_id, person.id, TrustLevel.NEWCOMER)
        if await self._notifier.approve_request(chat_id, person.id):
            await self._emit(self.on_verified, chat_id, person.id)
            return AcceptResult(Accept.APPROVED, title)
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat_id, person.id))
            if member is not None and member.verified_at == now:
                member.status = MemberStatus.LEFT
                member.trust = TrustLevel.PENDING
        self._directory.set(chat_id, person.id, None)
        return AcceptResult(Accept.EXPIRED, title)

    async def expire_request(self, chat_id: int, user_id: int) -> None:
        """Nobody accepted within `verify_timeout`: decline the request and say so."""
        async with self._db.transaction() as session:
            marked = await session.execute(
                update(Member)
                .where(
                    Member.chat_id == chat_id,
                    Member.user_id == user_id,
                    Member.status == MemberStatus.REQUESTED,
                )
                .values(status=MemberStatus.LEFT)
                .execution_options(synchronize_session=False)
            )
            if not getattr(marked, "rowcount", 0):
                return  # accepted (or withdrawn) in the meantime
            await DeadlineRepository(session).cancel(REQUEST, chat_id, user_id)
            chat = await ChatRepository(session).get(chat_id)
            user = await session.get(User, user_id)
        if not await self._notifier.decline_request(chat_id, user_id):
            return  # already handled by an admin, or withdrawn: nothing to tell
        config = await self._settings.get(chat_id)
        language = pick_language(user.language_code if user else None, config.language)
        title = escape(chat.title if chat else str(chat_id))
        await self._notifier.send(user_id, t(language, "request.declined_expired", chat=title))
