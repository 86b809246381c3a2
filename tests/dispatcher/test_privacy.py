"""/privacy, /mydata and /forget through the production dispatcher and the fake Bot API.

Maria (MEMBER) uses every feature in two chats: her profile and interests, a buddy pair
(she is Nina's buddy), a check-in answer with a marker text, a warning from Anton, a report
she filed about Olga's message, a payment, activity counts. Then she asks for her data and
to be forgotten; the tables are read back directly."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

import models
from bot.services.privacy.registry import REGISTRY, Forget, person_columns
from models.billing import Payment, Plan, Renewal, Subscription, SubStatus
from models.buddies import BuddyWaiting
from models.checkins import CheckinEntry
from models.ledger import LedgerRow
from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, NEWCOMER, OWNER, Harness
from tests.dispatcher.test_buddies import make_volunteer, verify_newcomer
from tests.dispatcher.test_checkins import answer_all, opt_in, say, setup_chat
from tests.dispatcher.test_ledger import flush_job
from tests.dispatcher.test_moderation import command
from tests.dispatcher.test_moderation import say as post

SECOND = -1001000000002  # a second group Maria is in
MARKER = "my landlord is evicting me on friday"  # her check-in answer
RUSSIAN = 77  # Ivan, whose Telegram speaks Russian


async def in_group(h: Harness, chat_id: int, user_id: int, text: str) -> int:
    update = h.fake.send_message(chat_id, user_id, text)
    assert update is not None
    await h.settle()
    return int(update["message"]["message_id"])


async def maria_everywhere(h: Harness) -> None:
    """Maria uses every feature; Nina, Anton and Olga appear in her records."""
    await setup_chat(h)
    await make_volunteer(h, MEMBER, "Maria", interests="gardening")
    await verify_newcomer(h, NEWCOMER, "Nina")
    await opt_in(h, MEMBER)
    assert "Check-in started" in await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    await answer_all(h, MEMBER, [MARKER, "Sleeping", None], "no")
    rude = await post(h, MEMBER, "something rude")
    assert "warn" in (await command(h, ADMIN, "/warn rude", reply_to=rude)).lower()
    spam = await post(h, OWNER, "buy my stuff")
    assert "told" in await command(h, MEMBER, "/report spam", reply_to=spam)
    h.fake.add_chat(SECOND, "Garden")
    h.fake.set_member(SECOND, OWNER, "creator")
    h.fake.set_member(SECOND, MEMBER, "member")
    h.fake.add_bot_to_chat(SECOND, OWNER, admin=True)
    await h.settle()
    await in_group(h, SECOND, MEMBER, "hello garden")
    now = h.clock.now()
    async with h.app.db.transaction() as session:
        session.add(
            Payment(
                charge_id="charge-maria",
                chat_id=GROUP,
                user_id=MEMBER,
                amount=100,
                plan=Plan.ONCE,
                paid_at=now,
                granted_seconds=30 * 86400,
            )
        )
        session.add(
            Subscription(
                chat_id=GROUP,
                user_id=MEMBER,
                status=SubStatus.ACTIVE,
                plan=Plan.ONCE,
                ends_at=now + timedelta(days=30),
                renewal=Renewal.NONE,
                updated_at=now,
            )
        )
    await flush_job(h)


def last(h: Harness, chat_id: int) -> dict[str, Any]:
    return h.fake.sent_messages(chat_id)[-1]


async def press(h: Harness, user_id: int, data: str) -> str:
    """Press the newest button with `data` in the user's private chat; the bot's last text."""
    message = next(
        m for m in reversed(h.fake.sent_messages(user_id)) if data in str(m.get("reply_markup"))
    )
    before = len(h.fake.sent_messages(user_id))
    h.fake.press_button(user_id, user_id, message["message_id"], data)
    await h.settle()
    sent = h.fake.sent_messages(user_id)
    return str(sent[-1]["text"]) if len(sent) > before else ""


async def rows_of(h: Harness, model: type[Any], *where: Any) -> int:
    async with h.app.db.transaction() as session:
        found = await session.execute(select(func.count()).select_from(model).where(*where))
        return int(found.scalar_one())


async def tables_naming(h: Harness, user_id: int, words: tuple[str, ...]) -> dict[str, int]:
    """Per table, how many rows hold the person's id (in a registry person column) or one
    of `words` (in any text)."""
    listed = person_columns()
    found: dict[str, int] = {}
    async with h.app.db.transaction() as session:
        for table in models.Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                ids = [row[c] for c in listed.get(table.name, set())]
                text = " ".join(str(v).lower() for v in row.values() if isinstance(v, str))
                if user_id in ids or any(word in text for word in words):
                    found[table.name] = found.get(table.name, 0) + 1
    return found


# ----- /privacy ----------------------------------------------------------------------------


async def test_privacy_lists_every_feature_in_the_person_s_language(harness: Harness) -> None:
    h = harness
    await say(h, MEMBER, MEMBER, "/privacy")
    english = "\n".join(m["text"] for m in h.fake.sent_messages(MEMBER))
    for text in ("What Hearth keeps about you", "Check-in answers", "Activity counts"):
        assert text in english
    assert "Payments" in english and "needed for refunds and support" in english
    assert "Count me only in totals" in str(last(h, MEMBER)["reply_markup"])

    h.fake.add_user(RUSSIAN, "Иван", username="ivan", language_code="ru")
    await say(h, RUSSIAN, RUSSIAN, "/privacy")
    russian = "\n".join(m["text"] for m in h.fake.sent_messages(RUSSIAN))
    for text in ("Что Hearth хранит о вас", "Ответы на чекины", "Счётчики активности"):
        assert text in russian
    assert "Check-in" not in russian
    titles = sum(1 for kind in REGISTRY if kind.key)  # every kind of data has its line
    assert russian.count("/forget:") == titles


async def test_privacy_in_a_group_points_to_the_private_chat(harness: Harness) -> None:
    h = harness
    for name in ("/privacy", "/mydata", "/forget"):
        answer = await command(h, MEMBER, name)
        assert "private chat" in answer
    assert all("Hearth keeps" not in text for text in h.replies(GROUP))


async def test_counted_only_in_totals_vanishes_from_atrisk(harness: Harness) -> None:
    from tests.dispatcher.test_drift import drifting_chat

    h = harness
    await drifting_chat(h)
    await say(h, GROUP, ADMIN, "/atrisk")
    assert "1. Nina — silent 40 d" in last(h, ADMIN)["text"]

    await say(h, NEWCOMER, NEWCOMER, "/privacy")
    await press(h, NEWCOMER, "pv:t:1")
    assert h.fake.callback_answers[-1]["text"] == "Done: you are counted only in totals."
    assert "Show me in lists again" in str(last(h, NEWCOMER)["reply_markup"])
    await say(h, GROUP, ADMIN, "/atrisk")
    assert "Nina" not in last(h, ADMIN)["text"]

    await press(h, NEWCOMER, "pv:t:0")
    await say(h, GROUP, ADMIN, "/atrisk")
    assert "1. Nina — silent 40 d" in last(h, ADMIN)["text"]


# ----- /mydata -----------------------------------------------------------------------------


def walk(value: Any) -> list[tuple[str, Any]]:
    """Every (key, leaf value) of a JSON document."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in [(k, v), *walk(v)]]
    if isinstance(value, list):
        return [pair for item in value for pair in walk(item)]
    return []


async def test_mydata_sends_everything_about_her_and_nobody_else_once_a_day(
    harness: Harness,
) -> None:
    h = harness
    await maria_everywhere(h)
    documents = len(h.fake.payments.documents)
    summary = await say(h, MEMBER, MEMBER, "/mydata")
    assert len(h.fake.payments.documents) == documents + 1
    sent = h.fake.payments.documents[-1]
    assert sent["chat_id"] == MEMBER and sent["file_name"] == "hearth-mydata.json"
    document = json.loads(sent["data"])

    assert document["profile"]["username"] == "maria"
    assert document["profile"]["interests"] == "gardening"
    assert {c["chat"] for c in document["chats"]} == {"Circle", "Garden"}
    assert document["checkin_answers"][0]["answers"][0] == MARKER
    assert document["buddy_pairs"][0]["you_were"] == "buddy"
    assert [w["reason"] for w in document["warnings"]] == ["rude"]
    assert [r["reason"] for r in document["reports_filed"]] == ["spam"]
    assert document["payments"][0]["stars"] == 100
    activity = {a["chat"]: a["counts"] for a in document["activity"]}
    assert activity["Garden"]["message"] == 1 and activity["Circle"]["message"] >= 2
    # nobody else: no other person's id, name or @username anywhere
    leaves = walk(document)
    assert not [k for k, _ in leaves if k.endswith("_id") and k != "charge_id"]
    assert NEWCOMER not in [v for _, v in leaves if isinstance(v, int)]
    flat = json.dumps(document, ensure_ascii=False).lower()
    for other in ("nina", "anton", "olga", "buy my stuff"):
        assert other not in flat
    for line in ("Check-in answers: 1", "• Garden: member, in the chat", "Payments: 1"):
        assert line in summary
    assert "Activity in Garden: messages: 1" in summary

    h.clock.advance(timedelta(hours=20))
    again = await say(h, MEMBER, MEMBER, "/mydata")
    assert again.startswith("You can ask for your data once a day. Next time:")
    assert len(h.fake.payments.documents) == documents + 1
    h.clock.advance(timedelta(hours=5))
    await say(h, MEMBER, MEMBER, "/mydata")
    assert len(h.fake.payments.documents) == documents + 2


# ----- /forget -----------------------------------------------------------------------------


async def test_forget_erases_her_everywhere_and_keeps_the_warning_and_the_payment(
    harness: Harness,
) -> None:
    h = harness
    await maria_everywhere(h)
    words = ("maria", MARKER)
    assert {"users", "members", "checkin_entries", "ledger", "buddy_pairs", "reports"} <= set(
        await tables_naming(h, MEMBER, words)
    )
    ask = await say(h, MEMBER, MEMBER, "/forget")
    assert ask.startswith("Erase everything about you?")
    answer = await press(h, MEMBER, "pv:f:1")

    assert answer.startswith("Done: I have erased what I kept about you (chats: 2).")
    assert "active warnings: 1" in answer and "payment records: 1" in answer
    left = await tables_naming(h, MEMBER, words)
    kept = {kind.table for kind in REGISTRY if kind.forget is Forget.KEEP}
    assert set(left) <= kept, left
    assert left == {"warnings": 1, "payments": 1, "subscriptions": 1}
    assert await rows_of(h, CheckinEntry, CheckinEntry.user_id == MEMBER) == 0
    assert await rows_of(h, Payment, Payment.user_id == MEMBER) == 1
    # Nina, whose buddy Maria was, waits for a new one (no other volunteer yet)
    assert await rows_of(h, BuddyWaiting, BuddyWaiting.newcomer_id == NEWCOMER) == 1

    assert "haven't seen you" in await say(h, MEMBER, MEMBER, "/me")
    log = await command(h, ADMIN, "/modlog")
    assert "warning" in log.lower() and "a former member" in log
    assert "Maria" not in log

    # back in the group she is someone new: a plain member, not the veteran she was
    assert h.app.hearth.directory.cached(GROUP, MEMBER) is None
    await in_group(h, GROUP, MEMBER, "hi again")
    assert h.app.hearth.directory.cached(GROUP, MEMBER) == "member"


async def test_an_active_ban_stays_in_the_audit_log_and_the_answer_says_so(
    harness: Harness,
) -> None:
    h = harness
    await say(h, MEMBER, MEMBER, "/start")
    message = await post(h, MEMBER, "something awful")
    await command(h, ADMIN, "/ban", reply_to=message)
    assert h.fake.member(GROUP, MEMBER)["status"] == "kicked"
    await say(h, MEMBER, MEMBER, "/forget")
    answer = await press(h, MEMBER, "pv:f:1")
    assert "active bans or mutes: 1" in answer
    assert await tables_naming(h, MEMBER, ("maria",)) == {"mod_actions": 1}


async def test_saying_no_deletes_nothing(harness: Harness) -> None:
    h = harness
    await maria_everywhere(h)
    before = await tables_naming(h, MEMBER, ("maria", MARKER))
    await say(h, MEMBER, MEMBER, "/forget")
    assert await press(h, MEMBER, "pv:f:0") == "Nothing was deleted."
    assert await tables_naming(h, MEMBER, ("maria", MARKER)) == before
    assert "haven't seen you" not in await say(h, MEMBER, MEMBER, "/me")


async def test_counts_still_in_memory_do_not_come_back_after_forget(harness: Harness) -> None:
    h = harness
    await say(h, MEMBER, MEMBER, "/start")
    await in_group(h, GROUP, MEMBER, "first")
    await flush_job(h)
    await in_group(h, GROUP, MEMBER, "second, only counted in memory so far")
    assert h.app.hearth.ledger.pending() > 0
    await say(h, MEMBER, MEMBER, "/forget")
    await press(h, MEMBER, "pv:f:1")
    await flush_job(h)
    assert await rows_of(h, LedgerRow, LedgerRow.user_id == MEMBER) == 0
    await in_group(h, GROUP, OWNER, "the others are still counted")
    await flush_job(h)
    assert await rows_of(h, LedgerRow, LedgerRow.user_id == OWNER) > 0


async def test_a_rules_confirmation_still_running_is_kept_and_can_finish(
    harness: Harness,
) -> None:
    h = harness
    h.fake.user_joins(GROUP, NEWCOMER)
    await h.settle()
    assert h.app.hearth.directory.cached(GROUP, NEWCOMER) == "pending"
    await say(h, NEWCOMER, NEWCOMER, "/forget")
    answer = await press(h, NEWCOMER, "pv:f:1")
    assert "rules confirmation still running: 1" in answer
    welcome = next(
        m for m in h.fake.sent_messages(GROUP) if "hearth:verify" in str(m.get("reply_markup"))
    )
    h.fake.press_button(NEWCOMER, GROUP, welcome["message_id"], "hearth:verify")
    await h.settle()
    assert h.app.hearth.directory.cached(GROUP, NEWCOMER) == "newcomer"
    assert h.fake.member(GROUP, NEWCOMER)["status"] != "restricted"
