"""The fake's reaction updates: shaped like Telegram's, only for an admin bot that asks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import ReactionTypeEmoji, ReactionTypeUnion

from .server import FakeTelegram
from .test_fakegram import ADMIN, ANNA, BORIS, GROUP, drain, make_bot

ALLOWED = ["message", "message_reaction", "message_reaction_count"]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    server.add_user(ADMIN, "Olga")
    server.add_user(ANNA, "Anna")
    server.add_user(BORIS, "Boris")
    server.add_chat(GROUP, "Hearth Lounge")
    server.set_member(GROUP, ADMIN, "creator")
    server.set_member(GROUP, ANNA, "member")
    server.set_member(GROUP, BORIS, "member")
    yield server
    await server.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = make_bot(fake)
    yield client
    await client.session.close()


async def test_an_admin_bot_that_asks_gets_who_reacted_and_the_totals(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.add_bot_to_chat(GROUP, ADMIN)
    update = fake.send_message(GROUP, ANNA, "we did it")
    assert update is not None
    message_id = update["message"]["message_id"]
    fake.clear_updates()

    fake.reactions.react(GROUP, BORIS, message_id, ["👍"])
    fake.reactions.react(GROUP, BORIS, message_id, ["🔥"])  # replaces the thumb
    fake.reactions.react(GROUP, ADMIN, message_id, ["🔥"], anonymous=True)
    fake.reactions.counts_update(GROUP, message_id)
    updates = await drain(bot, fake, ALLOWED)

    first, second, anonymous, counts = updates
    assert first.message_reaction is not None and first.message_reaction.user is not None
    assert first.message_reaction.user.id == BORIS
    assert first.message_reaction.old_reaction == []
    assert _emojis(first.message_reaction.new_reaction) == ["👍"]
    assert second.message_reaction is not None
    assert _emojis(second.message_reaction.old_reaction) == ["👍"]
    assert _emojis(second.message_reaction.new_reaction) == ["🔥"]
    assert anonymous.message_reaction is not None
    assert anonymous.message_reaction.user is None
    assert anonymous.message_reaction.actor_chat is not None
    assert anonymous.message_reaction.actor_chat.id == GROUP
    assert counts.message_reaction_count is not None
    (total,) = counts.message_reaction_count.reactions
    assert _emojis([total.type]) == ["🔥"] and total.total_count == 2


async def test_reaction_updates_are_opt_in_and_only_for_an_admin_bot(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.set_member(GROUP, fake.bot_id, "member")
    update = fake.send_message(GROUP, ANNA, "hello")
    assert update is not None
    message_id = update["message"]["message_id"]
    fake.clear_updates()
    assert fake.reactions.react(GROUP, BORIS, message_id, ["👍"]) is None  # not an admin
    assert fake.reactions.counts_update(GROUP, message_id) is None

    fake.set_member(GROUP, fake.bot_id, "administrator")
    fake.reactions.react(GROUP, BORIS, message_id, ["❤"])
    assert await drain(bot, fake) == []  # not in the default allowed_updates
    with pytest.raises(ValueError):
        fake.reactions.react(GROUP, BORIS, message_id, ["👍", "❤", "🔥", "🎉"])
    with pytest.raises(LookupError):
        fake.reactions.react(GROUP, BORIS, 9999, ["👍"])


def _emojis(reactions: list[ReactionTypeUnion]) -> list[str]:
    return [r.emoji for r in reactions if isinstance(r, ReactionTypeEmoji)]


async def test_the_bot_sets_one_standard_reaction_on_a_message_it_can_see(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.add_bot_to_chat(GROUP, ADMIN)
    update = fake.send_message(GROUP, ANNA, "we did it")
    assert update is not None
    message_id = update["message"]["message_id"]
    fake.clear_updates()

    assert await bot.set_message_reaction(GROUP, message_id, [ReactionTypeEmoji(emoji="🙏")])
    assert fake.api.bot_reactions[(GROUP, message_id)] == ["🙏"]
    assert await drain(bot, fake, ALLOWED) == []  # no update about the bot's own reaction
    assert await bot.set_message_reaction(GROUP, message_id, [])
    assert (GROUP, message_id) not in fake.api.bot_reactions

    for reaction, error in (
        ([ReactionTypeEmoji(emoji="🦖")], "REACTION_INVALID"),
        ([ReactionTypeEmoji(emoji="👍"), ReactionTypeEmoji(emoji="🔥")], "REACTIONS_TOO_MANY"),
    ):
        with pytest.raises(TelegramBadRequest, match=error):
            await bot.set_message_reaction(GROUP, message_id, reaction)  # type: ignore[arg-type]
    with pytest.raises(TelegramBadRequest, match="MESSAGE_ID_INVALID"):
        await bot.set_message_reaction(GROUP, 9999, [ReactionTypeEmoji(emoji="👍")])
    fake.set_member(GROUP, fake.bot_id, "left")
    with pytest.raises(TelegramForbiddenError):
        await bot.set_message_reaction(GROUP, message_id, [ReactionTypeEmoji(emoji="👍")])
