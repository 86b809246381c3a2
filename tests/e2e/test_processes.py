"""Three bot processes on one PostgreSQL and one Redis, the fake Telegram delivering webhooks
round robin among them (standing in for the reverse proxy): the proof of issue 16. A spike of
300 replies comes while a join wave of 200 is restricted, welcomed and confirmed, and draws
fewer than 5% 429s, the budget shared through Redis.

Runs only when TEST_DATABASE_URL (PostgreSQL) and Redis (TEST_REDIS_URL, by default
redis://127.0.0.1:6379/15) answer; skips cleanly otherwise. Both databases are emptied first.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.conftest import POSTGRES_URL, reset_postgres
from tests.e2e.conftest import ADMIN, GROUP, MEMBER, BotProcess, seed_chat
from tests.e2e.http import free_port, listening
from tests.e2e.test_checkins import outbox_pending, prompts, seed_members
from tests.fakegram.objects import JSON
from tests.fakegram.server import Call, FakeTelegram
from tests.redis_address import redis_url

REDIS_URL = os.environ.get("TEST_REDIS_URL", redis_url(15))  # emptied first
SECRET = "s3cret-value"
WAVE_GROUP = -1001000000002  # the join wave: its 20 group messages a minute are its own
SET_GROUP = -1001000000003  # /set and the answers that show it
GUEST = 7  # writes in German, which the bot does not speak: answered in the chat's language
ROUND = 1000
WAVE = list(range(50_000, 50_200))
SPIKE = list(range(60_000, 60_300))

pytestmark = pytest.mark.postgres


async def _redis_ready() -> bool:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
        await client.flushdb()  # leases, claims and counters of an earlier run
    except Exception:
        return False
    finally:
        await client.aclose()
    return True


@pytest.fixture
async def three(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[list[BotProcess]]:
    """Three processes (not started) on a fresh PostgreSQL database, sharing one clock."""
    if POSTGRES_URL is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    if not await _redis_ready():
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    await reset_postgres(POSTGRES_URL)
    procs = []
    proxy = f"http://127.0.0.1:{free_port()}/webhook"  # the public URL, the same for all three
    for index in range(3):
        workdir = tmp_path / f"p{index}"
        workdir.mkdir()
        port = free_port()
        procs.append(
            BotProcess(
                fake,
                POSTGRES_URL,
                workdir,
                REDIS_URL=REDIS_URL,
                WEBHOOK_URL=proxy,
                WEBHOOK_SECRET=SECRET,
                WEBHOOK_LISTEN=f"127.0.0.1:{port}",
                LEADER_LEASE="3",  # takeover within seconds, not 45 s
                LOG_LEVEL="INFO",
                WELCOME_INTERVAL="6",  # the production pace: a wave is welcomed in few posts
                TEST_CLOCK_FILE=str(tmp_path / "p0" / "clock-offset"),
            )
        )
    yield procs
    for proc in procs:
        if proc.process is not None and proc.process.returncode is None:
            proc.process.kill()
            await proc.process.wait()


def _url(proc: BotProcess) -> str:
    return f"http://{proc.extra_env['WEBHOOK_LISTEN']}/webhook"


def _port(proc: BotProcess) -> int:
    return int(proc.extra_env["WEBHOOK_LISTEN"].rpartition(":")[2])


def _replies(fake: FakeTelegram, chat_id: int, after: int) -> list[JSON]:
    return fake.sent_messages(chat_id)[after:]


async def _seed(fake: FakeTelegram, db_url: str) -> list[int]:
    await seed_chat(db_url, GROUP, "Hearth Test", language="en", quiet_hours="off")
    await seed_chat(db_url, WAVE_GROUP, "Wave", language="en")
    await seed_chat(db_url, SET_GROUP, "Settings")  # Russian, the default, until /set
    for chat_id, title in ((WAVE_GROUP, "Wave"), (SET_GROUP, "Settings")):
        fake.add_chat(chat_id, title)
        fake.set_member(chat_id, ADMIN, "creator")
        fake.set_member(chat_id, MEMBER, "member")
        fake.add_bot_to_chat(chat_id, ADMIN, admin=True)
    fake.add_user(GUEST, "Dieter", language_code="de")
    fake.set_member(SET_GROUP, GUEST, "member")
    for user_id in WAVE:
        fake.add_user(user_id, f"Wave{user_id}", language_code="en")
    for user_id in SPIKE:
        fake.add_user(user_id, f"S{user_id}", language_code="en")
    return await seed_members(db_url, fake, ROUND)


async def _start_all(fake: FakeTelegram, procs: list[BotProcess]) -> None:
    await asyncio.gather(*(proc.start(ready_call="getMe") for proc in procs))
    await fake.wait_for(lambda: all(listening(_port(p)) for p in procs), timeout=60)
    fake.deliver_webhooks([_url(p) for p in procs])
    await fake.wait_for(lambda: fake.calls_of("setWebhook"), timeout=30)  # sent after listening


async def _set_is_seen_by_the_others_within_a_second(
    fake: FakeTelegram, procs: list[BotProcess]
) -> None:
    for proc in procs[1:]:  # each of the others has the chat's (Russian) settings cached
        before = len(fake.sent_messages(SET_GROUP))
        fake.webhooks.route(fake.send_message(SET_GROUP, GUEST, "/rules"), _url(proc))
        await fake.wait_for(lambda: len(fake.sent_messages(SET_GROUP)) > before, timeout=20)  # noqa: B023
    russian = fake.sent_messages(SET_GROUP)[-1]["text"]

    before = len(fake.sent_messages(SET_GROUP))
    fake.webhooks.route(fake.send_message(SET_GROUP, ADMIN, "/set language en"), _url(procs[0]))

    def stored() -> bool:
        return any("language = en" in m["text"] for m in _replies(fake, SET_GROUP, before))

    await fake.wait_for(stored, timeout=20)
    changed = time.monotonic()  # process 0 has stored it and said so
    before = len(fake.sent_messages(SET_GROUP))
    for proc in procs[1:]:
        fake.webhooks.route(fake.send_message(SET_GROUP, GUEST, "/rules"), _url(proc))
    await fake.wait_for(lambda: len(fake.sent_messages(SET_GROUP)) >= before + 2, timeout=20)
    within = time.monotonic() - changed
    answers = [m["text"] for m in fake.sent_messages(SET_GROUP)[before:]]
    assert all(a != russian and "rules" in a.lower() for a in answers), answers
    assert within < 1.0, f"the others answered in the new language after {within:.2f} s"


async def _join_wave(fake: FakeTelegram) -> None:
    for batch in range(0, len(WAVE), 20):  # the wave arrives over a few seconds
        for user_id in WAVE[batch : batch + 20]:
            fake.user_joins(WAVE_GROUP, user_id)
        await asyncio.sleep(0.1)

    def named() -> set[int]:  # cheap: it shares the event loop with the fake Telegram
        texts = " ".join(m["text"] for m in wave_welcomes(fake))
        return {int(found) for found in re.findall(r"Wave(\d+)", texts)}

    await fake.wait_for(lambda: named() == set(WAVE), timeout=60, interval=0.2)
    assert all(fake.member(WAVE_GROUP, u)["can_send_messages"] is False for u in WAVE)
    posts = wave_welcomes(fake)
    for user_id in WAVE:  # everyone confirms, on the last welcome, whichever it names
        fake.press_button(user_id, WAVE_GROUP, posts[-1]["message_id"], "hearth:verify")
    await fake.wait_for(
        lambda: all(fake.member_status(WAVE_GROUP, u) == "member" for u in WAVE),
        timeout=60,
        interval=0.2,
    )
    calls = [c for c in fake.calls_of("sendMessage") if c.params["chat_id"] == WAVE_GROUP]
    sends = sorted(c.at for c in calls if c.ok)
    assert all(later - earlier >= 60 for earlier, later in zip(sends, sends[20:], strict=False))
    assert not [c for c in calls if c.response.get("error_code") == 429]


def wave_welcomes(fake: FakeTelegram) -> list[JSON]:
    return [
        m for m in fake.sent_messages(WAVE_GROUP) if "hearth:verify" in str(m.get("reply_markup"))
    ]


async def _leader(procs: list[BotProcess]) -> BotProcess:
    """The process that runs the shared jobs now (the last to say it took them)."""

    def leading() -> list[BotProcess]:
        return [p for p in procs if _leads(p)]

    found = await procs[0].fake.wait_for(leading, timeout=20)
    assert len(found) == 1, [p.workdir.name for p in found]
    return found[0]


def _leads(proc: BotProcess) -> bool:
    log = proc.log()
    taken = log.rfind("this process runs the shared scheduled jobs")
    return not proc.exited() and taken >= 0 and taken > log.rfind("this process leaves")


async def _round_with_a_kill(
    fake: FakeTelegram, procs: list[BotProcess], members: list[int]
) -> None:
    limited = fake.rate_limited
    started = time.monotonic()
    fake.send_message(GROUP, ADMIN, "/checkin_now")
    await fake.wait_for(lambda: sum(prompts(fake, members).values()) >= ROUND // 3, timeout=60)
    victim = await _leader(procs)
    at_kill = sum(prompts(fake, members).values())
    assert at_kill < ROUND * 0.8, "the round should be cut in the middle"
    await victim.stop(signal.SIGKILL)  # mid-round: its claimed rows and its lease are stranded
    procs[0].move_clock(61)  # the outbox lease (60 s, on the service clock) runs out
    survivors = [p for p in procs if p is not victim]
    await _leader(survivors)  # the whole-table jobs are taken over within seconds
    await fake.wait_for(lambda: len(prompts(fake, members)) == ROUND, timeout=90, interval=0.2)
    elapsed = time.monotonic() - started
    counts = prompts(fake, members)
    assert set(counts) == set(members)  # nothing lost
    repeated = sum(n - 1 for n in counts.values())
    print(  # the figures, for the README (pytest -s)
        f"round of {ROUND}: {elapsed:.1f} s (N/30 = {ROUND / 30:.1f} s), {repeated} repeated, "
        f"{fake.rate_limited - limited} 429s; killed {victim.workdir.name} at {at_kill} sent"
    )
    assert repeated <= 30, f"{repeated} invites sent twice"  # only the few in flight
    assert elapsed <= 1.2 * ROUND / 30 + 5, f"{elapsed:.1f} s for {ROUND} invites"
    assert fake.rate_limited - limited < ROUND * 0.03, "a 429 storm"
    await fake.wait_for(lambda: _no_pending(procs[0].db_url), timeout=30)


async def _no_pending(db_url: str) -> bool:
    return await outbox_pending(db_url) == 0


async def _reply_spike(fake: FakeTelegram, after: float) -> None:
    """300 members write /start within about a second, `after` seconds into the join wave;
    every one is answered, with fewer than 5% 429s (of every send, the wave's included)."""
    await asyncio.sleep(after)
    limited, first_call = fake.rate_limited, len(fake.calls)
    started = time.monotonic()
    for index, user_id in enumerate(SPIKE):  # within about a second
        fake.send_message(user_id, user_id, "/start")
        if index % 30 == 29:
            await asyncio.sleep(0.1)
    spike = set(SPIKE)

    def answered() -> bool:
        return spike <= {chat for chat, _ in fake.bot_sent}

    await fake.wait_for(answered, timeout=60, interval=0.2)
    refused = fake.rate_limited - limited
    print(
        f"spike of {len(SPIKE)} during a join wave of {len(WAVE)}: "
        f"{time.monotonic() - started:.1f} s (N/30 = {len(SPIKE) / 30:.1f} s), {refused} 429s"
        + _why_refused(fake.calls[first_call:])
    )
    assert refused < 0.05 * len(SPIKE)


def _why_refused(calls: list[Call]) -> str:
    """Each 429 of `calls` by the limit it hit, as the fake counted its sends then."""
    sent = [c for c in calls if c.ok and c.method.startswith("send")]
    reasons: Counter[str] = Counter()
    for call in calls:
        if call.response.get("error_code") != 429:
            continue
        chat = call.params.get("chat_id")
        second = sum(1 for c in sent if call.at - 1 < c.at <= call.at)
        if second >= 30:
            reasons[f"{call.method} overall ({second}/s)"] += 1
        elif isinstance(chat, int) and chat < 0:
            reasons[f"{call.method} group"] += 1
        else:
            reasons[f"{call.method} private chat"] += 1
    return "".join(f"; {n} {reason}" for reason, n in reasons.most_common())


async def test_three_processes_share_the_work(fake: FakeTelegram, three: list[BotProcess]) -> None:
    members = await _seed(fake, POSTGRES_URL or "")
    await _start_all(fake, three)
    assert len(fake.calls_of("setWebhook")) == 1  # one process registers, not three
    menus = [
        (json.dumps(c.params.get("scope")), c.params.get("language_code"))
        for c in fake.calls_of("setMyCommands")
    ]
    assert menus and len(set(menus)) == len(menus)  # and each command menu once

    await _set_is_seen_by_the_others_within_a_second(fake, three)
    limited = fake.rate_limited
    await asyncio.gather(_join_wave(fake), _reply_spike(fake, after=0.5))  # overlapping
    assert fake.rate_limited - limited < 0.05 * len(SPIKE)  # the wave's sends included
    await _round_with_a_kill(fake, three, members)
    for proc in three:
        if not proc.exited():
            assert await proc.stop() == 0  # the survivors stop cleanly
    assert all(fake.webhooks.delivered_to.get(_url(p), 0) > 100 for p in three)  # all served
