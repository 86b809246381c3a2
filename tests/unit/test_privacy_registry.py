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
            if column.name in listed.get(table.name, set()) or column.name in NOT_A_PERSON:
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
    Table("thanks", metadata, Column("chat_id", BigInteger), Column("giver_id", BigInteger))
    Table("payments_extra", metadata, Column("payer", BigInteger))
    assert unaccounted(metadata) == [
        "payments_extra",
        "payments_extra.payer",
        "thanks",
        "thanks.giver_id",
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
