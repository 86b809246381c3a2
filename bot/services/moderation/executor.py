"""The per-message path: read the facts the rules ask for, then carry out their verdict.

This is the only place the hot path does I/O. An ordinary message costs a few counter reads
(in memory, or Redis) and no database access: settings and stop words are cached, and the
database is written only when a rule acts (once per episode), never per message.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.i18n import pick_language
from bot.notifier import Outcome
from bot.services.moderation.parts import Deps, Part
from bot.services.moderation.punishments import Punishments
from bot.services.moderation.rules import (
    ESCALATION_WINDOW,
    MENTIONS_CHECKED,
    Ask,
    Fact,
    Notice,
    NoticeKind,
    Rules,
    Verdict,
    counted_with_held,
    decide,
)
from bot.services.moderation.stopwords import StopWords
from bot.services.moderation.values import NOTICE_TTL, UNPOST, Action, Incoming
from bot.services.settings import ChatConfig
from bot.views import moderation as views
from models.deadlines import DeadlineRepository
from models.moderation import ModerationRepository

log = logging.getLogger(__name__)


class Executor(Part):
    """Runs `rules.decide` for a message, answering its questions, and acts on the verdict."""

    def __init__(self, deps: Deps, stop_words: StopWords, punishments: Punishments) -> None:
        super().__init__(deps)
        self._stop_words = stop_words
        self._punishments = punishments
        self._rules: dict[int, tuple[ChatConfig, Rules]] = {}
        self._outage_told: dict[int, int] = {}  # chat -> the counter store's outage it heard of

    async def check(self, message: Incoming) -> bool:
        """Apply the automatic rules; False when the message was removed."""
        config = await self._settings.get(message.chat_id)
        rules = self._rules_of(message.chat_id, config)
        now = self._clock.now()
        at = message.at.timestamp()
        facts: dict[Fact, int] = {}
        step = decide(message, rules, facts, now)
        flood = counted_with_held(message, rules)
        if isinstance(step, Ask) and step.fact == "held" and flood is not None:
            held, count = await self._pace.held_and_hit(step.key, flood.key, at, flood.seconds)
            facts["held"], facts["flood_count"] = held, count
            step = decide(message, rules, facts, now)
        while isinstance(step, Ask):
            facts[step.fact] = await self._read(message, step, at, now)
            step = decide(message, rules, facts, now)
        if self._pace.outage():
            await self._tell_outage(message.chat_id, config)
        if step.allow:
            return True
        await self._carry_out(message, config, step)
        return False

    async def _tell_outage(self, chat_id: int, config: ChatConfig) -> None:
        """The counter store is down, so the rate rules let everything through: the chat's
        log channel hears it once per outage."""
        outage = self._pace.outage()
        if self._outage_told.get(chat_id) == outage:
            return
        log_chat = await self._audit.log_chat(chat_id)  # cached: cheap on every message
        if log_chat is not None:
            self._outage_told[chat_id] = outage
            title = await self._audit.chat_title(chat_id)
            await self._notifier.send(log_chat, views.counters_down(config.language, title))

    def _rules_of(self, chat_id: int, config: ChatConfig) -> Rules:
        """The parsed rules, rebuilt only when the settings service hands out a new config."""
        cached = self._rules.get(chat_id)
        if cached is not None and cached[0] is config:
            return cached[1]
        rules = Rules.of(config)
        self._rules[chat_id] = (config, rules)
        return rules

    async def _read(self, message: Incoming, ask: Ask, at: float, now: datetime) -> int:
        """One fact the rules asked for; counters are recorded as they are read (`at` is
        the message's time, the counters' clock)."""
        fact = ask.fact
        if fact == "held":
            return await self._pace.held(ask.key, at)
        if fact == "flood_count":
            return await self._pace.hit(ask.key, at, ask.seconds)
        if fact in ("explain_due", "episode_new", "slot_free", "slow_notice_due"):
            return await self._pace.claim(ask.key, at, ask.seconds)
        if fact == "stop_word":
            return await self._stop_words.found_in(message.chat_id, message.text)
        if fact == "admin":
            return await self._admins.is_admin(message.chat_id, message.sender.id)
        if fact == "channel_mention":
            for username in message.mentions[:MENTIONS_CHECKED]:
                if await self._notifier.is_channel(username):
                    return True
            return False
        if fact == "recent_floods":
            async with self._db.transaction() as session:
                return await ModerationRepository(session).count_actions(
                    message.chat_id, message.sender.id, Action.FLOOD, now - ESCALATION_WINDOW
                )
        raise ValueError(fact)

    async def _carry_out(self, message: Incoming, config: ChatConfig, verdict: Verdict) -> None:
        chat_id, user_id = message.chat_id, message.sender.id
        if verdict.delete:
            await self._notifier.delete(chat_id, message.message_id)
        if not await self._first_time(message, verdict):
            return  # a redelivered update: removed again, but warned, muted, told only once
        count = limit = 0
        if verdict.warn:
            reason = views.stop_word_reason(config.language)
            result = await self._punishments.warn(chat_id, message.sender, None, reason)
            count, limit = result.count, result.limit
        if verdict.mute_until is not None:
            outcome = await self._notifier.mute(chat_id, user_id, verdict.mute_until)
            if outcome is not Outcome.DONE:
                log.info("chat %s: could not mute flooder %s (%s)", chat_id, user_id, outcome)
        if verdict.notice is not None:
            await self._tell(message, config, verdict.notice, count, limit)
        if verdict.audit is not None:
            entry = verdict.audit
            await self._audit.record(
                chat_id, None, user_id, entry.action, entry.reason, entry.until, post=entry.post
            )

    async def _first_time(self, message: Incoming, verdict: Verdict) -> bool:
        """Whether this verdict's actions beyond removal are due: the first time for this
        message, keyed in the database so a restart does not forget it."""
        acts = verdict.warn or verdict.mute_until or verdict.notice or verdict.audit
        if not acts or verdict.breach is None:
            return True
        async with self._db.transaction() as session:
            return await ModerationRepository(session).claim_auto_action(
                message.chat_id, message.message_id, verdict.breach.value, self._clock.now()
            )

    async def _tell(
        self, message: Incoming, config: ChatConfig, notice: Notice, count: int, limit: int
    ) -> None:
        chat_lang, sender = config.language, message.sender
        own_lang = pick_language(sender.language_code, chat_lang)
        if notice.kind is NoticeKind.STOP_WORD:
            text = views.stop_word_notice(chat_lang, sender, count, limit)
        elif notice.kind is NoticeKind.NEWCOMER:
            text = views.newcomer_limited(own_lang, sender, config.probation)
        elif notice.kind is NoticeKind.MENTIONS:
            text = views.mentions_notice(own_lang, sender, config.mention_limit or 0)
        elif notice.kind is NoticeKind.FLOOD:
            assert notice.duration is not None
            text = views.flood_notice(chat_lang, sender, notice.duration)
        else:
            assert notice.duration is not None
            private = views.slowmode_private(own_lang, notice.duration)
            if await self._notifier.send(sender.id, private) is not None:
                return
            text = views.slowmode_notice(chat_lang, sender, notice.duration)
        await self.notice(message.chat_id, text, message.thread)

    async def notice(self, chat_id: int, text: str, thread: int | None = None) -> None:
        """Post a short notice where the offence was (its forum topic, else General) that
        removes itself after about 30 seconds."""
        message_id = await self._notifier.send(chat_id, text, thread=thread)
        if message_id is None:
            return
        async with self._db.transaction() as session:
            await DeadlineRepository(session).schedule(
                UNPOST, chat_id, message_id, self._clock.now() + NOTICE_TTL
            )
