"""Views of onboarding, buddies and members: pure text and buttons, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.services.buddies import Change, Followup, Volunteer
from bot.services.people import Person
from bot.services.trust import Standing
from bot.views import buddies, members, onboarding
from models.members import TrustLevel

CHAT = onboarding.WelcomeChat(
    id=-1001,
    title="Tea & <Talk>",
    rules="Be kind",
    custom=None,
    language="en",
    verify_timeout=timedelta(minutes=5),
)


def test_welcome_names_everyone_quotes_short_rules_and_carries_the_verify_button() -> None:
    text, buttons = onboarding.welcome(CHAT, [(1, "Ann"), (2, "<Bob>")], "hearthbot")
    assert "Tea &amp; &lt;Talk&gt;" in text
    assert "Be kind" in text
    assert 'href="tg://user?id=2">&lt;Bob&gt;</a>' in text
    assert "5 min" in text
    assert [[b.data for b in row] for row in buttons] == [["hearth:verify"]]


def test_a_newcomer_named_like_a_placeholder_is_shown_literally_in_one_pass() -> None:
    chat = onboarding.WelcomeChat(
        -1001, "{name}", "<b>No spam</b>", "Hi {name} in {chat}! {rules}", "en", timedelta(5)
    )
    text, _ = onboarding.welcome(chat, [(7, "{rules} <i>")], "hearthbot")
    assert 'href="tg://user?id=7">{rules} &lt;i&gt;</a> in {name}!' in text  # nothing re-read
    assert text.count("&lt;b&gt;No spam&lt;/b&gt;") == 1  # the rules once, escaped, at {rules}
    default, _ = onboarding.welcome(CHAT, [(7, "{rules}")], "hearthbot")
    assert 'href="tg://user?id=7">{rules}</a>' in default
    assert default.count("Be kind") == 1


def test_long_rules_move_behind_a_deep_link_button() -> None:
    chat = onboarding.WelcomeChat(-1001, "Tea", "x" * 3000, None, "en", timedelta(minutes=5))
    text, buttons = onboarding.welcome(chat, [(1, "Ann")], "hearthbot")
    assert "x" * 3000 not in text
    assert buttons[1][0].url == "https://t.me/hearthbot?start=rules_-1001"
    _, without_username = onboarding.welcome(chat, [(1, "Ann")], "")
    assert len(without_username) == 1


def test_a_custom_welcome_without_a_name_placeholder_gets_the_names_first() -> None:
    chat = onboarding.WelcomeChat(-1001, "Tea", None, "Hello <all>", "en", timedelta(minutes=1))
    text, _ = onboarding.welcome(chat, [(1, "Ann")], "")
    assert text.startswith('<a href="tg://user?id=1">Ann</a>\nHello &lt;all&gt;')


def test_join_request_answer_packs_the_accept_button_for_its_chat() -> None:
    text, buttons = onboarding.join_request(
        "en", -1001234567890, "Tea", None, timedelta(hours=1), "hearthbot"
    )
    assert "Tea" in text
    assert buttons[0][0].data == "hearth:accept:-1001234567890"


def test_accept_popup_is_plain_and_the_edit_is_escaped() -> None:
    popup, edit = onboarding.request_answer("en", "approved", "A<B")
    assert "A<B" in popup
    assert "A&lt;B" in edit


def test_followup_buttons_keep_the_wire_format() -> None:
    _, buttons = buddies.followup("en", -1001, "Tea", "Maria")
    assert [b.data for b in buttons[0]] == ["hearth:fu:-1001:y", "hearth:fu:-1001:n"]


def test_buddy_outcomes_have_distinct_texts() -> None:
    assert len({buddies.change_result("en", c) for c in Change}) == len(Change)
    assert len({buddies.followup_answer("en", f) for f in Followup}) == len(Followup)
    not_yet = buddies.volunteer_result("en", Volunteer.NOT_YET, "Ann", "2026-02-01 10:00")
    assert "2026-02-01 10:00" in not_yet
    assert buddies.volunteer_result("en", Volunteer.NOT_YET, "Ann") == buddies.volunteer_result(
        "en", Volunteer.NOT_IN_CHAT, "Ann"
    )


def test_buddy_view_says_so_when_there_is_nothing() -> None:
    empty = buddies.buddy_view("en", None, [], waiting=False, volunteer=False)
    shown = buddies.buddy_view("en", Person(5, "Maria"), [], waiting=False, volunteer=False)
    assert empty != shown
    assert "Maria" in shown


def test_me_tells_the_next_level_unless_pinned() -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    standing = Standing(
        -1, "Tea", TrustLevel.NEWCOMER, since, False, TrustLevel.MEMBER, since + timedelta(days=7)
    )
    lines = members.me_standing("en", standing, UTC)
    assert len(lines) == 2
    pinned = Standing(-1, "Tea", TrustLevel.NEWCOMER, since, True, None, None)
    assert members.me_standing("en", pinned, UTC)[1] != lines[1]


def test_long_rules_are_sent_without_the_header() -> None:
    assert members.rules("en", "Tea", "x" * 3900) == "x" * 3900
    assert "Tea" in members.rules("en", "Tea", "short")
    assert members.rules("en", "Tea", None) != members.rules("en", "Tea", "short")
