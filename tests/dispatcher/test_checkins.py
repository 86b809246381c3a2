"""Weekly check-ins through the production dispatcher and the fake Bot API, with a moved clock.

Background work is driven by hand: `tick()` is what the scheduler runs, `drain()` is the
outbox worker's pass; everything a member sees is read back from the fake Telegram."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from models.checkins import CheckinEntry, CheckinRound
from models.members import Member
from models.outbox import OutboxMessage
from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, NEWCOMER, OWNER, Harness

BERLIN_MONDAY_NOON = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)  # 12:00 in Berlin (UTC+1)
FRIEND = 41


def texts(h: Harness, chat_id: int) -> list[str]:
    return [str(m.get("text", "")) for m in h.fake.sent_messages(chat_id)]


async def say(h: Harness, chat_id: int, user_id: int, text: str) -> str:
    h.fake.advance(2)  # people take a moment to type (and Telegram's flood windows move on)
    before = len(h.fake.sent_messages(chat_id))
    h.fake.send_message(chat_id, user_id, text)
    await h.settle()
    sent = h.fake.sent_messages(chat_id)
    return str(sent[-1]["text"]) if len(sent) > before else ""


async def run(h: Harness) -> None:
    """One scheduler tick, then the outbox sends whatever is due, then updates are handled."""
    await h.app.hearth.checkins.tick()
    await h.app.hearth.outbox.drain()
    await h.settle()


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def button(message: dict[str, Any], prefix: str) -> str:
    for b in buttons(message):
        if str(b.get("callback_data", "")).startswith(prefix):
            return str(b["callback_data"])
    raise AssertionError(f"no button {prefix!r} in {message}")


def last(h: Harness, chat_id: int) -> dict[str, Any]:
    return h.fake.sent_messages(chat_id)[-1]


async def press(h: Harness, user_id: int, prefix: str) -> str:
    """Press the newest button starting with `prefix` in the user's private chat."""
    for message in reversed(h.fake.sent_messages(user_id)):
        try:
            data = button(message, prefix)
        except AssertionError:
            continue
        h.fake.advance(2)
        before = len(h.fake.sent_messages(user_id))
        h.fake.press_button(user_id, user_id, message["message_id"], data)
        await h.settle()
        sent = h.fake.sent_messages(user_id)
        return str(sent[-1]["text"]) if len(sent) > before else ""
    raise AssertionError(f"user {user_id} has no {prefix!r} button")


async def setup_chat(h: Harness, **settings: str) -> None:
    h.clock.set(BERLIN_MONDAY_NOON)
    values = {"timezone": "Europe/Berlin", "nudge_after": "off", **settings}
    for key, value in values.items():
        assert "Done" in await say(h, GROUP, ADMIN, f"/set {key} {value}")


async def opt_in(h: Harness, user_id: int) -> None:
    await say(h, GROUP, user_id, "hello everyone")  # the bot learns they are in the chat
    assert "on for" in await say(h, user_id, user_id, "/checkins on")


async def answer_all(h: Harness, user_id: int, answers: list[str | None], share: str) -> str:
    """Go through the private flow from the newest invite; None presses Skip."""
    reply = await press(h, user_id, "ci:a:")
    assert "1/" in reply
    for answer in answers:
        if answer is None:
            reply = await press(h, user_id, "ci:k:")
        else:
            reply = await say(h, user_id, user_id, answer)
    assert "Share your win" in reply
    return await _share(h, user_id, share)


async def _share(h: Harness, user_id: int, choice: str) -> str:
    message = next(
        m
        for m in reversed(h.fake.sent_messages(user_id))
        if any(str(b.get("callback_data", "")).startswith("ci:s:") for b in buttons(m))
    )
    h.fake.advance(2)
    data = next(
        str(b["callback_data"])
        for b in buttons(message)
        if str(b.get("callback_data", "")).endswith(f":{choice}")
    )
    h.fake.press_button(user_id, user_id, message["message_id"], data)
    await h.settle()
    return str(last(h, user_id)["text"])


async def entry(h: Harness, user_id: int) -> CheckinEntry:
    async with h.app.db.transaction() as session:
        rows = (
            await session.execute(
                select(CheckinEntry)
                .where(CheckinEntry.user_id == user_id)
                .order_by(CheckinEntry.round_id.desc())
            )
        ).scalars()
        return next(iter(rows))


async def test_the_scheduled_post_comes_at_the_configured_weekday_and_time(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h, checkin="sun 19:00")
    await opt_in(h, MEMBER)
    group_before = len(texts(h, GROUP))
    h.clock.set(datetime(2026, 12, 6, 17, 59, tzinfo=UTC))  # Sunday 18:59 in Berlin
    await run(h)
    assert len(texts(h, GROUP)) == group_before
    assert not any("Weekly check-in in" in x for x in texts(h, MEMBER))

    h.clock.set(datetime(2026, 12, 6, 18, 0, tzinfo=UTC))  # Sunday 19:00 in Berlin
    await run(h)
    post = last(h, GROUP)
    assert "Weekly check-in" in post["text"]
    link = buttons(post)[0]["url"]
    assert link.startswith("https://t.me/hearth_test_bot?start=ci_")
    invite = last(h, MEMBER)
    assert "Weekly check-in in “Circle” is open until" in invite["text"]
    assert "2026-12-08 19:00" in invite["text"]  # 48h window, in the chat's time zone

    await run(h)  # the next tick does not start it again
    assert sum("Weekly check-in" in x for x in texts(h, GROUP)) == 1
    assert sum("Weekly check-in in" in x for x in texts(h, MEMBER)) == 1

    # the deep link from the group opens the same private flow
    h.fake.send_message(MEMBER, MEMBER, "/start " + link.split("start=")[1])
    await h.settle()
    assert "What went well this week?" in str(last(h, MEMBER)["text"])


async def test_private_flow_stores_answers_and_they_can_be_changed_until_close(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h)
    await opt_in(h, MEMBER)
    assert "Check-in started" in await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()

    reply = await press(h, MEMBER, "ci:a:")
    assert "1/3" in reply and "What went well this week?" in reply
    reply = await say(h, MEMBER, MEMBER, "I ran 5 km")
    assert "2/3" in reply and "What was hard?" in reply
    reply = await say(h, MEMBER, MEMBER, "Sleeping")
    assert "3/3" in reply
    assert button(last(h, MEMBER), "ci:k:")  # the support question can be skipped
    reply = await press(h, MEMBER, "ci:k:")
    assert "Share your win" in reply
    reply = await _share(h, MEMBER, "name")
    assert "Saved" in reply and "I ran 5 km" in reply and "Sleeping" in reply
    stored = await entry(h, MEMBER)
    assert json.loads(stored.answers) == ["I ran 5 km", "Sleeping", None]
    assert stored.done and stored.share == "name"

    # changing the answers: the old ones are shown, the new ones replace them
    reply = await press(h, MEMBER, "ci:a:")
    assert "Changing your check-in answers" in reply and "I ran 5 km" in reply
    await say(h, MEMBER, MEMBER, "I ran 10 km")
    await say(h, MEMBER, MEMBER, "Nothing much")
    await say(h, MEMBER, MEMBER, "A bit of advice on running shoes")
    await _share(h, MEMBER, "anon")
    stored = await entry(h, MEMBER)
    assert json.loads(stored.answers) == [
        "I ran 10 km",
        "Nothing much",
        "A bit of advice on running shoes",
    ]
    assert stored.share == "anon"

    # a plain message outside the flow is not taken as an answer
    h.clock.advance(timedelta(days=3))
    await run(h)  # the window closed
    reply = await press(h, MEMBER, "ci:a:")
    assert "closed" in reply
    assert json.loads((await entry(h, MEMBER)).answers)[0] == "I ran 10 km"


async def test_one_reminder_then_a_digest_without_private_answers(harness: Harness) -> None:
    h = harness
    await setup_chat(h)
    for user in (MEMBER, ADMIN):
        await opt_in(h, user)
    await say(h, OWNER, OWNER, "/start")  # admins who never started the bot can't be told
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    await answer_all(h, MEMBER, ["Finished my thesis", "Deadlines", "Feeling lonely"], "name")

    h.clock.advance(timedelta(hours=23, minutes=59))
    await run(h)
    assert not any("reminder" in x for x in texts(h, ADMIN))
    h.clock.advance(timedelta(minutes=1))  # 24h after the start (13:00 in Berlin: not quiet)
    await run(h)
    await run(h)
    assert sum("gentle reminder" in x for x in texts(h, ADMIN)) == 1
    assert not any("gentle reminder" in x for x in texts(h, MEMBER))  # already answered
    h.clock.advance(timedelta(hours=12))
    await run(h)
    assert sum("gentle reminder" in x for x in texts(h, ADMIN)) == 1  # only one, ever

    h.clock.advance(timedelta(hours=12))  # 48h: the window closes at 12:00 Berlin
    await run(h)
    digest = texts(h, GROUP)[-1]
    assert "Check-in digest" in digest and "1 took part" in digest
    assert "Finished my thesis" in digest and "Maria" in digest
    assert "Deadlines" not in digest and "lonely" not in digest
    # the support request went privately to the admins (Maria has no buddy), not the group
    for admin in (OWNER, ADMIN):
        assert any("Feeling lonely" in x for x in texts(h, admin)), texts(h, admin)
    assert all("Feeling lonely" not in x for x in texts(h, GROUP))
    await run(h)
    assert sum("Check-in digest" in x for x in texts(h, GROUP)) == 1


async def test_streaks_count_weeks_pause_keeps_them_and_milestones_are_celebrated(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h, checkin="mon 12:00")
    for user in (MEMBER, ADMIN):
        await opt_in(h, user)
    h.clock.set(BERLIN_MONDAY_NOON - timedelta(minutes=1))
    await run(h)  # plans Monday 12:00 Berlin
    for week in range(5):
        if week == 2:
            # Anton pauses for a few days just before this week's check-in
            h.clock.set(BERLIN_MONDAY_NOON + timedelta(weeks=week, hours=-1))
            assert "Paused until" in await say(h, ADMIN, ADMIN, "/pause 3d")
            assert "check-ins paused until" in await say(h, ADMIN, ADMIN, "/me")
        h.clock.set(BERLIN_MONDAY_NOON + timedelta(weeks=week))
        await run(h)
        await answer_all(h, MEMBER, [f"win {week}", "hard", None], "anon")
        if week != 2:
            await answer_all(h, ADMIN, [f"admin win {week}", "hard", None], "no")
        h.clock.advance(timedelta(days=2))
        await run(h)
    digests = [x for x in texts(h, GROUP) if "Check-in digest" in x]
    assert len(digests) == 5
    assert sum("Weekly check-in in" in x for x in texts(h, ADMIN)) == 4  # none while paused
    # Maria shares anonymously: her milestone is celebrated without her name
    assert "Someone — 4 weeks in a row" in digests[3] and "Maria" not in digests[3]
    assert "win 3 — (anonymously)" in digests[3]
    # weeks 0, 1, 3, 4: the paused week did not break Anton's streak (he shares nothing)
    assert "Someone — 4 weeks in a row" in digests[4] and "Anton" not in digests[4]
    assert "admin win" not in "".join(digests)  # Anton chose not to share
    me = await say(h, GROUP, MEMBER, "/me")
    assert "check-ins: 5 week(s) in a row (best 5)" in me
    me = await say(h, GROUP, ADMIN, "/me")
    assert "check-ins: 4 week(s) in a row (best 4)" in me


async def test_quiet_hours_defer_check_in_messages_until_they_end(harness: Harness) -> None:
    h = harness
    await setup_chat(h, checkin="mon 23:00")
    await opt_in(h, MEMBER)
    h.clock.set(datetime(2026, 11, 30, 21, 59, tzinfo=UTC))  # 22:59 Berlin
    await run(h)
    group_before = len(texts(h, GROUP))
    h.clock.set(datetime(2026, 11, 30, 22, 0, tzinfo=UTC))  # 23:00 Berlin: quiet
    await run(h)
    assert len(texts(h, GROUP)) == group_before
    assert not any("Weekly check-in in" in x for x in texts(h, MEMBER))
    # a direct answer to the member's own command is not delayed
    assert "on for" in await say(h, MEMBER, MEMBER, "/checkins on")

    h.clock.set(datetime(2026, 12, 1, 7, 59, tzinfo=UTC))  # 08:59
    await run(h)
    assert not any("Weekly check-in in" in x for x in texts(h, MEMBER))
    h.clock.set(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))  # 09:00: the quiet hours end
    await run(h)
    assert any("Weekly check-in in" in x for x in texts(h, MEMBER))
    assert "Weekly check-in" in texts(h, GROUP)[-1]


async def test_opt_in_is_offered_once_after_verification(harness: Harness) -> None:
    h = harness
    assert "Done" in await say(h, GROUP, ADMIN, "/set checkin sun 19:00")
    await say(h, NEWCOMER, NEWCOMER, "/start")
    h.fake.user_joins(GROUP, NEWCOMER)
    await h.settle()
    welcome = [
        m for m in h.fake.sent_messages(GROUP) if "hearth:verify" in str(m.get("reply_markup"))
    ][-1]
    h.fake.press_button(NEWCOMER, GROUP, welcome["message_id"], "hearth:verify")
    await h.settle()
    offers = [x for x in texts(h, NEWCOMER) if "weekly check-in" in x]
    assert len(offers) == 1 and "Sundays at 19:00" in offers[0]
    assert "You're in" in await press(h, NEWCOMER, "ci:o:")
    async with h.app.db.transaction() as session:
        assert await h.app.hearth.checkins.streaks(GROUP, NEWCOMER) is not None
        assert await session.get(Member, (GROUP, NEWCOMER)) is not None


async def test_a_silent_member_is_nudged_once_and_their_buddy_is_told(harness: Harness) -> None:
    h = harness
    await setup_chat(h, nudge_after="3d", quiet_hours="off")
    await say(h, GROUP, MEMBER, "hi")
    await say(h, MEMBER, MEMBER, "/start")
    await h.app.hearth.activity.flush()
    h.clock.advance(timedelta(days=2))
    await run(h)
    assert not any("haven't heard from you" in x for x in texts(h, MEMBER))
    h.clock.advance(timedelta(days=2))
    await run(h)
    assert sum("haven't heard from you" in x for x in texts(h, MEMBER)) == 1
    h.clock.advance(timedelta(days=2))
    await run(h)
    assert sum("haven't heard from you" in x for x in texts(h, MEMBER)) == 1
    # paused members are left alone
    await say(h, OWNER, OWNER, "/start")
    await say(h, OWNER, OWNER, "/pause 30d")
    h.clock.advance(timedelta(days=5))
    await run(h)
    assert not any("haven't heard from you" in x for x in texts(h, OWNER))


async def test_checkin_questions_can_be_replaced_by_admins(harness: Harness) -> None:
    h = harness
    await setup_chat(h)
    assert "administrators" in await say(h, GROUP, MEMBER, "/checkin_questions Mine?")
    reply = await say(h, GROUP, ADMIN, "/checkin_questions\nBest moment?\n?Need a hand?")
    assert "Saved 2 questions" in reply
    shown = await say(h, GROUP, ADMIN, "/checkin_questions")
    assert "Best moment?" in shown and "support, skippable" in shown
    too_many = "\n".join(f"Q{i}?" for i in range(6))
    assert "1 to 5 questions" in await say(h, GROUP, ADMIN, f"/checkin_questions\n{too_many}")
    await opt_in(h, MEMBER)
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    assert "1/2" in await press(h, MEMBER, "ci:a:")
    assert "Need a hand?" in await say(h, MEMBER, MEMBER, "Sunset walk")
    async with h.app.db.transaction() as session:
        rounds = list((await session.execute(select(CheckinRound))).scalars())
        queued = list((await session.execute(select(OutboxMessage))).scalars())
    assert len(rounds) == 1 and rounds[0].questions is not None
    assert {q.status for q in queued} == {"sent"}


async def test_support_requests_and_nudges_reach_the_buddy_not_the_group(
    harness: Harness,
) -> None:
    from tests.dispatcher.test_buddies import active_buddy, make_volunteer, verify_newcomer

    h = harness
    await setup_chat(h, checkin="sun 19:00", quiet_hours="off")
    await say(h, OWNER, OWNER, "/start")
    await make_volunteer(h, MEMBER, "Maria")
    await verify_newcomer(h, NEWCOMER, "Nina")
    assert await active_buddy(h, NEWCOMER) == MEMBER
    assert "You're in" in await press(h, NEWCOMER, "ci:o:")  # the offer after verification
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    await answer_all(h, NEWCOMER, ["Found my way around", "Shyness", "Who to ask about X?"], "no")
    h.clock.advance(timedelta(days=2))
    await run(h)
    assert "1 took part" in texts(h, GROUP)[-1]
    assert all("Who to ask" not in x and "Found my way" not in x for x in texts(h, GROUP))
    to_buddy = [x for x in texts(h, MEMBER) if "asked for support" in x]
    assert len(to_buddy) == 1 and "Nina" in to_buddy[0] and "Who to ask about X?" in to_buddy[0]
    assert all("Who to ask" not in x for x in texts(h, OWNER) + texts(h, ADMIN))

    assert "Done" in await say(h, GROUP, ADMIN, "/set nudge_after 5d")
    await h.app.hearth.activity.flush()
    h.clock.advance(timedelta(days=6))
    await say(h, GROUP, MEMBER, "still around")  # Maria is active, Nina is not
    await run(h)
    assert sum("haven't heard from you" in x for x in texts(h, NEWCOMER)) == 1
    told = [x for x in texts(h, MEMBER) if "has been quiet" in x]
    assert len(told) == 1 and "Nina" in told[0]


async def test_a_member_who_blocked_the_bot_is_skipped_until_they_come_back(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h, checkin="mon 12:00")
    await opt_in(h, MEMBER)
    h.clock.set(BERLIN_MONDAY_NOON - timedelta(minutes=1))
    await run(h)
    h.fake.block_bot(MEMBER)
    h.clock.set(BERLIN_MONDAY_NOON)
    await run(h)  # the invite meets a 403: Maria is marked unreachable, not retried
    assert not any("Weekly check-in in" in x for x in texts(h, MEMBER))
    async with h.app.db.transaction() as session:
        row = await session.execute(select(OutboxMessage).where(OutboxMessage.chat_id == MEMBER))
        assert row.scalar_one().status == "unreachable"
    calls = [c for c in h.fake.calls_of("sendMessage") if c.params.get("chat_id") == MEMBER]
    h.clock.set(BERLIN_MONDAY_NOON + timedelta(weeks=1))
    await run(h)
    assert [c for c in h.fake.calls_of("sendMessage") if c.params.get("chat_id") == MEMBER] == calls
    # she unblocks and opts in again in private: the next week's check-in reaches her
    assert "“Circle”: taking part" in await say(h, MEMBER, MEMBER, "/checkins")
    assert "on for" in await say(h, MEMBER, MEMBER, "/checkins on")
    h.clock.set(BERLIN_MONDAY_NOON + timedelta(weeks=2))
    await run(h)
    assert sum("Weekly check-in in" in x for x in texts(h, MEMBER)) == 1


async def test_a_planned_check_in_follows_later_changes_of_its_settings(harness: Harness) -> None:
    h = harness
    await setup_chat(h, checkin="mon 12:00")
    await opt_in(h, MEMBER)
    h.clock.set(BERLIN_MONDAY_NOON - timedelta(hours=1))
    await run(h)  # planned with the default 48h window
    assert "Done" in await say(h, GROUP, ADMIN, "/set checkin_window 1d")
    assert "Done" in await say(h, GROUP, ADMIN, "/set checkin mon 12:30")
    h.clock.set(BERLIN_MONDAY_NOON)
    await run(h)
    assert not any("Weekly check-in in" in x for x in texts(h, MEMBER))  # moved to 12:30
    h.clock.set(BERLIN_MONDAY_NOON + timedelta(minutes=30))
    await run(h)
    assert "open until 2026-12-01 12:30" in texts(h, MEMBER)[-1]


async def test_the_check_in_keeps_its_local_time_when_the_clocks_go_forward(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h, checkin="sun 19:00")
    await opt_in(h, MEMBER)
    h.clock.set(datetime(2027, 3, 21, 18, 30, tzinfo=UTC))  # Sunday 19:30, winter time
    await run(h)
    h.clock.set(datetime(2027, 3, 27, 12, 0, tzinfo=UTC))  # Saturday, still winter time
    await run(h)
    h.clock.set(datetime(2027, 3, 28, 16, 59, tzinfo=UTC))  # Sunday 18:59 summer time
    await run(h)
    assert not any("Weekly check-in in" in x for x in texts(h, MEMBER))
    h.clock.set(datetime(2027, 3, 28, 17, 0, tzinfo=UTC))  # 19:00 in Berlin, now UTC+2
    await run(h)
    assert "open until 2027-03-30 19:00" in texts(h, MEMBER)[-1]


async def test_quick_replies_handled_concurrently_are_both_kept(harness: Harness) -> None:
    import asyncio

    from bot.app import ALLOWED_UPDATES

    h = harness
    await setup_chat(h)
    await opt_in(h, MEMBER)
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    await press(h, MEMBER, "ci:a:")
    h.fake.send_message(MEMBER, MEMBER, "first answer")
    h.fake.send_message(MEMBER, MEMBER, "second answer")
    updates = await h.app.bot.get_updates(
        offset=h.offset, timeout=0, allowed_updates=ALLOWED_UPDATES
    )
    h.offset = updates[-1].update_id + 1
    await asyncio.gather(*(h.app.dispatcher.feed_update(h.app.bot, u) for u in updates))
    stored = await entry(h, MEMBER)
    assert json.loads(stored.answers)[:2] == ["first answer", "second answer"]
    assert stored.step == 2


async def close_round(h: Harness) -> None:
    h.clock.advance(timedelta(days=2))
    await run(h)


async def test_two_support_questions_close_the_round_and_both_requests_arrive(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h)
    await say(h, OWNER, OWNER, "/start")
    reply = await say(h, GROUP, ADMIN, "/checkin_questions\n?Help with A?\nBest moment?\n?Help B?")
    assert "Saved 3 questions" in reply
    await opt_in(h, MEMBER)
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    reply = await press(h, MEMBER, "ci:a:")
    for answer in ("Need A please", "Sunset walk", "Need B please"):
        reply = await say(h, MEMBER, MEMBER, answer)
    assert "Share your win" in reply
    await _share(h, MEMBER, "name")
    await close_round(h)
    async with h.app.db.transaction() as session:
        assert (await session.execute(select(CheckinRound.status))).scalar_one() == "closed"
    digest = texts(h, GROUP)[-1]
    assert "Check-in digest" in digest
    # the shared win is the first question that is not a support request
    assert "Sunset walk" in digest and "Need A" not in digest and "Need B" not in digest
    got = texts(h, OWNER)  # the admin who started the bot (Anton never did)
    assert any("Need A please" in x for x in got), got
    assert any("Need B please" in x for x in got), got


async def test_a_question_set_of_only_support_questions_is_refused(harness: Harness) -> None:
    h = harness
    await setup_chat(h)
    reply = await say(h, GROUP, ADMIN, "/checkin_questions\n?Help?\n?More help?")
    assert "not a support" in reply


async def test_one_failing_chat_does_not_stop_the_others(
    harness: Harness, monkeypatch: Any
) -> None:
    h = harness
    await setup_chat(h)
    await opt_in(h, MEMBER)
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    rounds = h.app.hearth.checkins._rounds
    real = rounds.open

    async def broken(round_id: int) -> bool:
        raise RuntimeError("a bad chat")

    # a planned round in another chat that fails to open, and the open round must still close
    async with h.app.db.transaction() as session:
        session.add(
            CheckinRound(
                chat_id=-1009999,
                week="2026-W49",
                status="planned",
                starts_at=h.clock.now(),
                closes_at=h.clock.now() + timedelta(days=5),
                remind_at=None,
                reminded=False,
                manual=True,
            )
        )
    monkeypatch.setattr(rounds, "open", broken)
    await close_round(h)
    monkeypatch.setattr(rounds, "open", real)
    assert "Check-in digest" in texts(h, GROUP)[-1]


async def test_checkins_in_a_group_lists_only_that_group(harness: Harness) -> None:
    h = harness
    other = -1001000000777
    h.fake.add_chat(other, "Secret hobby")
    h.fake.set_member(other, MEMBER, "member")
    h.fake.add_bot_to_chat(other, OWNER, admin=True)
    await setup_chat(h)
    await say(h, other, MEMBER, "hi")
    await opt_in(h, MEMBER)
    private = await say(h, MEMBER, MEMBER, "/checkins")
    assert "Circle" in private and "Secret hobby" in private
    public = await say(h, GROUP, MEMBER, "/checkins")
    assert "Circle" in public and "Secret hobby" not in public


async def test_a_long_check_in_summary_is_delivered_and_cut_answers_are_told(
    harness: Harness,
) -> None:
    from bot.notifier import utf16_length

    h = harness
    await setup_chat(h)
    questions = "\n".join(f"Question number {i}?" for i in range(5))
    await say(h, GROUP, ADMIN, f"/checkin_questions\n{questions}")
    await opt_in(h, MEMBER)
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    await press(h, MEMBER, "ci:a:")
    replies = [await say(h, MEMBER, MEMBER, "🎉<&>" * 300) for _ in range(5)]
    assert all("longer than 1000 characters" in r for r in replies)
    saved = await _share(h, MEMBER, "no")
    assert "Saved" in saved and "shortened" in saved
    assert utf16_length(saved) <= 4096
    stored = json.loads((await entry(h, MEMBER)).answers)
    assert all(len(a) == 1000 for a in stored)  # stored in full (up to the limit)


async def test_a_round_opened_late_does_not_remind_right_after_the_invite(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h, checkin="mon 12:00")
    await opt_in(h, MEMBER)
    h.clock.set(BERLIN_MONDAY_NOON - timedelta(minutes=1))
    await run(h)  # planned; then the bot is down until Tuesday 14:00 Berlin
    h.clock.set(BERLIN_MONDAY_NOON + timedelta(hours=26))
    await run(h)
    await run(h)
    assert sum("Weekly check-in in" in x for x in texts(h, MEMBER)) == 1
    assert not any("gentle reminder" in x for x in texts(h, MEMBER))


async def test_reminders_and_held_invites_skip_who_opted_out_paused_or_answered(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h, checkin="mon 23:00")
    for user in (MEMBER, ADMIN, OWNER):
        await opt_in(h, user)
    h.clock.set(datetime(2026, 11, 30, 21, 59, tzinfo=UTC))  # 22:59 Berlin
    await run(h)
    h.clock.set(datetime(2026, 11, 30, 22, 0, tzinfo=UTC))  # 23:00 Berlin: quiet, invites held
    await run(h)
    assert "Paused until" in await say(h, MEMBER, MEMBER, "/pause 3d")
    assert "off for" in await say(h, ADMIN, ADMIN, "/checkins off")
    h.clock.set(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))  # 09:00: the quiet hours end
    await run(h)
    assert not any("Weekly check-in in" in x for x in texts(h, MEMBER))
    assert not any("Weekly check-in in" in x for x in texts(h, ADMIN))
    assert sum("Weekly check-in in" in x for x in texts(h, OWNER)) == 1
    await answer_all(h, OWNER, ["Good", "Bad", None], "no")
    h.clock.set(datetime(2026, 12, 1, 22, 0, tzinfo=UTC))  # 24h later: reminder time
    await run(h)
    h.clock.set(datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    await run(h)
    for user in (MEMBER, ADMIN, OWNER):
        assert not any("gentle reminder" in x for x in texts(h, user)), user


async def test_pausing_during_an_open_round_keeps_the_streak(harness: Harness) -> None:
    h = harness
    await setup_chat(h, quiet_hours="off")
    await opt_in(h, MEMBER)
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    await answer_all(h, MEMBER, ["win", "hard", None], "no")
    await close_round(h)
    h.clock.advance(timedelta(days=5))
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    h.clock.advance(timedelta(hours=1))
    assert "Paused until" in await say(h, MEMBER, MEMBER, "/pause 1d")  # during the round
    await close_round(h)
    assert "check-ins: 1 week(s) in a row (best 1)" in await say(h, GROUP, MEMBER, "/me")


async def test_silent_members_beyond_one_batch_are_all_nudged(
    harness: Harness, monkeypatch: Any
) -> None:
    import bot.services.checkins.nudges as checkins

    h = harness
    monkeypatch.setattr(checkins, "NUDGE_BATCH", 1)  # as if there were more than 500 of them
    await setup_chat(h, quiet_hours="off")
    for user in (OWNER, MEMBER):
        await say(h, user, user, "/start")
        await say(h, GROUP, user, "hello")
    await h.app.hearth.activity.flush()
    assert "Done" in await say(h, GROUP, ADMIN, "/set nudge_after 5d")
    h.clock.advance(timedelta(days=6))
    await say(h, GROUP, ADMIN, "still here")
    for _ in range(4):
        h.clock.advance(timedelta(minutes=2))
        await run(h)
    for user in (OWNER, MEMBER):
        assert sum("haven't heard from you" in x for x in texts(h, user)) == 1, user
    assert not any("haven't heard from you" in x for x in texts(h, ADMIN))


async def test_a_close_waits_while_the_admins_are_unknown(
    harness: Harness, monkeypatch: Any
) -> None:
    h = harness
    await setup_chat(h, quiet_hours="off")
    await say(h, OWNER, OWNER, "/start")
    await opt_in(h, MEMBER)
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    await answer_all(h, MEMBER, ["Good", "Bad", "Please call me"], "no")
    notifier = h.app.hearth.notifier
    known = notifier.admins

    async def unknown(chat_id: int) -> frozenset[int] | None:
        return None

    monkeypatch.setattr(notifier, "admins", unknown)
    await close_round(h)
    async with h.app.db.transaction() as session:
        assert (await session.execute(select(CheckinRound.status))).scalar_one() == "open"
    monkeypatch.setattr(notifier, "admins", known)
    h.clock.advance(timedelta(seconds=2))
    await run(h)
    assert "1 took part" in texts(h, GROUP)[-1]
    assert any("Please call me" in x for x in texts(h, OWNER))


async def test_a_second_check_in_in_a_week_does_not_count_twice_in_streaks(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h, quiet_hours="off", checkin_window="2h")
    await opt_in(h, MEMBER)
    for _ in range(2):
        await say(h, GROUP, ADMIN, "/checkin_now")
        await h.app.hearth.outbox.drain()
        await h.settle()
        await answer_all(h, MEMBER, ["Good", "Bad", None], "no")
        h.clock.advance(timedelta(hours=3))
        await run(h)
    assert sum("Check-in digest" in x for x in texts(h, GROUP)) == 2
    assert "check-ins: 1 week(s) in a row (best 1)" in await say(h, GROUP, MEMBER, "/me")


async def test_planning_writes_only_when_something_changed(
    harness: Harness, monkeypatch: Any
) -> None:
    h = harness
    await setup_chat(h, checkin="mon 12:00")
    service = h.app.hearth.checkins
    planner = service._planner
    real = planner._plan_chat
    calls: list[int] = []

    async def counted(session: Any, chat_id: int, config: Any, now: datetime) -> None:
        calls.append(chat_id)
        await real(session, chat_id, config, now)

    monkeypatch.setattr(planner, "_plan_chat", counted)
    await service.plan()
    await service.plan()
    h.clock.advance(timedelta(seconds=2))
    await service.plan()
    assert calls == [GROUP]  # the first tick plans, the next ones find nothing changed
    assert "Done" in await say(h, GROUP, ADMIN, "/set checkin tue 12:00")
    await service.plan()
    assert calls == [GROUP, GROUP]  # the setting changed: planned again
    async with h.app.db.transaction() as session:
        starts = list(
            (
                await session.execute(
                    select(CheckinRound.starts_at).where(CheckinRound.status == "planned")
                )
            ).scalars()
        )
    assert [s.astimezone(UTC).weekday() for s in starts] == [1]  # followed the change


async def test_a_held_invite_is_withdrawn_when_the_member_leaves_meanwhile(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h, checkin="mon 23:00")
    for user in (MEMBER, OWNER):
        await opt_in(h, user)
    h.clock.set(datetime(2026, 11, 30, 21, 59, tzinfo=UTC))  # 22:59 Berlin
    await run(h)
    h.clock.set(datetime(2026, 11, 30, 22, 0, tzinfo=UTC))  # 23:00 Berlin: quiet, invites held
    await run(h)
    h.fake.user_leaves(GROUP, MEMBER)
    await h.settle()
    h.clock.set(datetime(2026, 12, 1, 7, 58, tzinfo=UTC))
    await run(h)  # the sweep (once a minute) before the quiet hours end
    h.clock.set(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))  # 09:00: the quiet hours end
    await run(h)
    assert not any("Weekly check-in in" in x for x in texts(h, MEMBER))
    assert sum("Weekly check-in in" in x for x in texts(h, OWNER)) == 1


async def test_commands_in_the_wrong_place_are_refused_in_the_senders_language(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h)
    assert "private chat with me" in await say(h, GROUP, MEMBER, "/pause 3d")
    assert "works in a group" in await say(h, MEMBER, MEMBER, "/checkin_now")
    assert "administrators" in await say(h, GROUP, MEMBER, "/checkin_now")
    h.fake.add_user(FRIEND, "Фёдор", language_code="ru")
    h.fake.set_member(GROUP, FRIEND, "member")
    assert "личном чате со мной" in await say(h, GROUP, FRIEND, "/pause 3d")
    assert "работает в группе" in await say(h, FRIEND, FRIEND, "/checkin_questions")
    async with h.app.db.transaction() as session:
        rounds = (await session.execute(select(CheckinRound))).scalars().all()
    assert not rounds  # nothing was started by the refused /checkin_now


async def test_check_in_buttons_answer_at_once_and_a_malformed_one_is_out_of_date(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h, quiet_hours="off")
    await opt_in(h, MEMBER)
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    assert "1/3" in await press(h, MEMBER, "ci:a:")
    assert h.fake.callback_answers[-1].get("text", "") == ""  # the spinner stopped, silently
    invite = next(m for m in h.fake.sent_messages(MEMBER) if buttons(m))
    h.fake.press_button(MEMBER, MEMBER, invite["message_id"], "ci:a:not-a-round")
    await h.settle()
    assert "out of date" in str(h.fake.callback_answers[-1].get("text"))


async def test_a_pause_longer_than_any_date_gets_the_usage_not_a_traceback(
    harness: Harness,
) -> None:
    await say(harness, MEMBER, MEMBER, "/start")
    answer = await say(harness, MEMBER, MEMBER, "/pause " + "999999w" * 200)
    assert answer.startswith("Usage: /pause 2w")
