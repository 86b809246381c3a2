"""Admin commands and the member's view, through the production dispatcher (moved from the
end-to-end tier: they need no real process)."""

from __future__ import annotations

from tests.dispatcher.conftest import ADMIN, GROUP, MEMBER, OWNER, Harness


def replies_to(h: Harness, chat_id: int, message_id: int) -> list[dict]:
    return [
        m
        for m in h.fake.sent_messages(chat_id)
        if (m.get("reply_to_message") or {}).get("message_id") == message_id
    ]


async def command(h: Harness, chat_id: int, user_id: int, text: str) -> str:
    """Send a command, let the bot handle it, return the text of its reply to it."""
    update = h.fake.send_message(chat_id, user_id, text)
    assert update is not None
    await h.settle()
    reply = replies_to(h, chat_id, update["message"]["message_id"])
    assert reply, f"no reply to {text[:40]!r}"
    return str(reply[-1]["text"])


async def test_settings_are_listed_changed_and_bad_input_refused(harness: Harness) -> None:
    h = harness
    listing = await command(h, GROUP, ADMIN, "/settings")
    for key in ("verify_timeout", "probation", "veteran_after", "language", "timezone"):
        assert key in listing
    assert "5m" in listing

    assert "Done" in await command(h, GROUP, ADMIN, "/set verify_timeout 10m")
    bad = await command(h, GROUP, ADMIN, "/set verify_timeout soon")
    assert "expected a duration" in bad and "Nothing changed" in bad
    unknown = await command(h, GROUP, ADMIN, "/set colour blue")
    assert "verify_timeout" in unknown and "timezone" in unknown
    assert "IANA" in await command(h, GROUP, ADMIN, "/set timezone Mars/Olympus")
    refused = await command(h, GROUP, MEMBER, "/set verify_timeout 1m")
    assert "administrators" in refused
    assert "10m" in await command(h, GROUP, OWNER, "/settings")
    # getChatAdministrators is cached, not asked on every command
    assert len(h.fake.calls_of("getChatAdministrators")) == 1


async def test_rules_welcome_and_trust(harness: Harness) -> None:
    h = harness
    assert "no rules" in (await command(h, GROUP, MEMBER, "/rules")).lower()
    assert "saved" in await command(h, GROUP, ADMIN, "/setrules 1. Be kind.\n2. No spam.")
    assert "Be kind" in await command(h, GROUP, MEMBER, "/rules")
    assert "too long" in await command(h, GROUP, ADMIN, "/setrules " + "x" * 4001)
    preview = await command(h, GROUP, ADMIN, "/setwelcome Hi {name}, welcome to {chat}!")
    assert "Hi Anton, welcome to Circle!" in preview

    # Maria is seen as a member; an admin makes her a veteran; /me shows it
    assert "member" in await command(h, GROUP, MEMBER, "/me")
    assert "veteran" in await command(h, GROUP, ADMIN, "/trust veteran @maria")
    assert "veteran" in await command(h, GROUP, MEMBER, "/me")
    assert "no level" in (await command(h, GROUP, ADMIN, "/trust wizard @maria")).lower()
    assert "can't tell who" in await command(h, GROUP, ADMIN, "/trust member @nobody_here")
    assert "administrators" in await command(h, GROUP, MEMBER, "/trust veteran @maria")

    private = await command(h, MEMBER, MEMBER, "/me")
    assert "Circle" in private and "veteran" in private
    assert "Circle" in await command(h, MEMBER, MEMBER, "/start")
    assert "/me" in await command(h, MEMBER, MEMBER, "/help")
    assert "/help" in await command(h, MEMBER, MEMBER, "/frobnicate")


async def test_bot_added_to_a_group_registers_it_and_names_missing_rights(
    harness: Harness,
) -> None:
    h = harness
    other = -1009876543210
    h.fake.add_chat(other, "New Group")
    h.fake.set_member(other, OWNER, "creator")
    h.fake.add_bot_to_chat(other, OWNER, admin=True, can_delete_messages=False)
    await h.settle()
    notice = h.fake.sent_messages(other)[-1]
    assert "Delete messages" in notice["text"]
    assert "Ban users" not in notice["text"]
    # registered with default settings
    assert "verify_timeout" in await command(h, other, OWNER, "/settings")
