"""/forget: erase a person from every chat in one transaction, as the registry says.

Deleted: profile and interests, memberships, buddy history, check-in answers, streaks and
pause, activity counters, thanks given and received, buddy follow-ups, reports the person
filed (and handled reports about them), expired warnings, queued or sent private messages to
them and messages about them. Anonymised (id replaced by FORMER_MEMBER): the audit log and
warnings they gave as an admin. Kept, and said so: active warnings, active bans and mutes,
pending reports about them, subscriptions and payments (refunds and support), a join request
or rules confirmation still running (its membership row), and deadlines still to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.buddies.service import FOLLOWUP
from bot.services.circles.privacy import forget_circles
from bot.services.ideas.privacy import erase_ideas
from bot.services.kb import privacy as knowledge
from bot.services.retention import PURGE_LEFT
from models.base import Base
from models.billing import Payment, Subscription
from models.buddies import BuddyPair, BuddyVolunteer, BuddyWaiting
from models.checkins import CheckinEntry, CheckinMember, CheckinPerson
from models.deadlines import Deadline
from models.ledger import LedgerRow
from models.members import Member, MemberStatus, TrustLevel
from models.moderation import ModAction, Report, Warning_
from models.outbox import OutboxMessage
from models.thanks import Thanks, ThanksBoard
from models.users import FORMER_MEMBER, User

RESTRICTIONS = ("ban", "mute", "flood_mute")
LIFTS = {"ban": "unban", "mute": "unmute", "flood_mute": "unmute"}


@dataclass(frozen=True)
class Kept:
    """What /forget left in place on purpose, counted for the answer."""

    warnings: int = 0
    restrictions: int = 0  # active bans and mutes in the audit log
    payments: int = 0
    subscriptions: int = 0
    reports: int = 0  # reports about the person the admins have not decided yet
    joining: int = 0  # a join request or a rules confirmation still running


@dataclass(frozen=True)
class Erased:
    chats: list[int]  # the chats the person had a membership in
    deleted: int  # rows deleted
    kept: Kept
    orphans: list[tuple[int, int]]  # (chat, newcomer) whose active buddy the person was


async def _count(session: AsyncSession, *where: ColumnElement[bool], model: type[Any]) -> int:
    found = await session.execute(select(func.count()).select_from(model).where(*where))
    return int(found.scalar_one())


async def _delete(session: AsyncSession, model: type[Any], *where: ColumnElement[bool]) -> int:
    result = await session.execute(
        delete(model).where(*where).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _anonymise(
    session: AsyncSession, model: type[Any], column: str, user_id: int, *also: ColumnElement[bool]
) -> None:
    """Others' rows that name the person in `column` name "a former member" instead."""
    await session.execute(
        update(model)
        .where(getattr(model, column) == user_id, *also)
        .values({column: FORMER_MEMBER})
        .execution_options(synchronize_session=False)
    )


def about(key: str, user_id: int) -> bool:
    """Whether an outbox key names the person as the one the message is about (see
    bot/services/checkins/keys.py and bot/services/drift.py): the invite, reminder and
    support request of their check-in, a nudge, a word to their buddy."""
    parts = key.split(":")
    target = str(user_id)
    if parts[0] == "ci":
        return len(parts) > 3 and parts[2] in ("p", "r", "h") and parts[3] == target
    if parts[0] in ("nudge", "drift"):
        return len(parts) > 2 and parts[2] == target
    return False


async def _outbox(session: AsyncSession, user_id: int) -> int:
    """Messages to the person, and messages to others about them (support requests carry
    their words)."""
    gone = await _delete(session, OutboxMessage, OutboxMessage.chat_id == user_id)
    rows = await session.execute(
        select(OutboxMessage.id, OutboxMessage.key).where(OutboxMessage.key.like(f"%:{user_id}%"))
    )
    ids = [row_id for row_id, key in rows.all() if about(key, user_id)]
    if ids:
        gone += await _delete(session, OutboxMessage, OutboxMessage.id.in_(ids))
    return gone


async def _active_restrictions(session: AsyncSession, user_id: int, now: datetime) -> set[int]:
    """Ids of audit rows that are a ban or mute still in force: the newest restriction of its
    kind in the chat, not lifted since, and (for a mute) not over."""
    rows = await session.execute(
        select(ModAction)
        .where(ModAction.target_id == user_id)
        .order_by(ModAction.created_at, ModAction.id)
    )
    latest: dict[tuple[int, str], ModAction | None] = {}
    for action in rows.scalars():
        if action.action in RESTRICTIONS:
            latest[(action.chat_id, LIFTS[action.action])] = action
        elif action.action in LIFTS.values():
            latest[(action.chat_id, action.action)] = None
    return {
        action.id
        for action in latest.values()
        if action is not None and (action.until is None or action.until > now)
    }


async def _moderation(session: AsyncSession, user_id: int, now: datetime) -> tuple[int, Kept]:
    in_force = and_(Warning_.active.is_(True), Warning_.expires_at > now)
    mine = Warning_.user_id == user_id
    warnings = await _count(session, mine, in_force, model=Warning_)
    gone = await _delete(session, Warning_, mine, not_(in_force))
    await _anonymise(session, Warning_, "actor_id", user_id)
    keep = await _active_restrictions(session, user_id, now)
    await _anonymise(session, ModAction, "actor_id", user_id)
    await _anonymise(session, ModAction, "target_id", user_id, ModAction.id.not_in(keep))
    gone += await _delete(session, Report, Report.reporter_id == user_id)
    pending = await _count(
        session, Report.target_id == user_id, Report.handled.is_(None), model=Report
    )
    gone += await _delete(session, Report, Report.target_id == user_id, Report.handled.is_not(None))
    return gone, Kept(warnings=warnings, restrictions=len(keep), reports=pending)


async def _newcomers_of_buddy(session: AsyncSession, user_id: int) -> list[tuple[int, int]]:
    """(chat, newcomer) of each newcomer whose active buddy the person is: they get another."""
    found = await session.execute(
        select(BuddyPair.chat_id, BuddyPair.newcomer_id).where(
            BuddyPair.buddy_id == user_id, BuddyPair.active.is_(True)
        )
    )
    return [(int(chat_id), int(newcomer_id)) for chat_id, newcomer_id in found.all()]


def _rows_of(
    user_id: int, members: ColumnElement[bool]
) -> tuple[tuple[type[Base], ColumnElement[bool]], ...]:
    """Each table's rows that are the person's and simply go (`members`: their memberships
    that are not still joining)."""
    return (
        (Member, members),
        (CheckinEntry, CheckinEntry.user_id == user_id),
        (CheckinMember, CheckinMember.user_id == user_id),
        (CheckinPerson, CheckinPerson.user_id == user_id),
        (BuddyPair, or_(BuddyPair.newcomer_id == user_id, BuddyPair.buddy_id == user_id)),
        (BuddyVolunteer, BuddyVolunteer.user_id == user_id),
        (BuddyWaiting, BuddyWaiting.newcomer_id == user_id),
        (LedgerRow, LedgerRow.user_id == user_id),
        (Thanks, or_(Thanks.giver_id == user_id, Thanks.receiver_id == user_id)),
        (ThanksBoard, ThanksBoard.user_id == user_id),
        # a buddy follow-up, and the retention purge of a chat they left (done here now)
        (Deadline, and_(Deadline.user_id == user_id, Deadline.kind.in_((FOLLOWUP, PURGE_LEFT)))),
        (User, User.id == user_id),
    )


async def erase(session: AsyncSession, user_id: int, now: datetime) -> Erased:
    """Erase the person inside the caller's transaction (see the module's docstring)."""
    # a join request or a rules confirmation still running keeps its row until it ends:
    # without it the person would stay restricted (or the request pending) for good
    joining = or_(
        Member.status == MemberStatus.REQUESTED,
        and_(Member.status == MemberStatus.IN, Member.trust == TrustLevel.PENDING),
    )
    mine = Member.user_id == user_id
    chats = list(
        (await session.execute(select(Member.chat_id).where(mine, not_(joining)))).scalars()
    )
    in_progress = await _count(session, mine, joining, model=Member)
    orphans = await _newcomers_of_buddy(session, user_id)
    gone, kept = await _moderation(session, user_id, now)
    await session.execute(
        update(BuddyVolunteer)
        .where(BuddyVolunteer.added_by == user_id)
        .values(added_by=None)
        .execution_options(synchronize_session=False)
    )
    for model, where in _rows_of(user_id, and_(mine, not_(joining))):
        gone += await _delete(session, model, where)
    gone += await _outbox(session, user_id)
    gone += await erase_ideas(session, user_id)  # votes deleted, ideas anonymised
    gone += await knowledge.forget(session, user_id)  # named stories go, anonymous ones stay
    gone += await forget_circles(session, user_id)
    kept = Kept(
        warnings=kept.warnings,
        restrictions=kept.restrictions,
        reports=kept.reports,
        joining=in_progress,
        payments=await _count(session, Payment.user_id == user_id, model=Payment),
        subscriptions=await _count(session, Subscription.user_id == user_id, model=Subscription),
    )
    return Erased(chats, gone, kept, orphans)
