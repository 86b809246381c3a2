"""Forum topics: the topic a chat chose for the bot's posts, and falling back from it."""

from __future__ import annotations

from bot.services.settings import GENERAL, SettingsService
from bot.views import admin as views

TOPIC_KEY = "topic"


class ChatTopics:
    """Each chat's chosen topic (the `topic` setting, `/set topic here`), for the notifier
    and the outbox (see bot.topics.TopicPolicy)."""

    def __init__(self, settings: SettingsService) -> None:
        self._settings = settings

    async def topic(self, chat_id: int) -> int | None:
        return (await self._settings.get(chat_id)).topic

    async def lost(self, chat_id: int, thread: int) -> str | None:
        """The topic is closed or deleted: posts go to General from now on; the notice for
        the admins only for the caller that made the switch, so they hear it once."""
        if not await self._settings.replace(chat_id, TOPIC_KEY, str(thread), GENERAL):
            return None
        return views.topic_lost((await self._settings.get(chat_id)).language)
