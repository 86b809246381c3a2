"""Answers too long for one Telegram message are split between lines, never cut (issue 11,
item 17): the fake Bot API refuses more than 4096 UTF-16 units and unbalanced HTML."""

from __future__ import annotations

from bot.services.members import remember_person
from bot.services.people import Person
from models.buddies import BuddyRepository
from models.chats import ChatRepository
from models.members import Member, MemberStatus, TrustLevel
from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, Harness

LONG_NAME = "Alexandra-Konstantina Maximiliana-Evangelina"  # 44 characters
LONG_TITLE = "Neighbourhood mutual help & gardening circle " * 2  # ~90 characters
CHATS = 50


def texts(h: Harness, chat_id: int) -> list[str]:
    return [str(m.get("text", "")) for m in h.fake.sent_messages(chat_id)]


async def ask(h: Harness, chat_id: int, user_id: int, command: str) -> list[str]:
    """Send a command; every message the bot answered with."""
    before = len(h.fake.sent_messages(chat_id))
    h.fake.advance(2)
    h.fake.send_message(chat_id, user_id, command)
    await h.settle()
    return texts(h, chat_id)[before:]


async def member_of_many_chats(h: Harness, user_id: int) -> None:
    now = h.clock.now()
    async with h.app.db.transaction() as session:
        chats = ChatRepository(session)
        for n in range(CHATS):
            chat_id = -1002000000000 - n
            await chats.ensure(chat_id, f"{n:02d} {LONG_TITLE}", "supergroup", now)
            session.add(
                Member(
                    chat_id=chat_id,
                    user_id=user_id,
                    status=MemberStatus.IN,
                    trust=TrustLevel.MEMBER,
                    trust_pinned=False,
                    level_since=now,
                    joined_at=now,
                    source="join",
                )
            )


def every_chat_listed(answers: list[str]) -> None:
    joined = "\n".join(answers)
    assert len(answers) >= 2  # split, not refused
    for n in range(CHATS):
        assert f"{n:02d} Neighbourhood" in joined


async def test_start_in_private_for_someone_in_many_chats_is_split(harness: Harness) -> None:
    await ask(harness, MEMBER, MEMBER, "/start")
    await member_of_many_chats(harness, MEMBER)
    every_chat_listed(await ask(harness, MEMBER, MEMBER, "/start"))


async def test_me_in_private_for_someone_in_many_chats_is_split(harness: Harness) -> None:
    await ask(harness, MEMBER, MEMBER, "/start")
    await member_of_many_chats(harness, MEMBER)
    every_chat_listed(await ask(harness, MEMBER, MEMBER, "/me"))


async def test_checkins_in_private_for_someone_in_many_chats_is_split(harness: Harness) -> None:
    await ask(harness, MEMBER, MEMBER, "/start")
    await member_of_many_chats(harness, MEMBER)
    answers = await ask(harness, MEMBER, MEMBER, "/checkins")
    every_chat_listed(answers)
    assert "/checkins on" in answers[-1]


async def test_checkins_on_in_private_for_someone_in_many_chats_is_split(harness: Harness) -> None:
    await ask(harness, MEMBER, MEMBER, "/start")
    await member_of_many_chats(harness, MEMBER)
    answers = await ask(harness, MEMBER, MEMBER, "/checkins on")
    every_chat_listed(answers)
    assert all(answer.startswith("Check-ins on for:") for answer in answers)


async def test_buddies_with_a_long_waiting_list_is_split_between_names(harness: Harness) -> None:
    now = harness.clock.now()
    waiting = range(10_000, 10_080)
    async with harness.app.db.transaction() as session:
        buddies = BuddyRepository(session)
        for user_id in waiting:
            await remember_person(session, Person(user_id, f"{LONG_NAME} {user_id}"), now)
            await buddies.wait(GROUP, user_id, now)
    answers = await ask(harness, GROUP, ADMIN, "/buddies")
    joined = "\n".join(answers)
    assert len(answers) >= 2
    assert all(f"{LONG_NAME} {user_id}" in joined for user_id in waiting)
