"""Moderation: the audit log, warnings, stop words and reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.upsert import insert_ignore
from models.users import User

SHOWN = "shown"
"""The audit action recording that a member's private words were shown to an admin."""


class ModAction(Base):
    """One moderation action, automatic (actor_id is None: the bot) or by an admin."""

    __tablename__ = "mod_actions"
    __table_args__ = (Index("ix_mod_actions_chat_created", "chat_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    target_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Warning_(Base):
    """A warning; it counts towards `warn_limit` until it expires, is removed or is spent."""

    __tablename__ = "warnings"
    __table_args__ = (Index("ix_warnings_chat_user", "chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StopWord(Base):
    __tablename__ = "stop_words"
    __table_args__ = (UniqueConstraint("chat_id", "phrase"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    phrase: Mapped[str] = mapped_column(String(200))


class Report(Base):
    """A member's report of a message; one per reporter per message."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("chat_id", "message_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    reporter_id: Mapped[int] = mapped_column(BigInteger, index=True)
    target_id: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # when an admin resolved it: the reported text is deleted `reports_keep` after this
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AutoAction(Base):
    """An automatic action taken on one message (a stop-word warning, a flood mute, ...):
    its key makes a redelivered update, after a crash or a restart, do it only once."""

    __tablename__ = "auto_actions"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ModerationRepository:
    """Reads and writes moderation rows inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def log(self, action: ModAction) -> ModAction:
        self.session.add(action)
        await self.session.flush()
        return action

    async def recent_actions(self, chat_id: int, limit: int) -> list[ModAction]:
        """The chat's latest actions, without the records of private words shown to admins
        (those would tell the chat who asked for support)."""
        result = await self.session.execute(
            select(ModAction)
            .where(ModAction.chat_id == chat_id, ModAction.action != SHOWN)
            .order_by(ModAction.created_at.desc(), ModAction.id.desc())
            .limit(limit)
        )
        return list(result.scalars())

    async def count_actions(
        self, chat_id: int, target_id: int, action: str, since: datetime
    ) -> int:
        result = await self.session.execute(
            select(func.count())
            .select_from(ModAction)
            .where(
                ModAction.chat_id == chat_id,
                ModAction.target_id == target_id,
                ModAction.action == action,
                ModAction.created_at >= since,
            )
        )
        return int(result.scalar_one())

    async def latest_restriction(self, chat_id: int, user_id: int) -> ModAction | None:
        """The newest mute, flood mute or unmute of a person in a chat."""
        result = await self.session.execute(
            select(ModAction)
            .where(
                ModAction.chat_id == chat_id,
                ModAction.target_id == user_id,
                ModAction.action.in_(("mute", "flood_mute", "unmute")),
            )
            .order_by(ModAction.created_at.desc(), ModAction.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def active_warnings(self, chat_id: int, user_id: int, now: datetime) -> list[Warning_]:
        result = await self.session.execute(
            select(Warning_)
            .where(
                Warning_.chat_id == chat_id,
                Warning_.user_id == user_id,
                Warning_.active.is_(True),
                Warning_.expires_at > now,
            )
            .order_by(Warning_.created_at, Warning_.id)
        )
        return list(result.scalars())

    async def add_warning(self, warning: Warning_) -> None:
        self.session.add(warning)
        await self.session.flush()

    async def spend_warnings(self, ids: list[int]) -> None:
        """Mark warnings as used up (their limit was reached and acted on)."""
        await self.session.execute(
            update(Warning_)
            .where(Warning_.id.in_(ids))
            .values(active=False)
            .execution_options(synchronize_session=False)
        )

    async def add_stop_word(self, chat_id: int, phrase: str) -> None:
        """Raises IntegrityError (at flush) when the chat has the phrase already."""
        self.session.add(StopWord(chat_id=chat_id, phrase=phrase))
        await self.session.flush()

    async def remove_stop_word(self, chat_id: int, phrase: str) -> bool:
        result = await self.session.execute(
            delete(StopWord)
            .where(StopWord.chat_id == chat_id, StopWord.phrase == phrase)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def add_report(self, report: Report) -> int:
        """Store a report; raises IntegrityError (at flush) on a second one by the same
        reporter about the same message."""
        self.session.add(report)
        await self.session.flush()
        return report.id

    async def report(self, report_id: int) -> Report | None:
        return await self.session.get(Report, report_id)

    async def claim_report(self, report_id: int, choice: str, now: datetime) -> bool:
        """Mark an unhandled report as handled by `choice`; False if someone was first."""
        result = await self.session.execute(
            update(Report)
            .where(Report.id == report_id, Report.handled.is_(None))
            .values(handled=choice, handled_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def unclaim_report(self, report_id: int) -> None:
        await self.session.execute(
            update(Report)
            .where(Report.id == report_id)
            .values(handled=None, handled_at=None)
            .execution_options(synchronize_session=False)
        )

    async def log_shown(
        self,
        chat_id: int,
        admin_ids: Sequence[int | None],
        member_id: int,
        what: str,
        now: datetime,
    ) -> None:
        """Record that a member's private words (`what`: a support request, a report's text)
        were shown to each of `admin_ids` (None: a log chat, whoever reads it)."""
        for admin_id in admin_ids:
            self.session.add(
                ModAction(
                    chat_id=chat_id,
                    actor_id=admin_id,
                    target_id=member_id,
                    action=SHOWN,
                    reason=what,
                    created_at=now,
                )
            )
        await self.session.flush()

    async def names(self, ids: set[int]) -> dict[int, str]:
        """Full names of the people among `ids` the bot knows (for the audit log)."""
        if not ids:
            return {}
        rows = await self.session.execute(select(User).where(User.id.in_(ids)))
        return {user.id: user.full_name for user in rows.scalars()}

    async def stop_words(self, chat_id: int) -> list[str]:
        result = await self.session.execute(
            select(StopWord.phrase).where(StopWord.chat_id == chat_id).order_by(StopWord.phrase)
        )
        return list(result.scalars())

    async def chats_with_reports_handled_before(self, before: datetime) -> list[int]:
        """Chats holding the text of a report resolved before `before`."""
        result = await self.session.execute(
            select(Report.chat_id)
            .where(Report.handled_at < before, Report.text != "")
            .distinct()
            .order_by(Report.chat_id)
        )
        return [int(chat_id) for chat_id in result.scalars()]

    async def clear_report_texts(self, chat_id: int, before: datetime) -> int:
        """Delete the reported text of the chat's reports resolved before `before` (who
        reported whom, the reason and the decision stay); how many reports lost their text."""
        result = await self.session.execute(
            update(Report)
            .where(Report.chat_id == chat_id, Report.handled_at < before, Report.text != "")
            .values(text="")
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def reports_since(self, chat_id: int, reporter_id: int, since: datetime) -> int:
        result = await self.session.execute(
            select(func.count())
            .select_from(Report)
            .where(
                Report.chat_id == chat_id,
                Report.reporter_id == reporter_id,
                Report.created_at >= since,
            )
        )
        return int(result.scalar_one())

    async def claim_auto_action(
        self, chat_id: int, message_id: int, kind: str, now: datetime
    ) -> bool:
        """True the first time an automatic action of `kind` is taken on this message."""
        return await insert_ignore(
            self.session,
            AutoAction,
            {"chat_id": chat_id, "message_id": message_id, "kind": kind, "created_at": now},
            key=["chat_id", "message_id", "kind"],
        )

    async def prune_auto_actions(self, before: datetime) -> None:
        """Forget keys older than any update Telegram could still redeliver."""
        await self.session.execute(
            delete(AutoAction)
            .where(AutoAction.created_at < before)
            .execution_options(synchronize_session=False)
        )
