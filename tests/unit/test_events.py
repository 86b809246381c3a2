"""The event bus: table order, only the event's own subscribers, failures isolated."""

from __future__ import annotations

import logging

import pytest

from bot.events import EventBus, MemberLeft, MemberVerified, on


async def test_subscribers_run_in_table_order_for_their_event_only() -> None:
    seen: list[str] = []

    async def first(event: MemberVerified) -> None:
        seen.append(f"first {event.user_id}")

    async def second(event: MemberVerified) -> None:
        seen.append(f"second {event.user_id}")

    async def left(event: MemberLeft) -> None:
        seen.append(f"left {event.user_id}")

    bus = EventBus()
    bus.subscribe([on(MemberVerified, first), on(MemberLeft, left), on(MemberVerified, second)])
    await bus.publish(MemberVerified(chat_id=-1, user_id=7))
    assert seen == ["first 7", "second 7"]
    await bus.publish(MemberLeft(chat_id=-1, user_id=8))
    assert seen == ["first 7", "second 7", "left 8"]


async def test_a_failing_subscriber_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[int] = []

    async def broken(event: MemberVerified) -> None:
        raise RuntimeError("boom")

    async def fine(event: MemberVerified) -> None:
        seen.append(event.user_id)

    bus = EventBus()
    bus.subscribe([on(MemberVerified, broken), on(MemberVerified, fine)])
    with caplog.at_level(logging.ERROR, logger="bot.events"):
        await bus.publish(MemberVerified(chat_id=-1, user_id=5))  # does not raise
    assert seen == [5]
    assert any("boom" in (r.exc_text or "") for r in caplog.records)


async def test_plain_callables_are_called_too() -> None:
    woken: list[int] = []
    bus = EventBus()
    bus.subscribe([on(MemberLeft, lambda e: woken.append(e.chat_id))])
    await bus.publish(MemberLeft(chat_id=-3, user_id=1))
    assert woken == [-3]


async def test_an_event_nobody_subscribed_to_is_dropped_quietly() -> None:
    await EventBus().publish(MemberVerified(chat_id=-1, user_id=1))


def test_events_are_frozen() -> None:
    event = MemberVerified(chat_id=-1, user_id=1)
    with pytest.raises(AttributeError):
        event.user_id = 2  # type: ignore[misc]
