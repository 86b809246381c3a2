"""Notes through the production dispatcher and the fake Bot API: /save (text with its
formatting; a photo, document or voice in reply, kept by file_id), /get, #name, /notes,
/clear; names in quotes, any case, ё = е; only admins save."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, Harness
from tests.dispatcher.test_moderation import command, say
from tests.fakegram.files import files_of, user_file


def pause(h: Harness, seconds: int = 20) -> None:
    """People take a while between messages (the flood rule would mute a burst)."""
    h.fake.advance(seconds)
    h.clock.advance(timedelta(seconds=seconds))


def last(h: Harness) -> dict[str, Any]:
    return h.fake.sent_messages(GROUP)[-1]


async def test_a_text_note_keeps_its_formatting_and_comes_back_by_get_and_hashtag(
    harness: Harness,
) -> None:
    h = harness
    text = "/save faq Read the rules first, then say hi"
    bold = text.index("rules")
    entities = [
        {"type": "bot_command", "offset": 0, "length": 5},
        {"type": "bold", "offset": bold, "length": 5},
    ]
    h.fake.send_message(GROUP, ADMIN, text, entities=entities)
    await h.settle()
    assert h.replies(GROUP)[-1].startswith("Saved the note faq")

    answer = await command(h, MEMBER, "/get FAQ")
    assert answer == "Read the rules first, then say hi"
    sent = last(h)
    assert {"type": "bold", "offset": 9, "length": 5} in [
        {k: e[k] for k in ("type", "offset", "length")} for e in sent.get("entities", [])
    ]
    asked = await say(h, MEMBER, "where do I start? see #faq please")
    assert last(h)["text"] == "Read the rules first, then say hi"
    assert last(h)["reply_to_message"]["message_id"] == asked
    before = len(h.replies(GROUP))
    await say(h, MEMBER, "#nothing_like_this here")
    assert len(h.replies(GROUP)) == before  # unknown names: silence


async def test_names_in_quotes_any_case_and_yo_equals_ye(harness: Harness) -> None:
    h = harness
    assert "Saved" in await command(h, ADMIN, '/save "Первый клиент" Начните с друзей')
    assert await command(h, MEMBER, "/get «первый КЛИЕНТ»") == "Начните с друзей"
    assert "Saved" in await command(h, ADMIN, "/save ёлка Украшаем в декабре")
    assert await command(h, MEMBER, "/get Елка") == "Украшаем в декабре"
    listing = await command(h, MEMBER, "/notes")
    assert "первый клиент" in listing and "елка" in listing
    assert "Replaced" in await command(h, ADMIN, "/save елка Украшаем в январе")
    assert await command(h, MEMBER, "/get ёлка") == "Украшаем в январе"


async def test_photo_document_and_voice_notes_are_sent_again_by_file_id(harness: Harness) -> None:
    h = harness
    for kind in ("photo", "document", "voice"):
        pause(h)
        field = user_file(h.fake, kind)
        file_id = (field["photo"][-1] if kind == "photo" else field[kind])["file_id"]
        posted = await say(h, MEMBER, None, caption=f"the {kind}", **field)  # type: ignore[arg-type]
        saved = await command(h, ADMIN, f"/save {kind}note", reply_to=posted)
        assert "Saved" in saved, saved
        h.fake.send_message(GROUP, MEMBER, f"/get {kind}note")
        await h.settle()
        sent = files_of(h.fake).to(GROUP)[-1]
        assert (sent["kind"], sent["file_id"], sent["caption"]) == (kind, file_id, f"the {kind}")


async def test_only_admins_save_and_clear(harness: Harness) -> None:
    h = harness
    refused = await command(h, MEMBER, "/save mine my text")
    assert "admin" in refused.lower()
    assert "no note" in (await command(h, MEMBER, "/get mine")).lower()
    assert "Saved" in await command(h, ADMIN, "/save mine admin text")
    assert "admin" in (await command(h, MEMBER, "/clear mine")).lower()
    assert "Deleted" in await command(h, ADMIN, "/clear mine")
    assert "no note" in (await command(h, MEMBER, "/get mine")).lower()
    before = len(h.replies(GROUP))
    await say(h, MEMBER, "what about #mine")
    assert len(h.replies(GROUP)) == before  # the cached names were dropped with the note
    assert "usage" in (await command(h, ADMIN, "/save")).lower()


async def test_one_message_is_a_thanks_and_asks_for_a_note(harness: Harness) -> None:
    """Each passive feature takes its part of an ordinary message: a thanks reply that names a
    note is acknowledged with a reaction and answered with the note."""
    h = harness
    h.fake.send_message(GROUP, ADMIN, "/save faq Read the rules first")
    await h.settle()
    pause(h)
    helped = await say(h, ADMIN, "Happy to help, see the pinned post")
    pause(h)
    thanked = await say(h, MEMBER, "Thanks! and #faq for the others", reply_to_message_id=helped)
    assert h.fake.api.bot_reactions.get((GROUP, helped))  # the thanks: a reaction on it
    assert last(h)["text"] == "Read the rules first"
    assert last(h)["reply_to_message"]["message_id"] == thanked
