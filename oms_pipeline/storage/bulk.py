"""Bulk inserts and updates that are fast on both warehouse backends.

DuckDB's executemany goes row by row (tens of seconds for 10k rows), so on DuckDB rows go in as one
registered DataFrame; PostgreSQL takes executemany. Money travels as text on the DuckDB path so it is
never a float on the way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

CHUNK = 2000  # rows per statement: bounds parameter counts on both backends


def chunks(rows: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """``rows`` in slices of at most ``size``."""
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    columns = list(rows[0])
    return pd.DataFrame.from_records(
        [[str(v) if isinstance(v, Decimal) else v for v in row.values()] for row in rows], columns=columns)


def insert_rows(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], *,
                skip_existing: bool = False) -> None:
    """Insert many rows; ``skip_existing`` ignores rows whose key (or unique constraint) exists."""
    if not rows:
        return
    if conn.dialect.name != "duckdb":
        stmt = postgresql.insert(table).on_conflict_do_nothing() if skip_existing else sa.insert(table)
        conn.execute(stmt, list(rows))
        return
    raw = conn.connection.driver_connection
    view = f"_oms_insert_{table.name}"
    raw.register(view, _frame(rows))
    try:
        names = ", ".join(f'"{c}"' for c in rows[0])
        conflict = " ON CONFLICT DO NOTHING" if skip_existing else ""
        raw.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {view}{conflict}")
    finally:
        raw.unregister(view)


def update_rows(conn: Connection, table: sa.Table, keys: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """Update many rows by key: every row names the key columns and the columns to set (same for all)."""
    if not rows:
        return
    values = [c for c in rows[0] if c not in keys]
    if conn.dialect.name != "duckdb":
        stmt = sa.update(table).where(*[table.c[k] == sa.bindparam(f"k_{k}") for k in keys]).values(
            {c: sa.bindparam(f"v_{c}") for c in values})
        conn.execute(stmt, [{**{f"k_{k}": r[k] for k in keys}, **{f"v_{c}": r[c] for c in values}} for r in rows])
        return
    raw = conn.connection.driver_connection
    view = f"_oms_update_{table.name}"
    raw.register(view, _frame(rows))
    try:
        assignments = ", ".join(f'"{c}" = v."{c}"' for c in values)
        match = " AND ".join(f'{table.name}."{k}" = v."{k}"' for k in keys)
        raw.execute(f"UPDATE {table.name} SET {assignments} FROM {view} AS v WHERE {match}")
    finally:
        raw.unregister(view)


def read_frame(engine: Engine, query: sa.Select) -> pd.DataFrame:
    """A query's result as a DataFrame (column names from the query)."""
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
