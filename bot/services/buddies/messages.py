"""What the buddy system tells people: introductions, private notes, the follow-up question."""

from __future__ import annotations

from bot.db import Database
from bot.i18n import pick_language
from bot.notifier import Notifier
from bot.services.settings import SettingsService
from bot.views import buddies as views
from models.chats import Chat
from models.users import User


class BuddyMessages:
    """Sends buddy messages, each in the language of the person it is for."""

    def __init__(self, db: Database, notifier: Notifier, settings: SettingsService) -> None:
        self._db = db
        self._notifier = notifier
        self._settings = settings

    async def who(self, user_id: int) -> str:
        async with self._db.transaction() as session:
            user = await session.get(User, user_id)
        return views.who(user_id, user.full_name if user else str(user_id))

    async def _language_and_title(self, user_id: int, chat_id: int) -> tuple[str, str]:
        config = await self._settings.get(chat_id)
        async with self._db.transaction() as session:
            user = await session.get(User, user_id)
            chat = await session.get(Chat, chat_id)
        language = pick_language(user.language_code if user else None, config.language)
        return language, chat.title if chat else str(chat_id)

    async def tell(self, user_id: int, chat_id: int, kind: views.Note, **values: str) -> bool:
        """A private message in the person's language; False if they cannot be reached."""
        async with self._db.transaction() as session:
            user = await session.get(User, user_id)
        if user is None or not user.reachable:
            return False
        language, title = await self._language_and_title(user_id, chat_id)
        text = views.note(language, kind, title, **values)
        return await self._notifier.send(user_id, text) is not None

    async def introduce(
        self, chat_id: int, newcomer_id: int, buddy_id: int, interests: list[str]
    ) -> None:
        """Introduce the pair in the group, then tell each of them privately."""
        config = await self._settings.get(chat_id)
        newcomer, buddy = await self.who(newcomer_id), await self.who(buddy_id)
        await self._notifier.send(chat_id, views.intro_group(config.language, newcomer, buddy))
        await self.tell(newcomer_id, chat_id, "intro_newcomer", buddy=buddy)
        await self.tell(
            buddy_id,
            chat_id,
            "intro_buddy",
            newcomer=newcomer,
            interests=views.interest_list(interests),
        )

    async def waiting(self, chat_id: int, newcomer_id: int, tell_admins: bool) -> None:
        await self.tell(newcomer_id, chat_id, "waiting")
        if tell_admins:
            config = await self._settings.get(chat_id)
            await self._notifier.send(chat_id, views.waiting_admins(config.language))

    async def followup(self, chat_id: int, newcomer_id: int, buddy_id: int) -> None:
        language, title = await self._language_and_title(newcomer_id, chat_id)
        text, buttons = views.followup(language, chat_id, title, await self.who(buddy_id))
        await self._notifier.send(newcomer_id, text, buttons)
