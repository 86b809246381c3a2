"""Check-in texts and buttons: raw values are escaped, buttons keep their wire format."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.services.checkin_schedule import parse_slot
from bot.services.checkins.questions import Question
from bot.views import checkins as views

BERLIN = ZoneInfo("Europe/Berlin")
CLOSES = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)


def data(buttons: object) -> list[str | None]:
    assert isinstance(buttons, list)
    return [b.data for row in buttons for b in row]


def test_invites_and_reminders_escape_the_title_and_carry_the_answer_button() -> None:
    text, buttons = views.invite("en", "Cats & <Dogs>", 42, CLOSES, BERLIN)
    assert "“Cats &amp; &lt;Dogs&gt;”" in text
    assert data(buttons) == ["ci:a:42"]
    text, buttons = views.reminder("en", "A&B", 42, CLOSES, BERLIN)
    assert "A&amp;B" in text and data(buttons) == ["ci:a:42"]


def test_the_group_post_links_into_the_private_flow_when_the_bot_has_a_username() -> None:
    _, buttons = views.group_post("en", 42, CLOSES, BERLIN, "hearth_bot")
    assert buttons is not None and buttons[0][0].url == "https://t.me/hearth_bot?start=ci_42"
    assert views.group_post("en", 42, CLOSES, BERLIN, "")[1] is None


def test_question_buttons_skip_only_support_and_share_has_three_choices() -> None:
    questions = [Question("Well <b>?"), Question("Help?", support=True)]
    text, buttons = views.question("en", 7, questions, 0, "old & new", "Intro")
    assert text.startswith("Intro\n\n") and "Well &lt;b&gt;?" in text and "old &amp; new" in text
    assert buttons is None
    assert data(views.question("en", 7, questions, 1, None)[1]) == ["ci:k:7"]
    assert data(views.share_question("en", 7)[1]) == ["ci:s:7:name", "ci:s:7:anon", "ci:s:7:no"]


def test_the_offer_buttons_keep_their_wire_format() -> None:
    text, buttons = views.offer("en", "Circle", -1001234567890, parse_slot("mon 12:00"))
    assert "Mondays" in text and "12:00" in text
    assert data(buttons) == ["ci:o:-1001234567890:1", "ci:o:-1001234567890:0"]


def test_the_summary_is_cut_only_when_asked_and_says_so() -> None:
    answered = [(Question("Q"), "x" * 100), (Question("S", support=True), None)]
    text, buttons = views.thanks("en", 7, answered, None, "anon", CLOSES, BERLIN)
    assert "x" * 100 in text and "—" in text and "shortened" not in text
    assert data(buttons) == ["ci:a:7"]
    text, _ = views.thanks("en", 7, answered, 40, "anon", CLOSES, BERLIN)
    assert "x" * 100 not in text and "…" in text and "shortened" in text


def test_status_and_opt_in_answers_escape_titles() -> None:
    assert "“&lt;i&gt;”: taking part" in "\n".join(views.status("en", [("<i>", True)]))
    assert "“A&amp;B”" in views.opted("en", True, ["A&B"])[0]
    assert "don't know" in views.opted("en", False, [])[0]
