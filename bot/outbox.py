"""The outbox: bulk messages are rows first, then a worker sends them within Telegram's limits.
A row with a `photo` is sent as a picture with its text as the caption (the weekly health note).

Services queue messages (`queue()`) inside their own transaction, so "the round started" and
"these 1,000 prompts exist" commit together or not at all; the worker sends after the commit.

Delivery semantics (the crash window): a row is leased in a batch, sent, then marked `sent` in
its own small transaction right after Telegram answers. Telegram has no idempotency key, so the
window between its answer and our commit cannot be closed; we choose **at least once**:

* graceful stop (SIGTERM): the worker stops taking rows, waits for the sends in flight and
  records them, and releases its lease: a restart resumes with no duplicate and no loss;
* hard crash (SIGKILL, power): only the sends that were in flight (at most `IN_FLIGHT`)
  may be sent again once their lease (`LEASE`) runs out; nothing is lost.

Telegram's limits (overall, per private chat, per group) are kept by the one send budget of
the process (`bot/sendpace.py`), shared with handler replies, which go first: a row waits for
a bulk slot, and rows of a chat that has used its share are left for a later pass. A 429
pauses every send for its `retry_after` (a group's 429 only that group); 5xx and
timeouts back off per row (capped) and are retried until the row expires or `RETRY_FOR` after
it was queued, so an outage of minutes loses nothing; a network error or timeout also pauses
the outbox briefly rather than burning each row's attempts; a 403 marks the person unreachable
and is not retried; a 400 is recorded as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message

from bot.clock import Clock, SystemTimer, Timer, as_utc
from bot.db import Database
from bot.events import EventBus, MessageUndeliverable
from bot.messages import markup, send_text
from bot.outgoing import Outgoing, decode_buttons, queue, queue_many
from bot.retry import DIRECT
from bot.sendpace import PACED, SendBudget
from bot.topics import CHOSEN, TopicPolicy, to_topic
from models.outbox import OutboxMessage, OutboxRepository, OutboxStatus

__all__ = ["Outbox", "Outgoing", "queue", "queue_many"]  # queueing re-exported for callers

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
BATCH = 50
IN_FLIGHT = 8
MAX_BACKOFF = 60.0  # transient failures retry at least once a minute...
RETRY_FOR = timedelta(hours=24)  # ...until the row expires, or this long after it was queued
NETWORK_PAUSE = 5.0  # a network error pauses every send (the network is shared) this long
IDLE_POLL = 1.0
PURGE_EVERY = 3600.0
KEEP_SETTLED = timedelta(days=14)


def _backoff(attempts: int) -> float:
    return float(min(MAX_BACKOFF, 0.5 * 2 ** max(0, attempts - 1)))


class Outbox:
    """Sends queued rows: one worker per process, paced, resumable after a restart."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        bot: Bot,
        on_unreachable: Callable[[int], Awaitable[None]],
        rate: float = 28.0,
        timer: Timer | None = None,
        topics: TopicPolicy | None = None,
        events: EventBus | None = None,
        budget: SendBudget | None = None,
    ) -> None:
        self._db = db
        self._topics = topics  # a group row goes to the chat's chosen topic at delivery
        self._clock = clock
        self._timer: Timer = timer or SystemTimer()  # pauses: tests move it
        # the process's one budget; an outbox on its own (tests) gets a private one
        self.budget = budget if budget is not None else SendBudget(self._timer, rate=rate)
        self._bot = bot
        self._on_unreachable = on_unreachable
        self._events = events  # told of a 403, so a service can route the message elsewhere
        self._paused_until = 0.0  # a network error pauses the outbox (replies retry alone)
        self._slots: set[asyncio.Future[None]] = set()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.rate_limited = 0  # 429s seen
        self.sent = 0

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="hearth-outbox")

    async def stop(self) -> None:
        """Finish the sends in flight, record them, release the lease on the rest."""
        self._stopping = True
        self._wakeup.set()
        for slot in list(self._slots):  # rows still waiting for a slot go back unsent
            slot.cancel()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        self._wakeup.set()

    async def _run(self) -> None:
        DIRECT.set(True)
        purged_at = 0.0
        while not self._stopping:
            if self._timer.monotonic() - purged_at > PURGE_EVERY:
                purged_at = self._timer.monotonic()
                try:
                    await self.purge()
                except Exception:
                    log.exception("outbox: purging old rows failed")
            try:
                handled = await self._pass()
            except Exception:
                log.exception("outbox pass failed")
                handled = 0
            if handled or self._stopping:
                continue
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=IDLE_POLL)

    async def purge(self) -> int:
        """Forget settled rows after `KEEP_SETTLED` (pending ones are never dropped)."""
        async with self._db.transaction() as session:
            return await OutboxRepository(session).purge(self._clock.now() - KEEP_SETTLED)

    async def drain(self, max_passes: int = 1000) -> int:
        """Send everything due now (tests and benchmarks drive the outbox with this)."""
        token = DIRECT.set(True)
        total = 0
        try:
            for _ in range(max_passes):
                handled = await self._pass()
                total += handled
                if not handled:
                    async with self._db.transaction() as session:
                        if not await OutboxRepository(session).due(self._clock.now(), 1):
                            return total
                    await self._timer.sleep(0.05)  # rows held back by a per-chat limit or a 429
        finally:
            DIRECT.reset(token)
        return total

    async def _pass(self) -> int:
        """Lease a batch of due rows and send those whose chat allows it; returns rows settled."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            repo = OutboxRepository(session)
            rows = await repo.due(now, BATCH)
            claimed = set(await repo.claim([r.id for r in rows], now, LEASE))
        rows = [r for r in rows if r.id in claimed]
        if not rows:
            return 0
        leased_at = self._timer.monotonic()
        untouched = [r.id for r in rows]
        settled = 0
        gate = asyncio.Semaphore(IN_FLIGHT)
        tasks: set[asyncio.Task[bool]] = set()
        for row in rows:
            if self._stopping or self._timer.monotonic() - leased_at > LEASE.total_seconds() / 2:
                break
            if row.expires_at is not None and row.expires_at <= self._clock.now():
                await self._settle(row.id, status=OutboxStatus.EXPIRED)
                untouched.remove(row.id)
                settled += 1
                continue
            if not self.budget.ready(row.chat_id):
                continue
            await self._wait_network()
            await gate.acquire()
            if self._stopping:
                gate.release()
                break
            untouched.remove(row.id)
            slot = self.budget.slot(row.chat_id, bulk=True)  # queued now: counts for ready()
            self._slots.add(slot)
            task = asyncio.create_task(self._deliver(row, slot))
            task.add_done_callback(lambda _t: gate.release())
            tasks.add(task)
        if tasks:
            for outcome in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(outcome, BaseException):
                    log.error("outbox: recording a send failed", exc_info=outcome)
                else:
                    settled += outcome
        if untouched:
            async with self._db.transaction() as session:
                await OutboxRepository(session).release(untouched)
        if not settled and untouched:
            await self._timer.sleep(0.1)  # everything waits on a per-chat limit
        return settled

    async def _wait_network(self) -> None:
        """Sleep out a pause after a network error (short naps: a stop is not held up)."""
        while not self._stopping and self._paused_until > self._timer.monotonic():
            await self._timer.sleep(min(self._paused_until - self._timer.monotonic(), 0.25))

    async def _deliver(self, row: OutboxMessage, slot: asyncio.Future[None]) -> bool:
        """Wait for the row's slot, send it and record the outcome; True when the row is
        settled for good."""
        try:
            await slot
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            async with self._db.transaction() as session:  # stopping: leave it for next time
                await OutboxRepository(session).release([row.id])
            return False
        finally:
            self._slots.discard(slot)
        try:
            message = await self._send(row)
        except TelegramRetryAfter as error:
            await self._rate_limited(row, float(error.retry_after))
            return False
        except TelegramForbiddenError as error:
            log.info("outbox: chat %s cannot be reached (%s)", row.chat_id, error.message)
            await self._settle(row.id, status=OutboxStatus.UNREACHABLE, error=error.message[:200])
            if row.chat_id > 0:
                await self._on_unreachable(row.chat_id)
            if self._events is not None:
                await self._events.publish(MessageUndeliverable(row.key, row.chat_id))
            return True
        except TelegramBadRequest as error:
            log.warning("outbox: chat %s refused a message: %s", row.chat_id, error.message)
            await self._settle(row.id, status=OutboxStatus.FAILED, error=error.message[:200])
            return True
        except (TelegramAPIError, TelegramNetworkError, TimeoutError) as error:
            return await self._failed_transiently(row, error)
        # a message to a person is theirs to keep, not ours: its words go once delivered
        # (group posts keep theirs; the retention job blanks private rows settled otherwise)
        blank = {"text": ""} if row.chat_id > 0 else {}
        await self._settle(
            row.id,
            status=OutboxStatus.SENT,
            sent_at=self._clock.now(),
            message_id=message.message_id,
            **blank,
        )
        self.sent += 1
        return True

    async def _send(self, row: OutboxMessage) -> Message:
        """Send to the chat's chosen topic (General if it is closed or gone)."""
        PACED.set(True)  # this task's own context: the middleware takes no second slot
        try:
            keyboard = markup(decode_buttons(row.buttons))
            return await to_topic(
                self._bot,
                self._topics,
                row.chat_id,
                CHOSEN,
                None,
                lambda t: self._send_one(row, t, keyboard),
            )
        finally:
            self.budget.finished(row.chat_id)

    def _send_one(
        self, row: OutboxMessage, thread: int | None, keyboard: InlineKeyboardMarkup | None
    ) -> Awaitable[Message]:
        """sendPhoto (the text its caption) for a row with a picture, else sendMessage."""
        if row.photo is None:
            return send_text(self._bot, row.chat_id, row.text, thread, keyboard)
        picture = BufferedInputFile(row.photo, filename="card.png")
        return self._bot.send_photo(
            row.chat_id, picture, caption=row.text, message_thread_id=thread, reply_markup=keyboard
        )

    async def _rate_limited(self, row: OutboxMessage, wait: float) -> None:
        """A 429: a group's own limit (20 a minute) holds only that group, else every send
        waits; the row goes back to be sent later."""
        self.rate_limited += 1
        self.budget.penalize(row.chat_id, wait)
        if row.chat_id < 0:
            log.warning("outbox: 429 in chat %s, it waits %ss", row.chat_id, wait)
        else:
            log.warning("outbox: 429, pausing all sends for %ss", wait)
        async with self._db.transaction() as session:
            await OutboxRepository(session).release([row.id])

    async def _failed_transiently(
        self, row: OutboxMessage, error: TelegramAPIError | TelegramNetworkError | TimeoutError
    ) -> bool:
        """5xx, network trouble, a timeout: retried with backoff until the row's deadline;
        True when the row was given up on."""
        attempts = row.attempts + 1
        now = self._clock.now()
        deadline = row.expires_at or as_utc(row.created_at) + RETRY_FOR
        if now >= deadline:
            log.error("outbox: giving up on row %s after %d attempts", row.id, attempts)
            await self._settle(
                row.id, status=OutboxStatus.FAILED, attempts=attempts, error=str(error)[:200]
            )
            return True
        if isinstance(error, TelegramNetworkError | TimeoutError):
            self._paused_until = max(self._paused_until, self._timer.monotonic() + NETWORK_PAUSE)
        delay = _backoff(attempts)
        log.warning("outbox: chat %s failed (%s); retry in %.1fs", row.chat_id, error, delay)
        await self._settle(
            row.id,
            attempts=attempts,
            not_before=min(now + timedelta(seconds=delay), deadline),
            error=str(error)[:200],
        )
        return False

    async def _settle(self, row_id: int, **values: object) -> None:
        async with self._db.transaction() as session:
            await OutboxRepository(session).settle(row_id, **values)
