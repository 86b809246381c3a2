"""Buddies: a senior member who looks after each newcomer until they stand on their own."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.locks import Locks
from bot.notifier import Notifier
from bot.services.activity import ActivityTracker
from bot.services.buddies.messages import BuddyMessages
from bot.services.buddies.outcomes import Change, Followup, Volunteer, VolunteerResult
from bot.services.buddies.readouts import BuddyView, Overview, read_overview, read_view
from bot.services.circles.interests import with_circles
from bot.services.ledger import Ledger, LedgerKind
from bot.services.matching import Candidate, choose_buddy, normalise_interests, parse_stored
from bot.services.people import Person
from bot.services.settings import SettingsService
from models.buddies import BuddyRepository
from models.deadlines import DeadlineRepository
from models.members import Member, MemberRepository, MemberStatus, TrustLevel
from models.users import User

log = logging.getLogger(__name__)

FOLLOWUP = "buddy_followup"
ACTIVE_WITHIN = timedelta(days=30)
CHANGES_PER_WEEK = 2
MATCHING_TIMEOUT = 120.0  # seconds; serving a waiting list introduces each pair it makes


def _present(member: Member | None) -> bool:
    """In the chat and past verification."""
    return (
        member is not None
        and member.status == MemberStatus.IN
        and member.trust != TrustLevel.PENDING
    )


class BuddyService:
    """The buddy pool, matching, pairs and their endings."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        activity: ActivityTracker,
        ledger: Ledger | None = None,
        locks: Locks | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._activity = activity
        self._ledger = ledger
        self._messages = BuddyMessages(db, notifier, settings)
        self._locks = locks if locks is not None else Locks()

    def _lock(self, chat_id: int) -> AbstractAsyncContextManager[None]:
        """The matching of one chat, one step at a time, in whichever process: two newcomers
        verified at once must not both take a buddy's last free place."""
        return self._locks.lock(f"buddies:{chat_id}", MATCHING_TIMEOUT)

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

    async def volunteer(
        self, chat_id: int, person: Person, added_by: int | None
    ) -> VolunteerResult:
        """Put someone in the pool: a veteran themselves, or anyone an admin names."""
        now = self._clock.now()
        config = await self._settings.get(chat_id)
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat_id, person.id))
            if member is None or not _present(member):
                return VolunteerResult(Volunteer.NOT_IN_CHAT)
            if added_by is None and member.trust != TrustLevel.VETERAN:
                eligible = max(member.joined_at + config.veteran_after, now)
                return VolunteerResult(Volunteer.NOT_YET, eligible)
            inserted = await BuddyRepository(session).add_volunteer(
                chat_id, person.id, now, added_by
            )
            member.last_active_at = now  # volunteering is a sign of life
        if not inserted:
            return VolunteerResult(Volunteer.ALREADY)
        await self.serve_waiting(chat_id)
        return VolunteerResult(Volunteer.ADDED)

    async def leave_pool(self, chat_id: int, user_id: int) -> bool:
        """Leave the pool; the volunteer's newcomers are handed to other buddies."""
        async with self._db.transaction() as session:
            left = await BuddyRepository(session).remove_volunteer(chat_id, user_id)
            orphans = await self._end_pairs(session, chat_id, buddy_id=user_id, reason="buddy_off")
        for newcomer_id in orphans:
            await self.assign(chat_id, newcomer_id)
        return left

    async def assign(self, chat_id: int, newcomer_id: int) -> int | None:
        """Give a newcomer a buddy, or put them on the waiting list. Returns the buddy's id."""
        async with self._lock(chat_id):
            return await self._assign(chat_id, newcomer_id)

    async def _assign(self, chat_id: int, newcomer_id: int, waiting_ok: bool = True) -> int | None:
        now = self._clock.now()
        config = await self._settings.get(chat_id)
        await self._activity.flush()
        first = tell_admins = False
        async with self._db.transaction() as session:
            buddies = BuddyRepository(session)
            newcomer = await session.get(Member, (chat_id, newcomer_id))
            if (
                newcomer is None
                or newcomer.status != MemberStatus.IN
                or newcomer.trust != TrustLevel.NEWCOMER
            ):
                await buddies.unwait(chat_id, newcomer_id)
                return None
            if await buddies.active_pair(chat_id, newcomer_id) is not None:
                return None
            past = await buddies.past_buddies(chat_id, newcomer_id)
            user = await session.get(User, newcomer_id)
            wanted = parse_stored(user.interests if user else None)
            candidates = await self._candidates(buddies, chat_id, now)
            wanted, candidates = await with_circles(  # circles count as interests
                session, chat_id, (newcomer_id, wanted), candidates
            )
            chosen = choose_buddy(candidates, wanted, config.buddy_max_load, past | {newcomer_id})
            if chosen is None:
                if not waiting_ok:
                    return None
                first = await buddies.wait(chat_id, newcomer_id, now)
                tell_admins = first and not await buddies.admins_told(chat_id)
                if tell_admins:
                    waiting = await buddies.waiting(chat_id, newcomer_id)
                    assert waiting is not None
                    waiting.admins_told = True
            else:
                try:
                    async with session.begin_nested():
                        await buddies.pair(chat_id, newcomer_id, chosen.user_id, now)
                except IntegrityError:
                    return None  # another handler paired them at the same moment
                await buddies.unwait(chat_id, newcomer_id)
                if config.buddy_followup is not None:
                    await DeadlineRepository(session).schedule(
                        FOLLOWUP, chat_id, newcomer_id, now + config.buddy_followup
                    )
        if chosen is None:
            if first:
                await self._messages.waiting(chat_id, newcomer_id, tell_admins)
            return None
        self._count(chat_id, newcomer_id, LedgerKind.BUDDY_ASSIGNED)
        await self._introduce(chat_id, newcomer_id, chosen.user_id)
        return chosen.user_id

    async def _candidates(
        self, buddies: BuddyRepository, chat_id: int, now: datetime
    ) -> list[Candidate]:
        """Volunteers active within `ACTIVE_WITHIN`, with their load and interests."""
        loads = await buddies.loads(chat_id)
        last = await buddies.last_assigned(chat_id)
        cutoff = now - ACTIVE_WITHIN
        return [
            Candidate(
                member.user_id,
                parse_stored(user.interests),
                loads.get(member.user_id, 0),
                last.get(member.user_id),
            )
            for member, user in await buddies.volunteers_in_chat(chat_id)
            if member.last_active_at is not None and member.last_active_at >= cutoff
        ]

    async def serve_waiting(self, chat_id: int) -> int:
        """Pair people on the waiting list, in order, while buddies have room."""
        served = 0
        async with self._lock(chat_id):
            async with self._db.transaction() as session:
                waiting = [
                    w.newcomer_id for w in await BuddyRepository(session).waiting_list(chat_id)
                ]
            for newcomer_id in waiting:
                if await self._assign(chat_id, newcomer_id, waiting_ok=False) is None:
                    async with self._db.transaction() as session:
                        still = await BuddyRepository(session).waiting(chat_id, newcomer_id)
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
                if not _present(await session.get(Member, (chat_id, person.id))):
                    return False
            if newcomer.id == buddy.id:
                return False
            await self._end_pairs(session, chat_id, newcomer_id=newcomer.id, reason="reassigned")
            await session.flush()
            buddies = BuddyRepository(session)
            await buddies.pair(chat_id, newcomer.id, buddy.id, now)
            await buddies.unwait(chat_id, newcomer.id)
            if config.buddy_followup is not None:
                await DeadlineRepository(session).schedule(
                    FOLLOWUP, chat_id, newcomer.id, now + config.buddy_followup
                )
        await self._introduce(chat_id, newcomer.id, buddy.id)
        return True

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
        pairs = await BuddyRepository(session).active_pairs(
            chat_id, newcomer_id=newcomer_id, buddy_id=buddy_id
        )
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
                buddies = BuddyRepository(session)
                pair = await buddies.active_pair(chat_id, newcomer_id)
                if pair is None:
                    return Change.NO_BUDDY
                week_ago = now - timedelta(days=7)
                if await buddies.changes_since(chat_id, newcomer_id, week_ago) >= CHANGES_PER_WEEK:
                    return Change.LIMIT
                old_buddy = pair.buddy_id
                await self._end_pairs(session, chat_id, newcomer_id=newcomer_id, reason="changed")
            newcomer = await self._messages.who(newcomer_id)
            await self._messages.tell(old_buddy, chat_id, "changed_old", newcomer=newcomer)
            log.info("chat %s: %s changed buddy (%s)", chat_id, newcomer_id, reason[:100])
            await self._assign(chat_id, newcomer_id)
        return Change.CHANGED

    async def graduated(self, chat_id: int, newcomer_ids: list[int]) -> None:
        """Newcomers became members: their pairs end with thanks to both."""
        for newcomer_id in newcomer_ids:
            async with self._db.transaction() as session:
                buddies = BuddyRepository(session)
                pair = await buddies.active_pair(chat_id, newcomer_id)
                buddy_id = pair.buddy_id if pair else None
                await self._end_pairs(session, chat_id, newcomer_id=newcomer_id, reason="graduated")
                await buddies.unwait(chat_id, newcomer_id)
            if buddy_id is None:
                continue
            buddy, newcomer = (
                await self._messages.who(buddy_id),
                await self._messages.who(newcomer_id),
            )
            await self._messages.tell(newcomer_id, chat_id, "graduated_newcomer", buddy=buddy)
            await self._messages.tell(buddy_id, chat_id, "graduated_buddy", newcomer=newcomer)
        if newcomer_ids:
            await self.serve_waiting(chat_id)

    async def member_left(self, chat_id: int, user_id: int) -> None:
        """Someone left or was banned: end their pairs and find the newcomers a new buddy."""
        async with self._db.transaction() as session:
            buddies = BuddyRepository(session)
            await self._end_pairs(session, chat_id, newcomer_id=user_id, reason="newcomer_left")
            await buddies.unwait(chat_id, user_id)
            await buddies.remove_volunteer(chat_id, user_id)
            orphans = await self._end_pairs(session, chat_id, buddy_id=user_id, reason="buddy_left")
        for newcomer_id in orphans:
            await self.assign(chat_id, newcomer_id)

    async def followup(self, chat_id: int, newcomer_id: int) -> None:
        """`buddy_followup` after pairing: ask the newcomer privately whether they connected."""
        async with self._db.transaction() as session:
            pair = await BuddyRepository(session).active_pair(chat_id, newcomer_id)
        if pair is not None:
            await self._messages.followup(chat_id, newcomer_id, pair.buddy_id)

    async def followup_answer(self, chat_id: int, newcomer_id: int, connected: bool) -> Followup:
        """The newcomer's answer; "not yet" nudges the buddy."""
        async with self._db.transaction() as session:
            pair = await BuddyRepository(session).active_pair(chat_id, newcomer_id)
        if pair is None:
            return Followup.NO_BUDDY
        self._count(chat_id, newcomer_id, LedgerKind.BUDDY_FOLLOWUP)
        if connected:
            return Followup.CONNECTED
        newcomer = await self._messages.who(newcomer_id)
        await self._messages.tell(pair.buddy_id, chat_id, "nudge", newcomer=newcomer)
        return Followup.NUDGED

    def _count(self, chat_id: int, user_id: int, kind: LedgerKind) -> None:
        if self._ledger is not None:
            self._ledger.count(chat_id, user_id, kind)

    async def view(self, chat_id: int, user_id: int) -> BuddyView:
        async with self._db.transaction() as session:
            return await read_view(session, chat_id, user_id)

    async def everywhere(self, user_id: int) -> list[tuple[str, BuddyView]]:
        """/buddy in private: (chat title, what /buddy shows there) for each chat the person
        is in, by title."""
        async with self._db.transaction() as session:
            chats = await MemberRepository(session).in_active_chats(user_id)
            return [(chat.title, await read_view(session, chat.id, user_id)) for _, chat in chats]

    async def overview(self, chat_id: int) -> Overview:
        async with self._db.transaction() as session:
            return await read_overview(session, chat_id)

    async def _introduce(self, chat_id: int, newcomer_id: int, buddy_id: int) -> None:
        interests = await self.interests(newcomer_id)
        await self._messages.introduce(chat_id, newcomer_id, buddy_id, interests)
