"""A group upgraded to a supergroup: every row keyed by the chat moves to the new id."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Column, func, select

from bot.db import Database
from bot.services.moderation.audit import LOG_CHAT_KEY
from bot.services.settings import SettingsService
from bot.services.supergroups import ChatUpgrades
from models import Base
from models.base import UTCDateTime
from models.chat_moves import CHATS, chat_columns
from models.chats import Chat, ChatRepository, ChatSetting
from models.members import Member

OLD = -4_000_001
NEW = -1_004_000_001
ELSEWHERE = -1_009_000_009  # a chat that logs into the upgraded one
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _value(column: Column[Any], chat_id: int) -> Any:
    """Any valid value: the chat's id where a chat is meant, row 1 for other references."""
    if column in set(chat_columns()) or column is CHATS.c.id:
        return chat_id
    if isinstance(column.type, UTCDateTime):
        return NOW
    samples = {int: 1, str: "x", bool: False, bytes: b"x", float: 1.0, date: NOW.date()}
    return samples[column.type.python_type]


async def _fill_every_table(db: Database, chat_id: int) -> None:
    """One row in every table, parents first, each chat column holding `chat_id`."""
    async with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            row = {c.name: _value(c, chat_id) for c in table.columns}
            await session.execute(table.insert().values(row))


async def _count(db: Database, column: Column[Any], chat_id: int) -> int:
    async with db.transaction() as session:
        query = select(func.count()).select_from(column.table).where(column == chat_id)
        return int((await session.execute(query)).scalar_one())


def test_every_column_holding_a_chat_is_known() -> None:
    """A future column named after chats must be a chat id column (moved) or listed here."""
    moved = {f"{c.table.name}.{c.name}" for c in chat_columns()}
    assert {
        "chat_settings.chat_id",
        "members.chat_id",
        "welcome_posts.chat_id",
        "buddy_pairs.chat_id",
        "buddy_volunteers.chat_id",
        "buddy_waiting.chat_id",
        "warnings.chat_id",
        "mod_actions.chat_id",
        "stop_words.chat_id",
        "reports.chat_id",
        "checkin_rounds.chat_id",
        "checkin_members.chat_id",
        "checkin_questions.chat_id",
        "subscriptions.chat_id",
        "payments.chat_id",
        "deadlines.chat_id",
        "outbox.chat_id",
    } <= moved
    named = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if "chat" in column.name
    }
    assert named <= moved, "a column names a chat but would not move with an upgrade"


async def test_upgrade_moves_every_table_with_a_chat_id(db: Database) -> None:
    await _fill_every_table(db, OLD)
    forgotten: list[int] = []

    upgrades = ChatUpgrades(db, before=_nothing, forget=[forgotten.append])
    assert await upgrades.upgraded(OLD, NEW, "Circle")

    for column in chat_columns():
        where = f"{column.table.name}.{column.name}"
        assert await _count(db, column, OLD) == 0, f"{where} still has the old id"
        assert await _count(db, column, NEW) >= 1, f"{where} lost its row"
    assert await _count(db, CHATS.c.id, OLD) == 0
    async with db.transaction() as session:
        chat = await session.get(Chat, NEW)
    assert chat is not None and chat.type == "supergroup" and chat.title == "Circle"
    assert set(forgotten) == {OLD, NEW}  # the caches of both ids are dropped


async def test_upgrade_merges_into_rows_the_new_chat_already_has_and_runs_once(
    db: Database,
) -> None:
    settings = SettingsService(db, "en", "UTC")
    async with db.transaction() as session:
        chats = ChatRepository(session)
        for chat_id in (OLD, NEW, ELSEWHERE):
            await chats.register(chat_id, "Circle", "group", NOW)
        await chats.put_setting(OLD, "verify_timeout", "10m")
        await chats.put_setting(OLD, "probation", "14d")
        await chats.put_setting(OLD, LOG_CHAT_KEY, str(ELSEWHERE))
        await chats.put_setting(NEW, "verify_timeout", "2m")  # set there meanwhile: it wins
        await chats.put_setting(ELSEWHERE, LOG_CHAT_KEY, str(OLD))
        for chat_id, user_id in ((OLD, 7), (OLD, 8), (NEW, 8)):
            session.add(Member(chat_id=chat_id, user_id=user_id, level_since=NOW, joined_at=NOW))
        (await session.get(Chat, OLD)).rules = "Be kind."  # type: ignore[union-attr]
    assert (await settings.get(NEW)).verify_timeout.total_seconds() == 120  # cached now
    upgrades = ChatUpgrades(db, before=_nothing, forget=[settings.forget])

    assert await upgrades.upgraded(OLD, NEW, "Circle")
    assert not await upgrades.upgraded(OLD, NEW, "Circle")  # the second service message

    config = await settings.get(NEW)
    assert config.verify_timeout.total_seconds() == 120
    assert config.probation.days == 14
    async with db.transaction() as session:
        stored = await ChatRepository(session).settings(NEW)
        elsewhere = await ChatRepository(session).settings(ELSEWHERE)
        members = (await session.execute(select(Member.user_id, Member.chat_id))).all()
        chat = await session.get(Chat, NEW)
        old_settings = await session.execute(select(ChatSetting).where(ChatSetting.chat_id == OLD))
    assert stored[LOG_CHAT_KEY] == str(ELSEWHERE)  # the chat's own log chat moved
    assert elsewhere[LOG_CHAT_KEY] == str(NEW)  # and a chat logging into it follows it
    assert sorted(members) == [(7, NEW), (8, NEW)]
    assert chat is not None and chat.rules == "Be kind."
    assert not old_settings.all()


async def _nothing() -> None:
    return None


async def test_a_member_who_wrote_in_the_supergroup_first_keeps_their_trust_level(
    db: Database,
) -> None:
    """Someone who writes in the new supergroup before the move gets a placeholder row
    there; the move must keep their real row (a newcomer stays a newcomer, a pin stays)."""
    async with db.transaction() as session:
        chats = ChatRepository(session)
        for chat_id in (OLD, NEW):
            await chats.register(chat_id, "Circle", "group", NOW)
        for user_id, trust, pinned in ((7, "newcomer", False), (8, "veteran", True)):
            session.add(
                Member(
                    chat_id=OLD,
                    user_id=user_id,
                    trust=trust,
                    trust_pinned=pinned,
                    source="join",
                    level_since=NOW,
                    joined_at=NOW,
                )
            )
            session.add(  # what the gate writes for an unknown sender
                Member(
                    chat_id=NEW,
                    user_id=user_id,
                    trust="member",
                    source="seen",
                    level_since=NOW,
                    joined_at=NOW,
                )
            )
        session.add(  # someone only the supergroup knows keeps their row
            Member(chat_id=NEW, user_id=9, trust="member", level_since=NOW, joined_at=NOW)
        )
    upgrades = ChatUpgrades(db, before=_nothing, forget=[])
    assert await upgrades.upgraded(OLD, NEW, "Circle")
    async with db.transaction() as session:
        rows = (
            await session.execute(
                select(Member.user_id, Member.trust, Member.trust_pinned).where(
                    Member.chat_id == NEW
                )
            )
        ).all()
    assert sorted(rows) == [(7, "newcomer", False), (8, "veteran", True), (9, "member", False)]
