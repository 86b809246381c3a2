"""Rules and pace: anti-flood, slow mode, newcomer limits, stop words, warnings, moderation
commands, reports and the audit log, through the production dispatcher and the fake Bot API."""

from __future__ import annotations

from datetime import timedelta

from tests.dispatcher.conftest import ADMIN, BOSS, GROUP, MEMBER, NEWCOMER, OWNER, Harness

LOG_CHAT = -1001000000777


def muted(h: Harness, user_id: int) -> bool:
    member = h.fake.member(GROUP, user_id)
    return member["status"] == "restricted" and member["can_send_messages"] is False


def mute_seconds(h: Harness, user_id: int) -> int:
    return int(h.fake.member(GROUP, user_id)["until_date"]) - h.fake.now()


async def say(h: Harness, user_id: int, text: str, **extra: object) -> int:
    """The user posts in the group; returns the message id."""
    update = h.fake.send_message(GROUP, user_id, text, **extra)
    assert update is not None, f"user {user_id} may not post"
    await h.settle()
    return int(update["message"]["message_id"])


async def burst(h: Harness, user_id: int, count: int, text: str = "message") -> list[int]:
    """The user posts `count` messages before the bot sees any of them."""
    ids = []
    for n in range(count):
        update = h.fake.send_message(GROUP, user_id, f"{text} {n}")
        assert update is not None, f"user {user_id} may not post"
        ids.append(int(update["message"]["message_id"]))
    await h.settle()
    return ids


async def command(h: Harness, user_id: int, text: str, reply_to: int | None = None) -> str:
    """Send a command in the group and return the bot's answer."""
    before = len(h.replies(GROUP))
    h.fake.send_message(GROUP, user_id, text, reply_to_message_id=reply_to)
    await h.settle()
    answers = h.replies(GROUP)[before:]
    assert answers, f"no answer to {text!r}"
    return answers[-1]


async def seen(h: Harness, *user_ids: int) -> None:
    """Each person says hello, so the bot knows their @username."""
    for user_id in user_ids:
        await say(h, user_id, "hello everyone")


async def make_newcomer(h: Harness) -> None:
    h.fake.user_joins(GROUP, NEWCOMER)
    await h.settle()
    welcome = next(
        m for m in h.fake.sent_messages(GROUP) if "hearth:verify" in str(m.get("reply_markup"))
    )
    h.fake.press_button(NEWCOMER, GROUP, welcome["message_id"], "hearth:verify")
    await h.settle()
    assert h.app.hearth.directory.cached(GROUP, NEWCOMER) == "newcomer"


def start_bot(h: Harness, user_id: int) -> None:
    h.fake.send_message(user_id, user_id, "/start")


# ----- anti-flood ---------------------------------------------------------------------------


async def test_flood_deletes_the_excess_mutes_once_and_the_notice_goes_away(
    harness: Harness,
) -> None:
    ids = await burst(harness, MEMBER, 8)
    kept = [i for i in ids if not harness.fake.is_deleted(GROUP, i)]
    assert kept == ids[:5]  # default flood_limit 5/10s
    assert muted(harness, MEMBER)
    assert 290 <= mute_seconds(harness, MEMBER) <= 300  # flood_mute 5m
    notices = [m for m in harness.fake.sent_messages(GROUP) if "too many messages" in m["text"]]
    assert len(notices) == 1  # one notice per episode, not per message
    harness.clock.advance(timedelta(seconds=31))
    await harness.settle()
    assert harness.fake.is_deleted(GROUP, notices[0]["message_id"])


async def test_a_repeat_flood_within_a_day_doubles_the_mute(harness: Harness) -> None:
    await burst(harness, MEMBER, 6)
    assert 290 <= mute_seconds(harness, MEMBER) <= 300
    harness.fake.advance(301)  # Telegram lifts the mute, and the window has passed
    harness.clock.advance(timedelta(seconds=301))
    await burst(harness, MEMBER, 6)
    assert muted(harness, MEMBER)
    assert 590 <= mute_seconds(harness, MEMBER) <= 600


async def test_admins_are_never_limited(harness: Harness) -> None:
    await command(harness, OWNER, "/set slowmode 1m")
    await command(harness, OWNER, "/filter add spam")
    ids = await burst(harness, ADMIN, 8, "announcement spam")
    assert not any(harness.fake.is_deleted(GROUP, i) for i in ids)
    assert harness.fake.member_status(GROUP, ADMIN) == "administrator"


async def test_newcomers_have_a_stricter_flood_limit(harness: Harness) -> None:
    await make_newcomer(harness)
    ids = await burst(harness, NEWCOMER, 4)
    assert [harness.fake.is_deleted(GROUP, i) for i in ids] == [False, False, False, True]
    assert muted(harness, NEWCOMER)


async def test_flood_limit_can_be_changed_or_turned_off(harness: Harness) -> None:
    assert "Done" in await command(harness, OWNER, "/set flood_limit off")
    ids = await burst(harness, MEMBER, 8)
    assert not any(harness.fake.is_deleted(GROUP, i) for i in ids)
    answer = await command(harness, OWNER, "/set flood_limit lots")
    assert "5/10s" in answer and "Nothing changed" in answer


# ----- slow mode ----------------------------------------------------------------------------


async def test_slow_mode_removes_extra_messages_and_tells_the_sender_privately(
    harness: Harness,
) -> None:
    start_bot(harness, MEMBER)
    await harness.settle()
    await command(harness, OWNER, "/set slowmode 5m")
    first = await say(harness, MEMBER, "one")
    second = await say(harness, MEMBER, "two")
    third = await say(harness, MEMBER, "three")
    assert not harness.fake.is_deleted(GROUP, first)
    assert harness.fake.is_deleted(GROUP, second) and harness.fake.is_deleted(GROUP, third)
    private = [text for text in harness.replies(MEMBER) if "slow mode" in text]
    assert len(private) == 1 and "5 min" in private[0]
    assert not any("slow mode" in text for text in harness.replies(GROUP))


async def test_slow_mode_notice_in_the_group_when_the_sender_is_unreachable(
    harness: Harness,
) -> None:
    await command(harness, OWNER, "/set slowmode 5m")
    await say(harness, MEMBER, "one")
    second = await say(harness, MEMBER, "two")
    assert harness.fake.is_deleted(GROUP, second)
    notices = [m for m in harness.fake.sent_messages(GROUP) if "slow mode" in m["text"]]
    assert len(notices) == 1
    harness.clock.advance(timedelta(seconds=31))
    await harness.settle()
    assert harness.fake.is_deleted(GROUP, notices[0]["message_id"])


# ----- newcomer limits ----------------------------------------------------------------------


async def test_newcomer_links_are_removed_only_when_turned_on(harness: Harness) -> None:
    await make_newcomer(harness)
    first = await say(harness, NEWCOMER, "look https://example.com/offer")
    assert not harness.fake.is_deleted(GROUP, first)  # default: off
    await command(harness, OWNER, "/set newcomer_links on")
    harness.fake.advance(11)
    link = await say(harness, NEWCOMER, "look https://example.com/offer")
    assert harness.fake.is_deleted(GROUP, link)
    assert any("links" in text for text in harness.replies(GROUP))
    plain = await say(harness, NEWCOMER, "just words")
    assert not harness.fake.is_deleted(GROUP, plain)
    member_link = await say(harness, MEMBER, "https://example.com/ok")
    assert not harness.fake.is_deleted(GROUP, member_link)


async def test_newcomer_forwards_from_channels_are_removed(harness: Harness) -> None:
    await make_newcomer(harness)
    await command(harness, OWNER, "/set newcomer_forwards on")
    origin = {
        "type": "channel",
        "date": harness.fake.now(),
        "chat": {"id": -1009999, "type": "channel", "title": "Promo"},
        "message_id": 7,
    }
    forwarded = await say(harness, NEWCOMER, "buy now", forward_origin=origin)
    assert harness.fake.is_deleted(GROUP, forwarded)
    from_member = await say(harness, MEMBER, "buy now", forward_origin=origin)
    assert not harness.fake.is_deleted(GROUP, from_member)


# ----- stop words ---------------------------------------------------------------------------


async def test_stop_words_match_whole_words_in_any_case_and_warn(harness: Harness) -> None:
    assert "Added" in await command(harness, OWNER, "/filter add Плохое  слово")
    hit = await say(harness, MEMBER, "Это ПЛОХОЕ слово!")
    assert harness.fake.is_deleted(GROUP, hit)
    harness.fake.advance(11)
    near = await say(harness, MEMBER, "плохоесловесный — не то")
    assert not harness.fake.is_deleted(GROUP, near)
    warnings = await harness.app.hearth.moderation.warnings(GROUP, MEMBER)
    assert len(warnings) == 1
    assert any("Warning 1 of 3" in text for text in harness.replies(GROUP))
    assert "плохое слово" in await command(harness, OWNER, "/filters")
    assert "Removed" in await command(harness, OWNER, "/filter del плохое слово")
    again = await say(harness, MEMBER, "плохое слово")
    assert not harness.fake.is_deleted(GROUP, again)


async def test_editing_a_message_into_a_stop_word_removes_it(harness: Harness) -> None:
    await command(harness, OWNER, "/filter add casino")
    message_id = await say(harness, MEMBER, "hello")
    harness.fake.edit_message(GROUP, MEMBER, message_id, "best CASINO here")
    await harness.settle()
    assert harness.fake.is_deleted(GROUP, message_id)


# ----- warnings -----------------------------------------------------------------------------


async def test_warnings_escalate_at_the_limit(harness: Harness) -> None:
    start_bot(harness, MEMBER)
    await harness.settle()
    target = await say(harness, MEMBER, "rude")
    assert "(1/3)" in await command(harness, ADMIN, "/warn rudeness", reply_to=target)
    assert any("rudeness" in text and "1 of 3" in text for text in harness.replies(MEMBER))
    assert "(2/3)" in await command(harness, ADMIN, "/warn @maria again")
    assert not muted(harness, MEMBER)
    answer = await command(harness, ADMIN, f"/warn {MEMBER} third time")
    assert "(3/3)" in answer and "muted" in answer
    assert muted(harness, MEMBER)
    assert 86390 <= mute_seconds(harness, MEMBER) <= 86400  # warn_mute 1d
    # counting starts afresh after the action
    assert "no active warnings" in await command(harness, ADMIN, "/warns @maria")


async def test_warn_action_can_be_a_ban(harness: Harness) -> None:
    await seen(harness, MEMBER, ADMIN)
    await command(harness, OWNER, "/set warn_limit 1")
    await command(harness, OWNER, "/set warn_action ban")
    await command(harness, ADMIN, "/warn @maria spam")
    assert harness.fake.member_status(GROUP, MEMBER) == "kicked"


async def test_warnings_expire(harness: Harness) -> None:
    await seen(harness, MEMBER, ADMIN)
    await command(harness, ADMIN, "/warn @maria one")
    assert "1 of 3" in await command(harness, MEMBER, "/warns")
    harness.clock.advance(timedelta(days=30, seconds=1))
    assert "no active warnings" in await command(harness, MEMBER, "/warns")


async def test_unwarn_and_who_may_see_warnings(harness: Harness) -> None:
    await seen(harness, MEMBER, ADMIN)
    await command(harness, ADMIN, "/warn @maria one")
    await command(harness, ADMIN, "/warn @maria two")
    assert "1 left" in await command(harness, ADMIN, "/unwarn @maria")
    assert "only your own" in await command(harness, MEMBER, "/warns @anton")
    assert "1 of 3" in await command(harness, ADMIN, "/warns @maria")


async def test_members_cannot_warn(harness: Harness) -> None:
    answer = await command(harness, MEMBER, "/warn @anton")
    assert "administrators" in answer
    assert await harness.app.hearth.moderation.warnings(GROUP, ADMIN) == []


# ----- moderation commands ------------------------------------------------------------------


async def test_mute_and_unmute(harness: Harness) -> None:
    await seen(harness, MEMBER, ADMIN)
    answer = await command(harness, ADMIN, "/mute @maria 1h spam links")
    assert "muted" in answer and "spam links" in answer
    assert muted(harness, MEMBER)
    assert 3590 <= mute_seconds(harness, MEMBER) <= 3600
    assert "can write again" in await command(harness, ADMIN, "/unmute @maria")
    assert harness.fake.member_status(GROUP, MEMBER) == "member"


async def test_kick_removes_and_ban_keeps_out_until_unban(harness: Harness) -> None:
    target = await say(harness, MEMBER, "hello")
    assert "removed" in await command(harness, ADMIN, "/kick trolling", reply_to=target)
    assert harness.fake.member_status(GROUP, MEMBER) == "left"
    harness.fake.user_joins(GROUP, MEMBER)
    await harness.settle()
    assert "banned" in await command(harness, ADMIN, f"/ban {MEMBER} 7d")
    assert harness.fake.member_status(GROUP, MEMBER) == "kicked"
    assert "unbanned" in await command(harness, ADMIN, "/unban @maria")
    assert harness.fake.member_status(GROUP, MEMBER) == "left"


async def test_clear_refusals(harness: Harness) -> None:
    await seen(harness, MEMBER, ADMIN)
    assert "administrators" in await command(harness, MEMBER, "/ban @anton")
    assert "Administrators can't" in await command(harness, OWNER, "/ban @anton")
    assert harness.fake.member_status(GROUP, ADMIN) == "administrator"
    assert "can't tell who you mean" in await command(harness, OWNER, "/mute @nobody_here")
    assert "Usage" in await command(harness, OWNER, "/mute")
    assert "30s" in await command(harness, OWNER, "/mute @maria 5s")
    harness.fake.fail_next(
        "restrictChatMember",
        400,
        "Bad Request: not enough rights to restrict/unrestrict chat member",
    )
    assert "Ban users" in await command(harness, OWNER, "/mute @maria 1h")
    assert not muted(harness, MEMBER)


# ----- reports ------------------------------------------------------------------------------


async def test_report_reaches_admins_and_one_admin_decides(harness: Harness) -> None:
    start_bot(harness, ADMIN)
    await harness.settle()
    bad = await say(harness, MEMBER, "buy my course")
    answer = await command(harness, BOSS, "/report spam", reply_to=bad)
    assert "admins have been told" in answer
    cards = [m for m in harness.fake.sent_messages(ADMIN) if "Report" in m["text"]]
    assert len(cards) == 1 and "buy my course" in cards[0]["text"] and "spam" in cards[0]["text"]
    card = cards[0]
    buttons = [b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    ban = next(b for b in buttons if b.endswith(":ban"))
    harness.fake.press_button(ADMIN, ADMIN, card["message_id"], ban)
    await harness.settle()
    assert harness.fake.member_status(GROUP, MEMBER) == "kicked"
    assert harness.fake.is_deleted(GROUP, bad)
    edited = harness.fake.sent_messages(ADMIN)[-1]
    assert "Ban" in edited["text"]
    # the same button again changes nothing
    harness.fake.press_button(ADMIN, ADMIN, card["message_id"], ban)
    await harness.settle()
    assert harness.fake.callback_answers[-1]["text"].startswith("Another admin")


async def test_report_limits(harness: Harness) -> None:
    targets = [await say(harness, MEMBER, f"msg {n}") for n in range(5)]
    harness.fake.advance(11)
    extra = await say(harness, ADMIN, "admin message")
    assert "told" in await command(harness, BOSS, "/report", reply_to=targets[0])
    assert "already reported" in await command(harness, BOSS, "/report", reply_to=targets[0])
    for target in targets[1:]:
        assert "told" in await command(harness, BOSS, "/report", reply_to=target)
    assert "5 reports in an hour" in await command(harness, BOSS, "/report", reply_to=extra)
    own = await say(harness, BOSS, "mine")
    assert "own message" in await command(harness, BOSS, "/report", reply_to=own)


async def test_a_non_admin_cannot_act_on_a_report(harness: Harness) -> None:
    bad = await say(harness, MEMBER, "nasty")
    await command(harness, BOSS, "/report", reply_to=bad)
    # nobody started the bot: the card is posted in the group as a reply
    card = next(m for m in harness.fake.sent_messages(GROUP) if "Report" in m["text"])
    assert "Boss" not in card["text"]  # the reporter is not named in public
    buttons = [b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    harness.fake.press_button(NEWCOMER, GROUP, card["message_id"], buttons[0])
    await harness.settle()
    assert "administrators" in harness.fake.callback_answers[-1]["text"]
    assert not harness.fake.is_deleted(GROUP, bad)


# ----- audit log ----------------------------------------------------------------------------


async def test_every_action_is_in_the_audit_log_and_the_log_chat(harness: Harness) -> None:
    await seen(harness, MEMBER, ADMIN)
    harness.fake.add_chat(LOG_CHAT, "Mod log")
    harness.fake.set_member(LOG_CHAT, ADMIN, "creator")
    harness.fake.add_bot_to_chat(LOG_CHAT, ADMIN, admin=True)
    await harness.settle()
    assert "Done" in await command(harness, ADMIN, f"/setlog {LOG_CHAT}")
    assert any("Circle" in m["text"] for m in harness.fake.sent_messages(LOG_CHAT))
    await command(harness, ADMIN, "/warn @maria rude")
    await command(harness, ADMIN, "/mute @maria 1h")
    await command(harness, ADMIN, "/unmute @maria")
    await burst(harness, MEMBER, 6)
    log_lines = [m["text"] for m in harness.fake.sent_messages(LOG_CHAT) if "Circle ·" in m["text"]]
    assert len(log_lines) == 4
    assert "warning" in log_lines[0] and "rude" in log_lines[0] and "Anton" in log_lines[0]
    assert "flood mute" in log_lines[3] and "automatic" in log_lines[3]
    modlog = await command(harness, ADMIN, "/modlog 3")
    assert modlog.count("\n") == 3 and "flood mute" in modlog.split("\n")[1]
    rows = await harness.app.hearth.moderation.modlog(GROUP, 50)
    assert len(rows) == 4


async def test_setlog_from_the_log_chat_or_in_private(harness: Harness) -> None:
    harness.fake.add_chat(LOG_CHAT, "Mod log")
    harness.fake.set_member(LOG_CHAT, ADMIN, "creator")
    harness.fake.set_member(LOG_CHAT, MEMBER, "member")
    harness.fake.add_bot_to_chat(LOG_CHAT, ADMIN, admin=True)
    await harness.settle()
    harness.fake.send_message(LOG_CHAT, MEMBER, f"/setlog {GROUP}")
    await harness.settle()
    assert "administrators" in harness.replies(LOG_CHAT)[-1]
    harness.fake.send_message(LOG_CHAT, ADMIN, f"/setlog {GROUP}")
    await harness.settle()
    assert "receives the moderation log" in harness.replies(LOG_CHAT)[-1]
    await seen(harness, MEMBER)
    await command(harness, ADMIN, "/kick @maria")
    assert "removal" in harness.replies(LOG_CHAT)[-1]
    # an admin may also take the log privately
    start_bot(harness, ADMIN)
    harness.fake.send_message(ADMIN, ADMIN, f"/setlog {GROUP}")
    await harness.settle()
    assert "receives the moderation log" in harness.replies(ADMIN)[-1]
    harness.fake.user_joins(GROUP, MEMBER)
    await harness.settle()
    await command(harness, ADMIN, "/ban @maria 1d")
    assert "ban" in harness.replies(ADMIN)[-1]


async def test_setlog_refuses_chats_the_caller_does_not_control(harness: Harness) -> None:
    other_group = -1001000000888
    harness.fake.add_chat(other_group, "Someone else's group")
    harness.fake.set_member(other_group, MEMBER, "creator")
    harness.fake.add_bot_to_chat(other_group, MEMBER, admin=True)
    start_bot(harness, MEMBER)
    await harness.settle()
    assert "administrator of chat" in await command(harness, ADMIN, f"/setlog {other_group}")
    assert "administrator of chat" in await command(harness, ADMIN, f"/setlog {MEMBER}")
    assert await harness.app.hearth.moderation.log_chat(GROUP) is None
    assert not any("moderation log" in m["text"] for m in harness.fake.sent_messages(other_group))


# ----- review findings: the rules must not be escaped, nor swallow what they should not -----


async def test_a_mute_outlives_leaving_and_rejoining(harness: Harness) -> None:
    await seen(harness, MEMBER)
    await command(harness, ADMIN, "/mute @maria 1d trolling")
    harness.fake.user_leaves(GROUP, MEMBER)
    await harness.settle()
    harness.fake.user_joins(GROUP, MEMBER)
    await harness.settle()
    welcome = [
        m
        for m in harness.fake.sent_messages(GROUP)
        if "hearth:verify" in str(m.get("reply_markup"))
    ][-1]
    harness.fake.press_button(MEMBER, GROUP, welcome["message_id"], "hearth:verify")
    await harness.settle()
    assert muted(harness, MEMBER)
    assert mute_seconds(harness, MEMBER) > 86000


async def test_after_unmute_a_flooder_may_write_again_at_once(harness: Harness) -> None:
    await burst(harness, MEMBER, 6)
    assert muted(harness, MEMBER)
    await command(harness, ADMIN, f"/unmute {MEMBER}")
    harness.fake.advance(11)
    after = await say(harness, MEMBER, "sorry, all good now")
    assert not harness.fake.is_deleted(GROUP, after)


async def test_a_newcomer_cannot_edit_a_link_in(harness: Harness) -> None:
    await make_newcomer(harness)
    await command(harness, OWNER, "/set newcomer_links on")
    message_id = await say(harness, NEWCOMER, "hi all")
    harness.fake.edit_message(GROUP, NEWCOMER, message_id, "hi all https://spam.example")
    await harness.settle()
    assert harness.fake.is_deleted(GROUP, message_id)


async def test_slow_mode_does_not_swallow_commands(harness: Harness) -> None:
    await command(harness, OWNER, "/set slowmode 5m")
    target = await say(harness, MEMBER, "first message")
    await say(harness, BOSS, "hello")
    answer = await command(harness, BOSS, "/report spam", reply_to=target)
    assert "admins have been told" in answer


async def test_a_failed_punishment_keeps_the_warnings(harness: Harness) -> None:
    await seen(harness, MEMBER)
    await command(harness, OWNER, "/set warn_limit 1")
    harness.fake.fail_next(
        "restrictChatMember",
        400,
        "Bad Request: not enough rights to restrict/unrestrict chat member",
    )
    answer = await command(harness, ADMIN, "/warn @maria spam")
    assert "Ban users" in answer
    assert "1 of 1" in await command(harness, ADMIN, "/warns @maria")
    assert "muted" in await command(harness, ADMIN, "/warn @maria spam again")
    assert muted(harness, MEMBER)


async def test_a_number_at_the_start_of_a_reason_in_a_reply_is_not_a_target(
    harness: Harness,
) -> None:
    target = await say(harness, MEMBER, "spam spam")
    answer = await command(harness, ADMIN, f"/warn {OWNER} links in a row", reply_to=target)
    assert "Maria" in answer and f"{OWNER} links in a row" in answer


async def test_report_buttons_do_not_act_on_admins(harness: Harness) -> None:
    start_bot(harness, OWNER)
    await harness.settle()
    admin_post = await say(harness, ADMIN, "admin says")
    await command(harness, BOSS, "/report", reply_to=admin_post)
    card = next(m for m in harness.fake.sent_messages(OWNER) if "Report" in m["text"])
    buttons = [b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    harness.fake.press_button(
        OWNER, OWNER, card["message_id"], next(b for b in buttons if b.endswith(":warn"))
    )
    await harness.settle()
    assert "Administrators can't" in harness.fake.callback_answers[-1]["text"]
    assert await harness.app.hearth.moderation.warnings(GROUP, ADMIN) == []


async def test_posting_as_another_channel_is_held_to_the_rules(harness: Harness) -> None:
    await command(harness, OWNER, "/filter add casino")
    channel = {"id": -1009876, "type": "channel", "title": "Spam channel"}
    harness.fake.add_user(136817688, "Channel", username="Channel_Bot", is_bot=True)
    update = harness.fake.send_message(
        GROUP, 136817688, "best casino here", sender_chat=channel, force=True
    )
    assert update is not None
    await harness.settle()
    assert harness.fake.is_deleted(GROUP, update["message"]["message_id"])
    anonymous = {"id": GROUP, "type": "supergroup", "title": "Circle"}
    harness.fake.add_user(1087968824, "Group", username="GroupAnonymousBot", is_bot=True)
    as_group = harness.fake.send_message(
        GROUP, 1087968824, "casino night is cancelled", sender_chat=anonymous, force=True
    )
    assert as_group is not None
    await harness.settle()
    assert not harness.fake.is_deleted(GROUP, as_group["message"]["message_id"])


async def test_ordinary_messages_open_no_database_transaction(harness: Harness) -> None:
    await command(harness, OWNER, "/set slowmode 1m")
    await command(harness, OWNER, "/filter add casino")
    await seen(harness, MEMBER, BOSS)
    harness.fake.advance(61)
    db = harness.app.db
    opened = 0
    original = db.transaction

    def counting():  # type: ignore[no-untyped-def]
        nonlocal opened
        opened += 1
        return original()

    db.transaction = counting  # type: ignore[method-assign]
    for user_id in (MEMBER, BOSS):
        harness.fake.send_message(GROUP, user_id, "an ordinary message")
    await harness.deliver()
    db.transaction = original  # type: ignore[method-assign]
    assert opened == 0
