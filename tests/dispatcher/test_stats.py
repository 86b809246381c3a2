"""/stats through the production dispatcher and the fake Bot API: real activity (messages,
a join and verification, a reaction) becomes the figures an admin gets privately; the group
hears only where they went; members are refused; "< 3" hides figures of one or two people;
/stats csv is the daily series; no message text appears anywhere."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import func, select

from models.ledger import LedgerRow
from tests.dispatcher.conftest import ADMIN, BOSS, GROUP, MEMBER, NEWCOMER, OWNER, Harness
from tests.dispatcher.test_billing import paid_chat, request_and_pay
from tests.dispatcher.test_ledger import SECRET, flush_job, join_and_verify
from tests.dispatcher.test_moderation import say

SECOND = -1001000000002


async def lively_group(h: Harness) -> int:
    """Five people alive today: 6 messages (one the newcomer's), a join and its
    verification, one reaction.
    Returns the id of the message reacted to."""
    await say(h, MEMBER, SECRET)
    await say(h, MEMBER, "second message")
    target = await say(h, OWNER, "the owner speaks")
    await say(h, ADMIN, "hello")
    await say(h, BOSS, "hi all")
    await join_and_verify(h)
    await say(h, NEWCOMER, "glad to be here")
    h.fake.reactions.react(GROUP, MEMBER, target, ["👍"])
    await h.settle()
    await flush_job(h)
    return target


async def group_command(h: Harness, user_id: int, text: str) -> str:
    before = len(h.replies(GROUP))
    h.fake.send_message(GROUP, user_id, text)
    await h.settle()
    answers = h.replies(GROUP)[before:]
    assert answers, f"no answer to {text!r}"
    return answers[-1]


async def member_count(h: Harness) -> int:
    """What Telegram says (the bot included, as it counts)."""
    return await h.app.bot.get_chat_member_count(GROUP)


async def test_stats_in_the_group_sends_the_figures_privately_and_the_group_sees_none(
    harness: Harness,
) -> None:
    h = harness
    await lively_group(h)
    assert "Start" in await group_command(h, ADMIN, "/stats")  # not started: nothing sent
    assert not h.replies(ADMIN)
    h.fake.send_message(ADMIN, ADMIN, "/start")
    await h.settle()

    said = await group_command(h, ADMIN, "/stats")

    assert "private chat" in said
    report = h.replies(ADMIN)[-1]
    assert "Community health: “Circle”, last 30 days" in report
    # Telegram counts the bot too: the five people alive are every member there is
    assert await member_count(h) == 6
    assert "Alive in 30 days: 5 of 5 members (100%)" in report
    assert "The 30 days before: 0 (change +5)" in report
    # 6 messages and the two /stats commands, all today: only the last bar is up
    assert f"Messages: 8 {'▁' * 29}█\n" in report
    assert "Newcomers: joined < 3 → verified < 3 → wrote within 7 days < 3" in report
    assert "warnings 0, mutes 0, bans 0, reports 0" in report
    assert "Paid membership" not in report  # the chat has no price
    assert "Collecting since" in report  # the ledger began today
    assert all("Alive" not in text and "Messages" not in text for text in h.replies(GROUP))
    assert all(SECRET not in text for text in h.replies(ADMIN))


async def test_a_member_is_refused_and_gets_nothing(harness: Harness) -> None:
    h = harness
    await lively_group(h)
    h.fake.send_message(MEMBER, MEMBER, "/start")
    await h.settle()
    private_before = len(h.replies(MEMBER))

    refusal = await group_command(h, MEMBER, "/stats")
    h.fake.send_message(MEMBER, MEMBER, "/stats")  # in private: no chat they administer
    await h.settle()

    assert "admin" in refusal.lower()
    [answer] = h.replies(MEMBER)[private_before:]
    assert "don't know a chat you administer" in answer


async def test_an_unknown_period_gets_the_usage_line(harness: Harness) -> None:
    h = harness
    h.fake.send_message(ADMIN, ADMIN, "/start")
    answer = await group_command(h, ADMIN, "/stats 5d")
    assert "/stats 90d" in answer
    assert not [text for text in h.replies(ADMIN) if "Alive" in text]


async def test_figures_of_fewer_than_three_people_show_as_less_than_three(
    harness: Harness,
) -> None:
    h = harness
    h.fake.send_message(ADMIN, ADMIN, "/start")
    await say(h, MEMBER, "just us two")
    await group_command(h, ADMIN, "/stats 7d")
    report = h.replies(ADMIN)[-1]
    assert "last 7 days" in report
    assert "Alive in 30 days: < 3 of" in report
    assert "Messages: < 3\n" in report  # no sparkline either
    assert "warnings < 3" in report


async def test_stats_csv_is_the_daily_series(harness: Harness) -> None:
    h = harness
    await lively_group(h)
    h.clock.advance(timedelta(days=1))
    h.fake.advance(timedelta(days=1).total_seconds())
    await say(h, MEMBER, "the next day")
    h.fake.send_message(ADMIN, ADMIN, "/start")
    documents = len(h.fake.payments.documents)

    await group_command(h, ADMIN, "/stats csv 7d")

    [document] = h.fake.payments.documents[documents:]
    assert document["chat_id"] == ADMIN
    assert SECRET not in document["data"]
    rows = list(csv.DictReader(io.StringIO(document["data"])))
    assert len(rows) == 7
    yesterday, today = rows[-2], rows[-1]
    assert yesterday["date"] < today["date"]
    assert yesterday == {
        "date": yesterday["date"],
        "alive": "5",
        "messages": "6",
        "reactions": "< 3",
        "joined": "< 3",
        "verified": "< 3",
        "left": "0",
        "checkins": "0",
        "promoted": "0",
    }
    # today: the member and the admin's /stats csv
    assert today["alive"] == "< 3" and today["messages"] == "< 3"
    assert all(row["messages"] == "0" for row in rows[:-2])


async def test_stats_in_private_offers_the_chats_the_person_administers(
    harness: Harness,
) -> None:
    h = harness
    await lively_group(h)
    h.fake.add_chat(SECOND, "Second circle")
    h.fake.set_member(SECOND, ADMIN, "administrator")
    h.fake.set_member(SECOND, MEMBER, "member")
    h.fake.add_bot_to_chat(SECOND, ADMIN, admin=True)
    await h.settle()
    h.fake.send_message(SECOND, ADMIN, "hello second")
    await h.settle()
    h.fake.send_message(ADMIN, ADMIN, "/start")
    h.fake.send_message(ADMIN, ADMIN, "/stats 90d")
    await h.settle()

    choice = h.fake.sent_messages(ADMIN)[-1]
    assert choice["text"] == "Which chat?"
    buttons = [row[0] for row in choice["reply_markup"]["inline_keyboard"]]
    assert [b["text"] for b in buttons] == ["Circle", "Second circle"]
    h.fake.press_button(ADMIN, ADMIN, choice["message_id"], buttons[0]["callback_data"])
    await h.settle()
    report = h.replies(ADMIN)[-1]
    assert "“Circle”, last 90 days" in report and "Alive in 30 days: 5 of" in report

    # a member presses an admin's button (or the admin lost the rights): refused
    h.fake.send_message(MEMBER, MEMBER, "/start")
    await h.settle()
    before = len(h.replies(MEMBER))
    h.fake.press_button(MEMBER, ADMIN, choice["message_id"], buttons[0]["callback_data"])
    await h.settle()
    assert not [t for t in h.replies(MEMBER)[before:] if "Alive" in t]


async def test_an_owner_gets_every_chat_the_bot_is_in_even_one_they_never_joined(
    harness: Harness,
) -> None:
    h = harness
    await lively_group(h)  # the owner (OWNER_IDS) wrote in the first chat only
    h.fake.add_chat(SECOND, "Second circle")
    h.fake.set_member(SECOND, ADMIN, "administrator")
    h.fake.add_bot_to_chat(SECOND, ADMIN, admin=True)
    await h.settle()
    h.fake.send_message(BOSS, BOSS, "/start")
    h.fake.send_message(BOSS, BOSS, "/stats")
    await h.settle()

    choice = h.fake.sent_messages(BOSS)[-1]
    buttons = [row[0]["text"] for row in choice["reply_markup"]["inline_keyboard"]]
    assert buttons == ["Circle", "Second circle"]


async def test_a_chat_without_activity_has_no_report(harness: Harness) -> None:
    h = harness
    assert await h.app.hearth.health.report(GROUP, 30) is None


async def test_a_member_count_telegram_will_not_give_leaves_the_ratio_out(
    harness: Harness,
) -> None:
    h = harness
    await lively_group(h)
    h.fake.send_message(ADMIN, ADMIN, "/start")
    h.fake.fail_next("getChatMemberCount", 400, "Bad Request: CHAT_ADMIN_REQUIRED")
    await group_command(h, ADMIN, "/stats")
    report = h.replies(ADMIN)[-1]
    assert "Alive in 30 days: 5 (Telegram did not give the member count" in report
    assert " of " not in report.split("\n")[1]


async def join_and_press(h: Harness, user_id: int, *, press: bool = True) -> None:
    h.fake.add_user(user_id, f"Newcomer {user_id}", language_code="en")
    h.fake.user_joins(GROUP, user_id)
    await h.settle()
    if not press:
        return
    welcome = [
        m for m in h.fake.sent_messages(GROUP) if "hearth:verify" in str(m.get("reply_markup"))
    ][-1]
    h.fake.press_button(user_id, GROUP, welcome["message_id"], "hearth:verify")
    await h.settle()


async def test_the_funnel_counts_who_joined_verified_and_wrote_within_a_week(
    harness: Harness,
) -> None:
    h = harness
    newcomers = (601, 602, 603, 604)
    for user_id in newcomers:
        await join_and_press(h, user_id, press=user_id != 604)  # 604 never confirms
    await say(h, 601, "hi")
    h.clock.advance(timedelta(days=6))
    h.fake.advance(timedelta(days=6).total_seconds())
    await say(h, 602, "hello, after six days")
    h.clock.advance(timedelta(days=2))
    h.fake.advance(timedelta(days=2).total_seconds())
    await say(h, 603, "a week and more later")  # too late for the funnel
    h.fake.send_message(ADMIN, ADMIN, "/start")

    await group_command(h, ADMIN, "/stats")

    report = h.replies(ADMIN)[-1]
    verified = await verified_among(h, newcomers)
    assert verified == 3
    assert "Newcomers: joined 4 → verified 3 → wrote within 7 days 2" in report


async def verified_among(h: Harness, users: tuple[int, ...]) -> int:
    async with h.app.db.transaction() as session:
        query = select(func.count()).where(
            LedgerRow.chat_id == GROUP, LedgerRow.kind == "verified", LedgerRow.user_id.in_(users)
        )
        return int((await session.execute(query)).scalar_one())


async def test_a_paid_chat_shows_its_payments(harness: Harness) -> None:
    h = harness
    await paid_chat(h)
    for user_id in (701, 702, 703):
        h.fake.add_user(user_id, f"Payer {user_id}", language_code="en")
        await request_and_pay(h, user_id)
    h.fake.send_message(ADMIN, ADMIN, "/start")

    await group_command(h, ADMIN, "/stats")

    assert "Paid membership: 3 payments, 0 expired" in h.replies(ADMIN)[-1]


async def test_an_anonymous_admin_is_asked_to_use_their_own_account(harness: Harness) -> None:
    h = harness
    await lively_group(h)
    h.fake.add_user(1087968824, "Group", username="GroupAnonymousBot", is_bot=True)
    anonymous = {"id": GROUP, "type": "supergroup", "title": "Circle"}
    documents = len(h.fake.payments.documents)
    for text in ("/stats", "/stats csv"):
        h.fake.send_message(GROUP, 1087968824, text, sender_chat=anonymous, force=True)
        await h.settle()
        assert "своего аккаунта" in h.replies(GROUP)[-1]  # the group speaks Russian
    assert len(h.fake.payments.documents) == documents
    assert not [text for text in h.replies(GROUP) if "Живых" in text or "Alive" in text]
