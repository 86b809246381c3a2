"""The activity ledger through the production dispatcher and the fake Bot API: messages,
a join and verification, reactions and a warning become counters after the activity flush,
no message text reaches the table, /me shows the days active, and an upgrade moves them."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.services.ledger import LedgerKind
from models.ledger import LedgerRow
from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, NEWCOMER, OWNER, Harness
from tests.dispatcher.test_moderation import command, say
from tests.dispatcher.test_supergroups import BASIC, SUPER, basic_group

SECRET = "my landlord is evicting me on friday"  # what must never reach the ledger


async def flush_job(h: Harness) -> None:
    """Run the scheduled activity flush (the ledger's counters go with it)."""
    job = h.app.scheduler.get_job("activity")
    assert job is not None
    await job.func()


async def ledger_rows(h: Harness) -> list[dict[str, Any]]:
    async with h.app.db.transaction() as session:
        found = await session.execute(select(LedgerRow.__table__))
        return [dict(row._mapping) for row in found.all()]


def totals(rows: list[dict[str, Any]], chat_id: int = GROUP) -> Counter[tuple[int, str]]:
    counted: Counter[tuple[int, str]] = Counter()
    for row in rows:
        if row["chat_id"] == chat_id:
            counted[(row["user_id"], row["kind"])] += row["count"]
    return counted


async def join_and_verify(h: Harness) -> None:
    h.fake.user_joins(GROUP, NEWCOMER)
    await h.settle()
    welcome = next(
        m for m in h.fake.sent_messages(GROUP) if "hearth:verify" in str(m.get("reply_markup"))
    )
    h.fake.press_button(NEWCOMER, GROUP, welcome["message_id"], "hearth:verify")
    await h.settle()


async def test_activity_through_the_fake_becomes_counters_without_any_text(
    harness: Harness,
) -> None:
    h = harness
    first = await say(h, MEMBER, SECRET)
    second = await say(h, MEMBER, "second message")
    target = await say(h, OWNER, "the owner speaks")
    h.fake.edit_message(GROUP, MEMBER, first, f"{SECRET} (edited)")
    await h.settle()  # an edit is not another message
    await join_and_verify(h)
    h.fake.reactions.react(GROUP, MEMBER, target, ["👍"])
    h.fake.reactions.react(GROUP, MEMBER, target, [])  # taken back: not activity
    h.fake.reactions.react(GROUP, ADMIN, target, ["🔥"], anonymous=True)  # nobody to count
    h.fake.reactions.counts_update(GROUP, target)  # anonymous totals: not counted
    await h.settle()
    await command(h, ADMIN, "/warn rudeness", reply_to=second)
    assert await ledger_rows(h) == []  # nothing written on the per-message path

    await flush_job(h)

    rows = await ledger_rows(h)
    assert totals(rows) == {
        (MEMBER, LedgerKind.MESSAGE): 2,
        (OWNER, LedgerKind.MESSAGE): 1,
        (ADMIN, LedgerKind.MESSAGE): 1,  # the /warn command is a message too
        (NEWCOMER, LedgerKind.JOINED): 1,
        (NEWCOMER, LedgerKind.VERIFIED): 1,
        (MEMBER, LedgerKind.REACTION): 1,
        (MEMBER, LedgerKind.WARNED): 1,
    }
    hour = h.clock.now().replace(minute=0, second=0, microsecond=0)
    assert {row["bucket"] for row in rows} == {hour}
    assert not any(row["daily"] for row in rows)
    for row in rows:  # every column of every row: ids, an hour, a kind, a number
        assert set(row) == {"chat_id", "user_id", "bucket", "kind", "count", "daily"}
        assert row["kind"] in set(LedgerKind)
    every_text = " ".join(str(v) for row in rows for v in row.values())
    for text in (SECRET, "landlord", "rudeness", "second message", "owner speaks", "👍"):
        assert text not in every_text


async def test_leaving_and_being_removed_are_told_apart(harness: Harness) -> None:
    h = harness
    await join_and_verify(h)
    h.fake.user_leaves(GROUP, NEWCOMER)
    await h.settle()
    await say(h, MEMBER, "hello")
    await command(h, ADMIN, "/ban @maria spam")
    await flush_job(h)

    counted = totals(await ledger_rows(h))
    assert counted[(NEWCOMER, LedgerKind.LEFT)] == 1
    assert counted[(NEWCOMER, LedgerKind.REMOVED)] == 0
    assert counted[(MEMBER, LedgerKind.BANNED)] == 1
    assert counted[(MEMBER, LedgerKind.REMOVED)] == 1
    assert counted[(MEMBER, LedgerKind.LEFT)] == 0


async def test_me_shows_the_days_active_in_the_last_30(harness: Harness) -> None:
    h = harness
    for _ in range(3):
        await say(h, MEMBER, "morning all")
        await say(h, MEMBER, "and again")
        h.clock.advance(timedelta(days=1))
    h.clock.advance(timedelta(days=2))

    h.fake.send_message(MEMBER, MEMBER, "/me")
    await h.settle()
    answer = h.replies(MEMBER)[-1]
    assert "Circle" in answer
    assert "active on 3 of the last 30 days" in answer

    h.clock.advance(timedelta(days=26))  # the first two of the three fall out of the window
    h.fake.send_message(MEMBER, MEMBER, "/me")
    await h.settle()
    assert "active on 1 of the last 30 days" in h.replies(MEMBER)[-1]


async def test_counts_not_yet_flushed_move_with_an_upgraded_group(harness: Harness) -> None:
    h = harness
    await basic_group(h)
    h.fake.send_message(BASIC, MEMBER, "in the basic group")
    await h.settle()
    assert await ledger_rows(h) == []

    h.fake.upgrade_group(BASIC, SUPER, OWNER)
    await h.settle()
    await flush_job(h)

    rows = await ledger_rows(h)
    assert totals(rows, SUPER)[(MEMBER, LedgerKind.MESSAGE)] == 1
    assert not [row for row in rows if row["chat_id"] == BASIC]
