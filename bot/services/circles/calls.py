"""Calling a circle: `#name` in a message or `/call name text`, by its members of level
member or above. One call per circle per hour, three per caller per day, counted from the
call rows (a restart forgets nothing). Each member is reached as they chose: mentioned in
the group (at most five people per message, as many messages as it takes, each one send
through the notifier and its per-group budget), privately through the outbox (held through
the chat's quiet hours), in the weekly digest (weekly.py), or not at all. A circle of more
than ten is never mentioned; someone the bot cannot write to gets no private note (it would
not arrive; the weekly digest leaves them out too). A /call's text is limited to
MAX_CALL_TEXT characters (refused before the call's hour is used), posted once per call and
with its `@names` defused (no mentions beyond the five a message).

Nothing of the calling message is kept but its id: the call carries a link to it (and for
/call the given text, sent on, never stored)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.i18n import pick_language
from bot.outgoing import queue
from bot.services.checkin_schedule import deliver_at
from bot.services.circles.rules import (
    CALLER_WINDOW,
    CIRCLE_COOLDOWN,
    MAX_CALL_TEXT,
    Recipient,
    Routes,
    call_refusal,
    chunks,
    circle_key,
    message_link,
    route,
)
from bot.services.core import Sending
from bot.topics import Thread
from bot.views import circles as views
from models.circles import Circle, CircleRepository, CircleStatus
from models.members import MemberRepository, MemberStatus, TrustLevel
from models.users import User, UserRepository

CALLERS = (TrustLevel.MEMBER, TrustLevel.VETERAN)
KEEP_PRIVATE = timedelta(days=2)  # a private call still unsent two days later is stale


class Called(StrEnum):
    SENT = "sent"
    UNKNOWN = "unknown"  # no open circle by that name
    NOT_ALLOWED = "not_allowed"  # not in the circle, or still a newcomer
    TOO_SOON = "too_soon"
    TOO_LONG = "too_long"  # /call's text over MAX_CALL_TEXT: refused before the slot is used


@dataclass(frozen=True)
class Call:
    """Where and how a call is made: the calling message and, for /call, its text."""

    chat_id: int
    caller_id: int
    message_id: int
    thread: int | None  # the calling message's topic
    text: str | None = None


@dataclass(frozen=True)
class CallResult:
    outcome: Called
    until: datetime | None = None  # TOO_SOON: when the caller may call again
    routes: Routes = field(default_factory=lambda: Routes([], [], []))
    messages: int = 0  # group messages with mentions sent


class CircleCalls(Sending):
    """Checks a call against its limits, records it and delivers it."""

    async def _allowed(self, circle: Circle, caller_id: int) -> bool:
        async with self._db.transaction() as session:
            member = await MemberRepository(session).get(circle.chat_id, caller_id)
            mine = await CircleRepository(session).memberships(circle.chat_id, caller_id)
        return (
            member is not None
            and member.status == MemberStatus.IN
            and member.trust in CALLERS
            and circle.id in mine
        )

    async def call(self, call: Call, name: str) -> CallResult:
        """Check and deliver one call of the circle `name` (a name or a hashtag's key)."""
        if call.text is not None and len(call.text) > MAX_CALL_TEXT:
            return CallResult(Called.TOO_LONG)
        async with self._db.transaction() as session:
            circle = await CircleRepository(session).by_key(call.chat_id, circle_key(name))
        if circle is None or circle.status != CircleStatus.OPEN:
            return CallResult(Called.UNKNOWN)
        if not await self._allowed(circle, call.caller_id):
            return CallResult(Called.NOT_ALLOWED)
        now = self._clock.now()
        async with self._db.transaction() as session:
            circles = CircleRepository(session)
            refusal = call_refusal(
                now,
                await circles.calls_since(circle.id, None, now - CIRCLE_COOLDOWN),
                await circles.calls_since(None, call.caller_id, now - CALLER_WINDOW),
            )
            if refusal is not None:
                return CallResult(Called.TOO_SOON, until=refusal.until)
            if not await circles.claim_call(circle.id, now, CIRCLE_COOLDOWN):
                last = await circles.last_call(circle.id)  # a call at the same moment won
                return CallResult(Called.TOO_SOON, until=(last or now) + CIRCLE_COOLDOWN)
            call_id = await circles.record_call(circle, call.caller_id, call.message_id, now)
            members = await circles.members(circle.id)
            known = await UserRepository(session).many({m.user_id for m in members})
        people = {user.id: user for user in known}
        recipients = [
            Recipient(m.user_id, m.delivery, m.user_id in people and people[m.user_id].reachable)
            for m in members
        ]
        routes = route(recipients, call.caller_id)
        sent = await self._mention(circle, call, routes.mention, people)
        await self._private(circle, call, call_id, routes.private, people)
        return CallResult(Called.SENT, routes=routes, messages=sent)

    async def _mention(
        self, circle: Circle, call: Call, user_ids: list[int], people: dict[int, User]
    ) -> int:
        """The mentions, five people a message at most, in the circle's topic if it has
        one, else where the call was made."""
        if not user_ids:
            return 0
        lang = (await self._settings.get(call.chat_id)).language
        link = message_link(call.chat_id, call.message_id)
        thread: Thread = circle.topic if circle.topic is not None else call.thread
        sent = 0
        for number, group in enumerate(chunks(user_ids)):
            named = [(uid, _name(people.get(uid), uid)) for uid in group]
            said = call.text if number == 0 else None  # the caller's words once, not per five
            text = views.call_mentions(lang, circle.name, link, said, named)
            if await self._notifier.send(call.chat_id, text, thread=thread) is not None:
                sent += 1
        return sent

    async def _private(
        self,
        circle: Circle,
        call: Call,
        call_id: int,
        user_ids: list[int],
        people: dict[int, User],
    ) -> None:
        """Private calls through the outbox, held until the chat's quiet hours end."""
        if not user_ids:
            return
        config = await self._settings.get(call.chat_id)
        now = self._clock.now()
        when = deliver_at(config.quiet_hours, now, config.timezone)
        link = message_link(call.chat_id, call.message_id)
        async with self._db.transaction() as session:
            for user_id in user_ids:
                user = people.get(user_id)
                lang = pick_language(user.language_code if user else None, config.language)
                text = views.call_private(lang, circle.name, link, call.text)
                await queue(
                    session,
                    f"call:{call_id}:{user_id}",
                    user_id,
                    text,
                    now=now,
                    not_before=when,
                    expires_at=when + KEEP_PRIVATE,
                )
        self._wake()


def _name(user: User | None, user_id: int) -> str:
    return (user.first_name if user is not None else "") or str(user_id)
