"""Billing's views: buttons keep the wire format already in chats, texts are escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.services.billing.values import Overview, Refund, SubView
from bot.views import billing as views
from bot.views.callbacks import CancelSubscription, Offer, ResumeSubscription

CHAT = -1001234567890
UNTIL = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def test_buttons_carry_the_callback_data_already_in_chats() -> None:
    _, keyboard = views.removed("en", CHAT, "Club")
    assert keyboard[0][0].data == f"hearth:offer:{CHAT}"
    assert Offer.unpack(keyboard[0][0].data).chat_id == CHAT
    _, keyboard = views.resume_offer("en", CHAT, "Club", UNTIL, UTC)
    assert keyboard[0][0].data == f"hearth:resume:{CHAT}"
    assert ResumeSubscription.unpack(keyboard[0][0].data).chat_id == CHAT
    _, keyboard = views.choose_cancel("en", [(CHAT, "Club"), (-100, "x" * 80)])
    assert [row[0].data for row in keyboard] == [f"hearth:cancel:{CHAT}", "hearth:cancel:-100"]
    assert CancelSubscription.unpack(keyboard[1][0].data).chat_id == -100
    assert keyboard[1][0].text == "x" * 60  # long titles are cut for the button
    _, keyboard = views.choose_offer("en", [(CHAT, "Club")])
    assert keyboard[0][0].data == f"hearth:offer:{CHAT}"


def test_titles_and_rules_are_escaped_in_html_texts_but_not_in_invoices() -> None:
    text = views.offer("en", "<b>Club</b>", 100, "recurring", timedelta(days=30), "a < b", "")
    assert "&lt;b&gt;Club&lt;/b&gt;" in text and "a &lt; b" in text
    title, description = views.invoice("en", "<b>Club</b>", timedelta(days=30))
    assert "<b>Club</b>" in title and "<b>Club</b>" in description
    assert views.offer("en", "C", 1, "once", timedelta(days=1), None, "note").startswith("note\n\n")


def test_the_owner_alert_is_in_the_locales_of_both_languages() -> None:
    en = views.unattributed_payment("en", "ch<1>", 70, 42, -100)
    ru = views.unattributed_payment("ru", "ch<1>", 70, 42, -100)
    assert "ch&lt;1&gt;" in en and "70" in en and "42" in en and "-100" in en
    assert en != ru and "ch&lt;1&gt;" in ru


def test_command_answers() -> None:
    view = SubView(CHAT, "Club", "recurring", "active", UNTIL, "auto", False)
    assert "renews automatically" in views.me_line("en", view, UNTIL, UTC)
    overview = Overview(3, 1, 0, 2, 100, 500, 7)
    assert "Revenue in total: 500" in views.subs("en", "Club", overview)
    assert "Refunded 70" in views.refund_result("en", "Circle", Refund.DONE, 70, "Nina")
    assert views.support("en", []) == views.support("en", [])
    assert "“A&amp;B” admins: Olga" in views.support("en", [("A&B", "Olga")])
