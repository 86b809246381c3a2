"""Issue 11, moderation items: who may route a log, stale @usernames, mistyped durations,
disguised stop words, other bots, mass mentions and redelivered updates."""

from __future__ import annotations

from models.users import User
from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, OWNER, Harness
from tests.dispatcher.test_moderation import command, mute_seconds, muted, say, seen

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
