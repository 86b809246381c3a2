"""Stories through the production dispatcher: `/story` asks the author privately; "no"
stores nothing (the text is gone at once), no answer for 48 hours deletes it too; "yes"
waits for an admin's or a veteran's approval; /stories lists approved ones with the name
or anonymously and a link to the original; /forget deletes named stories and keeps
anonymous ones without the author's id."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from models.kb import KbConsent, KbEntry
from models.members import Member, TrustLevel
from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, OWNER, Harness
from tests.dispatcher.test_checkins import answer_all, opt_in, setup_chat
from tests.dispatcher.test_checkins import say as checkin_say
from tests.dispatcher.test_kb_notes import pause
from tests.dispatcher.test_moderation import command, say

STORY = "My first client came from a friend of a friend: tell everyone what you do."


async def offered(h: Harness, text: str = STORY, tags: str = "career") -> str:
    """Maria (who started the bot) posts; Olga offers it as a story; the group's answer."""
    h.fake.send_message(MEMBER, MEMBER, "/start")
    await h.settle()
    pause(h)
    posted = await say(h, MEMBER, text)
    pause(h)
    return await command(h, OWNER, f"/story {tags}", reply_to=posted)


def prompt(h: Harness) -> dict[str, Any]:
    return next(
        m for m in reversed(h.fake.sent_messages(MEMBER)) if "kb:c:" in str(m.get("reply_markup"))
    )


async def answer(h: Harness, choice: str) -> str:
    """Maria presses a button of the consent prompt; what the prompt says after."""
    message = prompt(h)
    data = next(
        b["callback_data"]
        for row in message["reply_markup"]["inline_keyboard"]
        for b in row
        if b["callback_data"].endswith(f":{choice}")
    )
    h.fake.press_button(MEMBER, MEMBER, message["message_id"], data)
    await h.settle()
    return str(h.fake.sent_messages(MEMBER)[-1]["text"])


async def count(h: Harness, model: type[Any]) -> int:
    async with h.app.db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def consent_texts(h: Harness) -> list[str]:
    async with h.app.db.transaction() as session:
        return list((await session.execute(select(KbConsent.text))).scalars())


async def text_stored(h: Harness, needle: str) -> bool:
    async with h.app.db.transaction() as session:
        bodies = list((await session.execute(select(KbEntry.body))).scalars())
        bodies += list((await session.execute(select(KbConsent.text))).scalars())
    return any(needle in body for body in bodies)


async def pending_cards(h: Harness, user_id: int = ADMIN) -> tuple[str, list[dict[str, Any]]]:
    """The approver (who started the bot) asks for the queue in the group: the group's
    answer and the cards they received privately."""
    h.fake.send_message(user_id, user_id, "/start")
    await h.settle()
    pause(h)
    before = len(h.fake.sent_messages(user_id))
    answer = await command(h, user_id, "/stories pending")
    cards = [
        m for m in h.fake.sent_messages(user_id)[before:] if "kb:d:" in str(m.get("reply_markup"))
    ]
    return answer, cards


async def approve_all(h: Harness, user_id: int = ADMIN) -> list[str]:
    _, cards = await pending_cards(h, user_id)
    texts = []
    for message in cards:
        for row in message.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if button["callback_data"].endswith(":y"):
                    h.fake.press_button(
                        user_id, user_id, message["message_id"], button["callback_data"]
                    )
                    await h.settle()
                    texts.append(h.fake.sent_messages(user_id)[-1]["text"])
    return texts


async def test_no_stores_nothing(harness: Harness) -> None:
    h = harness
    assert "asked Maria privately" in await offered(h)
    assert "friend of a friend" in prompt(h)["text"]
    # before any answer nothing of the message is stored: Maria has it in her private
    # chat, and the question replies to that copy
    assert not await text_stored(h, "friend of a friend")
    copy = prompt(h)["reply_to_message"]
    assert "friend of a friend" in copy["text"]
    assert "nothing is kept" in (await answer(h, "x")).lower()
    assert await count(h, KbEntry) == 0
    assert await consent_texts(h) == [""]  # ids only, until the 48 hours are up
    assert not await text_stored(h, "friend of a friend")
    assert "kb:c:" not in str(h.fake.sent_messages(MEMBER)[-1].get("reply_markup"))


async def test_yes_waits_for_approval_then_is_listed_and_found(harness: Harness) -> None:
    h = harness
    await offered(h)
    assert "waits for approval" in await answer(h, "n")
    assert await consent_texts(h) == [""]
    pause(h)
    assert "No stories yet" in await command(h, MEMBER, "/stories")
    pause(h)
    assert "admins and veterans" in await command(h, MEMBER, "/stories pending")
    assert await approve_all(h) == ["Approved: " + STORY[:59] + "…"]
    pause(h)
    listing = await command(h, MEMBER, "/stories career")
    assert "Maria" in listing and "#career" in listing
    assert f"https://t.me/c/{str(GROUP)[4:]}/" in str(h.fake.sent_messages(GROUP)[-1])
    pause(h)
    assert "story" in await command(h, MEMBER, "/kb clients friends")
    pause(h)
    assert "No stories tagged #health" in await command(h, MEMBER, "/stories health")


async def test_anonymous_story_shows_no_name_and_survives_forget(harness: Harness) -> None:
    h = harness
    await offered(h, "Named story about pricing my work higher.", "money")
    await answer(h, "n")
    pause(h)
    await offered(h, "Anonymous story about the first hard month.", "month")
    assert "anonymous" in await answer(h, "a")
    await approve_all(h, OWNER)
    pause(h)
    listing = await command(h, MEMBER, "/stories month")
    assert "anonymous" in listing and "Maria" not in listing
    h.fake.send_message(MEMBER, MEMBER, "/forget")
    await h.settle()
    confirm = next(
        m for m in reversed(h.fake.sent_messages(MEMBER)) if "pv:" in str(m.get("reply_markup"))
    )
    data = confirm["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    h.fake.press_button(MEMBER, MEMBER, confirm["message_id"], data)
    await h.settle()
    async with h.app.db.transaction() as session:
        rows = list((await session.execute(select(KbEntry))).scalars())
    assert [(row.body, row.author_id) for row in rows] == [
        ("Anonymous story about the first hard month.", None)
    ]


async def test_unanswered_consent_is_deleted_after_48_hours(harness: Harness) -> None:
    h = harness
    await offered(h)
    assert await count(h, KbConsent) == 1
    h.clock.advance(timedelta(hours=48, seconds=1))
    await h.settle()  # the deadline sweep
    assert await count(h, KbConsent) == 0
    assert not await text_stored(h, "friend of a friend")
    await answer(h, "n")  # pressed late
    assert "expired" in str(h.fake.callback_answers[-1]).lower()
    assert await count(h, KbEntry) == 0


async def test_an_author_the_bot_cannot_write_to_is_not_asked_and_nothing_is_kept(
    harness: Harness,
) -> None:
    h = harness
    posted = await say(h, ADMIN, "Anton's story, but Anton never started the bot.")
    pause(h)
    answer_text = await command(h, MEMBER, "/story", reply_to=posted)
    assert "cannot write to Anton" in answer_text
    assert await count(h, KbConsent) == 0
    pause(h)
    assert "Reply" in await command(h, MEMBER, "/story")  # not a reply: how to use it


async def test_a_veteran_approves_and_a_member_may_not(harness: Harness) -> None:
    h = harness
    await offered(h)
    await answer(h, "a")
    pause(h)
    assert "admins and veterans" in await command(h, MEMBER, "/stories pending")
    async with h.app.db.transaction() as session:
        await session.execute(
            update(Member)
            .where(Member.chat_id == GROUP, Member.user_id == MEMBER)
            .values(trust=TrustLevel.VETERAN)
        )
    pause(h)
    assert len(await approve_all(h, MEMBER)) == 1
    async with h.app.db.transaction() as session:
        story = (await session.execute(select(KbEntry))).scalar_one()
    assert (story.status, story.added_by, story.anonymous) == ("live", MEMBER, True)


async def test_mydata_has_the_person_s_stories(harness: Harness) -> None:
    h = harness
    await offered(h)
    await answer(h, "n")
    h.fake.send_message(MEMBER, MEMBER, "/mydata")
    await h.settle()
    document = h.fake.payments.documents[-1]
    data = json.loads(document["data"])
    assert [s["text"] for s in data["kb_stories"]] == [STORY]


async def test_a_shared_check_in_win_is_offered_as_a_story(harness: Harness) -> None:
    h = harness
    await setup_chat(h)
    await opt_in(h, MEMBER)
    assert "Check-in started" in await checkin_say(h, GROUP, ADMIN, "/checkin_now")
    await h.app.hearth.outbox.drain()
    await h.settle()
    done = await answer_all(h, MEMBER, ["I landed my first client", "Sleeping", None], "anon")
    assert "Keep your win" in done and "I landed my first client" in done
    assert await count(h, KbEntry) == 0  # nothing until she says yes
    message = h.fake.sent_messages(MEMBER)[-1]
    data = next(
        b["callback_data"]
        for row in message["reply_markup"]["inline_keyboard"]
        for b in row
        if b["callback_data"].startswith("kb:w:") and b["callback_data"].endswith(":a")
    )
    h.fake.press_button(MEMBER, MEMBER, message["message_id"], data)
    await h.settle()
    assert "waits for approval" in h.fake.sent_messages(MEMBER)[-1]["text"]
    h.fake.press_button(MEMBER, MEMBER, message["message_id"], data)  # twice: kept once
    await h.settle()
    assert len(await approve_all(h)) == 1
    pause(h)
    listing = await command(h, MEMBER, "/stories win")
    assert "I landed my first client" in listing and "anonymous" in listing


async def test_the_pending_queue_goes_privately_never_into_the_group(harness: Harness) -> None:
    """Finding 11: an unapproved story and its author's name stay out of the group."""
    h = harness
    await offered(h)
    await answer(h, "n")
    group_before = len(h.fake.sent_messages(GROUP))
    said, cards = await pending_cards(h)
    assert "Sent to you privately" in said
    shown = [str(m.get("text")) for m in h.fake.sent_messages(GROUP)[group_before:]]
    assert not any("friend of a friend" in text or "Maria" in text for text in shown)
    assert len(cards) == 1 and "friend of a friend" in cards[0]["text"]
    assert "Maria" in cards[0]["text"]
    # a member pressing a forged approve button for the story is refused
    data = cards[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    h.fake.press_button(MEMBER, MEMBER, h.fake.sent_messages(MEMBER)[-1]["message_id"], data)
    await h.settle()
    assert "admins and veterans" in str(h.fake.callback_answers[-1])
    assert "No stories yet" in await command(h, MEMBER, "/stories")


async def test_a_story_near_telegram_s_limit_can_be_approved_and_opened(
    harness: Harness,
) -> None:
    """Finding 6: the approval card shows the start; opening it shortens it under the byline
    and the link to the whole original, instead of Telegram refusing both."""
    h = harness
    long = ("Mentoring changed my work, and a friend's advice too. " * 90)[:4090]
    await offered(h, long, "career")
    await answer(h, "n")
    _, cards = await pending_cards(h)
    assert len(cards) == 1 and len(cards[0]["text"]) < 1200
    assert await approve_all(h) == ["Approved: " + long[:59] + "…"]
    pause(h)
    await command(h, MEMBER, "/kb mentoring")
    results = h.fake.sent_messages(GROUP)[-1]
    data = results["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    before = len(h.fake.sent_messages(GROUP))
    h.fake.press_button(MEMBER, GROUP, results["message_id"], data)
    await h.settle()
    opened = h.fake.sent_messages(GROUP)[before:]
    assert len(opened) == 1, "the story was not sent"
    assert opened[0]["text"].startswith("Mentoring changed my work")
    assert "— Maria #career" in opened[0]["text"] and "t.me/c/" in str(opened[0])


async def test_a_message_is_offered_once_and_an_asker_a_few_times_a_day(
    harness: Harness,
) -> None:
    """Finding 7: replying /story again to the same message does not write to its author
    again (also after a "no"), and one person offers at most 5 stories a day."""
    h = harness
    await offered(h)
    prompts = len(h.fake.sent_messages(MEMBER))
    pause(h)
    source = max(
        int(m["message_id"]) for m in h.fake.live_messages(GROUP) if m["from"]["id"] == MEMBER
    )
    assert "already been offered" in await command(h, ADMIN, "/story", reply_to=source)
    await answer(h, "x")
    pause(h)
    assert "already been offered" in await command(h, OWNER, "/story", reply_to=source)
    assert len(h.fake.sent_messages(MEMBER)) == prompts
    for n in range(4):
        pause(h)
        mine = await say(h, MEMBER, f"Another thing worth keeping, number {n}.")
        pause(h)
        assert "asked Maria privately" in await command(h, OWNER, "/story", reply_to=mine)
    pause(h)
    sixth = await say(h, MEMBER, "One more thing worth keeping.")
    pause(h)
    assert "try again tomorrow" in await command(h, OWNER, "/story", reply_to=sixth)
    h.clock.advance(timedelta(days=1))
    h.fake.advance(86400)
    assert "asked Maria privately" in await command(h, OWNER, "/story", reply_to=sixth)
