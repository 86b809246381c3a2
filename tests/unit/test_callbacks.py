"""The button protocol keeps the wire format of buttons already posted in chats."""

from __future__ import annotations

import pytest
from aiogram.filters.callback_data import CallbackData

from bot.views.callbacks import (
    AcceptRules,
    AskBuddy,
    AtRiskChat,
    BuddyFollowup,
    CancelSubscription,
    CheckinBegin,
    CheckinOptIn,
    CheckinShare,
    CheckinSkip,
    Offer,
    RefundChat,
    ReportChoice,
    ResumeSubscription,
    Verify,
)

LEGACY: list[tuple[CallbackData, str]] = [
    (Verify(), "hearth:verify"),
    (AcceptRules(chat_id=-1001234567890), "hearth:accept:-1001234567890"),
    (BuddyFollowup(chat_id=-1001, answer="y"), "hearth:fu:-1001:y"),
    (Offer(chat_id=-1001), "hearth:offer:-1001"),
    (CancelSubscription(chat_id=-1001), "hearth:cancel:-1001"),
    (ResumeSubscription(chat_id=-1001), "hearth:resume:-1001"),
    (RefundChat(chat_id=-1001), "hearth:refunds:-1001"),
    (ReportChoice(report_id=7, choice="ban"), "rep:7:ban"),
    (CheckinBegin(round_id=42), "ci:a:42"),
    (CheckinSkip(round_id=42), "ci:k:42"),
    (CheckinShare(round_id=42, choice="anon"), "ci:s:42:anon"),
    (CheckinOptIn(chat_id=-1001, on=True), "ci:o:-1001:1"),
    (CheckinOptIn(chat_id=-1001, on=False), "ci:o:-1001:0"),
    (AtRiskChat(chat_id=-1001), "drift:c:-1001"),
    (AskBuddy(chat_id=-1001, user_id=42), "drift:b:-1001:42"),
]


@pytest.mark.parametrize(("button", "wire"), LEGACY)
def test_buttons_pack_to_the_format_already_in_chats(button: CallbackData, wire: str) -> None:
    assert button.pack() == wire
    assert type(button).unpack(wire) == button
    assert len(wire.encode()) <= 64  # Telegram's limit for callback data


@pytest.mark.parametrize(("button", "wire"), LEGACY)
def test_each_wire_string_belongs_to_exactly_one_class(button: CallbackData, wire: str) -> None:
    owners = []
    for other, _ in LEGACY:
        try:
            type(other).unpack(wire)
        except (TypeError, ValueError):
            continue
        owners.append(type(other))
    assert set(owners) == {type(button)}


@pytest.mark.parametrize(
    "garbage", ["hearth:offer:abc", "hearth:fu:-1:maybe", "rep:x:ban", "ci:a:", "ci:zz:1"]
)
def test_malformed_data_matches_no_button(garbage: str) -> None:
    for button, _ in LEGACY:
        with pytest.raises((TypeError, ValueError)):
            type(button).unpack(garbage)
