"""Builders for the JSON objects the fake Telegram server hands out.

Every shape here is checked against aiogram 3.31 (``aiogram/types/*.py``): fields that
aiogram declares as required are always present.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")

# Every permission a ChatMemberRestricted carries (all required by aiogram).
PERMISSION_FIELDS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)
MEDIA_PERMISSIONS = (
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
)
# Permissions that newer Bot API versions added; when a bot omits them in
# restrictChatMember the fake inherits the chat default instead of assuming False.
LATE_PERMISSIONS = ("can_react_to_messages", "can_edit_tag")

# What a freshly created group lets ordinary members do.
DEFAULT_CHAT_PERMISSIONS: dict[str, bool] = {
    name: name not in {"can_edit_tag", "can_change_info", "can_pin_messages", "can_manage_topics"}
    for name in PERMISSION_FIELDS
}

# Rights of a ChatMemberAdministrator; the first block is required by aiogram.
ADMIN_RIGHTS_REQUIRED = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
)
ADMIN_RIGHTS_OPTIONAL = ("can_pin_messages", "can_manage_topics")
ADMIN_RIGHTS_CHANNEL = ("can_post_messages", "can_edit_messages")
ADMIN_RIGHTS = ADMIN_RIGHTS_REQUIRED + ADMIN_RIGHTS_OPTIONAL

DEFAULT_ADMIN_RIGHTS: dict[str, bool] = {
    name: name not in {"can_promote_members", "can_manage_topics"} for name in ADMIN_RIGHTS
}


@dataclass
class Member:
    """One user's standing in one chat."""

    status: str = "left"
    until_date: int = 0
    is_member: bool = False  # only meaningful for "restricted"
    permissions: dict[str, bool] = field(default_factory=dict)  # "restricted"
    rights: dict[str, bool] = field(default_factory=dict)  # "administrator"
    custom_title: str | None = None
    is_anonymous: bool = False
    can_be_edited: bool = False

    @property
    def present(self) -> bool:
        """Whether the user is currently in the chat (counts towards the member count)."""
        if self.status == "restricted":
            return self.is_member
        return self.status in {"creator", "administrator", "member"}

    @property
    def is_admin(self) -> bool:
        return self.status in {"creator", "administrator"}

    def can(self, right: str) -> bool:
        """Administrator right check (creators can do everything)."""
        if self.status == "creator":
            return True
        return self.status == "administrator" and bool(self.rights.get(right))


def make_member(status: str, **kw: Any) -> Member:
    """Build a Member from ``set_member``-style keyword arguments.

    administrator: any ``can_*`` keyword overrides DEFAULT_ADMIN_RIGHTS;
    restricted: any ``can_*`` keyword overrides "everything forbidden", ``is_member``
    defaults to True; ``until_date`` applies to restricted/kicked.
    """
    if status not in MEMBER_STATUSES:
        raise ValueError(f"unknown member status {status!r}; expected one of {MEMBER_STATUSES}")
    rights_kw = {k: bool(v) for k, v in kw.items() if k.startswith("can_")}
    member = Member(
        status=status,
        until_date=int(kw.get("until_date") or 0),
        custom_title=kw.get("custom_title"),
        is_anonymous=bool(kw.get("is_anonymous", False)),
        can_be_edited=bool(kw.get("can_be_edited", False)),
    )
    if status == "administrator":
        member.rights = {**DEFAULT_ADMIN_RIGHTS, **rights_kw}
    elif status == "restricted":
        member.is_member = bool(kw.get("is_member", True))
        member.permissions = dict.fromkeys(PERMISSION_FIELDS, False) | rights_kw
    return member


def user_json(
    user_id: int,
    first_name: str,
    *,
    username: str | None = None,
    last_name: str | None = None,
    language_code: str | None = None,
    is_bot: bool = False,
) -> JSON:
    user: JSON = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name is not None:
        user["last_name"] = last_name
    if username is not None:
        user["username"] = username
    if language_code is not None:
        user["language_code"] = language_code
    return user


def private_chat_json(user: JSON) -> JSON:
    chat: JSON = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    for key in ("last_name", "username"):
        if key in user:
            chat[key] = user[key]
    return chat


def group_chat_json(chat_id: int, title: str, chat_type: str) -> JSON:
    return {"id": chat_id, "type": chat_type, "title": title}


def chat_member_json(user: JSON, member: Member) -> JSON:
    """ChatMember JSON exactly as getChatMember returns it for ``member.status``."""
    status = member.status
    result: JSON = {"status": status, "user": user}
    if status == "creator":
        result["is_anonymous"] = member.is_anonymous
        if member.custom_title:
            result["custom_title"] = member.custom_title
    elif status == "administrator":
        result["can_be_edited"] = member.can_be_edited
        result["is_anonymous"] = member.is_anonymous
        for name in ADMIN_RIGHTS_REQUIRED:
            result[name] = bool(member.rights.get(name, False))
        for name in ADMIN_RIGHTS_OPTIONAL + ADMIN_RIGHTS_CHANNEL:
            if name in member.rights:
                result[name] = bool(member.rights[name])
        if member.custom_title:
            result["custom_title"] = member.custom_title
    elif status == "restricted":
        result["is_member"] = member.is_member
        for name in PERMISSION_FIELDS:
            result[name] = bool(member.permissions.get(name, False))
        result["until_date"] = member.until_date
    elif status == "kicked" or (status == "member" and member.until_date):
        result["until_date"] = member.until_date
    return result


def accepted_gift_types_json() -> JSON:
    return {
        "unlimited_gifts": False,
        "limited_gifts": False,
        "unique_gifts": False,
        "premium_subscription": False,
        "gifts_from_channels": False,
    }


def invite_link_json(
    link: str,
    creator: JSON,
    *,
    creates_join_request: bool = False,
    is_primary: bool = False,
    is_revoked: bool = False,
    name: str | None = None,
    expire_date: int | None = None,
    member_limit: int | None = None,
) -> JSON:
    result: JSON = {
        "invite_link": link,
        "creator": creator,
        "creates_join_request": creates_join_request,
        "is_primary": is_primary,
        "is_revoked": is_revoked,
    }
    if name is not None:
        result["name"] = name
    if expire_date is not None:
        result["expire_date"] = expire_date
    if member_limit is not None:
        result["member_limit"] = member_limit
    return result


def chat_member_updated_json(
    chat: JSON,
    actor: JSON,
    date: int,
    old: JSON,
    new: JSON,
    **extra: Any,
) -> JSON:
    """ChatMemberUpdated (payload of chat_member / my_chat_member updates)."""
    return {
        "chat": chat,
        "from": actor,
        "date": date,
        "old_chat_member": old,
        "new_chat_member": new,
        **{k: v for k, v in extra.items() if v is not None},
    }


def bot_user_json(bot_id: int, username: str) -> JSON:
    first_name = " ".join(part.capitalize() for part in username.split("_") if part) or "Bot"
    return user_json(bot_id, first_name, username=username, is_bot=True)


def get_me_json(bot_user: JSON) -> JSON:
    return {
        **bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }
