"""The private notices of a decision: to the idea's author and to everyone who voted 👍,
queued in the outbox in the decision's transaction and held until the chat's quiet hours
end. Each person hears of one decision once (the outbox key names idea, status and person)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import pick_language
from bot.outgoing import queue
from bot.services.checkin_schedule import deliver_at
from bot.services.ideas.cards import IdeaCard
from bot.services.settings import ChatConfig
from bot.views import ideas as views
from models.chats import ChatRepository
from models.users import FORMER_MEMBER, User


def notice_key(idea_id: int, status: str, user_id: int) -> str:
    return f"idea:{idea_id}:{status}:{user_id}"


async def queue_notices(
    session: AsyncSession,
    config: ChatConfig,
    card: IdeaCard,
    supporters: list[int],
    now: datetime,
) -> int:
    """Queue the notices; how many people will be told (bots, people who blocked the bot
    and a forgotten author are left out)."""
    recipients = {card.author_id, *supporters} - {FORMER_MEMBER}
    if not recipients:
        return 0
    chat = await ChatRepository(session).get(card.chat_id)
    title = chat.title if chat is not None else str(card.chat_id)
    rows = await session.execute(select(User).where(User.id.in_(recipients)))
    when = deliver_at(config.quiet_hours, now, config.timezone)
    told = 0
    for user in rows.scalars():
        if user.is_bot or not user.reachable:
            continue
        lang = pick_language(user.language_code, config.language)
        text = views.notice(lang, card, title, author=user.id == card.author_id)
        key = notice_key(card.id, card.status, user.id)
        if await queue(session, key, user.id, text, now=now, not_before=when):
            told += 1
    return told
