"""Bot API methods about chats and members: moderation, join requests, invite links."""

from __future__ import annotations

import copy
import secrets

from .apibase import ApiBase, Params, bad, flag, opt_int, sender_id
from .objects import (
    ADMIN_RIGHTS,
    ADMIN_RIGHTS_CHANNEL,
    JSON,
    LATE_PERMISSIONS,
    MEDIA_PERMISSIONS,
    PERMISSION_FIELDS,
    Member,
    accepted_gift_types_json,
    invite_link_json,
)
from .state import ChatState


class MemberMethods(ApiBase):
    """Handlers for moderation, join requests, chat info and invite links."""

    # ------------------------------------------------------------------ members

    def _permissions(self, chat: ChatState, params: Params) -> dict[str, bool]:
        given = params.get("permissions")
        if not isinstance(given, dict):
            raise bad("can't parse permissions JSON object")
        perms = {name: flag(given, name) for name in PERMISSION_FIELDS}
        for name in LATE_PERMISSIONS:
            if name not in given:
                perms[name] = chat.permissions.get(name, False)
        if not flag(params, "use_independent_chat_permissions"):
            if perms["can_send_other_messages"] or perms["can_add_web_page_previews"]:
                perms["can_send_messages"] = True
                perms.update(dict.fromkeys(MEDIA_PERMISSIONS, True))
            if perms["can_send_polls"]:
                perms["can_send_messages"] = True
        return perms

    def _until(self, params: Params) -> int:
        until = opt_int(params, "until_date") or 0
        delta = until - self.w.now()
        if until and (delta < 30 or delta > 366 * 86400):
            return 0  # Telegram: "considered to be restricted forever"
        return until

    def _restrictable(self, params: Params) -> tuple[ChatState, int, Member]:
        chat = self.group(params, private_error="method is available only for supergroups")
        self.require_right(
            chat, "can_restrict_members", "not enough rights to restrict/unrestrict chat member"
        )
        user_id = self.target_user(params)
        return chat, user_id, self.w.get_member(chat, user_id)

    def restrict_chat_member(self, params: Params) -> bool:
        chat, user_id, member = self._restrictable(params)
        if chat.type != "supergroup":
            raise bad("method is available only for supergroups")
        if member.is_admin:
            raise bad("user is an administrator of the chat")
        perms = self._permissions(chat, params)
        in_chat = member.present
        if all(perms[name] or not chat.permissions.get(name) for name in PERMISSION_FIELDS):
            new = Member(status="member" if in_chat else "left")
        else:
            new = Member(
                status="restricted",
                until_date=self._until(params),
                is_member=in_chat,
                permissions=perms,
            )
        self.w.change_member(chat, user_id, new, actor=self.bot)
        return True

    def ban_chat_member(self, params: Params) -> bool:
        chat, user_id, member = self._restrictable(params)
        if member.status == "creator":
            raise bad("can't remove chat owner")
        if member.status == "administrator":
            raise bad("user is an administrator of the chat")
        new = Member(status="kicked", until_date=self._until(params))
        self.w.change_member(chat, user_id, new, actor=self.bot)
        if flag(params, "revoke_messages") or chat.type == "group":
            chat.deleted.update(
                mid for mid, message in chat.messages.items() if sender_id(message) == user_id
            )
        return True

    def unban_chat_member(self, params: Params) -> bool:
        chat, user_id, member = self._restrictable(params)
        if member.status == "kicked":
            new = Member(status="left")
        elif flag(params, "only_if_banned"):
            return True
        elif member.is_admin:
            raise bad("user is an administrator of the chat")
        elif member.present or member.status == "restricted":
            new = Member(status="left")  # Telegram removes a present member here
        else:
            return True
        self.w.change_member(chat, user_id, new, actor=self.bot)
        return True

    def promote_chat_member(self, params: Params) -> bool:
        chat = self.group(params, private_error="method is available only for supergroups")
        self.require_right(chat, "can_promote_members", "not enough rights")
        user_id = self.target_user(params)
        member = self.w.get_member(chat, user_id)
        if member.status == "creator":
            raise bad("can't change owner rights")
        if not member.present:
            raise bad("USER_NOT_PARTICIPANT")
        rights = {name: flag(params, name) for name in ADMIN_RIGHTS + ADMIN_RIGHTS_CHANNEL}
        if any(rights.values()):
            new = Member(
                status="administrator",
                rights=rights,
                can_be_edited=True,
                is_anonymous=flag(params, "is_anonymous"),
            )
        else:
            new = Member(status="member")
        self.w.change_member(chat, user_id, new, actor=self.bot)
        return True

    def set_chat_permissions(self, params: Params) -> bool:
        chat = self.group(params, private_error="method is available for groups only")
        self.require_right(
            chat, "can_restrict_members", "not enough rights to change chat permissions"
        )
        chat.permissions = self._permissions(chat, params)
        return True

    def _join_request(self, params: Params) -> tuple[ChatState, int]:
        chat = self.group(params, private_error="chat not found")
        self.require_right(chat, "can_invite_users", "CHAT_ADMIN_REQUIRED")
        user_id = self.target_user(params)
        if user_id not in chat.join_requests:
            raise bad("HIDE_REQUESTER_MISSING")
        del chat.join_requests[user_id]
        return chat, user_id

    def approve_chat_join_request(self, params: Params) -> bool:
        chat, user_id = self._join_request(params)
        member = self.w.get_member(chat, user_id)
        if member.present:
            raise bad("USER_ALREADY_PARTICIPANT")
        if member.status == "restricted":
            new = copy.deepcopy(member)
            new.is_member = True
        else:
            new = Member(status="member")
        user = self.w.users[user_id].json
        self.w.change_member(chat, user_id, new, actor=user, via_join_request=True)
        message = self.w.store_message(chat, user, new_chat_members=[user])
        self.w.enqueue({"message": message})
        return True

    def decline_chat_join_request(self, params: Params) -> bool:
        self._join_request(params)
        return True

    # ------------------------------------------------------------------ chat info

    def get_chat(self, params: Params) -> JSON:
        chat = self.chat(params)
        info: JSON = {
            **copy.deepcopy(chat.chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": accepted_gift_types_json(),
        }
        if chat.is_private:
            user = self.w.users[chat.id]
            info.update({"has_private_forwards": False} if not user.json["is_bot"] else {})
            return info
        info["permissions"] = dict(chat.permissions)
        info["has_visible_history"] = True
        if chat.join_by_request:
            info["join_by_request"] = True
        if chat.description:
            info["description"] = chat.description
        if chat.primary_link and self.bot_member(chat).can("can_invite_users"):
            info["invite_link"] = chat.primary_link
        if chat.pinned:
            stub = self.w.reply_stub(chat, chat.pinned[-1])
            if stub:
                info["pinned_message"] = stub
        return info

    def get_chat_member(self, params: Params) -> JSON:
        chat = self.chat(params)
        user_id = self.target_user(params)
        if chat.is_private:
            if user_id not in {chat.id, self.w.bot_id}:
                raise bad("user not found")
            return {"status": "member", "user": self.w.users[user_id].json}
        return self.w.member_json_of(chat, user_id)

    def get_chat_administrators(self, params: Params) -> list[JSON]:
        chat = self.group(params, private_error="there are no administrators in the private chat")
        admins = [
            (uid, member)
            for uid, member in chat.members.items()
            if self.w.get_member(chat, uid).is_admin
        ]
        admins.sort(key=lambda item: item[1].status != "creator")
        return [self.w.member_json_of(chat, uid) for uid, _ in admins]

    def get_chat_member_count(self, params: Params) -> int:
        chat = self.chat(params)
        if chat.is_private:
            return 2
        return sum(1 for uid in list(chat.members) if self.w.get_member(chat, uid).present)

    def leave_chat(self, params: Params) -> bool:
        chat = self.group(params, private_error="chat not found")
        self.require_bot_in_chat(chat)
        self.w.change_member(chat, self.w.bot_id, Member(status="left"), actor=self.bot)
        return True

    # ------------------------------------------------------------------ invite links

    def _link_chat(self, params: Params) -> ChatState:
        chat = self.group(params, private_error="chat not found")
        self.require_right(chat, "can_invite_users", "not enough rights to manage chat invite link")
        return chat

    def create_chat_invite_link(self, params: Params) -> JSON:
        chat = self._link_chat(params)
        creates_join_request = flag(params, "creates_join_request")
        member_limit = opt_int(params, "member_limit")
        if creates_join_request and member_limit:
            raise bad("member_limit can't be specified for links requiring administrator approval")
        link = f"https://t.me/+{secrets.token_urlsafe(12)}"
        chat.invite_links[link] = invite_link_json(
            link,
            self.bot,
            creates_join_request=creates_join_request,
            name=params.get("name"),
            expire_date=opt_int(params, "expire_date"),
            member_limit=member_limit,
        )
        return chat.invite_links[link]

    def _existing_link(self, chat: ChatState, params: Params) -> JSON:
        link = chat.invite_links.get(str(params.get("invite_link") or ""))
        if link is None:
            raise bad("INVITE_HASH_EXPIRED")
        return link

    def edit_chat_invite_link(self, params: Params) -> JSON:
        chat = self._link_chat(params)
        link = self._existing_link(chat, params)
        for key in ("name", "expire_date", "member_limit", "creates_join_request"):
            if key in params:
                link[key] = flag(params, key) if key == "creates_join_request" else params[key]
        return link

    def revoke_chat_invite_link(self, params: Params) -> JSON:
        chat = self._link_chat(params)
        link = self._existing_link(chat, params)
        link["is_revoked"] = True
        if chat.primary_link == link["invite_link"]:
            chat.primary_link = None
        return link

    def export_chat_invite_link(self, params: Params) -> str:
        chat = self._link_chat(params)
        if chat.primary_link is not None:
            chat.invite_links[chat.primary_link]["is_revoked"] = True
            chat.invite_links[chat.primary_link]["is_primary"] = False
            chat.primary_link = None
        return str(self.w.primary_invite_link(chat)["invite_link"])
