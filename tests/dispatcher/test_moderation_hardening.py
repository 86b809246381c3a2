"""Issue 11, moderation items: who may route a log, stale @usernames, mistyped durations,
disguised stop words, other bots, mass mentions and redelivered updates."""

from __future__ import annotations

from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, OWNER, Harness
from tests.dispatcher.test_moderation import command, mute_seconds, muted, seen

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
