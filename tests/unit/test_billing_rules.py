"""The rules of paid membership: prices, periods, payloads, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services.billing import (
    amount_due,
    make_payload,
    once_end,
    parse_payload,
    recurring_end,
)
from bot.services.setting_values import specs as _specs
from bot.services.settings import BadSettingValue, ChatConfig, SettingsService

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECRET = "123:secret"


def config(**values: str) -> ChatConfig:
    defaults = {key: spec.default for key, spec in _specs("en", "UTC").items()}
    return ChatConfig({**defaults, **values})


def test_defaults_make_a_free_chat_with_a_monthly_subscription() -> None:
    c = config()
    assert c.price == 0 and amount_due(c) == 0
    assert c.plan == "recurring" and c.period == timedelta(days=30)
    assert c.grace == timedelta(days=1)
    assert c.remind_before == [timedelta(days=3), timedelta(days=1)]
    assert c.trial is None


def test_price_is_per_30_days() -> None:
    assert amount_due(config(price="100")) == 100
    assert amount_due(config(price="100", plan="once")) == 100
    assert amount_due(config(price="100", plan="once", period="60d")) == 200
    assert amount_due(config(price="100", plan="once", period="45d")) == 150
    assert amount_due(config(price="10", plan="once", period="1d")) == 1  # rounded up
    # a Stars subscription is always 30 days, whatever `period` says
    assert amount_due(config(price="100", period="60d")) == 100


def test_one_time_payment_extends_from_the_later_of_now_and_the_current_end() -> None:
    month = timedelta(days=30)
    assert once_end(NOW, None, month) == NOW + month
    assert once_end(NOW, NOW - timedelta(days=5), month) == NOW + month
    assert once_end(NOW, NOW + timedelta(days=5), month) == NOW + timedelta(days=35)


def test_recurring_payment_lasts_until_the_expiration_date_never_less() -> None:
    expires = NOW + timedelta(days=30)
    assert recurring_end(None, expires) == expires
    assert recurring_end(NOW + timedelta(days=40), expires) == NOW + timedelta(days=40)


def test_payload_names_chat_person_plan_and_amount_and_resists_tampering() -> None:
    payload = make_payload(SECRET, -1001, 42, "recurring", 100)
    assert len(payload.encode()) <= 128
    issued = parse_payload(SECRET, payload)
    assert issued is not None
    assert (issued.chat_id, issued.user_id, issued.plan, issued.amount) == (
        -1001,
        42,
        "recurring",
        100,
    )
    assert parse_payload(SECRET, payload.replace(":42:", ":43:")) is None
    assert parse_payload(SECRET, payload.replace(":100:", ":1:")) is None
    assert parse_payload("other:secret", payload) is None
    assert parse_payload(SECRET, "garbage") is None
    assert parse_payload(SECRET, "") is None


@pytest.mark.parametrize(
    ("key", "raw", "stored"),
    [
        ("price", "250", "250"),
        ("price", "0", "0"),
        ("plan", "ONCE", "once"),
        ("grace", "0s", "0s"),
        ("period", "4w", "4w"),
        ("remind_before", "1d, 3d", "3d,1d"),
        ("remind_before", "off", "off"),
        ("trial", "7d", "1w"),
        ("trial", "off", "off"),
    ],
)
def test_settings_accept(key: str, raw: str, stored: str) -> None:
    service = SettingsService.__new__(SettingsService)
    service.specs = _specs("en", "UTC")
    assert service.validate(key, raw) == stored


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("price", "-1"),
        ("price", "10001"),
        ("plan", "weekly"),
        ("grace", "31d"),
        ("period", "12h"),
        ("remind_before", "3d,soon"),
        ("remind_before", "40d"),
        ("trial", "10m"),
    ],
)
def test_settings_refuse(key: str, raw: str) -> None:
    service = SettingsService.__new__(SettingsService)
    service.specs = _specs("en", "UTC")
    with pytest.raises(BadSettingValue):
        service.validate(key, raw)


def test_the_payment_key_survives_a_token_change(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from bot.config import Settings

    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(str(tmp_path))  # no .env here
    old = Settings(bot_token="123456:old-token")  # type: ignore[arg-type]
    new = Settings(bot_token="123456:revoked-and-new")  # type: ignore[arg-type]
    assert old.payment_key == new.payment_key
    assert "old-token" not in old.payment_key
    chosen = Settings(bot_token="123456:x", payment_secret="long-random")  # type: ignore[arg-type]
    assert chosen.payment_key == "long-random"
    payload = make_payload(old.payment_key, -100, 7, "recurring", 100)
    assert parse_payload(new.payment_key, payload) is not None
    signed_with_token = make_payload("123456:old-token", -100, 7, "recurring", 100)
    assert parse_payload((new.payment_key, "123456:old-token"), signed_with_token) is not None
