"""/stats' newcomer figures through the production dispatcher and the fake Bot API, with a
moved clock: the whole funnel (joined → verified → wrote within 7 days → alive at day 30 →
member after probation), the median wait until a newcomer's first message gets a reply,
weekly join cohorts, the buddy effect and check-in participation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models.members import Member
from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, OWNER, Harness
from tests.dispatcher.test_buddies import active_buddy, make_volunteer
from tests.dispatcher.test_checkins import BERLIN_MONDAY_NOON, answer_all, opt_in, run, setup_chat
from tests.dispatcher.test_checkins import say as say_in
from tests.dispatcher.test_ledger import SECRET, flush_job
from tests.dispatcher.test_moderation import say
from tests.dispatcher.test_stats import group_command, join_and_press


def move(h: Harness, delta: timedelta) -> None:
    h.clock.advance(delta)
    h.fake.advance(delta.total_seconds())


async def stats(h: Harness, args: str = "90d") -> str:
    h.fake.send_message(ADMIN, ADMIN, "/start")
    await h.settle()
    await group_command(h, ADMIN, f"/stats {args}")
    return h.replies(ADMIN)[-1]


async def reply(h: Harness, user_id: int, text: str, to: int) -> int:
    return await say(h, user_id, text, reply_to_message_id=to)


async def test_the_whole_funnel_and_the_median_wait_for_a_first_reply(harness: Harness) -> None:
    h = harness
    newcomers = (601, 602, 603, 604, 605)
    for user_id in newcomers:
        await join_and_press(h, user_id, press=user_id != 605)  # 605 never confirms
    first = {user_id: await say(h, user_id, SECRET) for user_id in (601, 602, 603, 604)}
    await reply(h, 601, "replying to myself does not count", first[601])
    second = await say(h, 601, "a second message")
    move(h, timedelta(minutes=10))
    await reply(h, MEMBER, "welcome!", first[601])  # 601 waited 10 minutes
    await reply(h, MEMBER, "and this one", second)  # not their first: nothing changes
    move(h, timedelta(minutes=20))
    await reply(h, 601, "hi 602", first[602])  # another newcomer answers: 30 minutes
    await reply(h, ADMIN, "hello again", first[601])  # 601 was answered already
    move(h, timedelta(hours=2))
    await reply(h, OWNER, "hi 603", first[603])  # 2.5 hours; nobody answers 604

    report = await stats(h)
    assert "Newcomers: joined 5 → verified 4 → wrote within 7 days 4" in report
    assert "alive at day 30 0 of 0 who reached it → members after probation 0" in report
    assert "median wait for a reply 30 min (3 of 4 got one)" in report

    move(h, timedelta(days=7, minutes=1))  # probation is over
    assert await h.app.hearth.trust.promote_due() >= 4
    move(h, timedelta(days=18))  # day 25 after joining
    for user_id in (601, 602, 603):
        await say(h, user_id, "still here")
    move(h, timedelta(days=5))  # day 30

    report = await stats(h)
    assert "wrote within 7 days 4 → alive at day 30 3 of 5 who reached it" in report
    assert "members after probation 4" in report
    assert "median wait for a reply 30 min (3 of 4 got one)" in report
    async with h.app.db.transaction() as session:
        kept = (await session.execute(select(Member.__table__))).all()
    assert all(SECRET not in str(row) for row in kept)  # ids and times only, never text


async def test_fewer_than_three_replies_give_no_median(harness: Harness) -> None:
    h = harness
    for user_id in (601, 602):
        await join_and_press(h, user_id)
    first = await say(h, 601, "hello")
    await say(h, 602, "hello too")
    move(h, timedelta(minutes=5))
    await reply(h, MEMBER, "welcome", first)

    report = await stats(h)
    assert "Newcomers: joined < 3 → verified < 3" in report
    assert "< 3 of < 3 got a reply; the median wait needs at least 3" in report


async def test_someone_who_comes_back_waits_anew_for_a_reply(harness: Harness) -> None:
    h = harness
    await join_and_press(h, 601)
    old = await say(h, 601, "hello")
    await flush_job(h)
    h.fake.user_leaves(GROUP, 601)
    await h.settle()
    move(h, timedelta(days=1))
    await join_and_press(h, 601)
    await reply(h, MEMBER, "late answer to the old message", old)
    new = await say(h, 601, "hello again")
    move(h, timedelta(minutes=7))
    await reply(h, MEMBER, "welcome back", new)
    await flush_job(h)

    async with h.app.db.transaction() as session:
        member = await session.get(Member, (GROUP, 601))
    assert member is not None and member.first_message_id == new
    assert member.first_message_at is not None and member.first_reply_at is not None
    assert member.first_reply_at - member.first_message_at == timedelta(minutes=7)


async def test_weekly_join_cohorts_show_the_share_alive_week_by_week(harness: Harness) -> None:
    h = harness
    move(h, timedelta(days=(7 - h.clock.now().weekday()) % 7))  # to a Monday
    monday = h.clock.now().date()
    for user_id in (611, 612, 613, 614):
        await join_and_press(h, user_id)
    move(h, timedelta(days=3))
    for user_id in (611, 612, 613):  # the first cohort's week 1
        await say(h, user_id, "week one")
    move(h, timedelta(days=4))
    for user_id in (621, 622):
        await join_and_press(h, user_id)
    move(h, timedelta(days=3))
    for user_id in (611, 612):  # the first cohort's week 2
        await say(h, user_id, "week two")
    move(h, timedelta(days=10))  # day 20: a Sunday joiner of the first week is in week 3

    report = await stats(h)
    lines = report.split("\n")
    header = lines.index("Join cohorts, share alive in weeks 1–8 after joining:")
    assert lines[header + 1 : header + 3] == [
        f"{monday:%Y-%m-%d} (4): 75% 50%",
        f"{monday + timedelta(days=7):%Y-%m-%d} (< 3): < 3",
    ]


async def test_the_buddy_effect_compares_a_buddy_within_a_day_with_a_late_one(
    harness: Harness,
) -> None:
    h = harness
    late = (631, 632, 633)
    for user_id in late:  # no volunteer yet: they wait on the list
        await join_and_press(h, user_id)
    move(h, timedelta(days=2))
    await say_in(h, GROUP, OWNER, "/set buddy_max_load 6")
    await make_volunteer(h, MEMBER, "Maria")  # serves the waiting list two days late
    quick = (641, 642, 643)
    for user_id in quick:
        await join_and_press(h, user_id)
    assert all([await active_buddy(h, user_id) == MEMBER for user_id in late + quick])
    move(h, timedelta(days=25))
    for user_id in (641, 642, 631):
        await say(h, user_id, "still around")
    move(h, timedelta(days=6))

    report = await stats(h)
    assert (
        "Buddy effect, alive at day 30: buddy within a day 67% (of 3), "
        "later or none 33% (of 3)" in report
    )


async def test_check_ins_show_people_per_week_and_the_streaks(harness: Harness) -> None:
    h = harness
    await setup_chat(h, checkin="mon 12:00")
    people = (MEMBER, ADMIN, OWNER)
    for user_id in people:
        await opt_in(h, user_id)
    h.clock.set(BERLIN_MONDAY_NOON - timedelta(minutes=1))
    await run(h)  # plans Monday's check-in, 12:00 in Berlin
    for week, answering in enumerate((people, people[:2])):
        h.clock.set(BERLIN_MONDAY_NOON + timedelta(weeks=week))
        await run(h)
        for user_id in answering:
            await answer_all(h, user_id, [f"win {week}", "hard", None], "no")
    move(h, timedelta(days=2))
    await run(h)

    report = await stats(h, "30d")
    assert "Check-ins, people per week: 0 · 0 · 3 · < 3" in report
    # two answered both weeks (a 2-week streak); the one who missed the second lost theirs
    assert "Check-in streaks: 1 week 0, 2–3 weeks < 3, 4–7 weeks 0, 8+ weeks 0" in report
