"""Several processes on one database: a change in one reaches the others' caches within a
second over Redis pub/sub, without waiting for the 60 s expiry (whose timer never moves here).

Pub/sub delivery happens in real time, so these tests poll for at most `WITHIN` seconds."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TypeVar, cast

import pytest
from aiogram.types import ChatMember, ChatMemberAdministrator, ChatMemberOwner, User
from redis.asyncio import Redis

from bot.clock import FakeClock, FakeTimer
from bot.context import Hearth
from bot.db import Database
from bot.invalidation import Invalidations, Kind, RedisInvalidations, wire
from bot.notifier import Notifier
from bot.redis_pool import connect
from bot.services.kb import KnowledgeBase, Media, NoteContent
from bot.services.members import AdminGuard
from bot.services.moderation import ModerationService
from bot.services.pace import MemoryPace
from bot.services.settings import SettingsService
from models.chats import ChatRepository
from tests.redis_address import redis_url

REDIS_URL = os.environ.get("TEST_REDIS_URL", redis_url(9))
CHAT = -100777
LOG = -100888
WITHIN = 1.0  # seconds: the promise to operators

T = TypeVar("T")


async def unreachable(user_id: int) -> None:
    raise AssertionError("no one is messaged here")


OWNER_ID, ADMIN_ID = 1, 2


class Telegram:
    """The one Telegram every process asks for a chat's administrators."""

    def __init__(self) -> None:
        self.admins = {ADMIN_ID}

    async def get_chat_administrators(self, chat_id: int) -> list[ChatMember]:
        owner = ChatMemberOwner(user=_user(OWNER_ID), is_anonymous=False)
        admins = [ChatMemberAdministrator.model_construct(user=_user(i)) for i in self.admins]
        return [owner, *admins]


def _user(user_id: int) -> User:
    return User(id=user_id, is_bot=False, first_name=f"Person {user_id}")


@dataclass
class Process:
    """What one bot process caches: settings, stop words, log chats, and its listener."""

    db: Database
    settings: SettingsService
    moderation: ModerationService
    invalidations: RedisInvalidations
    kb: KnowledgeBase
    admins: AdminGuard


@asynccontextmanager
async def process(db_url: str, bot_id: str, telegram: Telegram) -> AsyncIterator[Process]:
    timer = FakeTimer()  # never moved: the 60 s expiry cannot be what refreshes a cache
    db = Database(db_url)
    # the process's one client, named in CLIENT LIST as bot/app.py names it
    redis = connect(REDIS_URL, client_name=f"test-{uuid.uuid4().hex[:8]}")
    invalidations = RedisInvalidations(redis, bot_id)
    notifier = Notifier(telegram, unreachable, timer=timer)  # type: ignore[arg-type]
    settings = SettingsService(db, "ru", "Europe/Moscow", timer=timer, changes=invalidations)
    guard = AdminGuard(notifier, frozenset(), changes=invalidations)
    moderation = ModerationService(
        db, FakeClock(), notifier, settings, guard, MemoryPace(), timer=timer, changes=invalidations
    )
    kb = KnowledgeBase(db, FakeClock(), invalidations, timer)
    circles = SimpleNamespace(book=SimpleNamespace(forget=lambda _: None, clear=lambda: None))
    hearth = SimpleNamespace(
        invalidations=invalidations,
        chat_settings=settings,
        moderation=moderation,
        kb=kb,
        circles=circles,
        admins=guard,
    )
    wire(cast(Hearth, hearth))  # the production table of caches
    await invalidations.start()
    try:
        await asyncio.wait_for(invalidations.subscribed.wait(), 5)
        yield Process(db, settings, moderation, invalidations, kb, guard)
    finally:
        await invalidations.stop()
        await redis.aclose()
        await db.close()


async def known_chats(db_url: str) -> None:
    db = Database(db_url)
    async with db.transaction() as session:
        chats = ChatRepository(session)
        for chat_id, title in ((CHAT, "Circle"), (LOG, "Log")):
            await chats.ensure(chat_id, title, "supergroup", datetime(2026, 1, 1, tzinfo=UTC))
    await db.close()


@pytest.fixture
async def pair(db_url: str) -> AsyncIterator[tuple[Process, Process]]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception:
        pytest.skip(f"no Redis at {REDIS_URL}")
    finally:
        await client.aclose()
    await known_chats(db_url)
    bot_id = str(uuid.uuid4().int % 10**12)  # a channel of its own: tests may run in parallel
    telegram = Telegram()
    async with (
        process(db_url, bot_id, telegram) as first,
        process(db_url, bot_id, telegram) as second,
    ):
        yield first, second


async def seen_within(read: Callable[[], Awaitable[T]], expected: T) -> float:
    """Seconds until `read()` returns `expected`; fails after `WITHIN`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while (value := await read()) != expected:
        assert loop.time() - start < WITHIN, f"still {value!r} after {WITHIN} s"
        await asyncio.sleep(0.01)
    return loop.time() - start


async def test_a_set_in_one_process_is_seen_by_another_within_a_second(
    pair: tuple[Process, Process],
) -> None:
    first, second = pair
    assert (await second.settings.get(CHAT)).language == "ru"  # cached for 60 s

    await first.settings.set(CHAT, "language", "en")

    async def language() -> str:
        return (await second.settings.get(CHAT)).language

    assert await seen_within(language, "en") < WITHIN


async def test_a_stop_word_added_in_one_process_is_enforced_by_another(
    pair: tuple[Process, Process],
) -> None:
    first, second = pair
    assert not await second.moderation.stop_words(CHAT)

    await first.moderation.add_stop_word(CHAT, "casino")

    async def words() -> list[str]:
        return await second.moderation.stop_words(CHAT)

    await seen_within(words, ["casino"])
    await first.moderation.remove_stop_word(CHAT, "casino")
    await seen_within(words, [])


async def test_a_note_saved_in_one_process_answers_its_hashtag_in_another(
    pair: tuple[Process, Process],
) -> None:
    first, second = pair
    assert await second.kb.notes.cached_names(CHAT) == frozenset()

    await first.kb.notes.save(CHAT, "faq", NoteContent(Media.TEXT, "Read the rules"), 1)

    async def names() -> frozenset[str]:
        return await second.kb.notes.cached_names(CHAT)

    await seen_within(names, frozenset({"faq"}))
    await first.kb.notes.clear(CHAT, "faq")
    await seen_within(names, frozenset())


async def test_a_log_chat_set_in_one_process_is_used_by_another(
    pair: tuple[Process, Process],
) -> None:
    first, second = pair
    assert await second.moderation.log_chat(CHAT) is None

    await first.moderation.set_log_chat(CHAT, LOG)

    async def log_chat() -> int | None:
        return await second.moderation.log_chat(CHAT)

    await seen_within(log_chat, LOG)
    await first.moderation.stop_logs_into(LOG)  # /setlog off in the log chat
    await seen_within(log_chat, None)


async def test_an_admin_demoted_in_one_process_loses_admin_rights_in_another_within_a_second(
    pair: tuple[Process, Process],
) -> None:
    """The chat_member update of a demotion reaches one process; the other had the admin
    list cached for 5 minutes (its timer never moves here) and must drop it at once."""
    first, second = pair
    assert await second.admins.is_admin(CHAT, ADMIN_ID)  # cached
    telegram = first.admins._notifier.bot
    assert isinstance(telegram, Telegram)
    telegram.admins.discard(ADMIN_ID)  # demoted in Telegram

    await first.admins.admin_changed(CHAT)  # the chat_member update, handled by the first
    assert not await first.admins.is_admin(CHAT, ADMIN_ID)

    async def admin() -> bool:
        return await second.admins.is_admin(CHAT, ADMIN_ID)

    assert await seen_within(admin, False) < WITHIN
    assert await second.admins.is_admin(CHAT, OWNER_ID)  # the rest of the list read again


async def cut(invalidations: RedisInvalidations) -> None:
    """Redis drops the listener's connection (a restart, a network blip)."""
    admin = Redis.from_url(REDIS_URL)
    try:
        clients = await admin.client_list(_type="pubsub")
        ids = [c["id"] for c in clients if c.get("name") == invalidations.client_name]
        assert ids, "the listener is not connected"
        for client_id in ids:
            await admin.client_kill_filter(_id=client_id)
    finally:
        await admin.aclose()


async def test_a_dropped_connection_recovers_and_rereads_what_it_missed(
    pair: tuple[Process, Process],
) -> None:
    first, second = pair
    assert (await second.settings.get(CHAT)).language == "ru"
    assert not await second.moderation.stop_words(CHAT)
    # changed while the second process's connection was down: its message is never heard
    async with first.db.transaction() as session:
        await ChatRepository(session).put_setting(CHAT, "language", "en")
    await first.moderation.add_stop_word(CHAT, "casino")
    assert (await second.settings.get(CHAT)).language == "ru"  # still the cached copy

    await cut(second.invalidations)

    async def state() -> tuple[str, list[str]]:
        return (await second.settings.get(CHAT)).language, await second.moderation.stop_words(CHAT)

    await seen_within(state, ("en", ["casino"]))  # caches cleared once subscribed again
    assert second.invalidations.reconnects == 1
    # and changes are heard again
    await first.settings.set(CHAT, "language", "ru")

    async def language() -> str:
        return (await second.settings.get(CHAT)).language

    await seen_within(language, "ru")


async def test_one_process_publishes_nothing_and_drops_its_own_cache(
    db_url: str, db: Database
) -> None:
    await known_chats(db_url)
    timer = FakeTimer()
    settings = SettingsService(db, "ru", "Europe/Moscow", timer=timer, changes=Invalidations())
    assert (await settings.get(CHAT)).language == "ru"
    await settings.set(CHAT, "language", "en")
    assert (await settings.get(CHAT)).language == "en"


async def test_a_malformed_or_own_message_drops_nothing() -> None:
    redis = connect(REDIS_URL)
    invalidations = RedisInvalidations(redis, "1")
    dropped: list[int] = []
    invalidations.on(Kind.SETTINGS, dropped.append)
    invalidations.receive(b"garbage")
    invalidations.receive(f"{invalidations.origin}:settings:5".encode())
    invalidations.receive(b"other:settings:not-a-number")
    invalidations.receive(b"other:settings:7")
    assert dropped == [7]
    await invalidations.stop()
    await redis.aclose()


class Outage:
    """A TCP relay to Redis that the test can take down and bring back (a restart of Redis
    or a network outage, as the listener sees it)."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/{REDIS_URL.rsplit('/', 1)[-1]}"

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        self._writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


async def test_redis_down_at_start_and_back_later_is_heard_again(
    pair: tuple[Process, Process],
) -> None:
    first, _ = pair
    redis_url = REDIS_URL.removeprefix("redis://").split("/", 1)[0]
    host, _, port = redis_url.partition(":")
    outage = Outage(host, int(port or 6379))
    await outage.up()
    await outage.down()  # Redis unreachable when the process starts
    redis = connect(outage.url)
    listener = RedisInvalidations(redis, first.invalidations.channel.rsplit(":", 1)[-1])
    dropped: list[int] = []
    listener.on(Kind.SETTINGS, dropped.append)
    cleared: list[bool] = []
    listener.on_reset(lambda: cleared.append(True))
    await listener.start()
    try:
        await asyncio.sleep(0.3)  # a few attempts fail meanwhile
        assert not listener.subscribed.is_set()
        await outage.up()
        await asyncio.wait_for(listener.subscribed.wait(), 3)  # backoff is still short
        assert cleared  # what it cached before was never confirmed: read again
        await first.settings.set(CHAT, "language", "en")

        async def heard() -> list[int]:
            return dropped

        await seen_within(heard, [CHAT])

        await outage.down()  # and an outage after that: cleared again once back

        async def subscribed() -> bool:
            return listener.subscribed.is_set()

        await seen_within(subscribed, False)  # it notices at once: the connection is closed
        await outage.up()
        await asyncio.wait_for(listener.subscribed.wait(), 3)
        assert (listener.reconnects, len(cleared)) == (1, 2)
    finally:
        await listener.stop()
        await redis.aclose()
        await outage.down()
