"""What thanks lead to later, through the production dispatcher, its scheduled jobs, the
outbox and the fake Bot API: the receiver's one private note a day (links, quiet hours),
the admins' weekly farming note (once, restarts included), a newcomer promoted early, the
check-in digest's count, /forget and the 90-day retention."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.ledger import LedgerKind
from bot.services.thanks import notes
from models.members import Member, TrustLevel
from tests.dispatcher.conftest import ADMIN, BOSS, GROUP, MEMBER, NEWCOMER, OWNER, Harness, restart
from tests.dispatcher.test_buddies import verify_newcomer
from tests.dispatcher.test_checkins import answer_all, opt_in, setup_chat
from tests.dispatcher.test_checkins import run as checkin_tick
from tests.dispatcher.test_ledger import flush_job, join_and_verify, ledger_rows, totals
from tests.dispatcher.test_moderation import command
from tests.dispatcher.test_thanks import private, thank, thanks_rows

WEDNESDAY_NOON = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 12:00 in Moscow, the default zone
MOSCOW = ZoneInfo("Europe/Moscow")


async def post(h: Harness, user_id: int, text: str) -> int:
    h.fake.advance(2)  # Telegram's flood windows move on between messages
    update = h.fake.send_message(GROUP, user_id, text)
    assert update is not None
    await h.settle()
    return int(update["message"]["message_id"])


async def job(h: Harness, name: str) -> None:
    """Run a scheduled job as the scheduler would, then send what the outbox holds."""
    found = h.app.scheduler.get_job(name)
    assert found is not None
    run: Callable[[], Awaitable[object]] = found.func
    await run()
    await h.app.hearth.outbox.drain()
    await h.settle()


async def prepared(h: Harness, *started: int) -> None:
    h.clock.set(WEDNESDAY_NOON)
    await command(h, ADMIN, "/set quiet_hours off")
    for user_id in started:
        await private(h, user_id, "/start")


async def test_one_note_a_day_with_links_to_the_thanked_messages(harness: Harness) -> None:
    h = harness
    await prepared(h, MEMBER)
    first, second = await post(h, MEMBER, "tip one"), await post(h, MEMBER, "tip two")
    await thank(h, OWNER, first)
    await thank(h, ADMIN, second, "thx")
    await job(h, "thanks_notes")
    assert not any("You were thanked" in text for text in h.replies(MEMBER))  # not settled yet

    h.clock.advance(timedelta(minutes=31))  # a burst settles into one note
    await job(h, "thanks_notes")
    note = h.fake.sent_messages(MEMBER)[-1]
    assert "You were thanked" in note["text"] and "In “Circle”: 2 thanks" in note["text"]
    links = {e["url"] for e in note.get("entities", []) if e["type"] == "text_link"}
    assert links == {f"https://t.me/c/1000000001/{m}" for m in (first, second)}
    notes = len(h.replies(MEMBER))

    await thank(h, BOSS, first)  # the same day: no second note
    h.clock.advance(timedelta(minutes=31))
    await job(h, "thanks_notes")
    assert len(h.replies(MEMBER)) == notes
    h.clock.advance(timedelta(days=1))  # the next day it comes
    await job(h, "thanks_notes")
    assert len(h.replies(MEMBER)) == notes + 1
    assert "In “Circle”: 1 thanks" in h.replies(MEMBER)[-1]
    assert all("tip" not in text for text in h.replies(MEMBER))  # never the messages' words


async def test_the_note_waits_for_the_end_of_quiet_hours(harness: Harness) -> None:
    h = harness
    await prepared(h, MEMBER)
    local = h.clock.now().astimezone(MOSCOW)
    start, end = local - timedelta(hours=1), local + timedelta(hours=3)
    await command(h, ADMIN, f"/set quiet_hours {start:%H:%M}-{end:%H:%M}")
    await thank(h, OWNER, await post(h, MEMBER, "a tip"))
    h.clock.advance(timedelta(minutes=31))
    await job(h, "thanks_notes")
    assert not any("You were thanked" in text for text in h.replies(MEMBER))
    h.clock.advance(timedelta(hours=3))
    await h.app.hearth.outbox.drain()
    assert "You were thanked" in h.replies(MEMBER)[-1]


async def test_admins_get_the_farming_note_once_a_week(harness: Harness) -> None:
    h = harness
    await prepared(h, OWNER, ADMIN)
    tip = await post(h, MEMBER, "a tip")
    for day in range(3):  # Anton thanks Maria every day; Olga once
        await thank(h, ADMIN, tip)
        if day == 0:
            await thank(h, OWNER, tip)
            await thank(h, MEMBER, await post(h, OWNER, "mine"))  # one thanks: not lopsided
        h.clock.advance(timedelta(days=1))

    await job(h, "thanks_farming")
    for admin in (OWNER, ADMIN):
        note = h.replies(admin)[-1]
        assert "Thanks check for “Circle”" in note
        assert "Maria: 3 of 4 from Anton" in note and "Olga:" not in note
    counts = {admin: len(h.replies(admin)) for admin in (OWNER, ADMIN)}
    await job(h, "thanks_farming")
    await restart(h)
    await job(h, "thanks_farming")
    assert {admin: len(h.replies(admin)) for admin in (OWNER, ADMIN)} == counts
    h.clock.advance(timedelta(days=7))  # the next week: another note
    await job(h, "thanks_farming")
    assert len(h.replies(OWNER)) == counts[OWNER] + 1


async def trust_of(h: Harness, user_id: int) -> str:
    async with h.app.db.transaction() as session:
        member = await session.get(Member, (GROUP, user_id))
        assert member is not None
        return member.trust


async def test_a_newcomer_thanked_by_three_people_becomes_a_member(harness: Harness) -> None:
    h = harness
    await prepared(h)
    await join_and_verify(h)
    tip = await post(h, NEWCOMER, "I can help with the wiki")
    assert await trust_of(h, NEWCOMER) == TrustLevel.NEWCOMER
    await thank(h, OWNER, tip)
    await thank(h, ADMIN, tip)
    assert await trust_of(h, NEWCOMER) == TrustLevel.NEWCOMER  # two people: not yet
    await thank(h, MEMBER, tip)

    assert await trust_of(h, NEWCOMER) == TrustLevel.MEMBER
    await flush_job(h)  # the same event as a promotion after probation
    assert totals(await ledger_rows(h))[(NEWCOMER, LedgerKind.PROMOTED)] == 1


async def test_promote_on_thanks_off_keeps_probation(harness: Harness) -> None:
    h = harness
    await prepared(h)
    await command(h, ADMIN, "/set promote_on_thanks off")
    await join_and_verify(h)
    tip = await post(h, NEWCOMER, "hello, I fix bikes")
    for giver in (OWNER, ADMIN, MEMBER, BOSS):
        await thank(h, giver, tip)
    assert len(await thanks_rows(h)) == 4
    assert await trust_of(h, NEWCOMER) == TrustLevel.NEWCOMER


async def test_the_check_in_digest_counts_the_week_s_thanks_without_names(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h)
    await opt_in(h, MEMBER)
    await command(h, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    await answer_all(h, MEMBER, ["Finished my thesis", "Deadlines", "All good"], "name")
    await thank(h, ADMIN, await post(h, MEMBER, "here is my thesis"))
    await thank(h, OWNER, await post(h, BOSS, "congrats"))

    h.clock.advance(timedelta(hours=48))
    await checkin_tick(h)
    digest = h.replies(GROUP)[-1]
    assert "Check-in digest" in digest and "Thanks given this week: 2" in digest
    assert "Boss" not in digest and "Olga" not in digest


async def test_forget_and_retention_delete_thanks(harness: Harness) -> None:
    h = harness
    await prepared(h)
    await thank(h, ADMIN, await post(h, MEMBER, "a tip"))
    await thank(h, MEMBER, await post(h, OWNER, "another"))
    await thank(h, BOSS, await post(h, OWNER, "a third"))
    await private(h, MEMBER, "/thanks board on")

    await h.app.hearth.privacy.forget_person(MEMBER)  # what /forget runs
    rows = await thanks_rows(h)
    assert [(r["giver_id"], r["receiver_id"]) for r in rows] == [(BOSS, OWNER)]
    assert not await h.app.hearth.thanks.service.on_board(MEMBER)

    h.clock.advance(timedelta(days=89))
    await h.app.hearth.retention.run()
    assert len(await thanks_rows(h)) == 1
    h.clock.advance(timedelta(days=2))  # past the 90 days that count
    await h.app.hearth.retention.run()
    assert await thanks_rows(h) == []


async def test_only_members_thanks_promote_a_newcomer(harness: Harness) -> None:
    h = harness
    await prepared(h)
    await join_and_verify(h)
    tip = await post(h, NEWCOMER, "I can help with the wiki")
    for number in range(6):  # six newcomers' half thanks add up to 3, but none is a member
        await verify_newcomer(h, 610 + number, f"Newbie{number}")
        await thank(h, 610 + number, tip)
    assert len(await thanks_rows(h)) == 6
    assert await trust_of(h, NEWCOMER) == TrustLevel.NEWCOMER
    await thank(h, OWNER, tip)
    await thank(h, ADMIN, tip)
    assert await trust_of(h, NEWCOMER) == TrustLevel.NEWCOMER  # two members: not yet
    await thank(h, MEMBER, tip)
    assert await trust_of(h, NEWCOMER) == TrustLevel.MEMBER


async def test_thanks_waiting_for_tomorrow_do_not_hold_up_other_people_s_notes(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    # a tick reads BATCH thanks (2,000 in production); two stand for them here
    monkeypatch.setattr(notes, "BATCH", 2)
    await prepared(h, MEMBER, ADMIN)
    tip = await post(h, MEMBER, "tip one")
    await thank(h, OWNER, tip)
    h.clock.advance(timedelta(minutes=31))
    await job(h, "thanks_notes")
    assert "You were thanked" in h.replies(MEMBER)[-1]  # Maria's note for today went
    told = len(h.replies(MEMBER))

    await thank(h, ADMIN, tip)  # these two wait for tomorrow's note: the oldest unsent thanks
    await thank(h, BOSS, tip)
    answer = await post(h, ADMIN, "an answer")
    await thank(h, OWNER, answer)
    h.clock.advance(timedelta(minutes=31))
    await job(h, "thanks_notes")
    assert "You were thanked" in h.replies(ADMIN)[-1]  # Anton's note is not held up
    assert len(h.replies(MEMBER)) == told
    h.clock.advance(timedelta(days=1))
    await job(h, "thanks_notes")
    assert "In “Circle”: 2 thanks" in h.replies(MEMBER)[-1]
