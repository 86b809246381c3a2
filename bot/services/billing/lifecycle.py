"""A membership's life in time: join requests and joins of a paid chat, the free trial,
leaving, the reminders before the end, and the removal once end and grace have passed."""

from __future__ import annotations

import logging

from bot.notifier import Outcome, TelegramUnavailable
from bot.services.billing.base import (
    BILL_END,
    BILL_REMIND,
    BillingContext,
    fresh_period,
    plan,
    plan_reminder,
)
from bot.services.billing.offers import Offers
from bot.services.billing.policy import (
    OFFER_WINDOW,
    due_reminders,
    end_slack,
    mark_reminded,
)
from bot.services.billing.ports import (
    JOIN_REQUEST,
    REQUEST_ALREADY,
    REQUEST_EXPIRED,
    REQUEST_LATER,
    REQUEST_OFFERED,
    REQUEST_UNPAID,
)
from bot.services.billing.values import RulesAccepted
from bot.services.ledger import LedgerKind
from bot.services.members import remember_person
from bot.services.people import ChatRef, Person
from bot.services.settings import ChatConfig
from bot.views import billing as views
from models.billing import Plan, Renewal, SubscriptionRepository, SubStatus
from models.chats import ChatRepository
from models.deadlines import DeadlineRepository
from models.members import MemberRepository, MemberStatus
from models.users import UserRepository

log = logging.getLogger(__name__)


class Lifecycle:
    """Who gets in, for how long, and who is reminded or removed when."""

    def __init__(self, billing: BillingContext, offers: Offers) -> None:
        self._b = billing
        self._offers = offers

    async def join_request(self, chat: ChatRef, person: Person, user_chat_id: int) -> bool:
        """Onboarding's gate for join requests: True when the chat is paid (handled here)."""
        b = self._b
        config = await b.settings.get(chat.id)
        if config.price <= 0:
            return False
        if await b.free_pass(chat.id, person.id) or await b.has_access(chat.id, person.id):
            await b.door.accept_request(chat.id, person)
            return True
        if await self.start_trial(chat.id, person.id, config):
            await b.door.accept_request(chat.id, person)
            return True
        # the request waits for the payment, then is declined as any unanswered request
        async with b.db.transaction() as session:
            await DeadlineRepository(session).schedule(
                JOIN_REQUEST, chat.id, person.id, b.clock.now() + OFFER_WINDOW
            )
        if not await self._offers.send_offer(chat.id, person.id):
            log.info("chat %s: cannot send an offer to %s; admins decide", chat.id, person.id)
        return True

    async def accept_rules(self, chat_id: int, person: Person) -> RulesAccepted | None:
        """The requester pressed "I accept the rules", sent while the chat was free: None when
        it still is (onboarding approves). If it is paid now, the request is approved only
        for someone with access (or a trial); anyone else gets the offer, and the request
        waits for the payment like any paid one."""
        b = self._b
        config = await b.settings.get(chat_id)
        if config.price <= 0:
            return None
        title = await b.title(chat_id)
        async with b.db.transaction() as session:
            member = await MemberRepository(session).get(chat_id, person.id)
            status = member.status if member is not None else None
        if status != MemberStatus.REQUESTED:
            outcome = REQUEST_ALREADY if status == MemberStatus.IN else REQUEST_EXPIRED
            return RulesAccepted(outcome, title)
        if (
            await b.free_pass(chat_id, person.id)
            or await b.has_access(chat_id, person.id)
            or await self.start_trial(chat_id, person.id, config)
        ):
            result = await b.door.accept_request(chat_id, person)
            return RulesAccepted(result.outcome, result.chat_title)
        async with b.db.transaction() as session:
            await DeadlineRepository(session).schedule(
                JOIN_REQUEST, chat_id, person.id, b.clock.now() + OFFER_WINDOW
            )
        offered = await self._offers.send_offer(chat_id, person.id)
        return RulesAccepted(REQUEST_OFFERED if offered else REQUEST_UNPAID, title)

    async def member_joined(self, chat: ChatRef, person: Person, privileged: bool) -> None:
        """Someone got in without paying (added by an admin): offer, remove after grace."""
        b = self._b
        config = await b.settings.get(chat.id)
        if config.price <= 0 or person.is_bot or privileged:
            return
        if await b.free_pass(chat.id, person.id) or await b.has_access(chat.id, person.id):
            return
        if await self.start_trial(chat.id, person.id, config):
            return
        now = b.clock.now()
        async with b.db.transaction() as session:
            await ChatRepository(session).ensure(chat.id, chat.title, chat.type, now)
            await remember_person(session, person, now)
            sub = await SubscriptionRepository(session).lock(chat.id, person.id, now)
            if sub.status == SubStatus.UNPAID:
                return  # the same join seen twice
            # the grace is given once per person and chat: leaving and coming back (or
            # time that ran out before) keeps the deadline they already had
            if sub.ends_at is None:
                sub.ends_at = now
                sub.plan = Plan.NONE
            sub.status = SubStatus.UNPAID
            sub.renewal = Renewal.NONE
            sub.updated_at = now
            deadline = max(now, sub.ends_at + config.grace)
            deadlines = DeadlineRepository(session)
            await deadlines.schedule(BILL_END, chat.id, person.id, deadline)
            await deadlines.cancel(BILL_REMIND, chat.id, person.id)
        language = await b.language(person.id, config)
        note = views.joined_unpaid(language, chat.title, deadline, config.timezone)
        await self._offers.send_offer(chat.id, person.id, note)

    async def expire_request(self, chat_id: int, user_id: int) -> None:
        """The join request's day is over: approve it if they have access (they paid, or
        were granted or exempted meanwhile), otherwise decline it as onboarding does."""
        b = self._b
        config = await b.settings.get(chat_id)
        if config.price > 0 and (
            await b.free_pass(chat_id, user_id) or await b.has_access(chat_id, user_id)
        ):
            async with b.db.transaction() as session:
                user = await UserRepository(session).get(user_id)
            person = Person(id=user_id, first_name=user.first_name if user else "")
            result = await b.door.accept_request(chat_id, person)
            if result.outcome == REQUEST_LATER:  # the sweeper tries again, with backoff
                raise RuntimeError(f"could not approve {user_id} in {chat_id} yet")
            if result.outcome != REQUEST_EXPIRED:
                return
        await b.door.expire_request(chat_id, user_id)

    async def member_left(self, chat_id: int, user_id: int) -> None:
        """A person who never paid left: nothing more to enforce."""
        async with self._b.db.transaction() as session:
            sub = await SubscriptionRepository(session).get(chat_id, user_id)
            if sub is None or sub.status != SubStatus.UNPAID:
                return
            sub.status = SubStatus.LEFT
            sub.updated_at = self._b.clock.now()
            await DeadlineRepository(session).cancel(BILL_END, chat_id, user_id)

    async def start_trial(self, chat_id: int, user_id: int, config: ChatConfig) -> bool:
        """The free trial, once per person and chat, when the chat offers one."""
        b = self._b
        if config.trial is None:
            return False
        now = b.clock.now()
        async with b.db.transaction() as session:
            sub = await SubscriptionRepository(session).lock(chat_id, user_id, now)
            if sub.trial_used:
                return False
            sub.trial_used = True
            sub.status = SubStatus.ACTIVE
            sub.plan = Plan.TRIAL
            sub.renewal = Renewal.NONE
            sub.ends_at = now + config.trial
            sub.updated_at = now
            fresh_period(sub, config, now)
            await plan(session, sub, config)
            ends_at = sub.ends_at
        language = await b.language(user_id, config)
        title = await b.title(chat_id)
        await b.notifier.send(
            user_id, views.trial_started(language, title, ends_at, config.timezone)
        )
        return True

    async def expire(self, chat_id: int, user_id: int) -> None:
        """End + grace passed: remove without a lasting ban; someone who left is just marked."""
        b = self._b
        config = await b.settings.get(chat_id)
        now = b.clock.now()
        if config.price <= 0 or await b.admins.is_admin(chat_id, user_id):
            return  # the chat became free meanwhile, or they are an admin now
        async with b.db.transaction() as session:
            sub = await SubscriptionRepository(session).lock(chat_id, user_id, now)
            if sub.exempt or sub.status not in (SubStatus.ACTIVE, SubStatus.UNPAID):
                return
            if sub.ends_at is None:
                return
            end = sub.ends_at + end_slack(config, sub.renewal)
            if end > now:
                await DeadlineRepository(session).schedule(BILL_END, chat_id, user_id, end)
                return  # paid or granted meanwhile
            member = await MemberRepository(session).get(chat_id, user_id)
            # no member row (never seen joining, e.g. lost updates): try the removal anyway
            present = member is None or member.status == MemberStatus.IN
            previous = sub.status
            sub.status = SubStatus.REMOVED if present else SubStatus.LEFT
            sub.updated_at = now
            await DeadlineRepository(session).cancel(BILL_REMIND, chat_id, user_id)
        if not present:
            log.info("chat %s: time of %s ran out after they left", chat_id, user_id)
            b.count(chat_id, user_id, LedgerKind.EXPIRED)
            return
        if not await self._remove(chat_id, user_id, previous):
            return
        b.count(chat_id, user_id, LedgerKind.EXPIRED)
        log.info("chat %s: removed %s whose paid time ended", chat_id, user_id)
        language = await b.language(user_id, config)
        text, keyboard = views.removed(language, chat_id, await b.title(chat_id))
        await b.notifier.send(user_id, text, keyboard)

    async def _remove(self, chat_id: int, user_id: int, previous: str) -> bool:
        """Remove someone whose time ran out. An outage or a missing right keeps them
        unpaid-but-present and raises, so the sweeper retries with its backoff; the group
        hears of a missing right only when Telegram says so. A refusal no retry can help
        (they were made an admin meanwhile) is logged and the subscription kept as it was."""
        b = self._b
        try:
            outcome = await b.notifier.expel(chat_id, user_id, b.clock.now())
        except TelegramUnavailable:
            await self._restore(chat_id, user_id, previous)
            raise
        if outcome == Outcome.DONE:
            return True
        await self._restore(chat_id, user_id, previous)
        if outcome == Outcome.NO_RIGHTS:
            await b.door.warn_missing_rights(chat_id, ["can_restrict_members"])
            raise RuntimeError(f"no right to remove {user_id} from {chat_id}")
        log.warning("chat %s: Telegram refused to remove %s (%s)", chat_id, user_id, outcome)
        return False

    async def _restore(self, chat_id: int, user_id: int, previous: str) -> None:
        """The removal failed: they are still in the chat with the status they had."""
        now = self._b.clock.now()
        async with self._b.db.transaction() as session:
            sub = await SubscriptionRepository(session).lock(chat_id, user_id, now)
            if sub.status == SubStatus.REMOVED:
                sub.status = previous

    async def remind(self, chat_id: int, user_id: int) -> None:
        """Send the due `remind_before` reminder once, then plan the next one."""
        b = self._b
        config = await b.settings.get(chat_id)
        now = b.clock.now()
        if config.price <= 0:
            return
        async with b.db.transaction() as session:
            sub = await SubscriptionRepository(session).lock(chat_id, user_id, now)
            if (
                sub.status != SubStatus.ACTIVE
                or sub.exempt
                or sub.renewal == Renewal.AUTO
                or sub.ends_at is None
                or sub.ends_at <= now
            ):
                return
            due = due_reminders(sub.reminded, sub.ends_at, config.remind_before, now)
            ends_at = sub.ends_at
            if not due:
                await plan_reminder(DeadlineRepository(session), sub, config)
                return
        # sent first, marked after: a crash in between repeats it rather than losing it
        language = await b.language(user_id, config)
        title = await b.title(chat_id)
        text, keyboard = views.reminder(
            language, chat_id, title, ends_at, ends_at - now, config.timezone
        )
        await b.notifier.send(user_id, text, keyboard)
        async with b.db.transaction() as session:
            sub = await SubscriptionRepository(session).lock(chat_id, user_id, now)
            if sub.ends_at == ends_at:  # not renewed meanwhile (that starts reminders over)
                sub.reminded = mark_reminded(sub.reminded, due)
            await plan_reminder(DeadlineRepository(session), sub, config)
