"""Retention through the production dispatcher and the fake Bot API, with a moved clock: each
chat's limits (`answers_keep`, `reports_keep`, `ledger_hourly`) shown by /settings and kept by
the daily jobs, delivered private messages blanked in the outbox, and admins who are shown a
member's private words recorded in the audit log."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.services.retention import PURGE_LEFT
from models.checkins import CheckinEntry
from models.deadlines import DeadlineRepository
from models.ledger import LedgerRow
from models.moderation import SHOWN, ModAction, Report
from models.outbox import OutboxMessage
from models.users import User
from tests.dispatcher.conftest import ADMIN, BOSS, GROUP, MEMBER, OWNER, Harness, restart
from tests.dispatcher.test_checkins import answer_all, close_round, opt_in, say, setup_chat

WIN = "Finished my thesis"
SECOND = -1001000000002
PLEA = "Feeling lonely, please write to me"  # a support request: to the admins only


async def run_job(h: Harness, job_id: str) -> int:
    """Run a scheduled job as the scheduler would."""
    job = h.app.scheduler.get_job(job_id)
    assert job is not None, job_id
    return int(await job.func())


async def settings_text(h: Harness) -> str:
    before = len(h.fake.sent_messages(GROUP))
    h.fake.advance(2)
    h.fake.send_message(GROUP, ADMIN, "/settings")
    await h.settle()
    return "\n".join(str(m.get("text", "")) for m in h.fake.sent_messages(GROUP)[before:])


async def entries(h: Harness) -> list[CheckinEntry]:
    async with h.app.db.transaction() as session:
        return list((await session.execute(select(CheckinEntry))).scalars())


async def outbox(h: Harness) -> list[OutboxMessage]:
    async with h.app.db.transaction() as session:
        return list((await session.execute(select(OutboxMessage))).scalars())


async def shown(h: Harness) -> list[ModAction]:
    async with h.app.db.transaction() as session:
        found = await session.execute(select(ModAction).where(ModAction.action == SHOWN))
        return list(found.scalars())


async def closed_check_in(h: Harness) -> None:
    """Maria answers a check-in (a win shared with her name, a support request) and the
    round closes: the request goes to the admin who started the bot."""
    await setup_chat(h)
    await say(h, OWNER, OWNER, "/start")
    await opt_in(h, MEMBER)
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    await answer_all(h, MEMBER, [WIN, "Deadlines", PLEA], "name")
    await close_round(h)


async def test_answers_are_deleted_after_answers_keep_and_streaks_stay(harness: Harness) -> None:
    h = harness
    await closed_check_in(h)
    assert "answers_keep" in await settings_text(h)
    assert "Done" in await say(h, GROUP, ADMIN, "/set answers_keep 10d")

    h.clock.advance(timedelta(days=9, hours=23))
    await run_job(h, "retention")
    assert json.loads((await entries(h))[0].answers)[0] == WIN  # not yet

    h.clock.advance(timedelta(hours=2))  # 10 days after the round closed
    assert await run_job(h, "retention") >= 1
    (entry,) = await entries(h)
    assert entry.answers == "[]" and entry.done and entry.share == "name"
    me = await say(h, GROUP, MEMBER, "/me")
    assert "check-ins: 1 week(s) in a row (best 1)" in me  # the streak is kept

    # again, and again after a restart: nothing left to change
    assert await run_job(h, "retention") == 0
    await restart(h)
    assert await run_job(h, "retention") == 0
    assert [e.answers for e in await entries(h)] == ["[]"]


async def test_the_default_keeps_answers_180_days(harness: Harness) -> None:
    h = harness
    await closed_check_in(h)
    assert "answers_keep = 180d" in await settings_text(h)
    h.clock.advance(timedelta(days=179))
    await run_job(h, "retention")
    assert WIN in (await entries(h))[0].answers
    h.clock.advance(timedelta(days=1, minutes=1))
    await run_job(h, "retention")
    assert (await entries(h))[0].answers == "[]"


async def test_private_messages_lose_their_text_once_sent_group_posts_keep_it(
    harness: Harness,
) -> None:
    h = harness
    await closed_check_in(h)
    await h.app.hearth.outbox.drain()
    rows = await outbox(h)
    # the support request reached the owner: the message is theirs, the row keeps no words
    assert any(PLEA in m.get("text", "") for m in h.fake.sent_messages(OWNER))
    private_sent = [r for r in rows if r.chat_id > 0 and r.status == "sent"]
    assert private_sent and all(r.text == "" for r in private_sent)
    assert all(PLEA not in r.text for r in rows if r.status == "sent")
    digest = [r for r in rows if r.chat_id == GROUP and r.key.endswith(":d")]
    assert digest and WIN in digest[0].text  # a group post keeps its text

    # Anton never started the bot: his copy was refused (403) and is blanked by the job
    refused = [r for r in rows if r.chat_id == ADMIN and r.status == "unreachable"]
    assert refused and all(r.text != "" for r in refused)
    assert await run_job(h, "retention") >= len(refused)
    assert all(r.text == "" for r in await outbox(h) if r.chat_id > 0)
    assert await run_job(h, "retention") == 0


async def test_a_support_request_shown_to_admins_is_in_the_audit_log_not_in_modlog(
    harness: Harness,
) -> None:
    h = harness
    await closed_check_in(h)
    records = await shown(h)
    # queued for both admins (Anton's copy is refused later); the buddy-less member's words
    assert {(r.actor_id, r.target_id) for r in records} == {(OWNER, MEMBER), (ADMIN, MEMBER)}
    assert all(r.chat_id == GROUP and r.reason.startswith("support request") for r in records)
    modlog = await say(h, GROUP, ADMIN, "/modlog")
    assert "Maria" not in modlog  # the chat is not told who asked for support


async def report_and_dismiss(h: Harness) -> int:
    """Boss reports Maria's message; Anton, who started the bot, gets the card and dismisses
    it. Returns the reported message's id."""
    h.fake.send_message(ADMIN, ADMIN, "/start")
    bad = h.fake.send_message(GROUP, MEMBER, "buy my course at a discount")
    assert bad is not None
    await h.settle()
    message_id = int(bad["message"]["message_id"])
    h.fake.send_message(GROUP, BOSS, "/report spam", reply_to_message_id=message_id)
    await h.settle()
    card = next(m for m in h.fake.sent_messages(ADMIN) if "Report" in m["text"])
    assert "buy my course" in card["text"]
    rows = card["reply_markup"]["inline_keyboard"]
    dismiss = next(
        b["callback_data"] for row in rows for b in row if "dismiss" in b["callback_data"]
    )
    h.fake.press_button(ADMIN, ADMIN, card["message_id"], dismiss)
    await h.settle()
    return message_id


async def reports(h: Harness) -> list[Report]:
    async with h.app.db.transaction() as session:
        return list((await session.execute(select(Report))).scalars())


async def test_a_reported_text_is_deleted_30_days_after_the_report_is_resolved(
    harness: Harness,
) -> None:
    h = harness
    assert "reports_keep = 30d" in await settings_text(h)
    await report_and_dismiss(h)
    (report,) = await reports(h)
    assert report.handled == "dismiss" and report.handled_at is not None
    # the card showed Maria's words to Anton: recorded, and kept out of /modlog
    records = await shown(h)
    assert [(r.actor_id, r.target_id) for r in records] == [(ADMIN, MEMBER)]
    assert records[0].reason == f"report {report.id}"

    h.clock.advance(timedelta(days=29, hours=23))
    await run_job(h, "retention")
    assert (await reports(h))[0].text.startswith("buy my course")
    h.clock.advance(timedelta(hours=2))
    assert await run_job(h, "retention") == 1
    (report,) = await reports(h)
    assert report.text == "" and report.reason == "spam" and report.handled == "dismiss"
    assert await run_job(h, "retention") == 0


async def test_an_unresolved_report_keeps_its_text(harness: Harness) -> None:
    h = harness
    assert "Done" in await say(h, GROUP, ADMIN, "/set reports_keep 1d")
    bad = h.fake.send_message(GROUP, MEMBER, "something rude")
    assert bad is not None
    await h.settle()
    h.fake.send_message(
        GROUP, BOSS, "/report", reply_to_message_id=int(bad["message"]["message_id"])
    )
    await h.settle()
    h.clock.advance(timedelta(days=60))
    assert await run_job(h, "retention") == 0
    assert (await reports(h))[0].text == "something rude"  # the admins have not decided yet


async def hourly_rows(h: Harness) -> list[LedgerRow]:
    async with h.app.db.transaction() as session:
        found = await session.execute(select(LedgerRow).where(LedgerRow.daily.is_(False)))
        return list(found.scalars())


async def test_the_ledger_rolls_hours_into_days_after_the_chat_s_ledger_hourly(
    harness: Harness,
) -> None:
    h = harness
    assert "ledger_hourly = 90d" in await settings_text(h)
    assert "Done" in await say(h, GROUP, ADMIN, "/set ledger_hourly 10d")
    for text in ("one", "two"):
        await say(h, GROUP, MEMBER, text)
    await run_job(h, "activity")
    assert await hourly_rows(h)

    h.clock.advance(timedelta(days=10))
    assert await run_job(h, "ledger_rollup") == 0  # the day has not wholly passed the limit
    assert await hourly_rows(h)
    h.clock.advance(timedelta(days=1))
    assert await run_job(h, "ledger_rollup") >= 1
    assert await hourly_rows(h) == []
    async with h.app.db.transaction() as session:
        daily = (await session.execute(select(LedgerRow))).scalars().all()
    assert sum(r.count for r in daily if r.user_id == MEMBER and r.kind == "message") == 2
    assert await run_job(h, "ledger_rollup") == 0


async def test_the_ledger_keeps_hours_90_days_by_default(harness: Harness) -> None:
    h = harness
    await say(h, GROUP, MEMBER, "hello")
    await run_job(h, "activity")
    h.clock.advance(timedelta(days=60))  # past the old limit of a shorter setting, not 90d
    assert await run_job(h, "ledger_rollup") == 0
    h.clock.advance(timedelta(days=32))
    assert await run_job(h, "ledger_rollup") >= 1
    assert await hourly_rows(h) == []


async def test_the_share_question_says_a_streak_is_named_only_with_the_name(
    harness: Harness,
) -> None:
    h = harness
    await setup_chat(h)
    await opt_in(h, MEMBER)
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    await answer_all(h, MEMBER, ["a win", "hard", None], "anon")
    question = next(
        str(m["text"]) for m in h.fake.sent_messages(MEMBER) if "Share your win" in m["text"]
    )
    assert "Only with your name" in question and "without a name" in question


async def test_who_leaves_has_a_purge_date_30_days_on_that_survives_a_restart(
    harness: Harness,
) -> None:
    h = harness
    await say(h, GROUP, MEMBER, "hello")  # the bot knows Maria is in the chat
    h.fake.user_leaves(GROUP, MEMBER)
    await h.settle()
    left_at = h.clock.now()
    await restart(h)
    async with h.app.db.transaction() as session:
        due = await DeadlineRepository(session).get(PURGE_LEFT, GROUP, MEMBER)
    assert due is not None and due.due_at == left_at + timedelta(days=30)

    # 30 days on, Maria is known from no other chat: she is forgotten as /forget would
    await say(h, GROUP, ADMIN, "still here")
    h.fake.add_chat(SECOND, "Second circle")
    h.fake.set_member(SECOND, ADMIN, "creator")
    h.fake.add_bot_to_chat(SECOND, ADMIN, admin=True)
    await h.settle()
    await say(h, SECOND, ADMIN, "hello second")
    h.fake.user_leaves(GROUP, ADMIN)  # Anton leaves too, but is still in the second chat
    await h.settle()
    h.clock.set(left_at + timedelta(days=31))
    await h.settle()
    async with h.app.db.transaction() as session:
        people = set((await session.execute(select(User.id))).scalars())
        counted = set((await session.execute(select(LedgerRow.user_id))).scalars())
    assert MEMBER not in people and MEMBER not in counted
    assert ADMIN in people  # his profile still serves the second chat
