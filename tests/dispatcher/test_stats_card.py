"""The /stats card and the weekly health note, through the production dispatcher and the
fake Bot API: the card is a PNG that decodes and comes before its text twin; the heatmap
counts in the chat's time zone; a chat without data gets no card; the weekly note reaches
the chat's admins privately once a week (restarts included), never members, and `off`
stops it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image
from sqlalchemy import select

from bot.services.people import ChatRef, Person
from bot.views.stats_card import DPI, SIZE
from models.outbox import OutboxMessage
from tests.dispatcher.conftest import ADMIN, BOSS, GROUP, MEMBER, NEWCOMER, OWNER, Harness, restart
from tests.dispatcher.test_ledger import SECRET, flush_job
from tests.dispatcher.test_moderation import say
from tests.dispatcher.test_stats import group_command, lively_group
from tests.fakegram.photos import PNG_SIGNATURE


def move_to(h: Harness, moment: datetime) -> None:
    """Both clocks (the bot's and Telegram's) forward to `moment`."""
    delta = moment - h.clock.now()
    assert delta >= timedelta(0)
    h.clock.advance(delta)
    h.fake.advance(delta.total_seconds())


def next_utc(h: Harness, weekday: int, hour: int, minute: int = 0) -> datetime:
    """The first moment after now that is `weekday` (Monday 0) `hour:minute` UTC."""
    now = h.clock.now().astimezone(UTC)
    moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    moment += timedelta(days=(weekday - now.weekday()) % 7)
    return moment if moment > now else moment + timedelta(days=7)


def decode(data: bytes) -> Image.Image:
    assert data.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


async def test_stats_sends_a_png_card_then_the_text_twin(harness: Harness) -> None:
    h = harness
    await lively_group(h)
    h.fake.send_message(ADMIN, ADMIN, "/start")
    await h.settle()

    await group_command(h, ADMIN, "/stats 7d")

    [card] = h.fake.photos.to(ADMIN)
    image = decode(card["data"])
    assert image.format == "PNG" and image.size == (SIZE[0] * DPI, SIZE[1] * DPI)
    assert 10_000 < len(card["data"]) < 10 * 1024 * 1024
    assert card["caption"] == "“Circle”, last 7 days"
    twin = h.fake.sent_messages(ADMIN)[-1]
    assert "Alive in 30 days: 5 of" in twin["text"]
    assert card["message_id"] < twin["message_id"]  # the picture first, then its numbers
    assert not h.fake.photos.to(GROUP)  # the group sees no figures


async def test_stats_csv_sends_no_card(harness: Harness) -> None:
    h = harness
    await lively_group(h)
    h.fake.send_message(ADMIN, ADMIN, "/start")
    await group_command(h, ADMIN, "/stats csv")
    assert h.fake.payments.documents and not h.fake.photos.sent


async def test_a_chat_without_data_gets_no_card_only_the_collecting_note(
    harness: Harness,
) -> None:
    h = harness
    # the bot knows the owner is in the chat (as from a message it saw before the ledger)
    await h.app.hearth.directory.observe(ChatRef(GROUP, "Circle"), Person(OWNER, "Olga"))
    h.fake.send_message(OWNER, OWNER, "/start")
    h.fake.send_message(OWNER, OWNER, "/stats")
    await h.settle()

    assert not h.fake.photos.sent
    assert "no activity recorded yet" in h.replies(OWNER)[-1]


async def test_the_heatmap_counts_in_the_chats_time_zone(harness: Harness) -> None:
    h = harness
    monday_six_utc = next_utc(h, 0, 6, 10)  # 09:10 in Moscow (+03:00, the default zone)
    move_to(h, monday_six_utc)
    for person in (MEMBER, ADMIN, OWNER):
        await say(h, person, "good morning")
    await say(h, MEMBER, "coffee?")
    await flush_job(h)

    zone, grid = await h.app.hearth.rhythm.heatmap(GROUP, 7)

    assert zone == "Europe/Moscow"
    assert grid is not None and grid[0][9] == 4
    assert sum(map(sum, grid)) == 4

    await h.app.hearth.chat_settings.set(GROUP, "timezone", "Asia/Tokyo")  # +09:00
    zone, grid = await h.app.hearth.rhythm.heatmap(GROUP, 7)
    assert zone == "Asia/Tokyo" and grid is not None and grid[0][15] == 4


async def test_a_heatmap_of_two_people_is_withheld(harness: Harness) -> None:
    h = harness
    await say(h, MEMBER, "just us")
    await say(h, ADMIN, "two")
    await flush_job(h)
    rhythm = await h.app.hearth.rhythm.rhythm(GROUP, 7)
    assert rhythm.heatmap is None and rhythm.busiest is None


async def run_digest(h: Harness) -> None:
    """The scheduled tick, then the outbox sends what it queued."""
    job = h.app.scheduler.get_job("health_digest")
    assert job is not None
    await job.func()
    await h.app.hearth.outbox.drain()


async def test_the_weekly_note_reaches_admins_once_a_week_and_never_members(
    harness: Harness,
) -> None:
    h = harness
    await lively_group(h)
    for person in (ADMIN, MEMBER, BOSS):  # OWNER (an admin too) never started the bot
        h.fake.send_message(person, person, "/start")
    await h.settle()
    monday_ten_moscow = next_utc(h, 0, 7)
    move_to(h, monday_ten_moscow - timedelta(minutes=1))
    await run_digest(h)
    assert not h.fake.photos.sent  # not yet

    move_to(h, monday_ten_moscow + timedelta(minutes=1))
    await run_digest(h)
    await run_digest(h)
    await restart(h)
    await run_digest(h)

    [note] = h.fake.photos.sent
    assert note["chat_id"] == ADMIN
    decode(note["data"])
    caption = note["caption"]
    assert caption.startswith("Weekly health note: “Circle”, last 7 days")
    assert "Alive in 30 days: 5 of" in caption and "/set health_digest off" in caption
    assert len(caption.split("\n")) <= 10
    assert SECRET not in caption
    assert not h.replies(MEMBER)[1:] and not h.replies(BOSS)[1:]  # only their /start answer
    async with h.app.db.transaction() as session:
        keys = (await session.execute(select(OutboxMessage.key, OutboxMessage.status))).all()
    week = {key.rsplit(":", 1)[-1]: status for key, status in keys if key.startswith("digest:")}
    assert week == {str(ADMIN): "sent", str(OWNER): "unreachable"}

    move_to(h, monday_ten_moscow + timedelta(days=7, minutes=5))
    await run_digest(h)
    assert [p["chat_id"] for p in h.fake.photos.sent] == [ADMIN, ADMIN]  # owner: unreachable

    move_to(h, monday_ten_moscow + timedelta(days=30))
    assert await h.app.hearth.outbox.purge() >= 3  # the pictures go with their rows
    assert NEWCOMER not in [p["chat_id"] for p in h.fake.photos.sent]


async def test_the_weekly_note_follows_the_setting_and_off_stops_it(harness: Harness) -> None:
    h = harness
    await lively_group(h)
    h.fake.send_message(ADMIN, ADMIN, "/start")
    answer = await group_command(h, ADMIN, "/set health_digest off")
    assert "off" in answer
    move_to(h, next_utc(h, 0, 7, 1))
    await run_digest(h)
    assert not h.fake.photos.sent

    await group_command(h, ADMIN, "/set health_digest wed 20:00")
    move_to(h, next_utc(h, 2, 17, 1))  # Wednesday 20:01 in Moscow
    await run_digest(h)
    assert [p["chat_id"] for p in h.fake.photos.sent] == [ADMIN]
