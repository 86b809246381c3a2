"""``sendPhoto`` as Telegram takes it: a multipart upload (or the file_id of a photo sent
before), checked the way Telegram checks it, and kept so tests can decode the picture.

Telegram's limits: a photo of at most 10 MB, width + height at most 10,000 and a ratio of at
most 20; a caption of at most 1,024 characters (UTF-16 units, after the markup is parsed).
A file that is not a picture is refused with ``IMAGE_PROCESS_FAILED``.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from .apibase import ApiBase, Params, bad
from .markup import utf16_len
from .objects import JSON

PHOTO_LIMIT = 10 * 1024 * 1024
CAPTION_LIMIT = 1024
SIDES_LIMIT = 10_000
RATIO_LIMIT = 20
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class Photos:
    """Every photo the bot sent: chat_id, message_id, caption and the uploaded `data` bytes."""

    sent: list[JSON] = field(default_factory=list)
    by_file_id: dict[str, bytes] = field(default_factory=dict)

    def to(self, chat_id: int) -> list[JSON]:
        return [p for p in self.sent if p["chat_id"] == chat_id]


def _size(data: bytes) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            return image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise bad("IMAGE_PROCESS_FAILED") from None


class PhotoMethods(ApiBase):
    """The Bot API handler for photos."""

    @property
    def photos(self) -> Photos:
        photos: Photos = self.w.photos  # type: ignore[attr-defined]
        return photos

    def photo_handlers(self) -> dict[str, Any]:
        return {"sendPhoto": self.send_photo}

    def _upload(self, params: Params) -> bytes:
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = params.get(photo.removeprefix("attach://"))
        if isinstance(photo, str) and photo:
            known = self.photos.by_file_id.get(photo)
            if known is None:
                raise bad("wrong file identifier/HTTP URL specified")
            return known
        if not isinstance(photo, dict) or not photo.get("bytes"):
            raise bad("there is no photo in the request")
        data: bytes = photo["bytes"]
        if len(data) > PHOTO_LIMIT:
            raise bad("file is too big")
        return data

    def send_photo(self, params: Params) -> JSON:
        chat = self.chat(params)
        data = self._upload(params)
        width, height = _size(data)
        if width + height > SIDES_LIMIT or max(width, height) > RATIO_LIMIT * min(width, height):
            raise bad("PHOTO_INVALID_DIMENSIONS")
        content: dict[str, Any] = {}
        if params.get("caption"):
            caption, entities = self.format_text(params, "caption")
            if utf16_len(caption) > CAPTION_LIMIT:
                raise bad("message caption is too long")
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        self.require_can_send(chat)
        file_id = f"AgAC{secrets.token_hex(12)}"
        content["photo"] = [
            {
                "file_id": file_id,
                "file_unique_id": secrets.token_hex(6),
                "width": width,
                "height": height,
                "file_size": len(data),
            }
        ]
        message = self.deliver(chat, params, **content)
        self.photos.by_file_id[file_id] = data
        self.photos.sent.append(
            {
                "chat_id": chat.id,
                "message_id": message["message_id"],
                "caption": content.get("caption"),
                "data": data,
            }
        )
        return message
