"""Giving and taking back thanks, and what they add up to.

A thanks is bound to one message. It is refused quietly (nothing is said anywhere, the bot
just does not react) when the giver thanks themselves or a bot, when the receiver is not a
member of the chat, when the receiver neither wrote the thanked message nor wrote in the
chat within the last 12 hours, when the giver already gave `thanks_per_day` thanks today or
thanked this receiver today, and beyond 3 receivers for one message. A newcomer's thanks
weighs half in tops and does not count toward promoting a newcomer (`promote_on_thanks`
counts members' thanks only). An accepted thanks is acknowledged with the bot's reaction on
the thanked message, never with a group message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.db import Database
from bot.notifier import Notifier
from bot.services.activity import ActivityTracker
from bot.services.settings import SettingsService
from bot.services.thanks.authors import Authors, RecentAuthors
from models.members import Member, MemberStatus, TrustLevel
from models.thanks import FULL_WEIGHT, KEEP, Ranked, ThanksRepository
from models.users import UserRepository

log = logging.getLogger(__name__)

MAX_RECEIVERS = 3  # per thanked message
RECENT = timedelta(hours=12)  # a receiver who did not write the message wrote this recently
NEWCOMER_WEIGHT = 0.5  # in tops and boards; a newcomer's thanks never promote anyone
ACK = "🙏"  # the bot's reaction on a thanked message
MONTH = timedelta(days=30)  # /thanks top and the board
TOP = 10

Promote = Callable[[int, int], Awaitable[bool]]
"""Promote a newcomer to member before probation ends (TrustService.promote_early)."""


class Source(StrEnum):
    REPLY = "reply"
    COMMAND = "command"
    REACTION = "reaction"


@dataclass(frozen=True)
class Given:
    """What one thanks did: who was thanked, who of them became a member because of it."""

    receivers: tuple[int, ...] = ()
    promoted: tuple[int, ...] = ()


@dataclass(frozen=True)
class Named:
    """A line of a top or a board: a name (plain text) and how many different people."""

    name: str
    people: int


def local_day(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


class ThanksService:
    """Thanks: give, take back, count (`distinct_thankers`), tops and the public board."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        activity: ActivityTracker,
        promote: Promote,
        authors: Authors | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._settings = settings
        self._activity = activity
        self._promote = promote
        self.authors: Authors = authors if authors is not None else RecentAuthors()

    async def give(
        self,
        chat_id: int,
        giver_id: int,
        message_id: int,
        receivers: Sequence[int],
        *,
        author: int | None,
        source: Source,
    ) -> Given:
        """`giver_id` thanks `receivers` for message `message_id` (written by `author`, if
        known); the refused ones are left out quietly. The bot reacts to the message when
        anyone was thanked, and newcomers thanked by enough people become members."""
        now = self._clock.now()
        config = await self._settings.get(chat_id)
        wanted = list(dict.fromkeys(r for r in receivers if r != giver_id))[:MAX_RECEIVERS]
        if not wanted:
            return Given()
        per_day = int(config.raw("thanks_per_day"))
        day = local_day(now, config.timezone)
        recent = self._activity.unflushed(chat_id)
        accepted: list[int] = []
        async with self._db.transaction() as session:
            giver = await session.get(Member, (chat_id, giver_id))
            if not _counts(giver):
                return Given()
            assert giver is not None
            weight = NEWCOMER_WEIGHT if giver.trust == TrustLevel.NEWCOMER else FULL_WEIGHT
            base: dict[str, object] = {"chat_id": chat_id, "message_id": message_id}
            base["giver_id"] = giver_id
            base |= {"source": source.value, "weight": weight, "day": day, "created_at": now}
            repo = ThanksRepository(session)
            today = await repo.given_on(chat_id, giver_id, day)
            bots = {u.id for u in await UserRepository(session).many(set(wanted)) if u.is_bot}
            for receiver in wanted:
                if len(today) + len(accepted) >= per_day:
                    break
                if receiver in bots or receiver in today:
                    continue
                member = await session.get(Member, (chat_id, receiver))
                if member is None or not _counts(member):
                    continue
                if not _wrote(member, receiver, author, recent, now):
                    continue
                row = dict(base, receiver_id=receiver)
                if await repo.add(row):
                    accepted.append(receiver)
        if not accepted:
            return Given()
        await self._notifier.react(chat_id, message_id, ACK)
        promoted = [r for r in accepted if await self._maybe_promote(chat_id, r, config.raw)]
        return Given(tuple(accepted), tuple(promoted))

    async def take_back(self, chat_id: int, giver_id: int, message_id: int, source: Source) -> int:
        """The giver took their thanks back (removed the reaction); the bot's own reaction
        goes when the message carries no thanks any more. How many thanks went."""
        async with self._db.transaction() as session:
            repo = ThanksRepository(session)
            gone = await repo.take_back(chat_id, message_id, giver_id, source.value)
            left = await repo.on_message(chat_id, message_id) if gone else 1
        if gone and not left:
            await self._notifier.react(chat_id, message_id, None)
        return gone

    async def message_removed(self, chat_id: int, message_id: int) -> int:
        """The bot deleted the message (an admin's decision on a report): every thanks for
        it goes. Telegram does not tell bots about messages people delete themselves."""
        async with self._db.transaction() as session:
            return await ThanksRepository(session).forget_message(chat_id, message_id)

    async def _maybe_promote(
        self, chat_id: int, user_id: int, setting: Callable[[str], str]
    ) -> bool:
        """`promote_on_thanks`: a newcomer thanked by that many members (or veterans, admins)
        becomes a member. Newcomers' thanks do not count here at all, else a group of
        newcomers could promote each other."""
        value = setting("promote_on_thanks")
        if value == "off":
            return False
        async with self._db.transaction() as session:
            member = await session.get(Member, (chat_id, user_id))
            if member is None or member.trust != TrustLevel.NEWCOMER or member.trust_pinned:
                return False
            since = self._clock.now() - KEEP
            people = await ThanksRepository(session).distinct_thankers(
                chat_id, user_id, since, members_only=True
            )
        if people < int(value):
            return False
        return await self._promote(chat_id, user_id)

    async def distinct_thankers(self, chat_id: int, user_id: int, since: datetime) -> int:
        """How many different people thanked the person in the chat since `since` (for
        /me, and for circles and community health)."""
        async with self._db.transaction() as session:
            repo = ThanksRepository(session)
            return await repo.distinct_thankers(chat_id, user_id, since)

    async def people(self, chat_id: int, user_id: int) -> int:
        """/me: different people who thanked the person in the last 90 days."""
        return await self.distinct_thankers(chat_id, user_id, self._clock.now() - KEEP)

    async def top(self, chat_id: int) -> list[Named]:
        """The month's most-thanked (for the chat's admins, privately)."""
        return await self._named(chat_id, None)

    async def board(self, chat_id: int) -> list[Named] | None:
        """The public board: the month's most-thanked among those who allowed it; None
        when the chat's `thanks_board` is off."""
        if (await self._settings.get(chat_id)).raw("thanks_board") != "on":
            return None
        async with self._db.transaction() as session:
            since = self._clock.now() - MONTH
            ranked = await ThanksRepository(session).top(chat_id, since, 10_000)
            allowed = await ThanksRepository(session).on_board({r.user_id for r in ranked})
        return await self._names([r for r in ranked if r.user_id in allowed][:TOP])

    async def _named(self, chat_id: int, among: set[int] | None) -> list[Named]:
        async with self._db.transaction() as session:
            since = self._clock.now() - MONTH
            ranked = await ThanksRepository(session).top(chat_id, since, TOP, among)
        return await self._names(ranked)

    async def _names(self, ranked: list[Ranked]) -> list[Named]:
        async with self._db.transaction() as session:
            users = await UserRepository(session).many({r.user_id for r in ranked})
        names = {u.id: u.full_name for u in users}
        return [Named(names.get(r.user_id, str(r.user_id)), r.people) for r in ranked]

    async def on_board(self, user_id: int) -> bool:
        async with self._db.transaction() as session:
            return bool(await ThanksRepository(session).on_board({user_id}))

    async def set_board(self, user_id: int, on: bool) -> None:
        """Allow (or stop) the person's name on public thanks boards."""
        async with self._db.transaction() as session:
            await ThanksRepository(session).set_board(user_id, on, self._clock.now())

    async def usernames(self, names: Sequence[str]) -> list[int]:
        """The ids of the @usernames known to the bot (unknown or ambiguous ones left out)."""
        found = []
        async with self._db.transaction() as session:
            users = UserRepository(session)
            for name in names:
                matches = await users.by_username(name)
                if len(matches) == 1:
                    found.append(matches[0].id)
        return found

    async def forget_person(self, user_id: int) -> None:
        """/forget: who wrote which recent message, here and in Redis."""
        await self.authors.forget_person(user_id)


def _counts(member: Member | None) -> bool:
    """In the chat and past verification: someone whose thanks (given or received) count."""
    return (
        member is not None
        and member.status == MemberStatus.IN
        and member.trust != TrustLevel.PENDING
    )


def _wrote(
    member: Member,
    receiver: int,
    author: int | None,
    recent: dict[int, datetime],
    now: datetime,
) -> bool:
    """The receiver wrote the thanked message, or wrote in the chat within `RECENT`."""
    if receiver == author:
        return True
    last = recent.get(receiver) or member.last_active_at
    return last is not None and now - last <= RECENT
