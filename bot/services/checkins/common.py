"""What every check-in use case shares: its dependencies and a few small lookups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.i18n import pick_language
from bot.locks import Locks
from bot.notifier import Notifier
from bot.services.activity import ActivityTracker
from bot.services.checkins import keys
from bot.services.checkins.questions import Question, decode, defaults
from bot.services.ledger import Ledger
from bot.services.settings import ChatConfig, SettingsService
from bot.views import checkins as views
from models.chats import ChatRepository
from models.outbox import OutboxRepository
from models.users import UserRepository


@dataclass(frozen=True)
class Deps:
    """The check-in services' collaborators, built once by the facade."""

    db: Database
    clock: Clock
    notifier: Notifier
    settings: SettingsService
    activity: ActivityTracker
    wake: Callable[[], None]  # the outbox: there is something new to send
    ledger: Ledger | None = None  # counts answered check-ins
    locks: Locks = field(default_factory=Locks)  # one step of a person's flow at a time


def questions_for(raw: str | None, language: str) -> list[Question]:
    """A round's (or chat's) questions; the defaults in `language` when it has none."""
    if raw is not None:
        return decode(raw, ())
    return defaults(*views.default_question_texts(language))


async def language_of(session: AsyncSession, user_id: int, config: ChatConfig) -> str:
    """The language to write to a person in: theirs if the bot speaks it, else the chat's."""
    user = await UserRepository(session).get(user_id)
    return pick_language(user.language_code if user else None, config.language)


async def chat_title(session: AsyncSession, chat_id: int) -> str:
    """The chat's title (its id if unknown), as raw text."""
    chat = await ChatRepository(session).get(chat_id)
    return chat.title if chat else str(chat_id)


async def withdraw_prompts(session: AsyncSession, user_id: int, round_ids: list[int]) -> None:
    """Expire the person's queued invites and reminders for these rounds."""
    wanted = [key for r in round_ids for key in keys.prompts(r, user_id)]
    await OutboxRepository(session).withdraw(user_id, wanted)
