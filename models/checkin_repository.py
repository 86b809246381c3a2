"""The check-in repository: rounds, entries, opt-ins and who gets what (queries only; the
per-person queries are in models/checkin_audience.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.chats import Chat, ChatSetting
from models.checkin_audience import CheckinAudience
from models.checkins import (
    CheckinEntry,
    CheckinMember,
    CheckinPerson,
    CheckinQuestions,
    CheckinRound,
    EntryState,
    RoundStatus,
)
from models.upsert import insert_ignore

EMPTY_ANSWERS = "[]"
"""An entry's answers when there are none: not answered yet, or deleted after the round."""


def _closed_with_answers(before: datetime) -> list[ColumnElement[bool]]:
    return [
        CheckinRound.status == RoundStatus.CLOSED,
        CheckinRound.closes_at < before,
        CheckinEntry.answers != EMPTY_ANSWERS,
    ]


class CheckinRepository(CheckinAudience):
    """Rounds, entries, opt-ins and who gets what, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def round(self, round_id: int) -> CheckinRound | None:
        return await self.session.get(CheckinRound, round_id)

    async def by_week(self, chat_id: int, week: str) -> CheckinRound | None:
        result = await self.session.execute(
            select(CheckinRound).where(CheckinRound.chat_id == chat_id, CheckinRound.week == week)
        )
        return result.scalar_one_or_none()

    async def open_round(self, chat_id: int) -> CheckinRound | None:
        result = await self.session.execute(
            select(CheckinRound)
            .where(CheckinRound.chat_id == chat_id, CheckinRound.status == RoundStatus.OPEN)
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def with_status(self, status: RoundStatus) -> list[CheckinRound]:
        result = await self.session.execute(
            select(CheckinRound).where(CheckinRound.status == status).order_by(CheckinRound.id)
        )
        return list(result.scalars())

    async def entry(self, round_id: int, user_id: int) -> CheckinEntry | None:
        return await self.session.get(CheckinEntry, (round_id, user_id))

    async def entries(self, round_id: int) -> list[CheckinEntry]:
        result = await self.session.execute(
            select(CheckinEntry)
            .where(CheckinEntry.round_id == round_id)
            .order_by(CheckinEntry.updated_at, CheckinEntry.user_id)
        )
        return list(result.scalars())

    async def member(self, chat_id: int, user_id: int) -> CheckinMember | None:
        return await self.session.get(CheckinMember, (chat_id, user_id))

    async def ensure_member(self, chat_id: int, user_id: int) -> CheckinMember:
        row = await self.member(chat_id, user_id)
        if row is None:
            await insert_ignore(
                self.session,
                CheckinMember,
                {
                    "chat_id": chat_id,
                    "user_id": user_id,
                    "opted_in": False,
                    "offered": False,
                    "streak": 0,
                    "best_streak": 0,
                },
                key=["chat_id", "user_id"],
            )
            row = await self.member(chat_id, user_id)
        assert row is not None
        return row

    async def person(self, user_id: int) -> CheckinPerson:
        row = await self.session.get(CheckinPerson, user_id)
        if row is None:
            await insert_ignore(self.session, CheckinPerson, {"user_id": user_id}, key=["user_id"])
            row = await self.session.get(CheckinPerson, user_id)
        assert row is not None
        return row

    async def existing_person(self, user_id: int) -> CheckinPerson | None:
        return await self.session.get(CheckinPerson, user_id)

    async def opted_in(self, chat_id: int) -> list[int]:
        result = await self.session.execute(
            select(CheckinMember.user_id).where(
                CheckinMember.chat_id == chat_id, CheckinMember.opted_in.is_(True)
            )
        )
        return list(result.scalars())

    async def questions(self, chat_id: int) -> str | None:
        row = await self.session.get(CheckinQuestions, chat_id)
        return row.questions if row else None

    async def set_questions(self, chat_id: int, raw: str | None) -> None:
        """Store a chat's own questions (JSON), or drop them (None: back to the defaults)."""
        await self.session.execute(
            delete(CheckinQuestions).where(CheckinQuestions.chat_id == chat_id)
        )
        if raw is not None:
            self.session.add(CheckinQuestions(chat_id=chat_id, questions=raw))

    async def rounds(self, *conditions: ColumnElement[bool]) -> list[CheckinRound]:
        result = await self.session.execute(select(CheckinRound).where(*conditions))
        return list(result.scalars())

    async def due_to_start(self, now: datetime) -> list[CheckinRound]:
        return await self.rounds(
            CheckinRound.status == RoundStatus.PLANNED, CheckinRound.starts_at <= now
        )

    async def due_to_remind(self, now: datetime) -> list[CheckinRound]:
        return await self.rounds(
            CheckinRound.status == RoundStatus.OPEN,
            CheckinRound.reminded.is_(False),
            CheckinRound.remind_at <= now,
            CheckinRound.closes_at > now,
        )

    async def due_to_close(self, now: datetime) -> list[CheckinRound]:
        return await self.rounds(
            CheckinRound.status == RoundStatus.OPEN, CheckinRound.closes_at <= now
        )

    async def move(self, round_id: int, old: RoundStatus, new: RoundStatus) -> bool:
        """The claim: change the status only if it still is `old`."""
        result = await self.session.execute(
            update(CheckinRound)
            .where(CheckinRound.id == round_id, CheckinRound.status == old)
            .values(status=new)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def claim_reminder(self, round_id: int) -> bool:
        """Mark the round reminded, only if it was not yet: True for the one who did."""
        result = await self.session.execute(
            update(CheckinRound)
            .where(CheckinRound.id == round_id, CheckinRound.reminded.is_(False))
            .values(reminded=True)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def active_chats(self) -> list[int]:
        """The chats the bot is (still) in: where members may be nudged."""
        result = await self.session.execute(select(Chat.id).where(Chat.active.is_(True)))
        return list(result.scalars())

    async def enabled_chats(self) -> set[int]:
        """Active chats whose `checkin` setting is on (a weekly slot)."""
        result = await self.session.execute(
            select(ChatSetting.chat_id)
            .join(Chat, Chat.id == ChatSetting.chat_id)
            .where(
                ChatSetting.key == "checkin",
                ChatSetting.value != "off",
                Chat.active.is_(True),
            )
        )
        return set(result.scalars())

    async def planned_ahead(self, now: datetime) -> list[CheckinRound]:
        """Rounds planned (not started by hand) for a moment after `now`."""
        return await self.rounds(
            CheckinRound.status == RoundStatus.PLANNED,
            CheckinRound.manual.is_(False),
            CheckinRound.starts_at > now,
        )

    async def any_before(self, chat_id: int, moment: datetime) -> bool:
        """Whether the chat had a round starting before `moment` (check-ins ran before)."""
        result = await self.session.execute(
            select(func.count())
            .select_from(CheckinRound)
            .where(CheckinRound.chat_id == chat_id, CheckinRound.starts_at < moment)
        )
        return bool(int(result.scalar_one()))

    async def drop_planned_except(
        self, chat_id: int, now: datetime, wanted: list[datetime]
    ) -> None:
        """Delete the chat's planned future rounds that start at none of `wanted`."""
        await self.session.execute(
            delete(CheckinRound).where(
                CheckinRound.chat_id == chat_id,
                CheckinRound.status == RoundStatus.PLANNED,
                CheckinRound.manual.is_(False),
                CheckinRound.starts_at > now,
                CheckinRound.starts_at.not_in(wanted) if wanted else CheckinRound.id.is_not(None),
            )
        )

    async def chats_with_answers_closed_before(self, before: datetime) -> list[int]:
        """Chats with answers still kept in a round that closed before `before`."""
        result = await self.session.execute(
            select(CheckinRound.chat_id)
            .join(CheckinEntry, CheckinEntry.round_id == CheckinRound.id)
            .where(*_closed_with_answers(before))
            .distinct()
            .order_by(CheckinRound.chat_id)
        )
        return [int(chat_id) for chat_id in result.scalars()]

    async def clear_answers(self, chat_id: int, before: datetime) -> int:
        """Delete the answers of the chat's rounds closed before `before`; whether each
        person answered (`done`), their sharing choice and their streaks stay. Returns how
        many entries lost their answers."""
        rounds = select(CheckinRound.id).where(
            CheckinRound.chat_id == chat_id,
            CheckinRound.status == RoundStatus.CLOSED,
            CheckinRound.closes_at < before,
        )
        result = await self.session.execute(
            update(CheckinEntry)
            .where(CheckinEntry.round_id.in_(rounds), CheckinEntry.answers != EMPTY_ANSWERS)
            .values(answers=EMPTY_ANSWERS)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def add_round(self, values: dict[str, object]) -> int:
        """A new round (started by hand); its id."""
        row = CheckinRound(**values)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def add_planned(self, values: dict[str, object]) -> None:
        """A planned round, unless the chat has one for that week already."""
        await insert_ignore(self.session, CheckinRound, values, key=["chat_id", "week"])

    async def add_entries(self, entries: list[dict[str, object]]) -> None:
        if entries:
            await self.session.execute(insert(CheckinEntry), entries)

    async def ensure_entry(self, round_id: int, user_id: int) -> CheckinEntry:
        """The person's entry in the round, added (asked, nothing answered) if missing."""
        await insert_ignore(
            self.session,
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
        entry = await self.entry(round_id, user_id)
        assert entry is not None
        return entry

    async def streaks(self, chat_id: int) -> dict[int, int]:
        """Current check-in streak (weeks, > 0) -> how many people in the chat have it."""
        query = (
            select(CheckinMember.streak, func.count())
            .where(CheckinMember.chat_id == chat_id, CheckinMember.streak > 0)
            .group_by(CheckinMember.streak)
        )
        return {int(s): int(n) for s, n in (await self.session.execute(query)).all()}
