"""Dialect-neutral upserts: the one place that knows SQLite and PostgreSQL differ."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
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
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    key: list[str],
    add: str,
    also: dict[str, Any] | None = None,
) -> None:
    """Insert the rows (values of `columns`, in that order), or add each one's `add` column
    to the row with the same `key` (`count = count + excluded.count`), in one statement run
    for every row; on a conflict `also` sets further columns."""
    if not rows:
        return
    stmt = _insert(session, model)
    column = model.__table__.c[add]
    change = {add: column + stmt.excluded[add], **(also or {})}
    stmt = stmt.on_conflict_do_update(index_elements=key, set_=change)
    connection = await session.connection()
    operation, parameters = _driver_batch(stmt, connection.dialect, columns, rows)
    await connection.exec_driver_sql(operation, parameters)


def _driver_batch(
    stmt: Any, dialect: Dialect, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[str, list[tuple[Any, ...]]]:
    """The statement as the driver's SQL and one parameter tuple per row, for one
    `executemany`: what SQLAlchemy's executemany does, minus its per-row bookkeeping, which
    took most of a 100,000-row batch's time. Each column's type conversion (a datetime to
    SQLite's text, say) still runs, once per distinct value (a batch repeats its hours)."""
    compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
    names = compiled.positiontup
    if names is None:  # a driver with named parameters: none that Hearth runs on
        raise NotImplementedError(f"{dialect.name}: named parameters")
    constants = compiled.construct_params(dict(zip(columns, rows[0], strict=True)))
    by_column = dict(zip(columns, zip(*rows, strict=True), strict=True))
    ordered: list[Iterable[Any]] = []
    for name in names:
        convert = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if name in by_column:
            ordered.append(_converted(by_column[name], convert))
        else:  # a constant of the statement (`also`)
            value = constants[name]
            ordered.append(repeat(value if convert is None else convert(value), len(rows)))
    return compiled.string, list(zip(*ordered, strict=True))


def _converted(values: Sequence[Any], convert: Callable[[Any], Any] | None) -> Iterable[Any]:
    if convert is None:
        return values
    done = {value: convert(value) for value in set(values)}
    return map(done.__getitem__, values)


async def insert_ignore(
    session: AsyncSession, model: type[Any], values: dict[str, Any], *, key: list[str]
) -> bool:
    """Insert a row unless one with the same `key` exists; True when a row was inserted."""
    stmt = _insert(session, model).values(**values).on_conflict_do_nothing(index_elements=key)
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))
