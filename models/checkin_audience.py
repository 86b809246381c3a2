"""Who gets what in check-ins: invitees, reminders, unanswered entries, a person's standing
and the silent members to nudge (queries only, inside the caller's transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from models.chats import Chat
from models.checkins import (
    CheckinEntry,
    CheckinMember,
    CheckinPerson,
    CheckinRound,
    EntryState,
    RoundStatus,
)
from models.members import Member, MemberStatus, TrustLevel
from models.users import User


def _not_paused(now: datetime) -> ColumnElement[bool]:
    return or_(CheckinPerson.paused_until.is_(None), CheckinPerson.paused_until <= now)


def _same_member() -> ColumnElement[bool]:
    """Joins `CheckinMember` to the `Member` row of the same person and chat."""
    return (CheckinMember.chat_id == Member.chat_id) & (CheckinMember.user_id == Member.user_id)


class CheckinAudience:
    """The per-person check-in queries of CheckinRepository."""

    session: AsyncSession

    async def invitees(self, chat_id: int) -> list[tuple[User, datetime | None]]:
        """Who a round of this chat asks: opted in, still in the chat, reachable, human;
        with their pause (a paused person gets an entry but no invite)."""
        result = await self.session.execute(
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
        return [(user, paused) for user, paused in result.all()]

    async def to_remind(self, round_id: int, chat_id: int) -> list[tuple[User, datetime | None]]:
        """Who the reminder of a round goes to: asked, not answered, still opted in and in
        the chat, reachable; with their pause."""
        result = await self.session.execute(
            select(User, CheckinPerson.paused_until)
            .join(CheckinEntry, CheckinEntry.user_id == User.id)
            .join(Member, (Member.user_id == User.id) & (Member.chat_id == chat_id))
            .join(
                CheckinMember,
                (CheckinMember.user_id == User.id) & (CheckinMember.chat_id == chat_id),
            )
            .outerjoin(CheckinPerson, CheckinPerson.user_id == User.id)
            .where(
                CheckinEntry.round_id == round_id,
                CheckinMember.opted_in.is_(True),  # not those who opted out meanwhile
                Member.status == MemberStatus.IN,  # not those who left meanwhile
                CheckinEntry.state == EntryState.INVITED,
                CheckinEntry.done.is_(False),
                User.reachable.is_(True),
            )
        )
        return [(user, paused) for user, paused in result.all()]

    async def unanswered_open(self, user_id: int) -> list[CheckinEntry]:
        """The person's entries in open rounds that they have not answered."""
        result = await self.session.execute(
            select(CheckinEntry)
            .join(CheckinRound, CheckinRound.id == CheckinEntry.round_id)
            .where(
                CheckinEntry.user_id == user_id,
                CheckinEntry.done.is_(False),
                CheckinRound.status == RoundStatus.OPEN,
            )
        )
        return list(result.scalars())

    async def open_round_ids(self, user_id: int, chat_ids: list[int] | None = None) -> list[int]:
        """The open rounds the person has an entry in (in `chat_ids`, if given)."""
        query = (
            select(CheckinRound.id)
            .join(CheckinEntry, CheckinEntry.round_id == CheckinRound.id)
            .where(CheckinEntry.user_id == user_id, CheckinRound.status == RoundStatus.OPEN)
        )
        if chat_ids is not None:
            query = query.where(CheckinRound.chat_id.in_(chat_ids))
        return list((await self.session.execute(query)).scalars())

    async def still_invited(self, round_ids: set[int], now: datetime) -> set[tuple[int, int]]:
        """(round, person) pairs whose invite or reminder is still wanted: asked, not
        answered, in the chat, opted in, not paused."""
        result = await self.session.execute(
            select(CheckinEntry.round_id, CheckinEntry.user_id)
            .join(CheckinRound, CheckinRound.id == CheckinEntry.round_id)
            .join(
                Member,
                (Member.chat_id == CheckinRound.chat_id) & (Member.user_id == CheckinEntry.user_id),
            )
            .join(
                CheckinMember,
                (CheckinMember.chat_id == CheckinRound.chat_id)
                & (CheckinMember.user_id == CheckinEntry.user_id),
            )
            .outerjoin(CheckinPerson, CheckinPerson.user_id == CheckinEntry.user_id)
            .where(
                CheckinEntry.round_id.in_(round_ids),
                CheckinEntry.done.is_(False),
                CheckinEntry.state == EntryState.INVITED,
                Member.status == MemberStatus.IN,
                CheckinMember.opted_in.is_(True),
                _not_paused(now),
            )
        )
        return {(int(r), int(u)) for r, u in result.all()}

    async def standing(self, user_id: int, chat_id: int | None) -> list[tuple[str, bool]]:
        """(chat title, opted in) for each chat the person is a member of (or just one)."""
        query = (
            select(Chat.title, CheckinMember.opted_in)
            .join(Member, Member.chat_id == Chat.id)
            .outerjoin(CheckinMember, _same_member())
            .where(
                Member.user_id == user_id,
                Member.status == MemberStatus.IN,
                Member.trust != TrustLevel.PENDING,
            )
            .order_by(Chat.title)
        )
        if chat_id is not None:
            query = query.where(Member.chat_id == chat_id)
        rows = await self.session.execute(query)
        return [(str(title), bool(opted)) for title, opted in rows.all()]

    async def silent(
        self, chat_id: int, silent_since: datetime, now: datetime, skip: set[int], limit: int
    ) -> list[tuple[int, datetime | None, datetime | None, datetime | None]]:
        """Members silent since before `silent_since`, not nudged for this silence yet, not
        paused, not in `skip` (active just now): (user, last seen, nudged at, paused until),
        the longest silent first, at most `limit`."""
        seen = func.coalesce(Member.last_active_at, Member.verified_at, Member.joined_at)
        result = await self.session.execute(
            select(Member.user_id, seen, CheckinMember.nudged_at, CheckinPerson.paused_until)
            .join(User, User.id == Member.user_id)
            .outerjoin(CheckinMember, _same_member())
            .outerjoin(CheckinPerson, CheckinPerson.user_id == Member.user_id)
            .where(
                Member.chat_id == chat_id,
                Member.status == MemberStatus.IN,
                Member.trust != TrustLevel.PENDING,
                seen < silent_since,
                User.is_bot.is_(False),
                User.reachable.is_(True),
                or_(CheckinMember.nudged_at.is_(None), CheckinMember.nudged_at < seen),
                _not_paused(now),
                Member.user_id.not_in(list(skip)) if skip else true(),
            )
            .order_by(seen, Member.user_id)
            .limit(limit)
        )
        return [(int(u), s, n, p) for u, s, n, p in result.all()]
