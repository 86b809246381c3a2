"""/privacy, /mydata and /forget: in private only (in a group the sender is pointed to the
private chat; nothing about anyone is posted there). /forget asks once more with a button."""

from __future__ import annotations

from dataclasses import asdict

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.context import Hearth
from bot.convert import person
from bot.services.privacy import TooSoon
from bot.views import privacy as views
from bot.views.callbacks import ForgetConfirm, PrivacyTotals
from handlers.common import commands_only, reply, reply_lines
from handlers.filters import InPrivate

MYDATA_FILE = "hearth-mydata.json"


def build_router() -> Router:
    router = Router(name="privacy")
    commands = commands_only(Router(name="privacy-commands"))
    router.include_router(commands)
    commands.message.register(privacy, Command("privacy"), InPrivate())
    commands.message.register(mydata, Command("mydata"), InPrivate())
    commands.message.register(forget, Command("forget"), InPrivate())
    router.callback_query.register(on_totals, PrivacyTotals.filter())
    router.callback_query.register(on_forget, ForgetConfirm.filter())
    return router


async def privacy(message: Message, hearth: Hearth, lang: str) -> None:
    """What Hearth keeps about you, and the "count me only in totals" switch."""
    if message.from_user is None:
        return
    totals_only = await hearth.privacy.totals_only(message.from_user.id)
    for text, keyboard in views.overview(lang, totals_only):
        await hearth.notifier.send(message.chat.id, text, keyboard)


async def on_totals(
    query: CallbackQuery, callback_data: PrivacyTotals, hearth: Hearth, lang: str
) -> None:
    await hearth.privacy.set_totals_only(person(query.from_user), callback_data.on)
    await hearth.notifier.answer(query.id, views.totals_done(lang, callback_data.on))
    for text, keyboard in views.overview(lang, callback_data.on)[-1:]:
        if query.message is not None:  # the switch under the list now says the other way
            await hearth.notifier.edit(query.from_user.id, query.message.message_id, text, keyboard)


async def mydata(message: Message, hearth: Hearth, lang: str) -> None:
    """A JSON file and a readable summary of everything stored about you; once a day."""
    if message.from_user is None:
        return
    user_id = message.from_user.id
    found = await hearth.privacy.export(user_id)
    if isinstance(found, TooSoon):
        zone = await hearth.checkins.zone(user_id)
        await reply(hearth, message, views.mydata_too_soon(lang, found.next_at, zone))
        return
    if found.document is None:
        await reply(hearth, message, views.mydata_nothing(lang))
        return
    await hearth.notifier.send_document(
        user_id, MYDATA_FILE, found.json_bytes(), caption=views.mydata_caption(lang)
    )
    await reply_lines(hearth, message, views.mydata_summary(lang, found.document))


async def forget(message: Message, hearth: Hearth, lang: str) -> None:
    text, keyboard = views.forget_ask(lang)
    await hearth.notifier.send(message.chat.id, text, keyboard)


async def on_forget(
    query: CallbackQuery, callback_data: ForgetConfirm, hearth: Hearth, lang: str
) -> None:
    """The answer to "erase everything?": erased in every chat at once, or nothing."""
    user_id = query.from_user.id
    await hearth.notifier.answer(query.id, "")
    if query.message is not None:  # the question loses its buttons: one answer only
        await hearth.notifier.edit(
            user_id, query.message.message_id, views.forget_ask(lang)[0], None
        )
    if not callback_data.yes:
        await hearth.notifier.send(user_id, views.forget_cancelled(lang))
        return
    erased = await hearth.privacy.forget_person(user_id)
    await hearth.thanks.service.forget_person(user_id)  # who wrote which recent message
    done = views.forget_done(lang, len(erased.chats), asdict(erased.kept))
    await hearth.notifier.send(user_id, done)
