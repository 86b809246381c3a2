"""/kb search by Russian and English word forms (SQLite stems; PostgreSQL full text when
TEST_DATABASE_URL is set), opening an entry and "this helped" (counted), and the private
suggestion to a newcomer who asks a question in the group, at most once a day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from models.kb import EntryStatus, KbEntry, KbSuggestion
from tests.dispatcher.conftest import ADMIN, BOSS, GROUP, MEMBER, NEWCOMER, OWNER, Harness
from tests.dispatcher.test_buddies import verify_newcomer
from tests.dispatcher.test_kb_notes import pause
from tests.dispatcher.test_moderation import command, say

NOTES = {
    "наставник": "Как найти наставника: напишите /buddy, и бот подберёт опытного участника.",
    "buddies": "Our buddy program pairs every newcomer with a buddy for the first month.",
    "оплата": "Оплата участия — звёздами Telegram, раз в месяц.",
    "rules": "Be kind, no spam, no ads.",
}


async def with_notes(h: Harness) -> None:
    for name, text in NOTES.items():
        assert "Saved" in await command(h, ADMIN, f"/save {name} {text}")
        pause(h, 5)


def last_markup(h: Harness, chat_id: int) -> list[list[dict[str, Any]]]:
    message = h.fake.sent_messages(chat_id)[-1]
    return list(message.get("reply_markup", {}).get("inline_keyboard", []))


async def test_word_forms_match_in_russian_and_english(harness: Harness) -> None:
    h = harness
    await with_notes(h)
    found = await command(h, MEMBER, "/kb наставника")
    assert "наставник" in found and "оплата" not in found
    pause(h)
    found = await command(h, MEMBER, "/kb наставники")
    assert "наставник" in found
    pause(h)
    found = await command(h, MEMBER, "/kb buddy")
    assert "buddies" in found and "pairs every newcomer" in found
    pause(h)
    found = await command(h, MEMBER, "/kb buddies newcomers")
    assert found.splitlines()[1].startswith("1. buddies")
    pause(h)
    assert "Nothing found" in await command(h, MEMBER, "/kb погода")


async def test_results_open_with_a_button_and_count_views_and_helped(harness: Harness) -> None:
    h = harness
    await with_notes(h)
    await command(h, MEMBER, "/kb оплачивать звёздами")
    buttons = last_markup(h, GROUP)
    assert buttons and buttons[0][0]["text"].startswith("1. оплата")
    results = h.fake.sent_messages(GROUP)[-1]
    h.fake.press_button(MEMBER, GROUP, results["message_id"], buttons[0][0]["callback_data"])
    await h.settle()
    opened = h.fake.sent_messages(GROUP)[-1]
    assert opened["text"] == NOTES["оплата"]
    helped = opened["reply_markup"]["inline_keyboard"][0][0]
    h.fake.press_button(MEMBER, GROUP, opened["message_id"], helped["callback_data"])
    await h.settle()
    async with h.app.db.transaction() as session:
        entry = (
            await session.execute(select(KbEntry).where(KbEntry.name == "оплата"))
        ).scalar_one()
    assert (entry.views, entry.helped) == (1, 1)
    # PostgreSQL searched its full-text vector; SQLite has only the stems
    postgres = h.app.db.url.startswith("postgresql")
    assert (entry.tsv is not None) == postgres
    assert " оплат " in entry.stems


async def test_a_newcomer_s_question_is_answered_privately_once_a_day(harness: Harness) -> None:
    h = harness
    await with_notes(h)
    await verify_newcomer(h, NEWCOMER, "Nina")
    private_before = len(h.replies(NEWCOMER))
    group_before = len(h.replies(GROUP))
    pause(h)
    await say(h, NEWCOMER, "Подскажите, как найти наставника здесь?")
    private = h.replies(NEWCOMER)[private_before:]
    assert len(private) == 1 and "наставник" in private[0]
    assert len(h.replies(GROUP)) == group_before  # never in the group
    async with h.app.db.transaction() as session:
        rows = (await session.execute(select(KbSuggestion))).scalars().all()
    assert [row.user_id for row in rows] == [NEWCOMER]  # the moment only, not the question
    suggestion = h.fake.sent_messages(NEWCOMER)[-1]
    data = suggestion["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    h.fake.press_button(NEWCOMER, NEWCOMER, suggestion["message_id"], data)
    await h.settle()
    assert h.replies(NEWCOMER)[-1] == NOTES["наставник"]  # opened privately
    private_before += 1

    pause(h)
    await say(h, NEWCOMER, "А как работает buddy program for newcomers?")
    assert len(h.replies(NEWCOMER)) == private_before + 1  # once a day at most
    h.clock.advance(timedelta(days=1))
    h.fake.advance(86400)
    await say(h, NEWCOMER, "А как работает buddy program for newcomers?")
    assert len(h.replies(NEWCOMER)) == private_before + 2
    assert "buddy" in h.replies(NEWCOMER)[-1]


async def test_no_suggestion_for_members_statements_or_poor_matches(harness: Harness) -> None:
    h = harness
    await with_notes(h)
    h.fake.send_message(MEMBER, MEMBER, "/start")
    await verify_newcomer(h, NEWCOMER, "Nina")
    await h.settle()
    member_before, newcomer_before = len(h.replies(MEMBER)), len(h.replies(NEWCOMER))
    await say(h, MEMBER, "Как найти наставника здесь?")  # a member, not a newcomer
    pause(h)
    await say(h, NEWCOMER, "Как найти наставника здесь.")  # not a question
    pause(h)
    await say(h, NEWCOMER, "Какая сегодня погода на улице?")  # nothing matches
    assert len(h.replies(MEMBER)) == member_before
    assert len(h.replies(NEWCOMER)) == newcomer_before


async def test_entries_unused_for_180_days_are_listed_to_the_admin_privately(
    harness: Harness,
) -> None:
    h = harness
    await with_notes(h)
    h.fake.send_message(ADMIN, ADMIN, "/start")
    await h.settle()
    h.clock.advance(timedelta(days=181))
    h.fake.advance(181 * 86400)
    await command(h, MEMBER, "/get rules")  # used today: not listed
    pause(h)
    assert "Sent to you privately" in await command(h, ADMIN, "/kb unused")
    listing = h.replies(ADMIN)[-1]
    assert "3 entries nobody used for 180 days" in listing
    assert "наставник" in listing and "rules" not in listing


async def test_this_helped_counts_members_once_and_live_entries_only(harness: Harness) -> None:
    """Finding 14: repeated presses, people outside the chat and waiting stories don't move
    the ranking."""
    h = harness
    await with_notes(h)
    await command(h, MEMBER, "/kb оплачивать звёздами")
    results = h.fake.sent_messages(GROUP)[-1]
    data = last_markup(h, GROUP)[0][0]["callback_data"]
    h.fake.press_button(MEMBER, GROUP, results["message_id"], data)
    await h.settle()
    opened = h.fake.sent_messages(GROUP)[-1]
    helped = opened["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    for _ in range(3):
        h.fake.press_button(MEMBER, GROUP, opened["message_id"], helped)
        await h.settle()
    assert "already marked" in str(h.fake.callback_answers[-1])
    h.fake.press_button(BOSS, GROUP, opened["message_id"], helped)  # not in the chat
    await h.settle()
    assert "Only members" in str(h.fake.callback_answers[-1])
    h.fake.press_button(ADMIN, GROUP, opened["message_id"], helped)
    await h.settle()
    async with h.app.db.transaction() as session:
        entry = (
            await session.execute(select(KbEntry).where(KbEntry.name == "оплата"))
        ).scalar_one()
        # a story still waiting for approval can't be marked either
        await session.execute(
            update(KbEntry).where(KbEntry.id == entry.id).values(status=EntryStatus.PENDING)
        )
    assert entry.helped == 2
    h.fake.press_button(OWNER, GROUP, opened["message_id"], helped)
    await h.settle()
    assert "no longer available" in str(h.fake.callback_answers[-1])


async def test_once_a_month_the_admins_get_the_unused_entries_privately(harness: Harness) -> None:
    h = harness
    await with_notes(h)
    await command(h, ADMIN, "/set quiet_hours off")
    h.fake.send_message(ADMIN, ADMIN, "/start")
    await h.settle()
    group_posts = len(h.replies(GROUP))
    assert await h.app.hearth.kb_unused.tick() == 0  # nothing unused yet: no note
    h.clock.advance(timedelta(days=40))  # next month, still all fresh: no note either
    assert await h.app.hearth.kb_unused.tick() == 0
    h.clock.advance(timedelta(days=181))
    h.fake.advance(221 * 86400)
    assert await h.app.hearth.kb_unused.tick() == 1
    assert await h.app.hearth.kb_unused.tick() == 0  # the month is claimed: once
    await h.app.hearth.outbox.drain()
    notes = [text for text in h.replies(ADMIN) if "nobody used for 180 days" in text]
    assert len(notes) == 1 and "наставник" in notes[0]
    assert len(h.replies(GROUP)) == group_posts  # the group hears nothing of it
    assert not [t for t in h.replies(MEMBER) if "nobody used" in t]  # nor members
