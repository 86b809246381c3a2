"""The privacy registry against the schema: every table is either listed with the columns
that hold a person's id, or declared free of personal data; every column that could hold a
person's id is accounted for; every kind has its texts in both languages."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, Table

import models
from bot.i18n import catalog
from bot.services.privacy.registry import (
    NO_PERSONAL_DATA,
    REGISTRY,
    Forget,
    Since,
    person_columns,
)

NOT_A_PERSON = frozenset(
    {
        "chat_id",
        "message_id",
        "request_message_id",
        "welcome_id",
        "round_id",
        "focus_round_id",
        "charge_id",  # Telegram's payment charge
        "idea_id",  # an idea on the ideas board
        "circle_id",  # a circle (a row of `circles`)
    }
)
"""Id-like columns that hold a group, a message, a round or a charge, never a person
(outbox.chat_id is the exception: a private chat's id is the person's, and the registry
lists it)."""


def could_hold_a_person(column: Column[object]) -> bool:
    """A 64-bit integer (Telegram ids) or a column named like a reference to someone."""
    name = column.name
    if column.primary_key and name == "id" and column.table.name != "users":
        return False  # a row id
    return isinstance(column.type, BigInteger) or name.endswith(("_id", "_by")) or "payer" in name


def unaccounted(metadata: MetaData) -> list[str]:
    """`table.column` of each column that may hold a person's id and that the registry does
    not list, plus tables neither listed nor declared free of personal data."""
    listed = person_columns()
    missing = []
    for table in metadata.sorted_tables:
        if table.name not in listed and table.name not in NO_PERSONAL_DATA:
            missing.append(table.name)
        for column in table.columns:
            name = column.name
            if name in listed.get(table.name, set()) or name in NOT_A_PERSON:
                continue
            if name.endswith("message_id"):  # a Telegram message (first_message_id, ...)
                continue
            if could_hold_a_person(column):
                missing.append(f"{table.name}.{column.name}")
    return missing


def test_every_table_and_person_column_of_the_schema_is_in_the_registry() -> None:
    assert unaccounted(models.Base.metadata) == []


def test_a_new_table_with_a_person_column_is_caught() -> None:
    metadata = MetaData()
    for table in models.Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    Table("kudos", metadata, Column("chat_id", BigInteger), Column("giver_id", BigInteger))
    Table("payments_extra", metadata, Column("payer", BigInteger))
    assert unaccounted(metadata) == [
        "kudos",
        "kudos.giver_id",
        "payments_extra",
        "payments_extra.payer",
    ]


def test_the_registry_names_only_real_tables_and_columns() -> None:
    tables = models.Base.metadata.tables
    for kind in REGISTRY:
        assert kind.table in tables, kind.key
        columns = set(tables[kind.table].columns.keys())
        assert set(kind.columns) <= columns, kind.key
        assert set(kind.person) <= columns, kind.key
    assert not NO_PERSONAL_DATA & {kind.table for kind in REGISTRY}


def test_every_kind_has_texts_and_a_retention_the_job_can_read() -> None:
    for language in ("ru", "en"):
        texts = catalog(language)
        for kind in REGISTRY:
            for part in ("title", "why", "kept", "forget"):
                assert f"privacy.kind.{kind.key}.{part}" in texts, (language, kind.key, part)
            assert f"privacy.feature.{kind.feature}" in texts
    for kind in REGISTRY:
        retention = kind.retention
        assert isinstance(retention.since, Since)
        assert not (retention.setting and retention.fixed), kind.key
    assert len({kind.key for kind in REGISTRY}) == len(REGISTRY)


def test_payments_and_active_warnings_are_kept_and_answers_deleted() -> None:
    by_key = {kind.key: kind for kind in REGISTRY}
    assert by_key["payments"].forget is Forget.KEEP
    assert by_key["warnings"].forget is Forget.KEEP
    assert by_key["checkin_answers"].forget is Forget.DELETE
    assert by_key["checkin_answers"].retention.setting == "answers_keep"
    assert by_key["audit"].forget is Forget.ANONYMISE


def test_every_activity_kind_is_named_in_both_languages() -> None:
    from models.ledger import LedgerKind

    for language in ("ru", "en"):
        texts = catalog(language)
        assert {f"privacy.activity.{kind.value}" for kind in LedgerKind} <= set(texts)


def test_forget_finds_the_messages_about_the_person_by_their_outbox_key() -> None:
    from bot.services.checkins.keys import Digest, GroupPost, Invite, Nudge, Reminder, Support
    from bot.services.privacy.forget import about

    maria, nina = 3, 500
    for key in (
        Invite(7, maria),
        Reminder(7, maria),
        Support(7, maria, 2, nina),  # her words, sent to her buddy
        Nudge(-100, maria, "20261201"),
        Nudge(-100, maria, "20261201", buddy=True),  # the word to her buddy about her
    ):
        assert about(key.encode(), maria), key
    assert about(f"drift:-100:{maria}:20261201", maria)
    for key in (
        Invite(maria, nina),  # round 3 is not Maria
        Support(7, nina, 2, maria),  # Nina's words (sent to Maria: deleted by chat id)
        GroupPost(maria),
        Digest(maria),
        Nudge(-100, nina, "20261201"),
    ):
        assert not about(key.encode(), maria), key
    assert not about(f"drift:-100:{nina}:20261201", maria)
