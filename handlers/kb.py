"""Notes and search: `/save`, `/clear` (admins), `/get`, `/notes`, `#name`, `/kb <words>`,
the buttons that open an entry and say it helped, and the private suggestion to a newcomer
whose question in the group an entry answers.

Ordinary group messages reach this router only when they could matter: a `#` in the text
(then the chat's cached note names are checked) or a question from a newcomer.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message, MessageEntity
from aiogram.utils.text_decorations import html_decoration

from bot.context import Hearth
from bot.convert import thread_of
from bot.notifier import Keyboard
from bot.services.kb import Entry, Media, NoteContent
from bot.services.kb.text import hashtags, question_words, split_name
from bot.views import kb as views
from bot.views.callbacks import KbHelped, KbOpen
from handlers.common import commands_only, passing, reply
from handlers.filters import GROUP_TYPES, GroupAdmin, InGroup, precheck, sender_is_admin
from models.members import TrustLevel


def build_router() -> Router:
    router = Router(name="kb")
    commands = commands_only(Router(name="kb-commands"))
    router.include_router(commands)
    commands.message.register(save, Command("save"), GroupAdmin())
    commands.message.register(clear, Command("clear"), GroupAdmin())
    commands.message.register(get, Command("get"), InGroup())
    commands.message.register(notes, Command("notes"), InGroup())
    commands.message.register(kb, Command("kb"), InGroup())
    router.message.register(passing(hashtag), has_hashtag)
    router.message.register(passing(question), group_question, newcomer_question)
    router.callback_query.register(on_open, KbOpen.filter())
    router.callback_query.register(on_helped, KbHelped.filter())
    return router


@precheck
async def has_hashtag(message: Message) -> bool:
    """A group message that may name a note (the cheap check on the per-message path)."""
    text = message.text or message.caption or ""
    return "#" in text and message.chat.type in GROUP_TYPES and not text.startswith("/")


@precheck
async def group_question(message: Message) -> bool:
    """A question in the group: ends with "?", at least 3 words."""
    if message.chat.type not in GROUP_TYPES or message.from_user is None or not message.text:
        return False
    return question_words(message.text) is not None


async def newcomer_question(message: Message, hearth: Hearth) -> bool:
    """After `group_question`: its sender is a newcomer (memory only)."""
    assert message.from_user is not None  # group_question saw to it
    level = hearth.directory.cached(message.chat.id, message.from_user.id)
    return level == TrustLevel.NEWCOMER


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def html_from(text: str, entities: list[MessageEntity] | None, start: int) -> str:
    """The HTML of `text[start:]` with the formatting its entities give it (offsets are in
    UTF-16 units; an entity reaching over `start` is cut there)."""
    shift = utf16_len(text[:start])
    kept = []
    for entity in entities or []:
        end = entity.offset + entity.length
        if end <= shift or entity.type == "bot_command":
            continue
        offset = max(entity.offset, shift)
        kept.append(entity.model_copy(update={"offset": offset - shift, "length": end - offset}))
    return html_decoration.unparse(text[start:], kept)


def content_of(source: Message) -> NoteContent | None:
    """What a replied-to message gives a note: its file by file_id, or its formatted text."""
    caption = source.html_text if source.caption else ""
    if source.photo:
        return NoteContent(Media.PHOTO, caption, source.photo[-1].file_id)
    if source.document:
        return NoteContent(Media.DOCUMENT, caption, source.document.file_id)
    if source.voice:
        return NoteContent(Media.VOICE, caption, source.voice.file_id)
    if source.text:
        return NoteContent(Media.TEXT, source.html_text)
    return None


async def save(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """/save <name> <text> or /save <name> in reply to a text, photo, document or voice."""
    name, rest = split_name(command.args or "")
    content: NoteContent | None = None
    text = (message.text or "").rstrip()  # the arguments come without trailing spaces
    rest = rest.rstrip()
    if name and rest and text.endswith(rest):
        content = NoteContent(Media.TEXT, html_from(text, message.entities, len(text) - len(rest)))
    elif name and message.reply_to_message is not None:
        content = content_of(message.reply_to_message)
    if not name or content is None:
        await reply(hearth, message, views.say(lang, "save_usage"))
        return
    saver = message.from_user.id if message.from_user and not message.sender_chat else None
    created = await hearth.kb.notes.save(message.chat.id, name, content, saver)
    await reply(hearth, message, views.saved(lang, name, created))


async def clear(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    name, _ = split_name(command.args or "")
    if not name:
        await reply(hearth, message, views.say(lang, "clear_usage"))
        return
    found = await hearth.kb.notes.clear(message.chat.id, name)
    await reply(hearth, message, views.cleared(lang, name, found))


async def get(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    name, _ = split_name(command.args or "")
    if not name:
        await reply(hearth, message, views.say(lang, "get_usage"))
        return
    entry = await hearth.kb.notes.get(message.chat.id, name)
    if entry is None:
        await reply(hearth, message, views.say(lang, "no_note", name=name))
        return
    await send_entry(hearth, message.chat.id, entry, lang, message)


async def notes(message: Message, hearth: Hearth, lang: str) -> None:
    names = await hearth.kb.notes.names(message.chat.id)
    await reply(hearth, message, views.notes_list(lang, names))


async def hashtag(message: Message, hearth: Hearth, lang: str) -> None:
    """`#name` in a group message: the note, if the chat has one of that name (the first)."""
    known = await hearth.kb.notes.cached_names(message.chat.id)
    if not known:
        return
    for name in hashtags(message.text or message.caption or ""):
        if name in known:
            entry = await hearth.kb.notes.get(message.chat.id, name)
            if entry is not None:
                await send_entry(hearth, message.chat.id, entry, lang, message)
            return


async def kb(message: Message, command: CommandObject, hearth: Hearth, lang: str) -> None:
    """/kb <words>: the top 5 notes and stories with a snippet and a button each."""
    query = (command.args or "").strip()
    if not query:
        await reply(hearth, message, views.say(lang, "kb_usage"))
        return
    if query.lower() == "unused" and await sender_is_admin(hearth, message):
        await unused(message, hearth, lang)
        return
    hits = await hearth.kb.search.find(message.chat.id, query)
    text, keyboard = views.results(lang, query[:100], hits)
    await hearth.notifier.send(
        message.chat.id, text, keyboard, reply_to=message.message_id, thread=thread_of(message)
    )


async def question(message: Message, hearth: Hearth, lang: str) -> None:
    """A newcomer asked in the group: an entry that answers it well goes to them privately
    (at most once a day, only if the bot can write to them); the group hears nothing."""
    assert message.from_user is not None and message.text is not None
    user_id = message.from_user.id
    hit = await hearth.kb.search.suggest(message.chat.id, user_id, message.text)
    if hit is not None:
        text, keyboard = views.suggestion(lang, message.chat.title or "", hit)
        await hearth.notifier.send(user_id, text, keyboard)


async def send_entry(
    hearth: Hearth,
    chat_id: int,
    entry: Entry,
    lang: str,
    source: Message | None = None,
    buttons: Keyboard | None = None,
) -> None:
    """The entry as a message (its file by file_id, or its text): in the topic of `source`
    and replying to it, when given."""
    reply_to = source.message_id if source is not None else None
    thread = thread_of(source) if source is not None else None
    text = views.entry_text(lang, entry)
    if entry.media is Media.TEXT or entry.file_id is None:
        await hearth.notifier.send(chat_id, text, buttons, reply_to=reply_to, thread=thread)
        return
    await hearth.notifier.send_file(
        chat_id, entry.media, entry.file_id, text or None, reply_to, buttons=buttons, thread=thread
    )


async def on_open(query: CallbackQuery, callback_data: KbOpen, hearth: Hearth, lang: str) -> None:
    """Open an entry in the chat the button is in: in a group, that group's entries; in
    private (a suggestion), the entries of a chat the person belongs to."""
    message = query.message
    entry = None
    if isinstance(message, Message):
        chat_id = message.chat.id
        if message.chat.type not in GROUP_TYPES:
            found = await hearth.kb.search.chat_of(callback_data.id)
            belongs = found is not None and await hearth.trust.belongs(found, query.from_user.id)
            chat_id = found if found is not None and belongs else 0
        entry = await hearth.kb.search.open(callback_data.id, chat_id)
    if entry is None or not isinstance(message, Message):
        await hearth.notifier.answer(query.id, views.say(lang, "gone"), alert=True)
        return
    await hearth.notifier.answer(query.id, "")
    # in the chat (and topic) of the button, replying to the results or the suggestion
    buttons = views.helped_button(lang, entry.id)
    await send_entry(hearth, message.chat.id, entry, lang, message, buttons)


async def on_helped(
    query: CallbackQuery, callback_data: KbHelped, hearth: Hearth, lang: str
) -> None:
    """Counted once a person, for members of the entry's chat (it moves the ranking)."""
    done = await hearth.kb.search.helped(callback_data.id, query.from_user.id)
    await hearth.notifier.answer(query.id, views.say(lang, done.value))


async def unused(message: Message, hearth: Hearth, lang: str) -> None:
    """/kb unused (admins): entries nobody opened for 180 days, to the admin privately."""
    if message.from_user is None or message.sender_chat is not None:
        await reply(hearth, message, views.say(lang, "unused_anonymous"))
        return
    entries = await hearth.kb.search.unused(message.chat.id)
    lines = views.unused_list(lang, message.chat.title or "", entries)
    sent = await hearth.notifier.send(message.from_user.id, "\n".join(lines))
    await reply(hearth, message, views.say(lang, "sent_privately" if sent else "start_me"))
