"""Thanks through the production dispatcher and the fake Bot API: each way to thank (a reply
starting with a thanks word, /thanks in reply, a 👍 ❤ 🙏 reaction, and taking a reaction
back), each limit refusing quietly (the bot neither reacts nor says anything), /me's count of
different people, /thanks top for admins privately and the opt-in public board. The group
never hears about a thanks; no row holds a message's text."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from models.thanks import Thanks
from tests.dispatcher.conftest import ADMIN, BOSS, GROUP, MEMBER, NEWCOMER, OWNER, Harness
from tests.dispatcher.test_ledger import join_and_verify
from tests.dispatcher.test_moderation import command, say

SECRET = "the recipe is three spoons of honey"  # never stored
DARIA, EGOR, FEDOR = 601, 602, 603  # more members, for "at most 3 receivers" and the limit


async def thanks_rows(h: Harness) -> list[dict[str, Any]]:
    async with h.app.db.transaction() as session:
        found = await session.execute(select(Thanks.__table__).order_by(Thanks.id))
        return [dict(row._mapping) for row in found.all()]


def bot_reaction(h: Harness, message_id: int) -> list[str] | None:
    return h.fake.api.bot_reactions.get((GROUP, message_id))


async def thank(h: Harness, giver: int, message_id: int, text: str = "Спасибо!") -> None:
    assert h.fake.send_message(GROUP, giver, text, reply_to_message_id=message_id)
    await h.settle()


async def private(h: Harness, user_id: int, text: str) -> list[str]:
    before = len(h.replies(user_id))
    h.fake.send_message(user_id, user_id, text)
    await h.settle()
    return h.replies(user_id)[before:]


def mentions(message: dict[str, Any]) -> int:
    return sum(
        1 for e in message.get("entities") or [] if e["type"] in ("mention", "text_mention")
    ) + str(message.get("text", "")).count("tg://user")


async def test_a_reply_with_a_thanks_word_is_acknowledged_by_a_reaction_only(
    harness: Harness,
) -> None:
    h = harness
    helped = await say(h, MEMBER, SECRET)
    other = await say(h, OWNER, "and another tip")
    group_posts = len(h.replies(GROUP))

    await thank(h, ADMIN, helped, "Спасибо, очень помогло!")
    await thank(h, BOSS, other, "Thank you, Olga")
    await thank(h, MEMBER, other, "Thanksgiving plans, anyone?")  # not a thanks word

    assert bot_reaction(h, helped) == ["🙏"]
    assert bot_reaction(h, other) == ["🙏"]
    assert len(h.replies(GROUP)) == group_posts  # nothing said in the group
    rows = await thanks_rows(h)
    assert [(r["giver_id"], r["receiver_id"], r["source"]) for r in rows] == [
        (ADMIN, MEMBER, "reply"),
        (BOSS, OWNER, "reply"),
    ]
    assert rows[0]["message_id"] == helped and rows[0]["weight"] == 1.0
    every_value = " ".join(str(v) for row in rows for v in row.values())
    assert "honey" not in every_value and "помогло" not in every_value

    me = await private(h, MEMBER, "/me")
    assert "thanked by 1 different people in the last 90 days" in me[-1]


async def test_thanks_command_in_reply_and_a_reaction_taken_back(harness: Harness) -> None:
    h = harness
    tip = await say(h, MEMBER, "use the side door")
    group_posts = len(h.replies(GROUP))
    await thank(h, OWNER, tip, "/thanks")
    assert bot_reaction(h, tip) == ["🙏"]
    assert len(h.replies(GROUP)) == group_posts
    rows = await thanks_rows(h)
    assert [(r["giver_id"], r["source"]) for r in rows] == [(OWNER, "command")]

    photo = await say(h, ADMIN, "look at this")
    h.fake.reactions.react(GROUP, MEMBER, photo, ["❤"])
    h.fake.reactions.react(GROUP, BOSS, photo, ["🔥"])  # not a thanks emoji
    await h.settle()
    assert bot_reaction(h, photo) == ["🙏"]
    assert [(r["giver_id"], r["receiver_id"], r["source"]) for r in await thanks_rows(h)][1:] == [
        (MEMBER, ADMIN, "reaction")
    ]

    h.fake.reactions.react(GROUP, MEMBER, photo, [])  # taken back
    await h.settle()
    assert len(await thanks_rows(h)) == 1
    assert bot_reaction(h, photo) is None  # the bot's reaction went with it
    h.fake.reactions.react(GROUP, MEMBER, photo, ["👍"])  # given again: it counts again
    await h.settle()
    assert len(await thanks_rows(h)) == 2


async def test_usage_when_thanks_is_not_a_reply(harness: Harness) -> None:
    answer = await command(harness, MEMBER, "/thanks")
    assert "reply to their message" in answer


async def test_each_limit_refuses_quietly(harness: Harness) -> None:
    h = harness
    for user_id, name in ((DARIA, "dariya"), (EGOR, "egorka"), (FEDOR, "fedor")):
        h.fake.add_user(user_id, name.title(), username=name, language_code="en")
        h.fake.set_member(GROUP, user_id, "member")
    await command(h, ADMIN, "/set flood_limit off")  # Maria thanks a lot within seconds
    for user_id in (OWNER, ADMIN, BOSS, DARIA, EGOR, FEDOR):
        await say(h, user_id, "hello")
    own = await say(h, MEMBER, "my own tip")
    group_posts = len(h.replies(GROUP))

    await thank(h, MEMBER, own)  # not yourself
    bot_post = next(m["message_id"] for m in h.fake.sent_messages(GROUP))
    await thank(h, MEMBER, bot_post)  # not a bot
    assert await thanks_rows(h) == [] and bot_reaction(h, own) is None

    # at most 3 receivers per message: the author and the first two named
    tip = await say(h, OWNER, "team effort")
    await thank(h, MEMBER, tip, "thanks @anton @dariya @egorka")
    receivers = [r["receiver_id"] for r in await thanks_rows(h)]
    assert receivers == [OWNER, ADMIN, DARIA]

    # one per pair per day, and thanks_per_day (5 by default)
    again = await say(h, OWNER, "another one")
    await thank(h, MEMBER, again)
    assert len(await thanks_rows(h)) == 3 and bot_reaction(h, again) is None
    for user_id in (EGOR, BOSS):
        await thank(h, MEMBER, await say(h, user_id, "my part"))
    assert len(await thanks_rows(h)) == 5
    extra = await say(h, FEDOR, "I helped too")  # a sixth person: over the day's limit
    await thank(h, MEMBER, extra)
    assert len(await thanks_rows(h)) == 5 and bot_reaction(h, extra) is None

    h.clock.advance(timedelta(days=1))  # a new day: the same pair may thank again
    await thank(h, MEMBER, again)
    assert len(await thanks_rows(h)) == 6

    # named people who did not write within 12 hours, and reactions to older messages
    h.clock.advance(timedelta(hours=13))
    fresh = await say(h, ADMIN, "fresh tip")
    await thank(h, MEMBER, fresh, "спс @dariya")
    assert [r["receiver_id"] for r in await thanks_rows(h)][6:] == [ADMIN]
    h.fake.reactions.react(GROUP, BOSS, own, ["👍"])  # Maria's message is 37 hours old
    await h.settle()
    assert len(await thanks_rows(h)) == 7 and bot_reaction(h, own) is None
    assert len(h.replies(GROUP)) == group_posts  # every refusal was quiet


async def test_a_newcomer_s_thanks_weighs_half(harness: Harness) -> None:
    h = harness
    await join_and_verify(h)
    tip = await say(h, MEMBER, "welcome, read the pinned post")
    await thank(h, NEWCOMER, tip, "thx!")
    (row,) = await thanks_rows(h)
    assert (row["giver_id"], row["weight"]) == (NEWCOMER, 0.5)


async def test_top_goes_to_admins_privately_and_the_board_shows_only_who_allowed(
    harness: Harness,
) -> None:
    h = harness
    await command(h, ADMIN, "/set flood_limit off")
    await private(h, ADMIN, "/start")
    tips = {user_id: await say(h, user_id, "a tip") for user_id in (MEMBER, OWNER)}
    for giver in (ADMIN, BOSS):
        await thank(h, giver, tips[MEMBER])
    await thank(h, BOSS, tips[OWNER], "thanks")  # Boss already thanked Maria: another person

    assert "Only the chat's administrators" in await command(h, MEMBER, "/thanks top")
    assert await command(h, ADMIN, "/thanks top") == "Sent to you in a private chat."
    top = h.replies(ADMIN)[-1]
    assert "Most thanked in “Circle”" in top
    assert top.index("Maria — 2 people") < top.index("Olga — 1 people")
    assert "Only the chat's administrators" not in (await private(h, MEMBER, "/thanks top"))[0]

    assert "board is off" in await command(h, MEMBER, "/thanks board")
    await command(h, ADMIN, "/set thanks_board on")
    assert "Nobody on the thanks board yet" in await command(h, MEMBER, "/thanks board")
    assert "may appear" in (await private(h, OWNER, "/thanks board on"))[-1]
    board = await command(h, MEMBER, "/thanks board")
    assert "Olga — 1 people" in board and "Maria" not in board  # Maria did not allow it
    assert "stays off" in (await private(h, OWNER, "/thanks board off"))[-1]
    assert "Nobody on the thanks board yet" in await command(h, MEMBER, "/thanks board")
    for chat_id in (GROUP, ADMIN, MEMBER, OWNER):  # no message about thanks pings anyone
        assert all(mentions(m) <= 5 for m in h.fake.sent_messages(chat_id))


async def test_a_message_deleted_on_a_report_takes_its_thanks_along(harness: Harness) -> None:
    h = harness
    await private(h, ADMIN, "/start")
    bad = await say(h, MEMBER, "buy my course, thank me later")
    kept = await say(h, MEMBER, "a real tip")
    await thank(h, OWNER, bad)
    await thank(h, ADMIN, kept, "thanks")
    assert len(await thanks_rows(h)) == 2

    await command(h, BOSS, "/report spam", reply_to=bad)
    card = next(m for m in h.fake.sent_messages(ADMIN) if "Report" in m.get("text", ""))
    markup = card["reply_markup"]["inline_keyboard"]
    delete = next(
        b["callback_data"] for row in markup for b in row if b["callback_data"].endswith(":delete")
    )
    h.fake.press_button(ADMIN, ADMIN, card["message_id"], delete)
    await h.settle()

    assert h.fake.is_deleted(GROUP, bad)
    assert [r["message_id"] for r in await thanks_rows(h)] == [kept]
