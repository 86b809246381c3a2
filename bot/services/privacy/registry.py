"""Every kind of personal data Hearth stores, in one list.

Each entry names the table and columns, the person-id columns that tie a row to someone, why
it is kept, how long (a machine field the retention job reads, plus a human text in the
locales), and what /forget does with it. /privacy is written from this list, /forget and
/mydata follow it, and tests/unit/test_privacy_registry.py fails when a table holding a
person's id is missing here, so the texts cannot drift from the schema.

Texts live in the locales under `privacy.kind.<key>`: `title`, `why`, `kept` and `forget`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Forget(StrEnum):
    """What /forget does with a kind of data."""

    DELETE = "delete"
    ANONYMISE = "anonymise"  # the row stays for others; the person's id is replaced
    KEEP = "keep"  # kept on purpose (the locale text says why)


class Since(StrEnum):
    """What the retention period counts from."""

    LEFT = "left"  # the person left the chat
    ROUND_CLOSED = "round_closed"  # the check-in round closed
    RESOLVED = "resolved"  # the report was handled
    DELIVERED = "delivered"  # the queued message was sent
    CREATED = "created"  # the row was written
    EXPIRED = "expired"  # the warning, restriction or paid period ended
    NEVER = "never"  # kept while needed; /forget is the way out


@dataclass(frozen=True)
class Retention:
    """How long a kind of data is kept: `setting` names the chat setting holding the
    period (see bot/services/setting_values.py), else `fixed` is the period; neither means
    "until `since`, then as /forget or the retention job decides"."""

    since: Since
    setting: str | None = None
    fixed: timedelta | None = None


@dataclass(frozen=True)
class DataKind:
    key: str  # locale: privacy.kind.<key>.*
    feature: str  # locale: privacy.feature.<feature>; /privacy groups kinds by it
    table: str
    columns: tuple[str, ...]  # what is stored about the person
    person: tuple[str, ...]  # the columns holding the person's id (or private chat id)
    forget: Forget
    retention: Retention


LEFT_30 = Retention(Since.LEFT, fixed=timedelta(days=30))
THANKS_90 = Retention(Since.CREATED, fixed=timedelta(days=90))  # the window that counts

KNOWLEDGE: tuple[DataKind, ...] = (
    # notes are the chat's; who saved one (or approved a story) is the person's
    DataKind(
        "kb_saved",
        "knowledge",
        "kb_entries",
        ("name", "created_at"),
        ("added_by",),
        Forget.ANONYMISE,
        Retention(Since.NEVER),
    ),
    # named stories are deleted by /forget, anonymous ones stay without the author's id
    DataKind(
        "kb_stories",
        "knowledge",
        "kb_entries",
        ("body", "tags", "anonymous", "message_id", "created_at", "views", "helped"),
        ("author_id",),
        Forget.ANONYMISE,
        Retention(Since.NEVER),
    ),
    # a story asked for, before its author answers: the text for at most 48 hours
    DataKind(
        "kb_consents",
        "knowledge",
        "kb_consents",
        ("tags", "message_id", "created_at", "expires_at"),  # "text" holds only a mark
        ("author_id", "asked_by"),
        Forget.DELETE,
        Retention(Since.CREATED, fixed=timedelta(hours=48)),
    ),
    DataKind(
        "kb_suggestions",
        "knowledge",
        "kb_suggestions",
        ("suggested_at",),
        ("user_id",),
        Forget.DELETE,
        Retention(Since.NEVER),
    ),
)

REGISTRY: tuple[DataKind, ...] = (
    DataKind(
        "profile",
        "profile",
        "users",
        ("first_name", "last_name", "username", "language_code", "reachable", "updated_at"),
        ("id",),
        Forget.DELETE,
        LEFT_30,
    ),
    DataKind(
        "privacy_choices",
        "profile",
        "users",
        ("totals_only", "exported_at"),
        ("id",),
        Forget.DELETE,
        LEFT_30,
    ),
    DataKind("interests", "buddies", "users", ("interests",), ("id",), Forget.DELETE, LEFT_30),
    DataKind(
        "memberships",
        "profile",
        "members",
        ("status", "trust", "joined_at", "verified_at", "last_active_at", "request_message_id"),
        ("user_id",),
        Forget.DELETE,
        LEFT_30,
    ),
    DataKind(
        "buddy_pairs",
        "buddies",
        "buddy_pairs",
        ("newcomer_id", "buddy_id", "started_at", "ended_at", "end_reason"),
        ("newcomer_id", "buddy_id"),
        Forget.DELETE,
        LEFT_30,
    ),
    DataKind(
        "buddy_volunteers",
        "buddies",
        "buddy_volunteers",
        ("since", "added_by"),
        ("user_id", "added_by"),
        Forget.DELETE,
        LEFT_30,
    ),
    DataKind(
        "buddy_waiting",
        "buddies",
        "buddy_waiting",
        ("since",),
        ("newcomer_id",),
        Forget.DELETE,
        LEFT_30,
    ),
    DataKind(
        "checkin_answers",
        "checkins",
        "checkin_entries",
        ("answers", "share", "state", "updated_at"),
        ("user_id",),
        Forget.DELETE,
        Retention(Since.ROUND_CLOSED, setting="answers_keep"),
    ),
    DataKind(
        "checkin_streaks",
        "checkins",
        "checkin_members",
        ("opted_in", "streak", "best_streak", "nudged_at"),
        ("user_id",),
        Forget.DELETE,
        LEFT_30,
    ),
    DataKind(
        "checkin_pause",
        "checkins",
        "checkin_people",
        ("paused_until", "focus_round_id"),
        ("user_id",),
        Forget.DELETE,
        LEFT_30,
    ),
    DataKind(
        "warnings",
        "moderation",
        "warnings",
        ("reason", "created_at", "expires_at", "active"),
        ("user_id", "actor_id"),
        Forget.KEEP,
        Retention(Since.EXPIRED, setting="warn_expiry"),
    ),
    DataKind(
        "audit",
        "moderation",
        "mod_actions",
        ("action", "reason", "created_at", "until"),
        ("actor_id", "target_id"),
        Forget.ANONYMISE,
        Retention(Since.NEVER),
    ),
    DataKind(
        "reports_filed",
        "moderation",
        "reports",
        ("reason", "created_at"),
        ("reporter_id",),
        Forget.DELETE,
        Retention(Since.NEVER),
    ),
    DataKind(
        "reports_about",
        "moderation",
        "reports",
        ("text", "reason", "handled"),
        ("target_id",),
        Forget.DELETE,
        Retention(Since.RESOLVED, setting="reports_keep"),
    ),
    DataKind(
        "subscriptions",
        "billing",
        "subscriptions",
        ("status", "plan", "ends_at", "renewal", "charge_id", "trial_used", "exempt"),
        ("user_id",),
        Forget.KEEP,
        Retention(Since.NEVER),
    ),
    DataKind(
        "payments",
        "billing",
        "payments",
        ("charge_id", "amount", "plan", "paid_at", "refunded_at"),
        ("user_id",),
        Forget.KEEP,
        Retention(Since.NEVER),
    ),
    DataKind(
        "outbox",
        "messages",
        "outbox",
        ("text", "buttons", "status", "sent_at"),
        ("chat_id",),
        Forget.DELETE,
        Retention(Since.DELIVERED, fixed=timedelta(0)),
    ),
    DataKind(
        "activity",
        "activity",
        "ledger",
        ("kind", "count", "bucket"),
        ("user_id",),
        Forget.DELETE,
        LEFT_30,
    ),
    DataKind(
        "thanks_given",
        "activity",
        "thanks",
        ("message_id", "source", "weight", "created_at"),
        ("giver_id",),
        Forget.DELETE,
        THANKS_90,
    ),
    DataKind(
        "thanks_received",
        "activity",
        "thanks",
        ("message_id", "source", "weight", "created_at", "noted_at"),
        ("receiver_id",),
        Forget.DELETE,
        THANKS_90,
    ),
    DataKind(
        "thanks_board", "activity", "thanks_board", ("since",), ("user_id",), Forget.DELETE, LEFT_30
    ),
    DataKind(
        "deadlines",
        "activity",
        "deadlines",
        ("kind", "due_at"),
        ("user_id",),
        Forget.KEEP,
        Retention(Since.EXPIRED),
    ),
    DataKind(
        "ideas",
        "ideas",
        "ideas",
        ("text", "status", "comment", "created_at"),
        ("author_id",),
        Forget.ANONYMISE,  # posted to the whole group; others voted on it
        Retention(Since.NEVER),
    ),
    DataKind(
        "idea_votes",
        "ideas",
        "idea_votes",
        ("value", "voted_at"),
        ("user_id",),
        Forget.DELETE,
        Retention(Since.NEVER),
    ),
    *KNOWLEDGE,
    DataKind(
        "circle_members",
        "circles",
        "circle_members",
        ("circle_id", "delivery", "joined_at"),
        ("user_id",),
        Forget.DELETE,
        LEFT_30,
    ),
    DataKind(
        "circle_calls",
        "circles",
        "circle_calls",
        ("circle_id", "message_id", "called_at"),
        ("caller_id",),
        Forget.DELETE,
        Retention(Since.CREATED, fixed=timedelta(days=8)),  # the weekly pass deletes them
    ),
    DataKind(
        "circle_proposals",
        "circles",
        "circles",
        ("proposed_by", "name"),
        ("proposed_by",),
        Forget.ANONYMISE,
        Retention(Since.NEVER),
    ),
)
"""Every kind of personal data, in the order /privacy shows them."""

NO_PERSONAL_DATA: frozenset[str] = frozenset(
    {
        "alembic_version",
        "chats",  # groups: id, title, rules, welcome
        "chat_settings",
        "welcome_posts",  # message ids of posted welcomes
        "stop_words",  # phrases admins filter
        "checkin_rounds",  # schedule and questions of a chat's rounds
        "checkin_questions",
        "auto_actions",  # message ids acted on once (no person, no text)
    }
)
"""Tables that hold no person's id, checked by the same test."""

FEATURES: tuple[str, ...] = tuple(dict.fromkeys(kind.feature for kind in REGISTRY))


def kinds_of(table: str) -> list[DataKind]:
    return [kind for kind in REGISTRY if kind.table == table]


def person_columns() -> dict[str, set[str]]:
    """Per table, the columns that hold a person's id, according to the registry."""
    found: dict[str, set[str]] = {}
    for kind in REGISTRY:
        found.setdefault(kind.table, set()).update(kind.person)
    return found


def retention_of(key: str) -> Retention:
    """The retention of the kind `key` (for the retention job)."""
    for kind in REGISTRY:
        if kind.key == key:
            return kind.retention
    raise KeyError(key)
