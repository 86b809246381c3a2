"""The pure rules of billing (bot/services/billing/policy.py): no database, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services.billing.policy import (
    AUTO_RENEW_SLACK,
    MONTH,
    csv_cell,
    due_reminders,
    end_slack,
    granted_seconds,
    make_payload,
    mark_reminded,
    next_reminder,
    paid_period,
    parse_payload,
    read_payload,
    skip_past_reminders,
)
from bot.services.setting_values import specs as _specs
from bot.services.settings import ChatConfig

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
OFFSETS = [timedelta(days=3), DAY]  # remind_before, as the settings store it


def config(**values: str) -> ChatConfig:
    defaults = {key: spec.default for key, spec in _specs("en", "UTC").items()}
    return ChatConfig({**defaults, **values})


@pytest.mark.parametrize(
    ("cell", "guarded"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Nina", "Nina"),
        ("", ""),
        ("a=b", "a=b"),
        (-5, -5),  # numbers are numbers, not text a spreadsheet runs
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_get_a_quote(cell: object, guarded: object) -> None:
    assert csv_cell(cell) == guarded


def test_read_payload_tells_what_it_says_without_the_key() -> None:
    payload = make_payload("key", -1001, 42, "once", 70)
    claimed = read_payload(payload)
    assert claimed is not None
    assert (claimed.chat_id, claimed.user_id, claimed.plan, claimed.amount) == (
        -1001,
        42,
        "once",
        70,
    )
    assert parse_payload("another-key", payload) is None  # unverified, yet readable
    assert read_payload(payload.replace(":o:", ":x:")) is None  # no such plan
    assert read_payload(payload.replace(":42:", ":4two:")) is None
    assert read_payload(payload.replace("hs1:", "hs2:")) is None  # another version
    assert read_payload(payload + ":extra") is None


def test_an_older_key_still_verifies_and_the_order_of_keys_does_not_matter() -> None:
    payload = make_payload("old", -100, 7, "recurring", 100)
    assert parse_payload(("new", "old"), payload) is not None
    assert parse_payload(("old", "new"), payload) is not None
    assert parse_payload(("new",), payload) is None
    assert parse_payload((), payload) is None


def test_auto_renewal_gets_at_least_the_slack_after_the_end() -> None:
    assert end_slack(config(grace="0s"), "auto") == AUTO_RENEW_SLACK
    assert end_slack(config(grace="2d"), "auto") == timedelta(days=2)
    assert end_slack(config(grace="0s"), "canceled") == timedelta(0)
    assert end_slack(config(grace="1h"), "none") == timedelta(hours=1)


def test_one_payment_lasts_a_month_for_a_subscription_and_the_period_otherwise() -> None:
    assert paid_period(config(period="60d")) == MONTH
    assert paid_period(config(plan="once", period="60d")) == timedelta(days=60)


def test_granted_time_counts_from_the_later_of_now_and_the_current_end() -> None:
    assert granted_seconds(None, NOW, NOW + DAY) == 86400
    assert granted_seconds(NOW + DAY, NOW, NOW + 3 * DAY) == 2 * 86400
    assert granted_seconds(NOW - DAY, NOW, NOW + DAY) == 86400
    assert granted_seconds(NOW + 5 * DAY, NOW, NOW + DAY) == 0  # never negative


def test_reminders_in_the_past_are_skipped_not_sent_late() -> None:
    ends_at = NOW + 2 * DAY  # the 3-day reminder's moment has passed, the 1-day one has not
    reminded = skip_past_reminders("", ends_at, OFFSETS, NOW)
    assert reminded == "259200"
    assert next_reminder(reminded, ends_at, OFFSETS) == ends_at - DAY
    assert skip_past_reminders("", NOW + 10 * DAY, OFFSETS, NOW) == ""


def test_the_next_reminder_is_the_earliest_not_sent() -> None:
    ends_at = NOW + 10 * DAY
    assert next_reminder("", ends_at, OFFSETS) == ends_at - 3 * DAY
    assert next_reminder("259200", ends_at, OFFSETS) == ends_at - DAY
    assert next_reminder("259200,86400", ends_at, OFFSETS) is None
    assert next_reminder("", ends_at, []) is None


def test_due_reminders_are_those_not_sent_whose_moment_came() -> None:
    ends_at = NOW + DAY / 2
    assert due_reminders("", ends_at, OFFSETS, NOW) == OFFSETS
    assert due_reminders("259200", ends_at, OFFSETS, NOW) == [DAY]
    assert due_reminders("", NOW + 2 * DAY, OFFSETS, NOW) == [timedelta(days=3)]
    assert due_reminders("", NOW + 5 * DAY, OFFSETS, NOW) == []


def test_marking_reminders_keeps_what_was_sent_once_and_sorted() -> None:
    assert mark_reminded("", [DAY]) == "86400"
    assert mark_reminded("86400", [DAY, timedelta(days=3)]) == "259200,86400"
    assert mark_reminded("259200,86400", []) == "259200,86400"
    assert mark_reminded(",,", []) == ""


def test_billing_names_the_join_request_deadline_as_onboarding_does() -> None:
    from bot.services.billing.ports import JOIN_REQUEST, REQUEST_APPROVED, REQUEST_EXPIRED
    from bot.services.onboarding import REQUEST, Accept

    assert JOIN_REQUEST == REQUEST
    assert Accept.EXPIRED == REQUEST_EXPIRED and Accept.APPROVED == REQUEST_APPROVED
