"""The private answer flow: begin (button or link), one answer per question, skip a support
question, then choose whether to share the win. Replies go straight back to the person,
never through the outbox."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.notifier import Keyboard
from bot.services.checkins import digest
from bot.services.checkins.common import (
    Deps,
    chat_title,
    language_of,
    questions_for,
    withdraw_prompts,
)
from bot.services.checkins.questions import decode_answers, encode_answers
from bot.services.ledger import LedgerKind
from bot.services.settings import ChatConfig
from bot.views import checkins as views
from models.checkin_repository import CheckinRepository
from models.checkins import CheckinRound, EntryState, RoundStatus
from models.members import MemberRepository, MemberStatus
from models.users import UserRepository

MAX_ANSWER_LENGTH = 1000
STEP_TIMEOUT = 30.0  # seconds; a step is a few short transactions, no Telegram call


@dataclass(frozen=True)
class Prompt:
    """A direct answer to the person's own command or button: text and buttons."""

    text: str
    buttons: Keyboard | None = None


class Flow:
    """A person's way through the questions of a round, one step at a time."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def _lock(self, user_id: int) -> AbstractAsyncContextManager[None]:
        """One step of a person's private flow at a time: updates are handled concurrently,
        and with several processes two of the person's updates may reach two of them."""
        return self._deps.locks.lock(f"checkin:{user_id}", STEP_TIMEOUT)

    async def _round_and_language(
        self, session: AsyncSession, round_id: int, user_id: int
    ) -> tuple[CheckinRound | None, ChatConfig, str]:
        row = await CheckinRepository(session).round(round_id)
        settings = self._deps.settings
        config = await settings.get(row.chat_id) if row else settings.defaults()
        return row, config, await language_of(session, user_id, config)

    def _is_open(self, row: CheckinRound | None) -> bool:
        now = self._deps.clock.now()
        return row is not None and row.status == RoundStatus.OPEN and row.closes_at > now

    async def begin(self, round_id: int, user_id: int) -> Prompt:
        """The person opened the check-in (button or link): ask the first question."""
        async with self._lock(user_id):
            return await self._begin(round_id, user_id)

    async def _begin(self, round_id: int, user_id: int) -> Prompt:
        async with self._deps.db.transaction() as session:
            row, _, lang = await self._round_and_language(session, round_id, user_id)
            if row is None or not self._is_open(row):
                return Prompt(views.closed(lang))
            member = await MemberRepository(session).get(row.chat_id, user_id)
            if member is None or member.status != MemberStatus.IN:
                return Prompt(views.not_member(lang))
            repo = CheckinRepository(session)
            entry = await repo.ensure_entry(round_id, user_id)
            entry.step = 0
            await UserRepository(session).set_reachable(user_id, True)  # they are here, in private
            person = await repo.person(user_id)
            person.focus_round_id = round_id
            questions = questions_for(row.questions, lang)
            title = await chat_title(session, row.chat_id)
            intro = views.intro(lang, title, len(questions), editing=entry.done)
            answers = decode_answers(entry.answers)
            previous = answers[0] if answers else None
            return Prompt(*views.question(lang, round_id, questions, 0, previous, intro))

    async def answer_text(self, user_id: int, text: str) -> Prompt | None:
        """A private message: the answer to the question being asked. Typed without pressing
        "Answer" first, it is the first answer if exactly one open round awaits the person;
        with several, the reply asks which (a button each). None if no round awaits them."""
        async with self._lock(user_id):
            prompt = await self._step(user_id, None, text)
            if prompt is not None:
                return prompt
            awaiting = await self._awaiting(user_id)
            if len(awaiting) != 1:
                return await self._which(user_id, awaiting) if awaiting else None
            begun = await self._begin(awaiting[0], user_id)
            answered = await self._step(user_id, None, text)
            if answered is None:
                return begun  # the round closed or they left meanwhile: say so
            async with self._deps.db.transaction() as session:
                row, _, lang = await self._round_and_language(session, awaiting[0], user_id)
                title = await chat_title(session, row.chat_id) if row else ""
            return Prompt(views.taken_as_first(lang, title, answered.text), answered.buttons)

    async def _awaiting(self, user_id: int) -> list[int]:
        """Open rounds that invited the person, unanswered and not begun, in chats they are
        still in."""
        now = self._deps.clock.now()
        found = []
        async with self._deps.db.transaction() as session:
            repo = CheckinRepository(session)
            for entry in await repo.unanswered_open(user_id):
                row = await repo.round(entry.round_id)
                if (
                    row is None
                    or row.closes_at <= now
                    or entry.state != EntryState.INVITED
                    or entry.step >= 0
                ):
                    continue
                member = await MemberRepository(session).get(row.chat_id, user_id)
                if member is not None and member.status == MemberStatus.IN:
                    found.append(row.id)
        return sorted(found)

    async def _which(self, user_id: int, round_ids: list[int]) -> Prompt:
        """Several rounds await the person: an Answer button for each."""
        async with self._deps.db.transaction() as session:
            rounds = []
            lang = ""
            for round_id in round_ids:
                row, _, lang = await self._round_and_language(session, round_id, user_id)
                if row is not None:
                    rounds.append((round_id, await chat_title(session, row.chat_id)))
        return Prompt(*views.which_round(lang, rounds))

    async def skip(self, round_id: int, user_id: int) -> Prompt:
        """The skip button under a support question."""
        async with self._lock(user_id):
            return await self._step(user_id, round_id, None) or Prompt("")

    async def _step(self, user_id: int, round_id: int | None, text: str | None) -> Prompt | None:
        async with self._deps.db.transaction() as session:
            repo = CheckinRepository(session)
            person = await repo.existing_person(user_id)
            focus = (
                round_id if round_id is not None else (person.focus_round_id if person else None)
            )
            if focus is None:
                return None
            row = await repo.round(focus)
            entry = await repo.entry(focus, user_id)
            if row is None or entry is None or entry.step < 0:
                return None
            config = await self._deps.settings.get(row.chat_id)
            lang = await language_of(session, user_id, config)
            if not self._is_open(row):
                entry.step = -1
                if person is not None:
                    person.focus_round_id = None
                return Prompt(views.closed(lang))
            questions = questions_for(row.questions, lang)
            if entry.step >= len(questions):
                return Prompt(*views.choose_share(lang, focus))
            if text is None and not questions[entry.step].support:
                return Prompt(views.cannot_skip(lang))
            answers = decode_answers(entry.answers)
            answers += [None] * (len(questions) - len(answers))
            answers[entry.step] = text.strip()[:MAX_ANSWER_LENGTH] if text else None
            entry.answers = encode_answers(answers)
            entry.step += 1
            entry.updated_at = self._deps.clock.now()
            if entry.step < len(questions):
                screen = views.question(lang, focus, questions, entry.step, answers[entry.step])
            else:
                screen = views.share_question(lang, focus)
            if text is not None and len(text.strip()) > MAX_ANSWER_LENGTH:
                screen = views.answer_cut(lang, MAX_ANSWER_LENGTH, screen)
            return Prompt(*screen)

    async def share(self, round_id: int, user_id: int, choice: str) -> Prompt:
        """The last step: whether to share the win; the answers are stored as final."""
        async with self._lock(user_id):
            return await self._share(round_id, user_id, choice)

    async def _share(self, round_id: int, user_id: int, choice: str) -> Prompt:
        async with self._deps.db.transaction() as session:
            repo = CheckinRepository(session)
            row, config, lang = await self._round_and_language(session, round_id, user_id)
            entry = await repo.entry(round_id, user_id)
            if row is None or not self._is_open(row):
                return Prompt(views.closed(lang))
            questions = questions_for(row.questions, lang)
            if entry is None or entry.step < len(questions) or choice not in views.SHARE_CHOICES:
                return Prompt(views.stale(lang))
            entry.share = choice
            if not entry.done and self._deps.ledger is not None:  # once a round, not per edit
                self._deps.ledger.count(row.chat_id, user_id, LedgerKind.CHECKIN_ANSWERED)
            entry.done = True
            entry.step = -1
            entry.updated_at = self._deps.clock.now()
            person = await repo.person(user_id)
            if person.focus_round_id == round_id:
                person.focus_round_id = None
            await withdraw_prompts(session, user_id, [round_id])  # no reminder after answering
            answers = decode_answers(entry.answers)
            answered = list(zip(questions, answers + [None] * len(questions), strict=False))
            width = digest.summary_width(questions, [a for _, a in answered])
            zone = config.timezone
            return Prompt(
                *views.thanks(lang, round_id, answered, width, choice, row.closes_at, zone)
            )
