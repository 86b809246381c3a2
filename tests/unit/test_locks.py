"""Steps that must not interleave, serialised within one process and, through Redis, across
several (each `Locks` below stands for one process)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import FakeClock, FakeTimer
from bot.db import Database
from bot.locks import RETRY_AFTER, Locks, LockTimeout
from bot.notifier import Notifier
from bot.redis_pool import connect
from bot.services.activity import ActivityTracker
from bot.services.checkins import CheckinService, Prompt
from bot.services.checkins.questions import decode_answers
from bot.services.settings import SettingsService
from models.chats import ChatRepository
from models.checkin_repository import CheckinRepository
from models.checkins import CheckinEntry, CheckinRound, EntryState, RoundStatus
from models.members import Member, MemberStatus, TrustLevel
from models.users import User
from tests.unit.test_pace import REDIS_URL, _redis_available

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CHAT, PERSON = -1001, 501
REDIS_DOWN = "redis://127.0.0.1:1/0"  # nothing listens there: connections are refused


@pytest.fixture
async def prefix() -> str:
    """Lock names of one test; every `Locks` of the test shares them, as processes of one bot."""
    if not await _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    return f"test:lock:{uuid.uuid4().hex}:"


@pytest.fixture
async def two_processes(prefix: str) -> AsyncIterator[tuple[Locks, Locks]]:
    clients = connect(REDIS_URL), connect(REDIS_URL)  # each process has its own client
    yield Locks(clients[0], prefix), Locks(clients[1], prefix)
    for client in clients:
        await client.aclose()


async def _entered(event: asyncio.Event, within: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), within)
    except TimeoutError:
        return False
    return True


async def test_one_process_serialises_a_name_and_forgets_it_afterwards() -> None:
    locks = Locks()
    inside = asyncio.Event()
    release = asyncio.Event()
    order: list[str] = []

    async def first() -> None:
        async with locks.lock("checkin:1"):
            inside.set()
            await release.wait()
            order.append("first done")

    async def second() -> None:
        await inside.wait()
        async with locks.lock("checkin:1"):
            order.append("second in")

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await inside.wait()
    async with locks.lock("checkin:2"):  # another person is not held up
        order.append("other person")
    release.set()
    await asyncio.gather(*tasks)
    assert order == ["other person", "first done", "second in"]
    gc.collect()
    assert len(locks._local) == 0  # nobody holds or waits: the names do not pile up


async def test_two_processes_exclude_each_other(two_processes: tuple[Locks, Locks]) -> None:
    first, second = two_processes
    entered = asyncio.Event()

    async def other_process() -> None:
        async with second.lock("warn:1:2", timeout=5):
            entered.set()

    async with first.lock("warn:1:2", timeout=5):
        waiter = asyncio.create_task(other_process())
        assert not await _entered(entered, 0.3)  # still held by the first process
    assert await _entered(entered, 2.0)  # let go: the second process goes on at once
    await waiter


async def test_a_waiter_gives_up_when_the_lock_stays_held(
    two_processes: tuple[Locks, Locks],
) -> None:
    first, second = two_processes
    async with first.lock("buddies:1", timeout=5):
        with pytest.raises(LockTimeout):
            async with second.lock("buddies:1", timeout=5, blocking_timeout=0.2):
                pytest.fail("entered a lock another process holds")


async def test_a_dead_holder_frees_the_lock_after_its_timeout(prefix: str) -> None:
    dead_client, alive_client = connect(REDIS_URL), connect(REDIS_URL)
    dead, alive = Locks(dead_client, prefix), Locks(alive_client, prefix)
    try:
        held = dead.lock("checkin:7", timeout=0.5)
        await held.__aenter__()
        started = time.monotonic()
        await dead_client.aclose()  # killed while holding it: never released
        with pytest.raises(LockTimeout):
            async with alive.lock("checkin:7", timeout=5, blocking_timeout=0.1):
                pytest.fail("entered before the dead holder's lock expired")
        async with alive.lock("checkin:7", timeout=5, blocking_timeout=3):
            waited = time.monotonic() - started
        assert 0.4 <= waited < 2.0  # its expiry, not the waiter's patience, let it in
    finally:
        await alive_client.aclose()


async def test_redis_down_falls_back_to_the_local_lock_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    timer = FakeTimer()
    client = connect(REDIS_DOWN)
    locks = Locks(client, "test:lock:", timer=timer)
    inside = asyncio.Event()
    order: list[str] = []

    async def step(name: str) -> None:
        async with locks.lock("checkin:1", timeout=5):
            order.append(f"{name} in")
            inside.set()
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            order.append(f"{name} out")

    caplog.set_level(logging.WARNING, logger="bot.locks")
    try:
        await asyncio.gather(step("a"), step("b"))
        timer.advance(RETRY_AFTER)  # asks Redis again, still down: no second warning
        await step("c")
    finally:
        await client.aclose()
    assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]
    assert not locks.shared
    warnings = [r for r in caplog.records if r.name == "bot.locks"]
    assert len(warnings) == 1
    assert "within this process only" in warnings[0].getMessage()


async def _invited(db: Database) -> int:
    """An open round with the default three questions that invited PERSON; its id."""
    async with db.transaction() as session:
        await ChatRepository(session).ensure(CHAT, "Hearth", "supergroup", NOW)
        session.add(User(id=PERSON, first_name="Ann", language_code="en", updated_at=NOW))
        session.add(
            Member(
                chat_id=CHAT,
                user_id=PERSON,
                status=MemberStatus.IN,
                trust=TrustLevel.MEMBER,
                trust_pinned=False,
                level_since=NOW,
                joined_at=NOW - timedelta(days=60),
                source="join",
            )
        )
        row = CheckinRound(
            chat_id=CHAT,
            week="2026-W49",
            status=RoundStatus.OPEN,
            starts_at=NOW - timedelta(hours=1),
            closes_at=NOW + timedelta(days=2),
        )
        session.add(row)
        await session.flush()
        session.add(CheckinEntry(round_id=row.id, user_id=PERSON, state=EntryState.INVITED))
        return row.id


def _process(db_url: str, locks: Locks) -> tuple[Database, CheckinService]:
    """One bot process's check-in service: its own engine and locks, the shared database."""
    db = Database(db_url)
    notifier = Notifier(None, lambda _: asyncio.sleep(0))  # type: ignore[arg-type]
    settings = SettingsService(db, "en", "UTC")
    service = CheckinService(
        db, FakeClock(NOW), notifier, settings, ActivityTracker(db), lambda: None, locks=locks
    )
    return db, service


def _race(monkeypatch: pytest.MonkeyPatch, finished: asyncio.Event) -> None:
    """Make the race certain instead of likely: the first process to look which rounds await
    the person waits (half a second at most) for the second to look too; the second then
    waits until the first has `finished` its step, and starts the round afresh. Steps taken
    in turn never meet here: the second finds the round begun and does not look."""
    original = CheckinRepository.unanswered_open
    second_looked = asyncio.Event()
    looks = 0

    async def meeting(self: CheckinRepository, user_id: int) -> list[CheckinEntry]:
        nonlocal looks
        found = await original(self, user_id)
        looks += 1
        if looks == 1:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(second_looked.wait(), 0.5)
        else:
            second_looked.set()
            await asyncio.wait_for(finished.wait(), 5)
        return found

    monkeypatch.setattr(CheckinRepository, "unanswered_open", meeting)


async def test_two_processes_take_one_persons_two_answers_in_turn(
    db: Database, db_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person typed two answers without pressing "Answer"; the two updates reach two
    processes at once. Taken in turn, the first starts the round and answers question 1, the
    second answers question 2; interleaved, both would start it and answer question 1."""
    round_id = await _invited(db)
    finished = asyncio.Event()
    _race(monkeypatch, finished)
    clients = connect(REDIS_URL), connect(REDIS_URL)
    first_locks, second_locks = Locks(clients[0], prefix), Locks(clients[1], prefix)
    first_db, first = _process(db_url, first_locks)
    second_db, second = _process(db_url, second_locks)

    async def answer(service: CheckinService, text: str) -> Prompt | None:
        try:
            return await service.answer_text(PERSON, text)
        finally:
            finished.set()

    try:
        prompts = await asyncio.gather(answer(first, "I ran 5 km"), answer(second, "Sleep"))
    finally:
        for client in clients:
            await client.aclose()
        for closing in (first_db, second_db):
            await closing.close()
    assert all(prompt is not None for prompt in prompts)
    async with db.transaction() as session:
        entry = await session.get(CheckinEntry, (round_id, PERSON))
    assert entry is not None
    assert entry.step == 2  # two questions answered, the third is asked
    assert sorted(decode_answers(entry.answers)[:2]) == ["I ran 5 km", "Sleep"]
