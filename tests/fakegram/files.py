"""Files Telegram already has, sent again by ``file_id`` (``sendPhoto``, ``sendDocument``,
``sendVoice``), as Telegram takes them: a file_id it never issued is refused with "wrong
file identifier/HTTP URL specified", one of another type with "can't use file of type X as
Y". Uploads keep going to the photo and payment handlers.

Tests make the files members post with ``user_file(fake, kind)``: the message field
(``photo``, ``document`` or ``voice``) to pass to ``fake.send_message(..., **field)``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from .apibase import ApiBase, Params, bad
from .markup import utf16_len
from .objects import JSON
from .photos import CAPTION_LIMIT

KINDS = {"photo": "Photo", "document": "Document", "voice": "Voice"}


@dataclass
class Files:
    """file_id -> kind, for every file Telegram knows; and what was sent by file_id."""

    kinds: dict[str, str] = field(default_factory=dict)
    sent: list[JSON] = field(default_factory=list)

    def to(self, chat_id: int) -> list[JSON]:
        return [f for f in self.sent if f["chat_id"] == chat_id]


def files_of(world: Any) -> Files:
    found = world.__dict__.get("files")
    if found is None:
        found = world.__dict__["files"] = Files()
    assert isinstance(found, Files)
    return found


def user_file(world: Any, kind: str) -> JSON:
    """A file a member posts (kind: photo, document or voice), as the message field."""
    file_id = f"{kind[:2].upper()}AC{secrets.token_hex(10)}"
    files_of(world).kinds[file_id] = kind
    return user_file_json(kind, file_id)


class FileMethods(ApiBase):
    """sendPhoto / sendDocument / sendVoice with the file_id of a member's file; uploads and
    the bot's own uploads sent again go to the photo and payment handlers."""

    def file_handlers(self) -> dict[str, Any]:
        return {
            "sendPhoto": self._by_id("photo", "send_photo"),  # photos.py
            "sendDocument": self._by_id("document", "send_document"),  # payments.py
            "sendVoice": self._by_id("voice", None),
        }

    def _by_id(self, kind: str, upload: str | None) -> Any:
        def handler(params: Params) -> JSON:
            given = params.get(kind)
            known = files_of(self.w).kinds
            if isinstance(given, str) and (given in known or upload is None):
                return self._send_known(kind, given, params)
            if upload is None:  # a voice upload: not needed by Hearth, so not taken here
                raise bad(f"there is no {kind} in the request")
            result: JSON = getattr(self, upload)(params)
            return result

        return handler

    def _send_known(self, kind: str, file_id: str, params: Params) -> JSON:
        chat = self.chat(params)
        files = files_of(self.w)
        actual = files.kinds.get(file_id)
        if actual is None:
            raise bad("wrong file identifier/HTTP URL specified")
        if actual != kind:
            raise bad(f"can't use file of type {KINDS[actual]} as {KINDS[kind]}")
        content: dict[str, Any] = dict(user_file_json(kind, file_id))
        if params.get("caption"):
            caption, entities = self.format_text(params, "caption")
            if utf16_len(caption) > CAPTION_LIMIT:
                raise bad("message caption is too long")
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        self.require_can_send(chat)
        message = self.deliver(chat, params, **content)
        files.sent.append(
            {
                "chat_id": chat.id,
                "message_id": message["message_id"],
                "kind": kind,
                "file_id": file_id,
                "caption": content.get("caption"),
                "reply_markup": message.get("reply_markup"),
            }
        )
        return message


def user_file_json(kind: str, file_id: str) -> JSON:
    """The message field of a file, as Telegram shapes it (a photo comes in sizes)."""
    unique = file_id[-12:]
    if kind == "photo":
        size = {"file_id": file_id, "file_unique_id": unique, "width": 90, "height": 90}
        return {"photo": [size]}
    if kind == "document":
        return {"document": {"file_id": file_id, "file_unique_id": unique, "file_name": "a.pdf"}}
    return {"voice": {"file_id": file_id, "file_unique_id": unique, "duration": 3}}
