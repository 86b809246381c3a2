"""Text typed in private during an open round without pressing "Answer" first (issue 11,
item 19): the first answer when one round awaits the person, else the buttons to choose."""

from __future__ import annotations

import json

from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, OWNER, Harness
from tests.dispatcher.test_checkins import buttons, entry, last, say, setup_chat

SECOND = -1001000000002


async def open_round(h: Harness, chat_id: int) -> None:
    await say(h, chat_id, MEMBER, "hello everyone")  # the bot learns Maria is in the chat
    assert "Check-in started" in await say(h, chat_id, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()


async def test_text_typed_before_pressing_answer_is_the_first_answer(harness: Harness) -> None:
    h = harness
    await setup_chat(h)
    await say(h, GROUP, MEMBER, "hello everyone")
    assert "on for" in await say(h, MEMBER, MEMBER, "/checkins on")
    await open_round(h, GROUP)
    reply = await say(h, MEMBER, MEMBER, "I ran 5 km")
    assert "first answer" in reply and "2/3" in reply and "What was hard?" in reply
    assert json.loads((await entry(h, MEMBER)).answers)[0] == "I ran 5 km"
    assert "3/3" in await say(h, MEMBER, MEMBER, "Sleeping")  # the flow goes on as usual


async def test_text_typed_while_two_rounds_wait_asks_which_with_buttons(harness: Harness) -> None:
    h = harness
    h.fake.add_chat(SECOND, "Garden")
    h.fake.set_member(SECOND, OWNER, "creator")
    h.fake.set_member(SECOND, ADMIN, "administrator")
    h.fake.set_member(SECOND, MEMBER, "member")
    h.fake.add_bot_to_chat(SECOND, OWNER, admin=True)
    await h.settle()
    await setup_chat(h)
    await say(h, GROUP, MEMBER, "hello everyone")
    await say(h, SECOND, MEMBER, "hello gardeners")
    assert "on for" in await say(h, MEMBER, MEMBER, "/checkins on")
    await open_round(h, GROUP)
    await open_round(h, SECOND)
    reply = await say(h, MEMBER, MEMBER, "I ran 5 km")
    assert "Which one" in reply
    labels = [b["text"] for b in buttons(last(h, MEMBER))]
    assert any("Circle" in x for x in labels) and any("Garden" in x for x in labels)
    assert json.loads((await entry(h, MEMBER)).answers) == []  # nothing taken
