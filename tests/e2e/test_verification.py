"""A newcomer's way in through the real process: the deadline across a restart, and a join
wave (the rest of the flow is in tests/dispatcher/test_flow_onboarding.py)."""

from __future__ import annotations

from tests.e2e.conftest import GROUP, BotProcess, seed_chat
from tests.fakegram.server import FakeTelegram

NEWCOMER = 500


def welcomes(fake: FakeTelegram) -> list[dict]:
    return [
        m for m in fake.sent_messages(GROUP) if "hearth:verify" in str(m.get("reply_markup", ""))
    ]


def restricted_to_silence(fake: FakeTelegram, user_id: int) -> bool:
    member = fake.member(GROUP, user_id)
    return member["status"] == "restricted" and member["can_send_messages"] is False


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


async def test_a_join_wave_stays_within_the_group_limit_and_everyone_can_confirm(
    fake: FakeTelegram, bot_process: BotProcess
) -> None:
    await seed_chat(bot_process.db_url, GROUP, "Hearth Test")
    wave = list(range(1000, 1100))
    for user_id in wave:
        fake.add_user(user_id, f"Wave{user_id}", language_code="ru")
    bot_process.extra_env["WELCOME_INTERVAL"] = "6"  # the production pace is what is tested
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
