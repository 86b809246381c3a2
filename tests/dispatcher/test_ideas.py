"""The ideas board through the production dispatcher and the fake Bot API: posting with 👍/👎
buttons, changing and taking back a vote, the edits batched by the job (100 votes in a
minute, a handful of edits), /ideas by score, the daily limit across a restart, admins'
decisions told privately after the quiet hours, and /forget and /mydata."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.services.ideas import DAILY_LIMIT
from models.members import Member
from tests.dispatcher.conftest import ADMIN, BOSS, GROUP, MEMBER, NEWCOMER, OWNER, Harness, restart
from tests.dispatcher.test_buddies import say, texts, verify_newcomer

IDEA = "Weekly coffee calls for newcomers"


async def post_idea(h: Harness, user_id: int, text: str = IDEA) -> dict[str, Any]:
    """`/idea text` in the group; the bot's post of it."""
    answer = await say(h, GROUP, user_id, f"/idea {text}")
    assert answer.startswith("💡 Idea #"), answer
    return h.fake.sent_messages(GROUP)[-1]


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {"inline_keyboard": []}
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


def current(h: Harness, message_id: int) -> dict[str, Any]:
    return next(m for m in h.fake.sent_messages(GROUP) if m["message_id"] == message_id)


async def vote(h: Harness, user_id: int, post: dict[str, Any], up: bool) -> str:
    """Press 👍 (`up`) or 👎 under the post; the toast the presser sees."""
    data = next(data for text, data in buttons(post) if text.startswith("👍" if up else "👎"))
    h.fake.press_button(user_id, GROUP, post["message_id"], data)
    await h.settle()
    return str(h.fake.callback_answers[-1]["text"])


async def edit_job(h: Harness) -> int:
    """Run the scheduled edit pass of the vote buttons."""
    job = h.app.scheduler.get_job("idea_buttons")
    assert job is not None
    return int(await job.func())


async def seen(h: Harness, *user_ids: int) -> None:
    """The people write in the group, so the bot knows them as its members (only they vote)."""
    for user_id in user_ids:
        h.fake.send_message(GROUP, user_id, "hi")
    await h.settle()


def later(h: Harness, seconds: float) -> None:
    """Time passes for the bot and for Telegram alike."""
    h.clock.advance(timedelta(seconds=seconds))
    h.fake.advance(seconds)


async def test_a_member_posts_an_idea_and_votes_change_and_are_taken_back(
    harness: Harness,
) -> None:
    h = harness
    await seen(h, OWNER, ADMIN)
    post = await post_idea(h, MEMBER)
    assert post["text"] == f"💡 Idea #1 from Maria\n\n{IDEA}"
    assert buttons(post) == [("👍 0", "idea:1:1"), ("👎 0", "idea:1:0")]
    assert post["reply_to_message"]["text"] == f"/idea {IDEA}"

    assert await vote(h, ADMIN, post, up=True) == (
        "👍 counted (1 👍 · 0 👎). Press 👍 again to take it back."
    )
    assert await vote(h, ADMIN, post, up=False) == (
        "Changed to 👎 (0 👍 · 1 👎). Press 👎 again to take it back."
    )
    assert await vote(h, ADMIN, post, up=False) == "Your vote is taken back (0 👍 · 0 👎)."
    assert await vote(h, OWNER, post, up=True) == (
        "👍 counted (1 👍 · 0 👎). Press 👍 again to take it back."
    )
    assert buttons(current(h, post["message_id"]))[0][0] == "👍 0"  # not edited per vote
    assert await edit_job(h) == 1
    assert buttons(current(h, post["message_id"])) == [("👍 1", "idea:1:1"), ("👎 0", "idea:1:0")]
    assert await edit_job(h) == 0  # nothing new: no edit


async def test_a_hundred_votes_in_a_minute_make_a_handful_of_edits(harness: Harness) -> None:
    h = harness
    h.fake.group_edits_limited = True  # each edit counts against the group's 20 a minute
    post = await post_idea(h, MEMBER)
    voters = range(10_000, 10_100)
    for user_id in voters:
        h.fake.add_user(user_id, f"Voter{user_id}", language_code="en")
        h.fake.set_member(GROUP, user_id, "member")
    await seen(h, *voters)
    edits_before = len(h.fake.calls_of("editMessageReplyMarkup"))
    for number, user_id in enumerate(voters):
        h.fake.press_button(user_id, GROUP, post["message_id"], "idea:1:1")
        await h.deliver()
        later(h, 0.6)  # 100 votes in 60 seconds
        if number % 8 == 7:  # the job runs every 5 seconds
            await edit_job(h)
    later(h, 10)
    await edit_job(h)

    edits = len(h.fake.calls_of("editMessageReplyMarkup")) - edits_before
    assert 1 <= edits <= 8, edits  # at most one edit per idea every 10 seconds
    assert h.fake.rate_limited == 0
    assert buttons(current(h, post["message_id"]))[0] == ("👍 100", "idea:1:1")


async def test_the_edit_mark_survives_a_restart(harness: Harness) -> None:
    h = harness
    await seen(h, ADMIN)
    post = await post_idea(h, MEMBER)
    await vote(h, ADMIN, post, up=True)
    await restart(h)  # the vote was counted, its edit not yet made
    assert await edit_job(h) == 1
    assert buttons(current(h, post["message_id"]))[0][0] == "👍 1"


async def test_at_most_three_ideas_a_day_even_across_a_restart(harness: Harness) -> None:
    h = harness
    for number in range(DAILY_LIMIT):
        await post_idea(h, MEMBER, f"idea number {number}")
    refusal = "You have suggested 3 ideas in the last 24 hours, the most a day. Try again tomorrow."
    assert await say(h, GROUP, MEMBER, "/idea one more") == refusal
    await restart(h)
    assert await say(h, GROUP, MEMBER, "/idea one more") == refusal
    later(h, 24 * 3600)
    await post_idea(h, MEMBER, "one more")


async def test_newcomers_may_post_unless_the_chat_turns_it_off(harness: Harness) -> None:
    h = harness
    await verify_newcomer(h, NEWCOMER, "Nina")
    await post_idea(h, NEWCOMER, "a channel for job offers")
    assert "Done" in await say(h, GROUP, ADMIN, "/set ideas_newcomers off")
    assert await say(h, GROUP, NEWCOMER, "/idea another one") == (
        "In this chat newcomers can't suggest ideas yet; you can once your probation ends."
    )
    await post_idea(h, MEMBER, "members still can")


async def test_bad_input_is_answered_with_what_to_do(harness: Harness) -> None:
    h = harness
    assert (await say(h, GROUP, MEMBER, "/idea")).startswith("To suggest an idea: ")
    too_long = await say(h, GROUP, MEMBER, "/idea " + "x" * 1001)
    assert too_long == "That is too long: at most 1000 characters. Shorten it and send again."
    assert "group" in await say(h, MEMBER, MEMBER, "/idea in private")
    await post_idea(h, MEMBER)
    assert (await say(h, GROUP, ADMIN, "/idea done")).startswith("To decide on an idea: ")
    assert (await say(h, GROUP, ADMIN, "/idea finished #1")).startswith(
        "“finished” is not a status. Use done, planned or declined"
    )
    unknown = "There is no such idea in this chat. See the ids with /ideas."
    assert await say(h, GROUP, ADMIN, "/idea done 99") == unknown
    assert await say(h, GROUP, MEMBER, "/idea done 1") == (
        "Only the chat's admins can mark ideas done, planned or declined. To suggest an idea, "
        "start it with other words."
    )
    assert len(await board_lines(h)) == 3  # title, the one idea, footer: nothing else posted


async def board_lines(h: Harness) -> list[str]:
    return (await say(h, GROUP, MEMBER, "/ideas")).split("\n")


async def test_ideas_lists_the_open_ones_by_score_with_links(harness: Harness) -> None:
    h = harness
    assert (await say(h, GROUP, MEMBER, "/ideas")).startswith("No open ideas yet.")
    first = await post_idea(h, MEMBER, "first")
    second = await post_idea(h, OWNER, "second")
    third = await post_idea(h, ADMIN, "third")
    await vote(h, OWNER, second, up=True)
    await vote(h, ADMIN, second, up=True)
    await vote(h, MEMBER, first, up=False)
    await vote(h, OWNER, third, up=True)
    lines = await board_lines(h)
    assert lines[0] == "Open ideas (top 3 of 3, by votes):"
    assert lines[1] == "#2 👍 2 · 👎 0 — second"
    links = [e["url"] for e in h.fake.sent_messages(GROUP)[-1]["entities"] if "url" in e]
    assert links == [f"https://t.me/c/1000000001/{m['message_id']}" for m in (second, third, first)]
    assert [line.split("— ")[1] for line in lines[1:4]] == ["second", "third", "first"]
    assert "👎 1" in lines[3]
    await say(h, GROUP, ADMIN, "/idea declined 2")
    assert [line.split("— ")[1] for line in (await board_lines(h))[1:3]] == ["third", "first"]


async def start_everyone(h: Harness) -> None:
    for user_id in (OWNER, ADMIN, MEMBER, BOSS):
        await say(h, user_id, user_id, "/start")
    await seen(h, OWNER, ADMIN, MEMBER, BOSS)


async def test_a_decision_tells_the_author_and_the_supporters_after_quiet_hours(
    harness: Harness,
) -> None:
    h = harness
    await start_everyone(h)
    zone = (await h.app.hearth.chat_settings.get(GROUP)).timezone
    hour = h.clock.now().astimezone(zone).hour
    quiet = f"{hour:02d}:00-{(hour + 2) % 24:02d}:00"  # now is inside the quiet hours
    assert "Done" in await say(h, GROUP, ADMIN, f"/set quiet_hours {quiet}")
    post = await post_idea(h, MEMBER)
    await vote(h, OWNER, post, up=True)
    await vote(h, BOSS, post, up=True)
    await vote(h, ADMIN, post, up=False)
    await vote(h, MEMBER, post, up=True)  # the author's own vote: told once
    before = {user_id: len(texts(h, user_id)) for user_id in (OWNER, ADMIN, MEMBER, BOSS)}

    answer = await say(h, GROUP, ADMIN, "/idea planned 1 next month, in the evenings")
    assert answer == "Idea #1 is now: 🗓 planned. Told privately: 3."
    edited = current(h, post["message_id"])
    assert edited["text"] == (
        f"💡 Idea #1 from Maria\n\n{IDEA}\n\n🗓 planned\nAdmins: next month, in the evenings\n"
        "Votes: 👍 3 · 👎 1"
    )
    assert buttons(edited) == []  # voting is over
    h.fake.press_button(OWNER, GROUP, post["message_id"], "idea:1:0")  # an old client's button
    await h.settle()
    assert h.fake.callback_answers[-1]["text"].startswith("Voting on this idea is over")

    await h.app.hearth.outbox.drain()
    assert all(len(texts(h, u)) == n for u, n in before.items())  # quiet hours: held
    later(h, 3 * 3600)
    await h.app.hearth.outbox.drain()
    assert texts(h, MEMBER)[before[MEMBER] :] == [
        f"💡 Your idea in “Circle” — 🗓 planned\n«{IDEA}»\n"
        "Admins: next month, in the evenings\nOpen the post"
    ]
    link = h.fake.sent_messages(MEMBER)[-1]["entities"][-1]["url"]
    assert link == f"https://t.me/c/1000000001/{post['message_id']}"
    for supporter in (OWNER, BOSS):
        [notice] = texts(h, supporter)[before[supporter] :]
        assert notice.startswith("💡 An idea you voted for in “Circle” — 🗓 planned")
    assert texts(h, ADMIN)[before[ADMIN] :] == []  # voted 👎: not told
    assert await say(h, GROUP, ADMIN, "/idea planned 1 next month, in the evenings") == (
        "The idea already has that status (and comment)."
    )


async def test_forget_anonymises_her_ideas_deletes_her_votes_and_mydata_has_both(
    harness: Harness,
) -> None:
    h = harness
    await start_everyone(h)
    mine = await post_idea(h, MEMBER, "my own idea")
    theirs = await post_idea(h, OWNER, "the owner's idea")
    await vote(h, MEMBER, theirs, up=True)
    await vote(h, ADMIN, mine, up=True)

    await say(h, MEMBER, MEMBER, "/mydata")
    document = json.loads(h.fake.payments.documents[-1]["data"])
    assert [(i["text"], i["votes_up"]) for i in document["ideas"]] == [("my own idea", 1)]
    assert [(v["idea"], v["vote"]) for v in document["idea_votes"]] == [(2, "up")]
    summary = h.replies(MEMBER)[-1]
    assert "Ideas you posted: 1" in summary and "Your votes on ideas: 1" in summary

    await say(h, MEMBER, MEMBER, "/forget")
    h.fake.press_button(MEMBER, MEMBER, h.fake.sent_messages(MEMBER)[-1]["message_id"], "pv:f:1")
    await h.settle()
    lines = await board_lines(h)
    assert "my own idea" in "\n".join(lines)
    await edit_job(h)
    assert buttons(current(h, theirs["message_id"]))[0][0] == "👍 0"  # her vote is gone
    await say(h, GROUP, ADMIN, "/idea done 1")
    assert "from a former member" in current(h, mine["message_id"])["text"]
    assert "Maria" not in current(h, mine["message_id"])["text"]


async def test_a_decided_idea_keeps_its_decision_when_a_voter_is_forgotten(
    harness: Harness,
) -> None:
    h = harness
    await start_everyone(h)
    post = await post_idea(h, MEMBER)
    await vote(h, OWNER, post, up=True)
    await say(h, GROUP, ADMIN, "/idea done 1")
    await say(h, OWNER, OWNER, "/forget")
    h.fake.press_button(OWNER, OWNER, h.fake.sent_messages(OWNER)[-1]["message_id"], "pv:f:1")
    await h.settle()
    assert await edit_job(h) == 0  # its counts changed, but a decided idea has no buttons
    decided = current(h, post["message_id"])
    assert buttons(decided) == [] and "✅ done" in decided["text"]


async def test_help_in_the_group_lists_the_ideas_commands(harness: Harness) -> None:
    h = harness
    assert "/idea text — suggest an idea" in await say(h, GROUP, MEMBER, "/help")
    for_admins = await say(h, GROUP, ADMIN, "/help")
    assert "/idea done|planned|declined <id> [comment] — decide on an idea" in for_admins


async def test_only_people_in_the_chat_may_vote_and_a_stranger_is_not_stored(
    harness: Harness,
) -> None:
    h = harness
    post = await post_idea(h, MEMBER)
    stranger = 700  # pressed the button from a forwarded post: not in the group
    h.fake.add_user(stranger, "Stan", language_code="en")
    assert await vote(h, stranger, post, up=True) == (
        "Your vote was not counted: only people in this chat can vote."
    )
    async with h.app.db.transaction() as session:
        assert await session.get(Member, (GROUP, stranger)) is None  # not made a member

    lurker = 701  # in the group since before the bot, never wrote: Telegram says so
    h.fake.add_user(lurker, "Lena", language_code="en")
    h.fake.set_member(GROUP, lurker, "member")
    assert "counted (1 👍" in await vote(h, lurker, post, up=True)
    assert "taken back" in await vote(h, lurker, post, up=True)

    await say(h, GROUP, BOSS, "hello")  # in the chat: the bot knows him
    h.fake.user_leaves(GROUP, BOSS)
    await h.settle()
    assert "not counted" in await vote(h, BOSS, post, up=True)  # left: no vote

    await verify_newcomer(h, NEWCOMER, "Nina")
    assert "counted (1 👍" in await vote(h, NEWCOMER, post, up=True)
    assert await edit_job(h) == 1
    assert buttons(current(h, post["message_id"]))[0][0] == "👍 1"  # only Nina's vote


async def test_forget_redraws_her_posts_without_her_name(harness: Harness) -> None:
    h = harness
    await start_everyone(h)
    open_post = await post_idea(h, MEMBER, "an open idea")
    decided_post = await post_idea(h, MEMBER, "a decided idea")
    await say(h, GROUP, ADMIN, "/idea planned 2 next month")
    assert "Maria" in current(h, decided_post["message_id"])["text"]

    await say(h, MEMBER, MEMBER, "/forget")
    h.fake.press_button(MEMBER, MEMBER, h.fake.sent_messages(MEMBER)[-1]["message_id"], "pv:f:1")
    await h.settle()
    later(h, 11)
    await edit_job(h)
    await edit_job(h)  # one edit per group per pass

    opened, decided = current(h, open_post["message_id"]), current(h, decided_post["message_id"])
    assert opened["text"] == "💡 Idea #1 from a former member\n\nan open idea"
    assert buttons(opened) == [("👍 0", "idea:1:1"), ("👎 0", "idea:1:0")]
    assert "Maria" not in decided["text"] and "from a former member" in decided["text"]
    assert "next month" in decided["text"] and buttons(decided) == []
