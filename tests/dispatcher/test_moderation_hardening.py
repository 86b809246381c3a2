"""Issue 11, moderation items: who may route a log, stale @usernames, mistyped durations,
disguised stop words, other bots, mass mentions and redelivered updates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiogram.types import Update
from sqlalchemy import func, select

from models.moderation import AutoAction, ModAction
from models.users import User
from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, NEWCOMER, OWNER, Harness, restart
from tests.dispatcher.test_moderation import command, make_newcomer, mute_seconds, muted, say, seen

# ----- durations ----------------------------------------------------------------------------


async def test_durations_as_people_type_them_and_a_mistyped_one_is_refused(
    harness: Harness,
) -> None:
    await seen(harness, MEMBER, ADMIN)
    assert "muted" in await command(harness, ADMIN, "/mute @maria 10min")
    assert 590 <= mute_seconds(harness, MEMBER) <= 600
    assert "muted" in await command(harness, ADMIN, "/mute @maria 1 hour too loud")
    assert 3590 <= mute_seconds(harness, MEMBER) <= 3600
    await command(harness, ADMIN, "/unmute @maria")
    answer = await command(harness, ADMIN, "/ban @maria 7dayz spam")
    assert "could not read the duration" in answer
    assert harness.fake.member_status(GROUP, MEMBER) == "member"
    assert "banned" in await command(harness, OWNER, "/ban @maria 7days spam")
    member = harness.fake.member(GROUP, MEMBER)
    assert member["status"] == "kicked"
    assert int(member["until_date"]) - harness.fake.now() >= 7 * 86400 - 10
    assert not muted(harness, MEMBER)


# ----- @username targets --------------------------------------------------------------------

OTHER = 600


async def test_a_username_that_moved_names_its_new_holder(harness: Harness) -> None:
    await seen(harness, MEMBER)
    # Maria drops @maria, and someone else takes it and writes in the group
    harness.fake.add_user(MEMBER, "Maria", username="mary", language_code="en")
    harness.fake.add_user(OTHER, "Marina", username="maria", language_code="en")
    harness.fake.set_member(GROUP, OTHER, "member")
    await seen(harness, OTHER)
    assert "banned" in await command(harness, ADMIN, "/ban @maria 1d spam")
    assert harness.fake.member_status(GROUP, OTHER) == "kicked"
    assert harness.fake.member_status(GROUP, MEMBER) == "member"
    # Maria's new name is known as soon as she writes again
    await seen(harness, MEMBER)
    assert "muted" in await command(harness, ADMIN, "/mute @mary 1h")
    assert muted(harness, MEMBER)


async def test_a_username_taken_back_names_the_one_who_took_it_back(harness: Harness) -> None:
    await seen(harness, MEMBER)
    harness.fake.add_user(MEMBER, "Maria", username=None, language_code="en")
    harness.fake.add_user(OTHER, "Marina", username="maria", language_code="en")
    harness.fake.set_member(GROUP, OTHER, "member")
    await seen(harness, OTHER)
    harness.fake.add_user(OTHER, "Marina", username="marina", language_code="en")
    harness.fake.add_user(MEMBER, "Maria", username="maria", language_code="en")
    await seen(harness, MEMBER)
    assert "banned" in await command(harness, ADMIN, "/ban @maria 1d")
    assert harness.fake.member_status(GROUP, MEMBER) == "kicked"
    assert harness.fake.member_status(GROUP, OTHER) == "member"


async def test_a_username_two_stored_accounts_carry_is_refused_as_ambiguous(
    harness: Harness,
) -> None:
    now = harness.clock.now()
    async with harness.app.db.transaction() as session:
        for user_id in (MEMBER, OTHER):  # stored before this release, never seen since
            session.add(User(id=user_id, username="twin", first_name="Twin", updated_at=now))
    answer = await command(harness, ADMIN, "/ban @twin spam")
    assert "more than one account" in answer
    assert harness.fake.member_status(GROUP, MEMBER) == "member"
    assert "more than one account" in await command(harness, ADMIN, "/trust veteran @twin")


# ----- /setlog ------------------------------------------------------------------------------

LOG_CHAT = -1001000000777
OTHER_GROUP = -1001000000888


async def test_setlog_needs_an_admin_of_both_chats(harness: Harness) -> None:
    # Maria owns another group and is a plain member here: she may not route its log here
    harness.fake.add_chat(OTHER_GROUP, "Maria's group")
    harness.fake.set_member(OTHER_GROUP, MEMBER, "creator")
    harness.fake.add_bot_to_chat(OTHER_GROUP, MEMBER, admin=True)
    await harness.settle()
    assert "administrators" in await command(harness, MEMBER, f"/setlog {OTHER_GROUP}")
    assert await harness.app.hearth.moderation.log_chat(OTHER_GROUP) is None
    # nor from her own group into this one, where she is no admin
    harness.fake.send_message(OTHER_GROUP, MEMBER, f"/setlog {GROUP}")
    await harness.settle()
    assert "administrator of chat" in harness.replies(OTHER_GROUP)[-1]
    assert await harness.app.hearth.moderation.log_chat(GROUP) is None
    assert await harness.app.hearth.moderation.log_chat(OTHER_GROUP) is None


async def test_setlog_off_in_the_log_chat_stops_the_chats_that_log_into_it(
    harness: Harness,
) -> None:
    await seen(harness, MEMBER)
    harness.fake.add_chat(LOG_CHAT, "Mod log")
    harness.fake.set_member(LOG_CHAT, ADMIN, "creator")
    harness.fake.add_user(OTHER, "Oleg", username="oleg", language_code="en")
    harness.fake.set_member(LOG_CHAT, OTHER, "administrator")  # no admin of the group
    harness.fake.add_bot_to_chat(LOG_CHAT, ADMIN, admin=True)
    await harness.settle()
    assert "Done" in await command(harness, ADMIN, f"/setlog {LOG_CHAT}")
    assert await harness.app.hearth.moderation.log_chat(GROUP) == LOG_CHAT
    harness.fake.send_message(LOG_CHAT, OTHER, "/setlog off")
    await harness.settle()
    assert "is off" in harness.replies(LOG_CHAT)[-1]
    assert await harness.app.hearth.moderation.log_chat(GROUP) is None
    before = len(harness.replies(LOG_CHAT))
    await command(harness, ADMIN, "/kick @maria")
    assert len(harness.replies(LOG_CHAT)) == before


# ----- stop words in disguise ---------------------------------------------------------------


async def test_stop_words_in_disguise_are_removed(harness: Harness) -> None:
    await command(harness, OWNER, "/filter add casino")
    await command(harness, OWNER, "/set warn_limit 10")
    for text in ("best ca\u200bsino", "best ｃａｓｉｎｏ", "best саsinо", "best ca\u00adsino"):
        message_id = await say(harness, MEMBER, text)
        assert harness.fake.is_deleted(GROUP, message_id), text
        harness.fake.advance(11)
    fine = await say(harness, MEMBER, "casinos are a different word")
    assert not harness.fake.is_deleted(GROUP, fine)


# ----- redelivered updates ------------------------------------------------------------------


async def refeed(h: Harness, updates: list[dict[str, Any]]) -> None:
    """Feed updates the bot has handled already, as Telegram redelivers them after a crash."""
    for raw in updates:
        update = Update.model_validate(raw, context={"bot": h.app.bot})
        await h.app.dispatcher.feed_update(h.app.bot, update)
    await h.settle()


def sent_texts(h: Harness, fragment: str) -> list[str]:
    calls = h.fake.calls_of("sendMessage")
    return [str(c.params["text"]) for c in calls if fragment in str(c.params.get("text", ""))]


async def count_actions(h: Harness, action: str) -> int:
    async with h.app.db.transaction() as session:
        query = select(func.count()).select_from(ModAction).where(ModAction.action == action)
        return int((await session.execute(query)).scalar_one())


async def test_a_redelivered_stop_word_message_is_warned_once(harness: Harness) -> None:
    await command(harness, OWNER, "/filter add casino")
    update = harness.fake.send_message(GROUP, MEMBER, "play casino")
    assert update is not None
    await harness.settle()
    await refeed(harness, [update])
    await restart(harness)
    await refeed(harness, [update])
    assert len(await harness.app.hearth.moderation.warnings(GROUP, MEMBER)) == 1
    assert len(sent_texts(harness, "contains a word this chat does not allow")) == 1
    assert harness.fake.is_deleted(GROUP, update["message"]["message_id"])


async def test_a_redelivered_flood_is_muted_and_told_once(harness: Harness) -> None:
    updates = [harness.fake.send_message(GROUP, MEMBER, f"message {n}") for n in range(6)]
    assert all(update is not None for update in updates)
    await harness.settle()
    assert muted(harness, MEMBER)
    await refeed(harness, updates)  # type: ignore[arg-type]
    await restart(harness)
    await refeed(harness, updates)  # type: ignore[arg-type]
    assert len(sent_texts(harness, "too many messages at once")) == 1
    assert len(harness.fake.calls_of("restrictChatMember")) == 1
    assert await count_actions(harness, "flood_mute") == 1


# ----- other bots ---------------------------------------------------------------------------

SPAM_BOT = 7000001


async def test_other_bots_are_held_to_stop_words_and_flood_unless_trusted(
    harness: Harness,
) -> None:
    harness.fake.add_user(SPAM_BOT, "Promo", username="promo_bot", is_bot=True)
    harness.fake.set_member(GROUP, SPAM_BOT, "member")
    await command(harness, OWNER, "/filter add casino")
    await command(harness, OWNER, "/set slowmode 1m")
    spam = await say(harness, SPAM_BOT, "best casino")
    assert harness.fake.is_deleted(GROUP, spam)
    harness.fake.advance(11)
    flood = [await say(harness, SPAM_BOT, f"post {n}") for n in range(6)]
    assert not any(harness.fake.is_deleted(GROUP, m) for m in flood[:5])  # no slow mode
    assert harness.fake.is_deleted(GROUP, flood[5])
    assert "123" in await command(harness, OWNER, f"/set trusted_bots {SPAM_BOT}, 123")
    before = len(harness.replies(GROUP))
    await command(harness, OWNER, "/settings")  # long enough to take two messages
    assert str(SPAM_BOT) in "\n".join(harness.replies(GROUP)[before:])
    harness.fake.advance(3600)
    trusted = await say(harness, SPAM_BOT, "casino night results")
    assert not harness.fake.is_deleted(GROUP, trusted)


# ----- mass mentions ------------------------------------------------------------------------


async def test_a_newcomers_mass_mentions_are_removed_also_when_edited_in(harness: Harness) -> None:
    await make_newcomer(harness)
    six = " ".join(f"@user{n}" for n in range(6))
    loud = await say(harness, NEWCOMER, f"hi {six}")
    assert harness.fake.is_deleted(GROUP, loud)
    assert any("at most 5 people" in text for text in harness.replies(GROUP))
    harness.fake.advance(11)
    quiet = await say(harness, NEWCOMER, "hi @user1")
    assert not harness.fake.is_deleted(GROUP, quiet)
    harness.fake.edit_message(GROUP, NEWCOMER, quiet, f"buy now {six}")
    await harness.settle()
    assert harness.fake.is_deleted(GROUP, quiet)
    harness.fake.advance(11)
    by_name = [
        {
            "type": "text_mention",
            "offset": n,
            "length": 1,
            "user": {"id": 10 + n, "is_bot": False, "first_name": "X"},
        }
        for n in range(6)
    ]
    named = await say(harness, NEWCOMER, "abcdef", entities=by_name)
    assert harness.fake.is_deleted(GROUP, named)
    harness.fake.advance(11)
    member = await say(harness, MEMBER, f"meet {six}")
    assert not harness.fake.is_deleted(GROUP, member)


async def test_keys_of_automatic_actions_are_forgotten_after_two_days(harness: Harness) -> None:
    await command(harness, OWNER, "/filter add casino")
    await say(harness, MEMBER, "casino")

    async def keys() -> int:
        async with harness.app.db.transaction() as session:
            query = select(func.count()).select_from(AutoAction)
            return int((await session.execute(query)).scalar_one())

    assert await keys() == 1
    harness.clock.advance(timedelta(days=1))
    await harness.app.hearth.moderation.prune_counters()
    assert await keys() == 1
    harness.clock.advance(timedelta(days=1, minutes=1))
    await harness.app.hearth.moderation.prune_counters()
    assert await keys() == 0
