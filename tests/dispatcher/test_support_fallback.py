"""A support request whose buddy blocked the bot goes to the admins; if nobody can be
reached, the person is told (issue 11, item 15)."""

from __future__ import annotations

from datetime import timedelta

from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, NEWCOMER, OWNER, Harness
from tests.dispatcher.test_buddies import active_buddy, make_volunteer, verify_newcomer
from tests.dispatcher.test_checkins import answer_all, press, run, say, setup_chat, texts


async def nina_asks_for_support(h: Harness) -> None:
    """Maria is Nina's buddy; Nina answers a check-in with a support request."""
    await setup_chat(h, checkin="sun 19:00", quiet_hours="off")
    await make_volunteer(h, MEMBER, "Maria")
    await verify_newcomer(h, NEWCOMER, "Nina")
    assert await active_buddy(h, NEWCOMER) == MEMBER
    assert "You're in" in await press(h, NEWCOMER, "ci:o:")
    await say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    await answer_all(h, NEWCOMER, ["Found my way around", "Shyness", "Who to ask about X?"], "no")


def asked(h: Harness, user_id: int) -> list[str]:
    return [x for x in texts(h, user_id) if "Who to ask about X?" in x]


async def test_a_support_request_reaches_the_admins_when_the_buddy_blocked_the_bot(
    harness: Harness,
) -> None:
    h = harness
    await say(h, OWNER, OWNER, "/start")
    await nina_asks_for_support(h)
    h.fake.block_bot(MEMBER)  # the bot only learns it when the request is delivered
    h.clock.advance(timedelta(days=2))
    await run(h)
    await run(h)
    assert not asked(h, MEMBER)
    to_owner = asked(h, OWNER)
    assert len(to_owner) == 1 and "buddy can't receive" in to_owner[0]
    assert not any("couldn't pass on" in x for x in texts(h, NEWCOMER))


async def test_a_buddy_known_to_have_blocked_the_bot_is_skipped_at_the_close(
    harness: Harness,
) -> None:
    h = harness
    await say(h, OWNER, OWNER, "/start")
    await nina_asks_for_support(h)
    h.fake.block_bot(MEMBER)
    await h.app.hearth.notifier.send(MEMBER, "ping")  # the bot learns it before the close
    h.clock.advance(timedelta(days=2))
    await run(h)
    assert len(asked(h, OWNER)) == 1
    assert not asked(h, MEMBER)


async def test_the_person_is_told_when_nobody_can_receive_their_request(
    harness: Harness,
) -> None:
    h = harness
    await nina_asks_for_support(h)  # the admins never started the bot
    h.fake.block_bot(MEMBER)
    h.clock.advance(timedelta(days=2))
    await run(h)
    await run(h)
    await run(h)
    assert not asked(h, MEMBER) and not asked(h, OWNER) and not asked(h, ADMIN)
    notes = [x for x in texts(h, NEWCOMER) if "couldn't pass on your support request" in x]
    assert len(notes) == 1 and "Circle" in notes[0]
