"""Dialect-neutral upserts: the one place that knows SQLite and PostgreSQL differ."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def _insert(session: AsyncSession, model: type[Any]) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"upsert is not implemented for {dialect}")


async def upsert(
    session: AsyncSession,
    model: type[Any],
    values: dict[str, Any],
    *,
    key: list[str],
    update: list[str],
) -> None:
    """Insert a row, or update the `update` columns of the row with the same `key`."""
    stmt = _insert(session, model).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=key, set_={name: stmt.excluded[name] for name in update}
    )
    await session.execute(stmt)


async def insert_or_add(
    session: AsyncSession,
    model: type[Any],
    rows: list[dict[str, Any]],
    *,
    key: list[str],
    add: str,
    also: dict[str, Any] | None = None,
) -> None:
    """Insert the rows, or add each one's `add` column to the row with the same `key`
    (`count = count + excluded.count`), in one statement run for every row; on a conflict
    `also` sets further columns."""
    stmt = _insert(session, model)
    column = model.__table__.c[add]
    change = {add: column + stmt.excluded[add], **(also or {})}
    stmt = stmt.on_conflict_do_update(index_elements=key, set_=change)
    connection = await session.connection()
    await connection.execute(stmt, rows)


async def insert_ignore(
    session: AsyncSession, model: type[Any], values: dict[str, Any], *, key: list[str]
) -> bool:
    """Insert a row unless one with the same `key` exists; True when a row was inserted."""
    stmt = _insert(session, model).values(**values).on_conflict_do_nothing(index_elements=key)
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))
