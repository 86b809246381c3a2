"""Buddies: a senior member who looks after each newcomer until they stand on their own."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from html import escape

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.i18n import pick_language, t
from bot.notifier import Button, Notifier
from bot.services.activity import ActivityTracker
from bot.services.matching import Candidate, choose_buddy, normalise_interests, parse_stored
from bot.services.people import Person, mention
from bot.services.settings import SettingsService
from models.buddies import BuddyPair, BuddyVolunteer, BuddyWaiting
from models.chats import Chat
from models.deadlines import DeadlineRepository
from models.members import Member, MemberStatus, TrustLevel
from models.upsert import insert_ignore
from models.users import User

log = logging.getLogger(__name__)

FOLLOWUP = "buddy_followup"
ACTIVE_WITHIN = timedelta(days=30)
CHANGES_PER_WEEK = 2
FOLLOWUP_PREFIX = "hearth:fu:"
CHANGE_PREFIX = "hearth:bchg:"


class Volunteer(StrEnum):
    ADDED = "added"
    ALREADY = "already"
    NOT_YET = "not_yet"
    NOT_IN_CHAT = "not_in_chat"


class Change(StrEnum):
    CHANGED = "changed"
    NO_BUDDY = "no_buddy"
    LIMIT = "limit"


@dataclass(frozen=True)
class VolunteerResult:
    outcome: Volunteer
    eligible_at: datetime | None = None


@dataclass
class BuddyView:
    """What /buddy shows one person in one chat."""

    buddy: Person | None = None
    newcomers: list[Person] = field(default_factory=list)
    waiting: bool = False
    volunteer: bool = False


@dataclass
class Overview:
    """What /buddies shows an admin."""

    pairs: list[tuple[Person, Person, datetime]] = field(default_factory=list)
    loads: list[tuple[Person, int]] = field(default_factory=list)
    waiting: list[tuple[Person, datetime]] = field(default_factory=list)


def _person(user: User) -> Person:
    return Person(user.id, user.first_name, user.last_name, user.username, user.language_code)


class BuddyService:
    """The buddy pool, matching, pairs and their endings."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        activity: ActivityTracker,
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._settings = settings
        self._activity = activity
        self._locks: dict[int, asyncio.Lock] = {}

    def _lock(self, chat_id: int) -> asyncio.Lock:
        return self._locks.setdefault(chat_id, asyncio.Lock())

    # ----- interests -----------------------------------------------------------------------

    async def set_interests(self, user_id: int, text: str) -> list[str]:
        tags = normalise_interests(text)
        async with self._db.transaction() as session:
            user = await session.get(User, user_id)
            if user is not None:
                user.interests = ",".join(tags) or None
        return tags

    async def interests(self, user_id: int) -> list[str]:
        async with self._db.transaction() as session:
            user = await session.get(User, user_id)
        return sorted(parse_stored(user.interests if user else None))

    # ----- the pool ------------------------------------------------------------------------

    async def volunteer(
        self, chat_id: int, person: Person, added_by: int | None
    ) -> VolunteerResult:
        """Put someone in the pool: a veteran themselves, or anyone an admin names."""
        now = self._clock.now()
        config = await self._settings.get(chat_id)
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat_id, person.id))
            if (
                member is None
                or member.status != MemberStatus.IN
                or member.trust == TrustLevel.PENDING
            ):
                return VolunteerResult(Volunteer.NOT_IN_CHAT)
            if added_by is None and member.trust != TrustLevel.VETERAN:
                eligible = max(member.joined_at + config.veteran_after, now)
                return VolunteerResult(Volunteer.NOT_YET, eligible)
            inserted = await insert_ignore(
                session,
                BuddyVolunteer,
                {"chat_id": chat_id, "user_id": person.id, "since": now, "added_by": added_by},
                key=["chat_id", "user_id"],
            )
            member.last_active_at = now  # volunteering is a sign of life
        if not inserted:
            return VolunteerResult(Volunteer.ALREADY)
        await self.serve_waiting(chat_id)
        return VolunteerResult(Volunteer.ADDED)

    async def leave_pool(self, chat_id: int, user_id: int) -> bool:
        """Leave the pool; the volunteer's newcomers are handed to other buddies."""
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(BuddyVolunteer).where(
                    BuddyVolunteer.chat_id == chat_id, BuddyVolunteer.user_id == user_id
                )
            )
            left = bool(getattr(result, "rowcount", 0))
            orphans = await self._end_pairs(session, chat_id, buddy_id=user_id, reason="buddy_off")
        for newcomer_id in orphans:
            await self.assign(chat_id, newcomer_id)
        return left

    # ----- assignment ----------------------------------------------------------------------

    async def assign(self, chat_id: int, newcomer_id: int) -> int | None:
        """Give a newcomer a buddy, or put them on the waiting list. Returns the buddy's id."""
        async with self._lock(chat_id):
            return await self._assign(chat_id, newcomer_id)

    async def _assign(self, chat_id: int, newcomer_id: int, waiting_ok: bool = True) -> int | None:
        now = self._clock.now()
        config = await self._settings.get(chat_id)
        await self._activity.flush()
        async with self._db.transaction() as session:
            newcomer = await session.get(Member, (chat_id, newcomer_id))
            if (
                newcomer is None
                or newcomer.status != MemberStatus.IN
                or newcomer.trust != TrustLevel.NEWCOMER
            ):
                await self._unwait(session, chat_id, newcomer_id)
                return None
            if await self._active_pair(session, chat_id, newcomer_id) is not None:
                return None
            past = set(
                (
                    await session.execute(
                        select(BuddyPair.buddy_id).where(
                            BuddyPair.chat_id == chat_id, BuddyPair.newcomer_id == newcomer_id
                        )
                    )
                ).scalars()
            )
            user = await session.get(User, newcomer_id)
            wanted = parse_stored(user.interests if user else None)
            candidates = await self._candidates(session, chat_id, now)
            chosen = choose_buddy(candidates, wanted, config.buddy_max_load, past | {newcomer_id})
            if chosen is None:
                if not waiting_ok:
                    return None
                first = await insert_ignore(
                    session,
                    BuddyWaiting,
                    {
                        "chat_id": chat_id,
                        "newcomer_id": newcomer_id,
                        "since": now,
                        "admins_told": False,
                    },
                    key=["chat_id", "newcomer_id"],
                )
                told = (
                    await session.execute(
                        select(func.count())
                        .select_from(BuddyWaiting)
                        .where(BuddyWaiting.chat_id == chat_id, BuddyWaiting.admins_told.is_(True))
                    )
                ).scalar_one()
                tell_admins = first and not told
                if tell_admins:
                    waiting = await session.get(BuddyWaiting, (chat_id, newcomer_id))
                    assert waiting is not None
                    waiting.admins_told = True
            else:
                try:
                    async with session.begin_nested():
                        session.add(
                            BuddyPair(
                                chat_id=chat_id,
                                newcomer_id=newcomer_id,
                                buddy_id=chosen.user_id,
                                active=True,
                                started_at=now,
                            )
                        )
                except IntegrityError:
                    return None  # another handler paired them at the same moment
                await self._unwait(session, chat_id, newcomer_id)
                if config.buddy_followup is not None:
                    await DeadlineRepository(session).schedule(
                        FOLLOWUP, chat_id, newcomer_id, now + config.buddy_followup
                    )
        if chosen is None:
            if first:
                await self._tell_waiting(chat_id, newcomer_id, tell_admins)
            return None
        await self._introduce(chat_id, newcomer_id, chosen.user_id)
        return chosen.user_id

    async def _candidates(
        self, session: AsyncSession, chat_id: int, now: datetime
    ) -> list[Candidate]:
        loads = dict(
            (
                await session.execute(
                    select(BuddyPair.buddy_id, func.count())
                    .where(BuddyPair.chat_id == chat_id, BuddyPair.active.is_(True))
                    .group_by(BuddyPair.buddy_id)
                )
            ).all()
        )
        last = dict(
            (
                await session.execute(
                    select(BuddyPair.buddy_id, func.max(BuddyPair.started_at))
                    .where(BuddyPair.chat_id == chat_id)
                    .group_by(BuddyPair.buddy_id)
                )
            ).all()
        )
        rows = await session.execute(
            select(Member, User)
            .join(
                BuddyVolunteer,
                (BuddyVolunteer.chat_id == Member.chat_id)
                & (BuddyVolunteer.user_id == Member.user_id),
            )
            .join(User, User.id == Member.user_id)
            .where(
                Member.chat_id == chat_id,
                Member.status == MemberStatus.IN,
                Member.trust != TrustLevel.PENDING,
            )
        )
        cutoff = now - ACTIVE_WITHIN
        candidates = []
        for member, user in rows.all():
            if member.last_active_at is None or member.last_active_at < cutoff:
                continue
            last_assigned = last.get(member.user_id)
            candidates.append(
                Candidate(
                    member.user_id,
                    parse_stored(user.interests),
                    int(loads.get(member.user_id, 0)),
                    last_assigned,
                )
            )
        return candidates

    async def serve_waiting(self, chat_id: int) -> int:
        """Pair people on the waiting list, in order, while buddies have room."""
        served = 0
        async with self._lock(chat_id):
            async with self._db.transaction() as session:
                waiting = list(
                    (
                        await session.execute(
                            select(BuddyWaiting.newcomer_id)
                            .where(BuddyWaiting.chat_id == chat_id)
                            .order_by(BuddyWaiting.since)
                        )
                    ).scalars()
                )
            for newcomer_id in waiting:
                if await self._assign(chat_id, newcomer_id, waiting_ok=False) is None:
                    async with self._db.transaction() as session:
                        still = await session.get(BuddyWaiting, (chat_id, newcomer_id))
                    if still is not None:
                        break  # nobody free for the first in line: keep the order
                else:
                    served += 1
        return served

    async def set_buddy(self, chat_id: int, newcomer: Person, buddy: Person) -> bool:
        """Admin override: pair these two, whatever the load; False if either is not in the chat."""
        now = self._clock.now()
        config = await self._settings.get(chat_id)
        async with self._lock(chat_id), self._db.transaction() as session:
            for person in (newcomer, buddy):
                member = await session.get(Member, (chat_id, person.id))
                if (
                    member is None
                    or member.status != MemberStatus.IN
                    or member.trust == TrustLevel.PENDING
                ):
                    return False
            if newcomer.id == buddy.id:
                return False
            await self._end_pairs(session, chat_id, newcomer_id=newcomer.id, reason="reassigned")
            await session.flush()
            session.add(
                BuddyPair(
                    chat_id=chat_id,
                    newcomer_id=newcomer.id,
                    buddy_id=buddy.id,
                    active=True,
                    started_at=now,
                )
            )
            await self._unwait(session, chat_id, newcomer.id)
            if config.buddy_followup is not None:
                await DeadlineRepository(session).schedule(
                    FOLLOWUP, chat_id, newcomer.id, now + config.buddy_followup
                )
        await self._introduce(chat_id, newcomer.id, buddy.id)
        return True

    # ----- ending pairs --------------------------------------------------------------------

    async def _end_pairs(
        self,
        session: AsyncSession,
        chat_id: int,
        *,
        reason: str,
        newcomer_id: int | None = None,
        buddy_id: int | None = None,
    ) -> list[int]:
        """End active pairs (keeping them as history); returns the newcomers affected."""
        query = select(BuddyPair).where(BuddyPair.chat_id == chat_id, BuddyPair.active.is_(True))
        if newcomer_id is not None:
            query = query.where(BuddyPair.newcomer_id == newcomer_id)
        if buddy_id is not None:
            query = query.where(BuddyPair.buddy_id == buddy_id)
        pairs = list((await session.execute(query)).scalars())
        now = self._clock.now()
        deadlines = DeadlineRepository(session)
        for pair in pairs:
            pair.active = False
            pair.ended_at = now
            pair.end_reason = reason
            await deadlines.cancel(FOLLOWUP, chat_id, pair.newcomer_id)
        return [pair.newcomer_id for pair in pairs]

    async def change(self, chat_id: int, newcomer_id: int, reason: str) -> Change:
        """The newcomer asks for someone else (at most twice a week)."""
        now = self._clock.now()
        async with self._lock(chat_id):
            async with self._db.transaction() as session:
                pair = await self._active_pair(session, chat_id, newcomer_id)
                if pair is None:
                    return Change.NO_BUDDY
                recent = (
                    await session.execute(
                        select(func.count())
                        .select_from(BuddyPair)
                        .where(
                            BuddyPair.chat_id == chat_id,
                            BuddyPair.newcomer_id == newcomer_id,
                            BuddyPair.end_reason == "changed",
                            BuddyPair.ended_at >= now - timedelta(days=7),
                        )
                    )
                ).scalar_one()
                if recent >= CHANGES_PER_WEEK:
                    return Change.LIMIT
                old_buddy = pair.buddy_id
                await self._end_pairs(session, chat_id, newcomer_id=newcomer_id, reason="changed")
            await self._tell(
                old_buddy, chat_id, "buddy.changed_old", newcomer=await self._mention(newcomer_id)
            )
            log.info("chat %s: %s changed buddy (%s)", chat_id, newcomer_id, reason[:100])
            await self._assign(chat_id, newcomer_id)
        return Change.CHANGED

    async def graduated(self, chat_id: int, newcomer_ids: list[int]) -> None:
        """Newcomers became members: their pairs end with thanks to both."""
        for newcomer_id in newcomer_ids:
            async with self._db.transaction() as session:
                pair = await self._active_pair(session, chat_id, newcomer_id)
                buddy_id = pair.buddy_id if pair else None
                await self._end_pairs(session, chat_id, newcomer_id=newcomer_id, reason="graduated")
                await self._unwait(session, chat_id, newcomer_id)
            if buddy_id is None:
                continue
            await self._tell(
                newcomer_id,
                chat_id,
                "buddy.graduated_newcomer",
                buddy=await self._mention(buddy_id),
            )
            await self._tell(
                buddy_id,
                chat_id,
                "buddy.graduated_buddy",
                newcomer=await self._mention(newcomer_id),
            )
        if newcomer_ids:
            await self.serve_waiting(chat_id)

    async def member_left(self, chat_id: int, user_id: int) -> None:
        """Someone left or was banned: end their pairs and find the newcomers a new buddy."""
        async with self._db.transaction() as session:
            await self._end_pairs(session, chat_id, newcomer_id=user_id, reason="newcomer_left")
            await self._unwait(session, chat_id, user_id)
            await session.execute(
                delete(BuddyVolunteer).where(
                    BuddyVolunteer.chat_id == chat_id, BuddyVolunteer.user_id == user_id
                )
            )
            orphans = await self._end_pairs(session, chat_id, buddy_id=user_id, reason="buddy_left")
        for newcomer_id in orphans:
            await self.assign(chat_id, newcomer_id)

    # ----- follow-up -----------------------------------------------------------------------

    async def followup(self, chat_id: int, newcomer_id: int) -> None:
        """`buddy_followup` after pairing: ask the newcomer privately whether they connected."""
        async with self._db.transaction() as session:
            pair = await self._active_pair(session, chat_id, newcomer_id)
        if pair is None:
            return
        language, title = await self._language_and_title(newcomer_id, chat_id)
        buddy = await self._mention(pair.buddy_id)
        buttons = [
            [
                Button(t(language, "buddy.followup_yes"), data=f"{FOLLOWUP_PREFIX}{chat_id}:y"),
                Button(t(language, "buddy.followup_no"), data=f"{FOLLOWUP_PREFIX}{chat_id}:n"),
            ]
        ]
        await self._notifier.send(
            newcomer_id, t(language, "buddy.followup", buddy=buddy, chat=title), buttons
        )

    async def followup_answer(self, chat_id: int, newcomer_id: int, connected: bool) -> str:
        """The newcomer's answer; "not yet" nudges the buddy. Returns the locale key to show."""
        async with self._db.transaction() as session:
            pair = await self._active_pair(session, chat_id, newcomer_id)
        if pair is None:
            return "buddy.none"
        if connected:
            return "buddy.followup_glad"
        await self._tell(
            pair.buddy_id, chat_id, "buddy.nudge", newcomer=await self._mention(newcomer_id)
        )
        return "buddy.followup_nudged"

    # ----- views ---------------------------------------------------------------------------

    async def view(self, chat_id: int, user_id: int) -> BuddyView:
        view = BuddyView()
        async with self._db.transaction() as session:
            pair = await self._active_pair(session, chat_id, user_id)
            if pair is not None:
                buddy = await session.get(User, pair.buddy_id)
                view.buddy = _person(buddy) if buddy else Person(pair.buddy_id, str(pair.buddy_id))
            rows = await session.execute(
                select(User)
                .join(BuddyPair, BuddyPair.newcomer_id == User.id)
                .where(
                    BuddyPair.chat_id == chat_id,
                    BuddyPair.buddy_id == user_id,
                    BuddyPair.active.is_(True),
                )
            )
            view.newcomers = [_person(user) for user in rows.scalars()]
            view.waiting = await session.get(BuddyWaiting, (chat_id, user_id)) is not None
            view.volunteer = await session.get(BuddyVolunteer, (chat_id, user_id)) is not None
        return view

    async def overview(self, chat_id: int) -> Overview:
        result = Overview()
        async with self._db.transaction() as session:
            pairs = list(
                (
                    await session.execute(
                        select(BuddyPair)
                        .where(BuddyPair.chat_id == chat_id, BuddyPair.active.is_(True))
                        .order_by(BuddyPair.started_at)
                    )
                ).scalars()
            )
            volunteers = list(
                (
                    await session.execute(
                        select(BuddyVolunteer.user_id).where(BuddyVolunteer.chat_id == chat_id)
                    )
                ).scalars()
            )
            waiting = list(
                (
                    await session.execute(
                        select(BuddyWaiting)
                        .where(BuddyWaiting.chat_id == chat_id)
                        .order_by(BuddyWaiting.since)
                    )
                ).scalars()
            )
            ids = {p.newcomer_id for p in pairs} | {p.buddy_id for p in pairs}
            ids |= set(volunteers) | {w.newcomer_id for w in waiting}
            users = {
                u.id: _person(u)
                for u in (await session.execute(select(User).where(User.id.in_(ids)))).scalars()
            }

        def who(user_id: int) -> Person:
            return users.get(user_id) or Person(user_id, str(user_id))

        result.pairs = [(who(p.newcomer_id), who(p.buddy_id), p.started_at) for p in pairs]
        load = dict.fromkeys(volunteers, 0)
        for pair in pairs:
            load[pair.buddy_id] = load.get(pair.buddy_id, 0) + 1
        result.loads = sorted(((who(u), n) for u, n in load.items()), key=lambda x: -x[1])
        result.waiting = [(who(w.newcomer_id), w.since) for w in waiting]
        return result

    # ----- helpers -------------------------------------------------------------------------

    async def _active_pair(
        self, session: AsyncSession, chat_id: int, newcomer_id: int
    ) -> BuddyPair | None:
        return (
            await session.execute(
                select(BuddyPair).where(
                    BuddyPair.chat_id == chat_id,
                    BuddyPair.newcomer_id == newcomer_id,
                    BuddyPair.active.is_(True),
                )
            )
        ).scalar_one_or_none()

    async def _unwait(self, session: AsyncSession, chat_id: int, newcomer_id: int) -> None:
        await session.execute(
            delete(BuddyWaiting).where(
                BuddyWaiting.chat_id == chat_id, BuddyWaiting.newcomer_id == newcomer_id
            )
        )

    async def _mention(self, user_id: int) -> str:
        async with self._db.transaction() as session:
            user = await session.get(User, user_id)
        return mention(user_id, user.full_name if user else str(user_id))

    async def _language_and_title(self, user_id: int, chat_id: int) -> tuple[str, str]:
        config = await self._settings.get(chat_id)
        async with self._db.transaction() as session:
            user = await session.get(User, user_id)
            chat = await session.get(Chat, chat_id)
        language = pick_language(user.language_code if user else None, config.language)
        return language, escape(chat.title if chat else str(chat_id))

    async def _tell(self, user_id: int, chat_id: int, key: str, **values: str) -> bool:
        """A private message in the person's language; False if they cannot be reached."""
        async with self._db.transaction() as session:
            user = await session.get(User, user_id)
        if user is None or not user.reachable:
            return False
        language, title = await self._language_and_title(user_id, chat_id)
        return (
            await self._notifier.send(user_id, t(language, key, chat=title, **values)) is not None
        )

    async def _introduce(self, chat_id: int, newcomer_id: int, buddy_id: int) -> None:
        config = await self._settings.get(chat_id)
        newcomer, buddy = await self._mention(newcomer_id), await self._mention(buddy_id)
        await self._notifier.send(
            chat_id, t(config.language, "buddy.intro_group", newcomer=newcomer, buddy=buddy)
        )
        interests = ", ".join(await self.interests(newcomer_id)) or "—"
        await self._tell(newcomer_id, chat_id, "buddy.intro_newcomer", buddy=buddy)
        await self._tell(
            buddy_id, chat_id, "buddy.intro_buddy", newcomer=newcomer, interests=interests
        )

    async def _tell_waiting(self, chat_id: int, newcomer_id: int, tell_admins: bool) -> None:
        await self._tell(newcomer_id, chat_id, "buddy.waiting")
        if tell_admins:
            config = await self._settings.get(chat_id)
            await self._notifier.send(chat_id, t(config.language, "buddy.waiting_admins"))
