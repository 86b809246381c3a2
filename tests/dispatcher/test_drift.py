"""/atrisk through the production dispatcher and the fake Bot API: activity recorded by the
ledger, the clock moved weeks ahead, the list sent to the admin privately (the group hears
no names), and the "ask their buddy to say hi" button nudging the buddy once a day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, NEWCOMER, Harness
from tests.dispatcher.test_buddies import make_volunteer, say, texts, verify_newcomer
from tests.dispatcher.test_ledger import flush_job

LEAVER = 41  # Leo: active long ago, then left the chat


async def last_private(h: Harness, user_id: int) -> dict[str, Any]:
    return h.fake.sent_messages(user_id)[-1]


async def drifting_chat(h: Harness) -> None:
    """Nina (a newcomer with Maria as her buddy) and Leo speak, then 40 days pass; Maria
    and the admin were active yesterday, Leo has just left."""
    await make_volunteer(h, MEMBER, "Maria")
    await verify_newcomer(h, NEWCOMER, "Nina")
    h.fake.add_user(LEAVER, "Leo", username="leo", language_code="en")
    h.fake.set_member(GROUP, LEAVER, "member")
    await say(h, GROUP, NEWCOMER, "hi all, glad to be here")
    await say(h, GROUP, LEAVER, "hello")
    await say(h, ADMIN, ADMIN, "/start")
    await flush_job(h)
    h.clock.advance(timedelta(days=39))
    await say(h, GROUP, MEMBER, "still here")
    await say(h, GROUP, ADMIN, "me too")
    h.clock.advance(timedelta(days=1))
    h.fake.user_leaves(GROUP, LEAVER)
    await h.settle()
    await flush_job(h)


async def test_member_silent_since_40_days_ago_is_listed_privately_without_the_others(
    harness: Harness,
) -> None:
    h = harness
    await drifting_chat(h)
    before = len(texts(h, GROUP))
    in_group = await say(h, GROUP, ADMIN, "/atrisk")
    assert in_group == "I've sent you the list in a private chat."
    assert texts(h, GROUP)[before:] == [in_group]  # and nothing else: no names
    answer = await last_private(h, ADMIN)
    assert "Gone quiet in “Circle”" in answer["text"]
    assert "1. Nina — silent 40 d" in answer["text"]
    for name in ("Maria", "Leo", "Anton"):  # active yesterday, left, the admin himself
        assert name not in answer["text"]
    buttons = answer["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in buttons] == [
        [f"drift:b:{GROUP}:{NEWCOMER}"]
    ]


async def test_the_button_nudges_the_buddy_privately_once_a_day(harness: Harness) -> None:
    h = harness
    await drifting_chat(h)
    await say(h, GROUP, ADMIN, "/atrisk")
    answer = await last_private(h, ADMIN)
    data = f"drift:b:{GROUP}:{NEWCOMER}"
    before = len(h.fake.sent_messages(MEMBER))
    in_group = len(h.fake.sent_messages(GROUP))

    h.fake.press_button(ADMIN, ADMIN, answer["message_id"], data)
    await h.settle()
    await h.app.hearth.outbox.drain()
    assert h.fake.callback_answers[-1]["text"].startswith("Sent")
    h.fake.press_button(ADMIN, ADMIN, answer["message_id"], data)
    await h.settle()
    await h.app.hearth.outbox.drain()
    assert h.fake.callback_answers[-1]["text"] == "Their buddy was already asked today."
    h.clock.advance(timedelta(hours=12))  # pressed in the chat's quiet hours, it waits for them
    await h.app.hearth.outbox.drain()

    nudges = h.fake.sent_messages(MEMBER)[before:]
    assert [m["text"] for m in nudges] == [
        "👋 Nina has been quiet in “Circle” for a few weeks. The admins thought a hello from "
        "you, their buddy, might help. Maybe write to them?"
    ]
    assert len(h.fake.sent_messages(GROUP)) == in_group  # the group hears nothing

    h.clock.advance(timedelta(days=1))  # another day: another nudge may go
    h.fake.press_button(ADMIN, ADMIN, answer["message_id"], data)
    await h.settle()
    await h.app.hearth.outbox.drain()
    assert len(h.fake.sent_messages(MEMBER)) == before + 2


async def test_a_member_who_paused_nudges_has_no_button_and_is_not_nudged(
    harness: Harness,
) -> None:
    h = harness
    await drifting_chat(h)
    await say(h, GROUP, ADMIN, "/atrisk")
    before = await last_private(h, ADMIN)  # the button as it was before the pause
    assert "Paused until" in await say(h, NEWCOMER, NEWCOMER, "/pause 4w")
    await say(h, GROUP, ADMIN, "/atrisk")
    answer = await last_private(h, ADMIN)
    assert "1. Nina — silent 40 d" in answer["text"]
    assert "reply_markup" not in answer
    privately = len(texts(h, MEMBER))
    h.fake.press_button(ADMIN, ADMIN, before["message_id"], f"drift:b:{GROUP}:{NEWCOMER}")
    await h.settle()
    await h.app.hearth.outbox.drain()
    assert h.fake.callback_answers[-1]["text"].startswith("Their buddy can't be reached")
    assert texts(h, MEMBER)[privately:] == []


async def test_a_non_admin_is_refused_and_the_group_sees_no_names(harness: Harness) -> None:
    h = harness
    await drifting_chat(h)
    before, privately = len(texts(h, GROUP)), len(texts(h, MEMBER))
    refusal = await say(h, GROUP, MEMBER, "/atrisk")
    assert "admin" in refusal
    assert texts(h, GROUP)[before:] == [refusal]
    assert texts(h, MEMBER)[privately:] == []

    # a press with the button's data by someone who is not the chat's admin
    await say(h, MEMBER, MEMBER, "/help")
    mine = await last_private(h, MEMBER)
    h.fake.press_button(MEMBER, MEMBER, mine["message_id"], f"drift:b:{GROUP}:{NEWCOMER}")
    await h.settle()
    await h.app.hearth.outbox.drain()
    assert h.fake.callback_answers[-1]["text"] == "Only the chat's admins can do this."
    assert not any("quiet" in text for text in texts(h, MEMBER)[privately:])
    assert texts(h, GROUP)[before:] == [refusal]


async def test_nobody_quiet_and_too_little_history_are_said_plainly(harness: Harness) -> None:
    h = harness
    await say(h, ADMIN, ADMIN, "/start")
    await say(h, GROUP, MEMBER, "hello")
    await say(h, GROUP, ADMIN, "/atrisk")
    assert "collecting activity only since" in (await last_private(h, ADMIN))["text"]

    h.clock.advance(timedelta(days=30))
    await say(h, GROUP, MEMBER, "still here")
    await say(h, GROUP, ADMIN, "/atrisk")
    assert (await last_private(h, ADMIN))["text"].startswith("Nobody has gone quiet in “Circle”")


async def test_in_private_the_admin_gets_the_list_of_the_chat_they_run(harness: Harness) -> None:
    h = harness
    await drifting_chat(h)
    await say(h, ADMIN, ADMIN, "/atrisk")
    assert "1. Nina — silent 40 d" in (await last_private(h, ADMIN))["text"]
    await say(h, MEMBER, MEMBER, "/atrisk")
    assert (await last_private(h, MEMBER))["text"] == "You don't administer any chat I'm in."
