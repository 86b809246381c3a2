"""Where a support request goes: the buddy if the bot can write to them, else every admin it
can write to; when nobody can be reached, the person is told so instead of the request being
lost. A delivery refused later (403: the recipient blocked the bot) routes it again.

A request queued for admins is recorded in the audit log (`shown`) in the same transaction: an
admin reading a member's private words leaves a trace; a buddy is the member's own choice."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import pick_language
from bot.outgoing import Outgoing, queue_many
from bot.services.checkins import keys
from bot.services.checkins.common import Deps, chat_title, questions_for
from bot.services.checkins.questions import decode_answers
from bot.services.settings import ChatConfig
from bot.views import checkins as views
from models.buddies import BuddyRepository
from models.checkin_repository import CheckinRepository
from models.moderation import ModerationRepository
from models.outbox import OutboxRepository, OutboxStatus
from models.users import UserRepository

log = logging.getLogger(__name__)

STILL_GOING = (OutboxStatus.PENDING, OutboxStatus.SENT)
SHOWN_SUPPORT = "support request {}/{}"
"""The audit reason of a support request shown to admins: the round and the question."""


@dataclass(frozen=True)
class Request:
    """One answered support question of one person in one round."""

    round_id: int
    chat_id: int
    title: str
    user_id: int
    name: str
    index: int
    text: str
    config: ChatConfig


async def _reachable(session: AsyncSession, user_id: int) -> tuple[bool, str | None]:
    """Whether the bot may write to them (unknown people are tried), and their language."""
    user = await UserRepository(session).get(user_id)
    if user is None:
        return True, None
    return user.reachable and not user.is_bot, user.language_code


async def route(
    session: AsyncSession,
    request: Request,
    admins: frozenset[int],
    tried: frozenset[int] = frozenset(),
    *,
    now: datetime,
) -> list[Outgoing]:
    """The messages carrying `request`: to the buddy, else to the admins, else a note to the
    person that nobody could be reached. `tried`: recipients it already failed to reach."""
    user_id, config = request.user_id, request.config
    buddy = await BuddyRepository(session).active_buddy_of(request.chat_id, user_id)
    candidates = [buddy] if buddy is not None and buddy not in tried else []
    if candidates and not (await _reachable(session, candidates[0]))[0]:
        candidates = []
    to_buddy = bool(candidates)
    if not to_buddy:
        candidates = sorted(admins - tried - {user_id})
    out = []
    for recipient in candidates:
        reachable, language = await _reachable(session, recipient)
        if not reachable:
            continue
        lang = pick_language(language, config.language)
        text = views.support_request(
            lang,
            to_buddy=to_buddy,
            fallback=buddy is not None,
            name=request.name,
            chat=request.title,
            request=request.text,
        )
        # one message per support question and recipient: two questions, two keys
        key = keys.Support(request.round_id, user_id, request.index, recipient).encode()
        out.append(Outgoing(key, recipient, text))
    if out and not to_buddy:
        what = SHOWN_SUPPORT.format(request.round_id, request.index)
        viewers = [message.chat_id for message in out]
        await ModerationRepository(session).log_shown(request.chat_id, viewers, user_id, what, now)
    if not out:
        log.warning("chat %s: nobody can take the support request of %s", request.chat_id, user_id)
        _, language = await _reachable(session, user_id)
        text = views.support_unreachable(pick_language(language, config.language), request.title)
        # the person's own id as the recipient: the note is one message, like the request
        key = keys.Support(request.round_id, user_id, request.index, user_id).encode()
        out.append(Outgoing(key, user_id, text))
    return out


class SupportFallback:
    """Routes a support request again when the outbox could not deliver it."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def undeliverable(self, key: str, recipient: int) -> None:
        """The outbox got a 403 for `key`: if no other copy of that request is on its way
        or delivered, send it to whoever else can read it, or tell the person."""
        parsed = keys.parse(key)
        if not isinstance(parsed, keys.Support) or recipient == parsed.user_id:
            return
        async with self._deps.db.transaction() as session:
            row = await CheckinRepository(session).round(parsed.round_id)
        if row is None:
            return
        found = await self._deps.notifier.admins(row.chat_id)
        bot_id = self._deps.notifier.bot.id
        admins = frozenset(a for a in found or () if a != bot_id)
        now = self._deps.clock.now()
        prefix = keys.Support(parsed.round_id, parsed.user_id, parsed.index, 0).encode()[:-1]
        async with self._deps.db.transaction() as session:
            copies = await OutboxRepository(session).with_prefix(prefix)
            if any(copy.status in STILL_GOING for copy in copies):
                return
            request = await self._request(session, row.id, row.chat_id, parsed)
            if request is None:
                return
            tried = frozenset(copy.chat_id for copy in copies)
            messages = await route(session, request, admins, tried, now=now)
            # keys already used (the note, say) are not queued twice
            fresh = [m for m in messages if m.key not in {copy.key for copy in copies}]
            await queue_many(session, fresh, now=now)
        if fresh:
            self._deps.wake()

    async def _request(
        self, session: AsyncSession, round_id: int, chat_id: int, parsed: keys.Support
    ) -> Request | None:
        repo = CheckinRepository(session)
        row = await repo.round(round_id)
        entry = await repo.entry(round_id, parsed.user_id)
        if row is None or entry is None:
            return None
        config = await self._deps.settings.get(chat_id)
        answers = decode_answers(entry.answers)
        questions = questions_for(row.questions, config.language)
        if parsed.index >= min(len(answers), len(questions)) or not answers[parsed.index]:
            return None
        user = await UserRepository(session).get(parsed.user_id)
        name = user.full_name if user else str(parsed.user_id)
        title = await chat_title(session, chat_id)
        text = answers[parsed.index] or ""
        return Request(round_id, chat_id, title, parsed.user_id, name, parsed.index, text, config)
