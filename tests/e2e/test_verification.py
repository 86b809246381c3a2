"""A newcomer's way in, end to end: the real bot process against the fake Bot API."""

from __future__ import annotations

import time

from tests.e2e.conftest import GROUP, MEMBER, OWNER, BotProcess, seed_chat
from tests.fakegram.server import FakeTelegram

NEWCOMER = 500


def welcomes(fake: FakeTelegram) -> list[dict]:
    return [
        m for m in fake.sent_messages(GROUP) if "hearth:verify" in str(m.get("reply_markup", ""))
    ]


def restricted_to_silence(fake: FakeTelegram, user_id: int) -> bool:
    member = fake.member(GROUP, user_id)
    return member["status"] == "restricted" and member["can_send_messages"] is False


async def test_newcomer_is_held_welcomed_and_freed_by_their_own_press(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test")
    fake.add_user(NEWCOMER, "Nina", language_code="en")
    await bot_process.start()

    fake.user_joins(GROUP, NEWCOMER)
    await fake.wait_for(lambda: restricted_to_silence(fake, NEWCOMER))
    welcome = await fake.wait_for(lambda: welcomes(fake) and welcomes(fake)[-1])
    assert (
        f"tg://user?id={NEWCOMER}" in str(welcome.get("entities", "")) or "Nina" in welcome["text"]
    )

    # a stranger's press changes nothing
    fake.press_button(MEMBER, GROUP, welcome["message_id"], "hearth:verify")
    answer = await fake.wait_for(lambda: fake.callback_answers and fake.callback_answers[-1])
    assert answer.get("show_alert") is True  # answered: that press has been handled
    assert restricted_to_silence(fake, NEWCOMER)

    # the newcomer's own press frees them and shortens the welcome
    fake.press_button(NEWCOMER, GROUP, welcome["message_id"], "hearth:verify")
    await fake.wait_for(lambda: fake.member_status(GROUP, NEWCOMER) == "member")
    await fake.wait_for(
        lambda: (
            "hearth:verify" not in str(fake.sent_messages(GROUP)[0].get("reply_markup", ""))
            or fake.is_deleted(GROUP, welcome["message_id"])
        )
    )
    update = fake.send_message(GROUP, NEWCOMER, "Hello everyone!")
    assert update is not None
    assert await bot_process.settle_and_stop() == 0  # every update handled
    assert not fake.is_deleted(GROUP, update["message"]["message_id"])


async def test_anything_posted_before_the_restriction_lands_is_deleted(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test")
    fake.add_user(NEWCOMER, "Nina", language_code="en")
    await bot_process.start()
    fake.user_joins(GROUP, NEWCOMER)
    await fake.wait_for(lambda: restricted_to_silence(fake, NEWCOMER))
    sneaked = fake.send_message(GROUP, NEWCOMER, "buy crypto now", force=True)
    assert sneaked is not None
    await fake.wait_for(lambda: fake.is_deleted(GROUP, sneaked["message"]["message_id"]))
    assert await bot_process.stop() == 0


async def test_silent_newcomer_is_removed_at_the_deadline_across_a_restart(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test", verify_timeout="4m")
    fake.add_user(NEWCOMER, "Nina", language_code="en")
    await bot_process.start()
    fake.user_joins(GROUP, NEWCOMER)
    welcome = await fake.wait_for(lambda: welcomes(fake) and welcomes(fake)[-1])
    assert await bot_process.stop() == 0

    bot_process.move_clock(5 * 60)  # the deadline passes while the bot is down
    assert fake.member_status(GROUP, NEWCOMER) == "restricted"
    await bot_process.start()
    await fake.wait_for(lambda: fake.member_status(GROUP, NEWCOMER) == "left", timeout=10)
    bans = [c for c in fake.calls_of("banChatMember") if c.params["user_id"] == NEWCOMER]
    unbans = [c for c in fake.calls_of("unbanChatMember") if c.params["user_id"] == NEWCOMER]
    assert len(bans) == 1 and len(unbans) == 1
    assert unbans[0].params.get("only_if_banned") in (True, "true")
    await fake.wait_for(lambda: fake.is_deleted(GROUP, welcome["message_id"]))
    # removal happened once, not again after another restart
    assert await bot_process.stop() == 0
    await bot_process.start()
    await bot_process.wait_for_job("deadlines", runs=3)  # sweeps after the start-up grace
    assert len([c for c in fake.calls_of("banChatMember") if c.params["user_id"] == NEWCOMER]) == 1
    assert await bot_process.stop() == 0


async def test_silent_newcomer_is_removed_within_seconds_of_the_deadline(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test", verify_timeout="3m")
    fake.add_user(NEWCOMER, "Nina", language_code="en")
    await bot_process.start()
    fake.user_joins(GROUP, NEWCOMER)
    await fake.wait_for(lambda: welcomes(fake))
    assert fake.member_status(GROUP, NEWCOMER) == "restricted"
    bot_process.move_clock(3 * 60)  # the deadline is now
    moved = time.monotonic()
    await fake.wait_for(lambda: fake.member_status(GROUP, NEWCOMER) == "left", timeout=15)
    assert time.monotonic() - moved < 10
    # they may come back: the ban was lifted, so a rejoin starts a fresh verification
    fake.user_joins(GROUP, NEWCOMER)
    await fake.wait_for(lambda: len(welcomes(fake)) == 2, timeout=15)
    assert await bot_process.stop() == 0


async def test_a_join_wave_stays_within_the_group_limit_and_everyone_can_confirm(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test")
    wave = list(range(1000, 1100))
    for user_id in wave:
        fake.add_user(user_id, f"Wave{user_id}", language_code="ru")
    await bot_process.start()
    for batch in range(0, len(wave), 10):  # the wave arrives over several polls
        for user_id in wave[batch : batch + 10]:
            fake.user_joins(GROUP, user_id)
        await fake.wait_for(lambda: fake.pending_updates == 0)

    def named() -> set[int]:
        return {u for u in wave for m in welcomes(fake) if f"Wave{u}" in m["text"]}

    await fake.wait_for(lambda: named() == set(wave), timeout=60)
    posts = welcomes(fake)
    assert len(posts) <= 10, f"{len(posts)} welcome messages for one wave"
    assert fake.rate_limited == 0
    sends = sorted(c.at for c in fake.calls_of("sendMessage") if c.params["chat_id"] == GROUP)
    assert all(later - earlier >= 60 for earlier, later in zip(sends, sends[20:], strict=False))

    # each press confirms only the presser, whichever welcome they press
    presser, bystander = wave[10], wave[11]
    fake.press_button(presser, GROUP, posts[-1]["message_id"], "hearth:verify")
    await fake.wait_for(lambda: fake.member_status(GROUP, presser) == "member")
    assert await bot_process.settle_and_stop() == 0
    assert restricted_to_silence(fake, bystander)


async def test_join_request_is_approved_after_accepting_in_private(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test")
    fake.add_user(NEWCOMER, "Nina", language_code="en")
    await bot_process.start()
    fake.join_request(GROUP, NEWCOMER)
    offer = await fake.wait_for(
        lambda: fake.sent_messages(NEWCOMER) and fake.sent_messages(NEWCOMER)[-1]
    )
    assert "Hearth Test" in offer["text"]
    fake.press_button(NEWCOMER, NEWCOMER, offer["message_id"], f"hearth:accept:{GROUP}")
    await fake.wait_for(lambda: fake.calls_of("approveChatJoinRequest"))
    await fake.wait_for(lambda: fake.member_status(GROUP, NEWCOMER) == "member")
    assert await bot_process.settle_and_stop() == 0  # the join update is handled too
    # not verified a second time on joining
    assert not [c for c in fake.calls_of("restrictChatMember") if c.params["user_id"] == NEWCOMER]
    assert not welcomes(fake)


async def test_join_request_is_declined_on_silence(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test", verify_timeout="2m")
    fake.add_user(NEWCOMER, "Nina", language_code="en")
    await bot_process.start()
    fake.join_request(GROUP, NEWCOMER)
    await fake.wait_for(lambda: fake.sent_messages(NEWCOMER))  # the offer
    assert not fake.calls_of("declineChatJoinRequest")
    bot_process.move_clock(2 * 60 + 1)
    await fake.wait_for(lambda: fake.calls_of("declineChatJoinRequest"), timeout=15)
    assert fake.member_status(GROUP, NEWCOMER) in ("left", None)
    await fake.wait_for(lambda: len(fake.sent_messages(NEWCOMER)) == 2)
    assert (
        "declined" in fake.sent_messages(NEWCOMER)[-1]["text"]
        or "no longer" in fake.sent_messages(NEWCOMER)[-1]["text"]
    )
    assert await bot_process.stop() == 0


async def test_admins_and_bots_who_join_are_not_verified(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test")
    fake.add_user(777, "HelperBot", is_bot=True)
    await bot_process.start()
    fake.user_joins(GROUP, 777)
    fake.send_message(GROUP, OWNER, "/rules")
    await fake.wait_for(
        lambda: any("rules" in m["text"].lower() for m in fake.sent_messages(GROUP))
    )
    assert not fake.calls_of("restrictChatMember")
    assert await bot_process.stop() == 0
