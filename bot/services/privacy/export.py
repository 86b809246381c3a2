"""/mydata: everything stored about one person, in every chat, as a JSON-ready dict.

Other people never appear by name or id: a buddy pair says which side the person was on, a
warning or an audit line leaves out who gave it, a report filed leaves out whom it was about
(and a report about the person leaves out who filed it). Chats appear by title.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.circles.privacy import export_circles
from bot.services.ideas.privacy import SECTIONS as IDEA_SECTIONS
from bot.services.ideas.privacy import export_ideas
from bot.services.kb import privacy as knowledge
from models.billing import Payment, Subscription
from models.buddies import BuddyPair, BuddyVolunteer
from models.chats import Chat
from models.checkins import CheckinEntry, CheckinMember, CheckinPerson, CheckinRound
from models.ledger import LedgerRow
from models.members import Member
from models.moderation import ModAction, Report, Warning_
from models.thanks import Thanks, ThanksBoard
from models.users import User

Document = dict[str, Any]

SECTIONS = (
    "chats",
    "buddy_pairs",
    "checkin_answers",
    "warnings",
    "moderation",
    "reports_filed",
    "reports_about_you",
    "subscriptions",
    "payments",
    "activity",
    *IDEA_SECTIONS,
)
"""The list sections of the document, in order (the readable summary counts each)."""


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


async def _titles(session: AsyncSession) -> dict[int, str]:
    rows = await session.execute(select(Chat.id, Chat.title))
    return {int(chat_id): str(title) for chat_id, title in rows.all()}


def _profile(user: User) -> Document:
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "language": user.language_code,
        "interests": user.interests,
        "counted_only_in_totals": user.totals_only,
        "last_seen_by_the_bot": _when(user.updated_at),
    }


async def _chats(session: AsyncSession, user_id: int, title: dict[int, str]) -> list[Document]:
    members = (await session.execute(select(Member).where(Member.user_id == user_id))).scalars()
    streaks = {
        row.chat_id: row
        for row in (
            await session.execute(select(CheckinMember).where(CheckinMember.user_id == user_id))
        ).scalars()
    }
    volunteer = set(
        (
            await session.execute(
                select(BuddyVolunteer.chat_id).where(BuddyVolunteer.user_id == user_id)
            )
        ).scalars()
    )
    chats = []
    for member in members:
        streak = streaks.get(member.chat_id)
        chats.append(
            {
                "chat": title.get(member.chat_id, ""),
                "status": member.status,
                "trust": member.trust,
                "joined_at": _when(member.joined_at),
                "verified_at": _when(member.verified_at),
                "last_active_at": _when(member.last_active_at),
                "buddy_volunteer": member.chat_id in volunteer,
                "checkins": None
                if streak is None
                else {
                    "opted_in": streak.opted_in,
                    "streak": streak.streak,
                    "best_streak": streak.best_streak,
                },
            }
        )
    return chats


async def _buddies(session: AsyncSession, user_id: int, title: dict[int, str]) -> list[Document]:
    rows = await session.execute(
        select(BuddyPair)
        .where(or_(BuddyPair.newcomer_id == user_id, BuddyPair.buddy_id == user_id))
        .order_by(BuddyPair.started_at)
    )
    return [
        {
            "chat": title.get(pair.chat_id, ""),
            "you_were": "newcomer" if pair.newcomer_id == user_id else "buddy",
            "active": pair.active,
            "started_at": _when(pair.started_at),
            "ended_at": _when(pair.ended_at),
            "end_reason": pair.end_reason,
        }
        for pair in rows.scalars()
    ]


async def _answers(session: AsyncSession, user_id: int, title: dict[int, str]) -> list[Document]:
    rows = await session.execute(
        select(CheckinEntry, CheckinRound)
        .join(CheckinRound, CheckinRound.id == CheckinEntry.round_id)
        .where(CheckinEntry.user_id == user_id)
        .order_by(CheckinRound.starts_at)
    )
    return [
        {
            "chat": title.get(round_.chat_id, ""),
            "week": round_.week,
            "answers": json.loads(entry.answers or "[]"),
            "share": entry.share,
            "done": entry.done,
        }
        for entry, round_ in rows.all()
    ]


async def _moderation(session: AsyncSession, user_id: int, title: dict[int, str]) -> Document:
    warnings = await session.execute(
        select(Warning_).where(Warning_.user_id == user_id).order_by(Warning_.created_at)
    )
    actions = await session.execute(
        select(ModAction).where(ModAction.target_id == user_id).order_by(ModAction.created_at)
    )
    filed = await session.execute(
        select(Report).where(Report.reporter_id == user_id).order_by(Report.created_at)
    )
    about = await session.execute(
        select(Report).where(Report.target_id == user_id).order_by(Report.created_at)
    )
    return {
        "warnings": [
            {
                "chat": title.get(w.chat_id, ""),
                "reason": w.reason,
                "given_at": _when(w.created_at),
                "expires_at": _when(w.expires_at),
                "active": w.active,
            }
            for w in warnings.scalars()
        ],
        "moderation": [
            {
                "chat": title.get(a.chat_id, ""),
                "action": a.action,
                "reason": a.reason,
                "at": _when(a.created_at),
                "until": _when(a.until),
            }
            for a in actions.scalars()
        ],
        "reports_filed": [
            {"chat": title.get(r.chat_id, ""), "reason": r.reason, "at": _when(r.created_at)}
            for r in filed.scalars()
        ],
        "reports_about_you": [
            {
                "chat": title.get(r.chat_id, ""),
                "your_message": r.text,
                "at": _when(r.created_at),
                "decision": r.handled,
            }
            for r in about.scalars()
        ],
    }


async def _billing(session: AsyncSession, user_id: int, title: dict[int, str]) -> Document:
    subs = await session.execute(select(Subscription).where(Subscription.user_id == user_id))
    payments = await session.execute(
        select(Payment).where(Payment.user_id == user_id).order_by(Payment.paid_at)
    )
    return {
        "subscriptions": [
            {
                "chat": title.get(s.chat_id, ""),
                "status": s.status,
                "plan": s.plan,
                "ends_at": _when(s.ends_at),
                "renewal": s.renewal,
            }
            for s in subs.scalars()
        ],
        "payments": [
            {
                "chat": title.get(p.chat_id, ""),
                "stars": p.amount,
                "plan": p.plan,
                "paid_at": _when(p.paid_at),
                "refunded_at": _when(p.refunded_at),
                "charge_id": p.charge_id,
            }
            for p in payments.scalars()
        ],
    }


async def _activity(session: AsyncSession, user_id: int, title: dict[int, str]) -> list[Document]:
    rows = await session.execute(
        select(LedgerRow.chat_id, LedgerRow.kind, func.sum(LedgerRow.count))
        .where(LedgerRow.user_id == user_id)
        .group_by(LedgerRow.chat_id, LedgerRow.kind)
    )
    per_chat: dict[int, dict[str, int]] = defaultdict(dict)
    for chat_id, kind, count in rows.all():
        per_chat[int(chat_id)][str(kind)] = int(count)
    return [
        {"chat": title.get(chat_id, ""), "counts": dict(sorted(counts.items()))}
        for chat_id, counts in sorted(per_chat.items())
    ]


async def _thanks(session: AsyncSession, user_id: int, title: dict[int, str]) -> Document:
    """How many thanks the person gave and received per chat (nobody else named)."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"given": 0, "received": 0})
    for column, side in ((Thanks.giver_id, "given"), (Thanks.receiver_id, "received")):
        rows = await session.execute(
            select(Thanks.chat_id, func.count()).where(column == user_id).group_by(Thanks.chat_id)
        )
        for chat_id, n in rows.all():
            counts[int(chat_id)][side] = int(n)
    return {
        "on_public_boards": await session.get(ThanksBoard, user_id) is not None,
        "per_chat": [{"chat": title.get(c, ""), **n} for c, n in sorted(counts.items())],
    }


async def collect(session: AsyncSession, user: User, now: datetime) -> Document:
    """The person's document (see the module's docstring)."""
    title = await _titles(session)
    person = await session.get(CheckinPerson, user.id)
    return {
        "generated_at": _when(now),
        "profile": _profile(user),
        "chats": await _chats(session, user.id, title),
        "checkins_paused_until": _when(person.paused_until if person else None),
        "buddy_pairs": await _buddies(session, user.id, title),
        "checkin_answers": await _answers(session, user.id, title),
        **await _moderation(session, user.id, title),
        **await _billing(session, user.id, title),
        "activity": await _activity(session, user.id, title),
        **await export_ideas(session, user.id, title),
        "thanks": await _thanks(session, user.id, title),
        **await knowledge.export(session, user.id, title),
        **await export_circles(session, user.id, title),
    }
